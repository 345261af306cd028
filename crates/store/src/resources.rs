//! What building a handler asks of the platform it runs on: the process's one HTTP client, the
//! table and the queues. On AWS the Lambda glue's `Aws` provides them (one set-up per cold
//! start); `make run` and the tests provide the same from the emulators.

use std::sync::Arc;

use crate::queue::Queue;
use crate::store::Store;
use crate::transcripts::TranscriptStore;

pub trait Resources {
    /// The process's one HTTP client (Twilio, X, Discord and the AWS SDK send through it).
    fn http(&self) -> &reqwest::Client;
    /// The table named `table`.
    fn store(&self, table: String) -> Arc<dyn Store>;
    /// The queue at `queue_url`.
    fn queue(&self, queue_url: String) -> Arc<dyn Queue>;
    /// The transcripts bucket, where this build can reach one: a function built without the
    /// store's `s3` feature cannot (and does not link the S3 client).
    fn transcripts(&self, _bucket: String) -> Option<Arc<dyn TranscriptStore>> {
        None
    }
}
