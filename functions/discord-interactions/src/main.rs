//! `POST /discord/interactions`: verify, answer within 3 seconds, queue the slow work.

use shared::discord::webhook::DiscordInteractions;
use shared::lambda::{run_http, Aws, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json();
    let aws = Aws::load().await;
    let interactions = &DiscordInteractions::from_env(aws.environment().await?, &aws)?;
    run_http(move |request| async move { interactions.handle(&request).await }).await
}
