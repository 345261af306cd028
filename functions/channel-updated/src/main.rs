//! `POST /twilio/channel-updated`: a closed conversation ends the customer's mapping.

use shared::config::Env;
use shared::flex::FlexWebhooks;
use shared::lambda::{run_http, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json();
    let webhooks = &FlexWebhooks::from_env(Env::from_process()).await?;
    run_http(move |request| async move { webhooks.state_updated(&request).await }).await
}
