//! SQS consumer: delivers agent messages and notices to customers, with partial batch failures.

use shared::delivery::Delivery;
use shared::lambda::{environment, run_sqs, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json();
    let delivery = &Delivery::from_env(environment().await?).await?;
    run_sqs(move |records| async move { delivery.handle_batch(records).await }).await
}
