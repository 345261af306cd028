//! SQS consumer of the X intake queue: customer DMs into Flex, with partial batch failures.

use shared::lambda::{environment, run_sqs, Error};
use shared::x::worker::XWorker;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json();
    let worker = &XWorker::from_env(environment().await?).await?;
    run_sqs(move |records| async move { worker.handle_batch(records).await }).await
}
