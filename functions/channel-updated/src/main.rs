//! `POST /twilio/channel-updated`: a closed conversation ends the customer's mapping.

use shared::flex::FlexWebhooks;
use shared::lambda::{run_http, Aws, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json();
    let aws = Aws::load().await;
    let webhooks = &FlexWebhooks::from_env(aws.environment().await?, &aws)?;
    run_http(move |request| async move { webhooks.state_updated(&request).await }).await
}
