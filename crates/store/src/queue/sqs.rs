//! The SQS `Queue`. FIFO queues (URL ending in `.fifo`) get the group and deduplication ids.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;

use super::{Lane, Queue, QueueError};

#[derive(Clone, Debug)]
pub struct SqsQueue {
    client: Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, lane: &Lane, dedupe_id: &str, body: &str) -> Result<(), QueueError> {
        let mut request = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(body);
        if self.url.ends_with(".fifo") {
            // SQS limits deduplication ids to 128 characters.
            let dedupe: String = dedupe_id.chars().take(128).collect();
            request = request
                .message_group_id(lane.as_str())
                .message_deduplication_id(dedupe);
        }
        request
            .send()
            .await
            .map_err(|e| QueueError(e.into_service_error().to_string()))?;
        Ok(())
    }
}

/// Hides a received message for `delay` before its next try (`ChangeMessageVisibility`; SQS
/// allows up to 12 hours).
pub async fn delay_retry(
    client: &Client,
    queue_url: &str,
    receipt_handle: &str,
    delay: Duration,
) -> Result<(), QueueError> {
    let secs = delay.as_secs().min(12 * 3600) as i32;
    client
        .change_message_visibility()
        .queue_url(queue_url)
        .receipt_handle(receipt_handle)
        .visibility_timeout(secs)
        .send()
        .await
        .map_err(|e| QueueError(e.into_service_error().to_string()))?;
    Ok(())
}
