//! SQS consumer: delivers agent messages and notices to customers, with partial batch failures.

use flex_bridge::delivery::Delivery;
use flex_bridge_lambda::{run_sqs, Aws, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    flex_bridge_lambda::telemetry::init_json();
    let aws = Aws::load().await;
    let delivery = &Delivery::from_env(aws.environment().await?, &aws)?;
    run_sqs(&aws, move |records| async move {
        delivery.handle_batch(records).await
    })
    .await
}
