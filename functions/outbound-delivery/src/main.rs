//! SQS consumer: delivers agent messages and notices to customers, with partial batch failures.

use shared::config::Env;
use shared::delivery::Delivery;
use shared::lambda::{run_sqs, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json();
    let delivery = &Delivery::from_env(Env::from_process()).await?;
    run_sqs(move |records| async move { delivery.handle_batch(records).await }).await
}
