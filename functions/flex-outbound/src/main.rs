//! `POST /twilio/flex-outbound`: agent messages and agents joining, onto the delivery queue.

use shared::config::Env;
use shared::flex::FlexWebhooks;
use shared::lambda::{run_http, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json();
    let webhooks = &FlexWebhooks::from_env(Env::from_process()).await?;
    run_http(move |request| async move { webhooks.outbound(&request).await }).await
}
