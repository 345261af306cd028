//! SQS consumer of the X intake queue: customer DMs into Flex, with partial batch failures.

use shared::lambda::{run_sqs, Aws, Error};
use shared::x::worker::XWorker;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json();
    let aws = Aws::load().await;
    let worker = &XWorker::from_env(aws.environment().await?, &aws)?;
    run_sqs(&aws, move |records| async move {
        worker.handle_batch(records).await
    })
    .await
}
