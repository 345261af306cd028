//! SQS consumer: the slow half of Discord interactions, with partial batch failures.

use shared::config::Env;
use shared::discord::worker::DiscordWorker;
use shared::lambda::{run_sqs, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json();
    let worker = &DiscordWorker::from_env(Env::from_process()).await?;
    run_sqs(move |records| async move { worker.handle_batch(records).await }).await
}
