//! `POST /twilio/flex-outbound`: agent messages and agents joining, onto the delivery queue.

use shared::flex::FlexWebhooks;
use shared::lambda::{environment, run_http, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json();
    let webhooks = &FlexWebhooks::from_env(environment().await?).await?;
    run_http(move |request| async move { webhooks.outbound(&request).await }).await
}
