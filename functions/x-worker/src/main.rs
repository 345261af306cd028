//! SQS consumer of the X intake queue: customer DMs into Flex, with partial batch failures.

use flex_bridge::x::worker::XWorker;
use flex_bridge_lambda::{run_sqs, Aws, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    flex_bridge_lambda::telemetry::init_json();
    let aws = Aws::load().await;
    let worker = &XWorker::from_env(aws.environment().await?, &aws)?;
    run_sqs(&aws, move |records| async move {
        worker.handle_batch(records).await
    })
    .await
}
