//! `POST /discord/interactions`: verify, answer within 3 seconds, queue the slow work.

use shared::config::Env;
use shared::discord::webhook::DiscordInteractions;
use shared::lambda::{run_http, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json();
    let interactions = &DiscordInteractions::from_env(Env::from_process()).await?;
    run_http(move |request| async move { interactions.handle(&request).await }).await
}
