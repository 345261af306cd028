//! Durable work queues. Agent messages and notices travel to customers through a FIFO queue
//! grouped by conversation SID: order holds per conversation, an outage of X or Discord only
//! delays delivery (SQS retries, then the DLQ), and a FIFO deduplication id drops webhook retries.

pub mod backoff;
#[cfg(any(test, feature = "testing"))]
mod memory;
mod sqs;

#[cfg(any(test, feature = "testing"))]
pub use memory::MemoryQueue;
pub use sqs::{delay_retry, SqsQueue};

use std::collections::HashSet;
use std::future::Future;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::routing::FlexTaskRouting;
use crate::store::Customer;

#[derive(Debug, thiserror::Error)]
#[error("queue: {0}")]
pub struct QueueError(pub String);

#[async_trait]
pub trait Queue: Send + Sync {
    /// Sends `body`; messages with the same `group` are delivered in order, and a repeated
    /// `dedupe_id` within five minutes is dropped.
    async fn send(&self, group: &str, dedupe_id: &str, body: &str) -> Result<(), QueueError>;
}

/// A received message, as the Lambda SQS event (or the in-process queue) hands it over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueRecord {
    pub message_id: String,
    pub body: String,
    /// 1 on first delivery; the DLQ takes the message after the queue's `maxReceiveCount`.
    pub receive_count: u32,
    pub group: Option<String>,
}

impl QueueRecord {
    /// From a Lambda SQS event record; absent fields become empty (and then fail parsing).
    pub fn from_sqs(message: aws_lambda_events::sqs::SqsMessage) -> Self {
        Self {
            receive_count: message
                .attributes
                .get("ApproximateReceiveCount")
                .and_then(|c| c.parse().ok())
                .unwrap_or(1),
            group: message.attributes.get("MessageGroupId").cloned(),
            message_id: message.message_id.unwrap_or_default(),
            body: message.body.unwrap_or_default(),
        }
    }

    /// The job in the body. A body that does not parse is logged and `None`: the record is
    /// then failed, retried, and parked in the DLQ for a person to look at.
    pub fn job<T: serde::de::DeserializeOwned>(&self, kind: &str) -> Option<T> {
        serde_json::from_str(&self.body)
            .inspect_err(|err| {
                tracing::error!(message_id = %self.message_id, error = %err, kind, "malformed job");
            })
            .ok()
    }
}

/// One thing to tell a customer, on the delivery queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundJob {
    /// Unique per job: the Twilio message SID, or a notice's own id. Dedupes delivery.
    pub id: String,
    pub customer: Customer,
    pub kind: OutboundKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutboundKind {
    AgentMessage {
        author: String,
        body: String,
    },
    AgentJoined {
        name: String,
        /// The agent's Flex identity: one joined notice per agent and conversation.
        #[serde(default)]
        identity: String,
    },
    ChatEnded,
    /// The chat ended after an agent handled it: the notice, and "How did we do? 1–5".
    ChatEndedWithSurvey {
        case_id: String,
    },
    /// The virtual agent's answer: articles, or (none) that it is not sure and can get a person.
    BotAnswer {
        suggestions: Vec<Suggestion>,
    },
    /// A line for the customer from the bridge (e.g. "Case CS-1042 opened — …").
    Notice {
        text: String,
    },
    /// News of a case for its reporter, outside any conversation: `customer.address` is the
    /// platform user id (on Discord the DM channel is opened first) and the lane is the case's.
    CaseUpdate {
        text: String,
    },
    /// Records what the bot told the customer in the conversation, for the agent's transcript
    /// (`Author` = the bot's name, no webhooks).
    Transcript {
        author: String,
        body: String,
    },
    /// Creates the Flex task for the conversation with the Interactions API, once.
    Handoff {
        routing: FlexTaskRouting,
        #[serde(default)]
        case_id: Option<String>,
    },
}

/// An article the bot suggests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    pub title: String,
    #[serde(default)]
    pub url: Option<String>,
    pub snippet: String,
}

impl OutboundJob {
    pub async fn enqueue(&self, queue: &dyn Queue) -> Result<(), QueueError> {
        let body = serde_json::to_string(self).map_err(|e| QueueError(e.to_string()))?;
        queue
            .send(&self.customer.conversation_sid, &self.id, &body)
            .await
    }
}

/// Runs `handle` over a batch in order and returns the ids to report as `batchItemFailures`.
/// Once a message fails, the later messages of its group are failed unhandled, so SQS FIFO
/// retries the group from that point, in order. `handle` answers `true` when a record is done.
pub async fn process_in_order<F, Fut>(records: Vec<QueueRecord>, mut handle: F) -> Vec<String>
where
    F: FnMut(QueueRecord) -> Fut,
    Fut: Future<Output = bool>,
{
    let mut failed = Vec::new();
    let mut blocked_groups = HashSet::new();
    for record in records {
        let group = record.group.clone();
        if group.as_ref().is_some_and(|g| blocked_groups.contains(g)) {
            failed.push(record.message_id);
            continue;
        }
        let id = record.message_id.clone();
        if !handle(record).await {
            if let Some(group) = group {
                blocked_groups.insert(group);
            }
            failed.push(id);
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, group: &str) -> QueueRecord {
        QueueRecord {
            message_id: id.into(),
            body: id.into(),
            receive_count: 1,
            group: Some(group.into()),
        }
    }

    #[tokio::test]
    async fn a_failure_fails_the_rest_of_its_group_only() {
        let batch = vec![
            record("a1", "a"),
            record("b1", "b"),
            record("a2", "a"),
            record("b2", "b"),
        ];
        let mut handled = Vec::new();
        let failed = process_in_order(batch, |r| {
            handled.push(r.message_id.clone());
            let ok = r.message_id != "a1";
            async move { ok }
        })
        .await;
        assert_eq!(failed, ["a1", "a2"]);
        assert_eq!(
            handled,
            ["a1", "b1", "b2"],
            "a2 is not attempted after a1 failed"
        );
    }
}
