//! SQS consumer: delivers agent messages and notices to customers, with partial batch failures.

use shared::delivery::Delivery;
use shared::lambda::{run_sqs, Aws, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json();
    let aws = Aws::load().await;
    let delivery = &Delivery::from_env(aws.environment().await?, &aws)?;
    run_sqs(&aws, move |records| async move {
        delivery.handle_batch(records).await
    })
    .await
}
