//! SQS consumer: the slow half of Discord interactions, with partial batch failures.

use shared::discord::worker::DiscordWorker;
use shared::lambda::{environment, run_sqs, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json();
    let worker = &DiscordWorker::from_env(environment().await?).await?;
    run_sqs(move |records| async move { worker.handle_batch(records).await }).await
}
