//! `POST /twilio/flex-outbound`: agent messages and agents joining, onto the delivery queue.

use flex_bridge::flex::FlexWebhooks;
use flex_bridge_lambda::{run_http, Aws, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    flex_bridge_lambda::telemetry::init_json();
    let aws = Aws::load().await;
    let webhooks = &FlexWebhooks::from_env(aws.environment().await?, &aws)?;
    run_http(move |request| async move { webhooks.outbound(&request).await }).await
}
