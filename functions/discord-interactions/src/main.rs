//! `POST /discord/interactions`: verify, answer within 3 seconds, queue the slow work.

use shared::discord::webhook::DiscordInteractions;
use shared::lambda::{environment, run_http, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json();
    let interactions = &DiscordInteractions::from_env(environment().await?).await?;
    run_http(move |request| async move { interactions.handle(&request).await }).await
}
