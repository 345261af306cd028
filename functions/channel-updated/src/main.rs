//! `POST /twilio/channel-updated`: a closed conversation ends the customer's mapping.

use shared::flex::FlexWebhooks;
use shared::lambda::{environment, run_http, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json();
    let webhooks = &FlexWebhooks::from_env(environment().await?).await?;
    run_http(move |request| async move { webhooks.state_updated(&request).await }).await
}
