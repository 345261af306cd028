//! `POST /twilio/channel-updated`: a closed conversation ends the customer's mapping.

use flex_bridge::flex::FlexWebhooks;
use flex_bridge_lambda::{run_http, Aws, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    flex_bridge_lambda::telemetry::init_json();
    let aws = Aws::load().await;
    let webhooks = &FlexWebhooks::from_env(aws.environment().await?, &aws)?;
    run_http(move |request| async move { webhooks.state_updated(&request).await }).await
}
