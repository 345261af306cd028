//! Durable work queues. Agent messages and notices travel to customers through a FIFO queue
//! grouped by conversation SID: order holds per conversation, an outage of X or Discord only
//! delays delivery (SQS retries, then the DLQ), and a FIFO deduplication id drops webhook retries.

pub mod backoff;
#[cfg(any(test, feature = "testing"))]
mod memory;
#[cfg(feature = "aws")]
mod sqs;

#[cfg(any(test, feature = "testing"))]
pub use memory::MemoryQueue;
#[cfg(feature = "aws")]
pub use sqs::{delay_retry, SqsQueue};

use std::collections::HashSet;
use std::future::Future;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::cases::{Case, CaseId, CaseKind};
use crate::routing::FlexTaskRouting;
use crate::store::{Customer, CustomerIdentity};
use flex_bridge_core::ids::ConversationSid;

#[derive(Debug, thiserror::Error)]
#[error("queue: {0}")]
pub struct QueueError(pub String);

/// A webhook that could not queue its work answers 503: the sender retries.
impl From<QueueError> for flex_bridge_core::ApiError {
    fn from(err: QueueError) -> Self {
        Self::unavailable(err)
    }
}

/// A FIFO lane (an SQS message group): work in one lane is handled in order, one at a time,
/// while lanes run side by side.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Lane(String);

impl Lane {
    /// A conversation's outbound work: agent messages, the bot's answers, its notices.
    pub fn conversation(sid: &ConversationSid) -> Self {
        Self(sid.to_string())
    }

    /// A customer's news outside any conversation (case updates, courtesies), by identity.
    pub fn customer(identity: &str) -> Self {
        Self(identity.to_owned())
    }

    /// A platform user's inbound work: X DMs by sender, Discord interactions by user.
    pub fn platform_user(user_id: &str) -> Self {
        Self(user_id.to_owned())
    }

    /// The SQS `MessageGroupId`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[async_trait]
pub trait Queue: Send + Sync {
    /// Sends `body` in `lane`; messages in one lane are delivered in order, and a repeated
    /// `dedupe_id` within five minutes is dropped.
    async fn send(&self, lane: &Lane, dedupe_id: &str, body: &str) -> Result<(), QueueError>;
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
    #[cfg(feature = "aws")]
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
        /// The agent's files (`Media` of `onMessageAdded`), in the order attached; absent in
        /// jobs queued before files, and in a text-only message.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        media: Vec<AgentFile>,
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
        case_id: CaseId,
    },
    /// The virtual agent's answer: articles, or (none) that it is not sure and can get a person.
    BotAnswer {
        suggestions: Vec<Suggestion>,
    },
    /// A line for the customer from the bridge (e.g. "Case CS-1042 opened — …").
    Notice {
        text: String,
    },
    /// A line the customer can do without (the thanks for a rating), outside any conversation
    /// like [`OutboundKind::CaseUpdate`]: dropped first when the brand's X DM budget runs low.
    Courtesy {
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
        case_id: Option<CaseId>,
    },
}

pub use crate::vocabulary::Suggestion;

impl OutboundJob {
    /// News outside any conversation waits in the customer's lane; the rest in the
    /// conversation's.
    pub fn lane(&self) -> Lane {
        match self.kind {
            OutboundKind::CaseUpdate { .. } | OutboundKind::Courtesy { .. } => {
                Lane::customer(&self.customer.identity)
            }
            _ => Lane::conversation(&self.customer.conversation_sid),
        }
    }

    pub async fn enqueue(&self, queue: &dyn Queue) -> Result<(), QueueError> {
        let body = serde_json::to_string(self).map_err(|e| QueueError(e.to_string()))?;
        queue.send(&self.lane(), &self.id, &body).await
    }
}

/// What became of one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handled {
    /// Done with: handled, a duplicate, or noted as undeliverable.
    Done,
    /// Try again after the usual back-off ([`backoff::retry_delay`]).
    Retry,
    /// Try again at this epoch second, when the upstream said it takes work again (X's DM
    /// budget resets): one receive spent waiting, instead of a back-off's many.
    RetryAt(i64),
}

impl From<bool> for Handled {
    fn from(done: bool) -> Self {
        if done {
            Handled::Done
        } else {
            Handled::Retry
        }
    }
}

/// A record to report in `batchItemFailures`, and when to try it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub message_id: String,
    /// Epoch second of the next try; `None` for the usual back-off.
    pub retry_at: Option<i64>,
}

impl Failure {
    /// How long to hide the message: until `retry_at` (at least a second, at most 11.5 hours:
    /// within SQS's 12-hour visibility limit), or the back-off after its `receive_count`-th try.
    pub fn delay(&self, receive_count: u32, now: i64) -> std::time::Duration {
        // SQS refuses a visibility timeout past 12 hours from the message's receipt (not from
        // the call): the handler has already spent some of it, and the event source mapping
        // received it up to one visibility timeout (6 minutes) before. 11.5 hours is safe.
        const SQS_MAX_VISIBILITY_SECS: i64 = 12 * 3600 - 30 * 60;
        match self.retry_at {
            Some(at) => {
                std::time::Duration::from_secs((at - now).clamp(1, SQS_MAX_VISIBILITY_SECS) as u64)
            }
            None => backoff::retry_delay(receive_count),
        }
    }
}

impl PartialEq<&str> for Failure {
    fn eq(&self, id: &&str) -> bool {
        self.message_id == *id
    }
}

impl PartialEq<String> for Failure {
    fn eq(&self, id: &String) -> bool {
        self.message_id == *id
    }
}

/// Runs `handle` over a batch in order and returns the records to report as
/// `batchItemFailures`. Once a message fails, the later messages of its group are failed
/// unhandled, so SQS FIFO retries the group from that point, in order. `handle` answers
/// [`Handled`] (or `true` when a record is done).
pub async fn process_in_order<F, Fut, H>(records: Vec<QueueRecord>, mut handle: F) -> Vec<Failure>
where
    F: FnMut(QueueRecord) -> Fut,
    Fut: Future<Output = H>,
    H: Into<Handled>,
{
    let mut failed = Vec::new();
    let mut blocked_groups = HashSet::new();
    for record in records {
        let group = record.group.clone();
        if group.as_ref().is_some_and(|g| blocked_groups.contains(g)) {
            failed.push(Failure {
                message_id: record.message_id,
                retry_at: None,
            });
            continue;
        }
        let message_id = record.message_id.clone();
        let retry_at = match handle(record).await.into() {
            Handled::Done => continue,
            Handled::Retry => None,
            Handled::RetryAt(at) => Some(at),
        };
        if let Some(group) = group {
            blocked_groups.insert(group);
        }
        failed.push(Failure {
            message_id,
            retry_at,
        });
    }
    failed
}

/// A job telling a customer `text` on their platform outside any conversation, through the
/// durable lane (an outage delays it, never drops it): `identity` gives the platform and user
/// id (on Discord the DM channel is opened first). `id` makes the job unique.
/// An agent's file, as the webhook announced it: delivery fetches it from MCS by `sid`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentFile {
    /// The Media SID (`ME…`).
    pub sid: String,
    #[serde(default)]
    pub filename: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
    /// Bytes.
    #[serde(default)]
    pub size: Option<u64>,
}

impl AgentFile {
    /// The name the customer and the agent read (the SID when the agent's file had none).
    pub fn name(&self) -> &str {
        self.filename.as_deref().unwrap_or(&self.sid)
    }
}

pub fn notice_for(identity: &str, id: &str, text: String) -> Option<OutboundJob> {
    let CustomerIdentity { platform, user_id } = identity.parse().ok()?;
    Some(OutboundJob {
        id: id.to_owned(),
        customer: Customer {
            identity: identity.to_owned(),
            platform,
            address: user_id,
            // Outside any conversation: the job's lane is the customer's (`OutboundJob::lane`).
            conversation_sid: ConversationSid::default(),
            handle: None,
            quick_replies: Vec::new(),
        },
        kind: OutboundKind::CaseUpdate { text },
    })
}

/// Like [`notice_for`], for a line the customer can do without ([`OutboundKind::Courtesy`]).
pub fn courtesy_for(identity: &str, id: &str, text: String) -> Option<OutboundJob> {
    let mut job = notice_for(identity, id, String::new())?;
    job.kind = OutboundKind::Courtesy { text };
    Some(job)
}

/// A job telling a case's reporter `text` (see [`notice_for`]); `key` makes it unique.
pub fn case_update_job(case: &Case, key: &str, text: String) -> Option<OutboundJob> {
    notice_for(&case.reporter, &format!("case-{}-{key}", case.id), text)
}

/// After an operator resolved `case` with `note`: the job telling a bug's or a feature
/// request's reporter (support cases were closed in the customer's own chat: none).
pub fn resolved_notice(case: &Case, note: &str) -> Option<OutboundJob> {
    if case.kind == CaseKind::Support {
        return None;
    }
    let text = format!(
        "Your {} {} is resolved: {note}",
        case.kind.display_name().to_lowercase(),
        case.id
    );
    case_update_job(case, &format!("resolved-{}", case.timeline.len()), text)
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

    #[test]
    fn an_agent_message_queued_before_files_still_reads_and_a_text_one_is_written_as_before() {
        let old = r#"{"type":"agent_message","author":"agent@acme.com","body":"Hi"}"#;
        let kind: OutboundKind = serde_json::from_str(old).unwrap();
        assert_eq!(
            kind,
            OutboundKind::AgentMessage {
                author: "agent@acme.com".into(),
                body: "Hi".into(),
                media: Vec::new(),
            }
        );
        assert_eq!(serde_json::to_string(&kind).unwrap(), old);
        let with_file = OutboundKind::AgentMessage {
            author: "agent@acme.com".into(),
            body: String::new(),
            media: vec![AgentFile {
                sid: "ME0123456789abcdef0123456789abcdef".into(),
                filename: None,
                content_type: Some("image/png".into()),
                size: Some(3),
            }],
        };
        let read: OutboundKind =
            serde_json::from_str(&serde_json::to_string(&with_file).unwrap()).unwrap();
        assert_eq!(read, with_file);
        let OutboundKind::AgentMessage { media, .. } = read else {
            unreachable!()
        };
        assert_eq!(media[0].name(), "ME0123456789abcdef0123456789abcdef");
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
        assert!(failed.iter().all(|f| f.retry_at.is_none()));
    }

    #[tokio::test]
    async fn a_record_may_name_its_next_try_and_its_group_waits_behind_it() {
        let batch = vec![record("a1", "a"), record("a2", "a"), record("b1", "b")];
        let failed = process_in_order(batch, |r| async move {
            match r.message_id.as_str() {
                "a1" => Handled::RetryAt(1_786_000_600),
                _ => Handled::Done,
            }
        })
        .await;
        assert_eq!(failed, ["a1", "a2"]);
        assert_eq!(failed[0].retry_at, Some(1_786_000_600));
        let now = 1_786_000_000;
        assert_eq!(failed[0].delay(3, now).as_secs(), 600);
        assert_eq!(failed[1].delay(3, now), backoff::retry_delay(3));
        let far = Failure {
            message_id: "x".into(),
            retry_at: Some(now + 86_400),
        };
        let cap = far.delay(1, now).as_secs();
        assert!(
            (11 * 3600..12 * 3600 - 6 * 60).contains(&cap),
            "under SQS's 12 h from receipt: {cap}"
        );
        let past = Failure {
            retry_at: Some(now - 5),
            ..far
        };
        assert_eq!(past.delay(1, now).as_secs(), 1);
    }
}
