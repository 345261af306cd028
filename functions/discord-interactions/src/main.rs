//! `POST /discord/interactions`: verify, answer within 3 seconds, queue the slow work.

use flex_bridge::discord::webhook::DiscordInteractions;
use flex_bridge_lambda::{run_http, Aws, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    flex_bridge_lambda::telemetry::init_json();
    let aws = Aws::load().await;
    let interactions = &DiscordInteractions::from_env(aws.environment().await?, &aws)?;
    run_http(move |request| async move { interactions.handle(&request).await }).await
}
