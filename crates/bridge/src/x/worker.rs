//! `x-worker` (SQS FIFO, grouped by customer): the X intake queue's consumer. Each DM is
//! answered by the bridge (a customer's cases, a 1–5 after a chat), or claimed once by X's
//! event id and posted to Flex (finding or opening the customer's conversation), then the claim
//! is kept for a week. A failure lets the claim go and fails that record only, so SQS retries
//! it (and the customer's later DMs after it, in order) and, after `maxReceiveCount`, parks it
//! in the DLQ: a Twilio outage delays DMs instead of losing them.
//!
//! DynamoDB operations per DM: three for one posted to Flex (the customer's record, claim,
//! confirm) and one Twilio call (the message) when the conversation is open; three for a rating
//! (the record, the claim, the score); one for a question about cases (the Query).

use std::sync::Arc;

use tracing::Instrument;

use crate::cases::views;
use crate::conversations::{BridgeError, Conversations, CustomerMessage};

use crate::idempotency::{Key, Once};
use crate::queue::{process_in_order, Queue, QueueRecord};
use crate::store::{CustomerSlot, Platform};

use super::media::{DmMediaCategory, XMediaClient};
use super::mentions::Invitations;
use super::webhook::{XAttachment, XJob, XJobKind};
use crate::twilio::media::MediaClient;

/// A DM is claimed for longer than one invocation (the function's 60 s timeout) and shorter
/// than the queue's visibility timeout (360 s), so the retry of a killed invocation finds the
/// claim lapsed and posts it; once done it is kept for a week, far longer than X redelivers an
/// event (SQS FIFO drops X's fast retries within five minutes; this drops the later ones).
pub const FORWARD_ONCE: Once = Once {
    claim_secs: 90,
    keep_secs: 7 * 24 * 3600,
};

/// A rating is claimed for good at once (the claim is the record: one write, which keeps it
/// within three DynamoDB operations). A failure lets the claim go; only an invocation killed
/// between the claim and the answer would drop it.
const RATE_ONCE: Once = Once {
    claim_secs: FORWARD_ONCE.keep_secs,
    keep_secs: FORWARD_ONCE.keep_secs,
};

pub struct XWorker {
    pub conversations: Conversations,
    /// The delivery lane, for the bridge's own answers (a customer's cases, thanks for a
    /// rating) that never go to Flex.
    pub queue: Arc<dyn Queue>,
    /// How the author of a public mention is invited to DM (`X_MENTIONS`); `None`: mentions
    /// are off (one that was queued anyway is still posted to Flex, and nobody is invited).
    pub mentions: Option<Invitations>,
    /// Reads customers' files with the brand's OAuth 1.0a credentials, when files are carried
    /// (`TWILIO_CHAT_SERVICE_SID` set).
    pub x_media: Option<XMediaClient>,
}

#[derive(Debug, thiserror::Error)]
pub(super) enum WorkError {
    #[error(transparent)]
    Bridge(#[from] BridgeError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Queue(#[from] crate::queue::QueueError),
    #[error("not a customer identity")]
    Identity,
    /// The file's download or upload failed on the way: retried with the DM.
    #[error("the DM's file did not reach Flex")]
    File(#[from] crate::retry::HttpError),
    #[error(transparent)]
    Told(#[from] crate::files::TellError),
    /// Inviting a mention's author failed for a passing reason (see `mentions`).
    #[error("could not invite the author: {0}")]
    Invite(crate::retry::HttpError),
}

impl XWorker {
    /// One SQS batch; returns the ids to report as `batchItemFailures`. A failed DM fails the
    /// rest of its customer's DMs in the batch unhandled, so order holds per customer.
    pub async fn handle_batch(&self, records: Vec<QueueRecord>) -> Vec<crate::queue::Failure> {
        process_in_order(records, |record| async move { self.handle(&record).await }).await
    }

    async fn handle(&self, record: &QueueRecord) -> bool {
        let Some(job) = record.job::<XJob>("x") else {
            return false;
        };
        let span = tracing::info_span!(
            "x_dm",
            event_id = %job.event_id,
            event_uuid = job.event_uuid.as_deref(),
            kind = ?job.kind,
            conversation_sid = tracing::field::Empty
        );
        // Boxed: nested in the Lambda runtime's futures, the two paths' futures are deeper than
        // rustc's default recursion limit lets it lay out x-worker's `main`.
        let work = async {
            match job.kind {
                XJobKind::Dm => Box::pin(self.answer(&job)).await,
                XJobKind::Mention => Box::pin(self.mention(&job)).await,
            }
        };
        match work.instrument(span.clone()).await {
            Ok(()) => true,
            Err(err) => {
                span.in_scope(|| {
                    tracing::warn!(
                        error = %crate::web::chain(&err),
                        receive_count = record.receive_count,
                        "could not hand the DM over; SQS will retry"
                    )
                });
                false
            }
        }
    }

    /// The DM answered by the bridge, or posted to Flex once. The customer's record is read
    /// first: it tells whether a bare digit rates their last chat, and the post reuses it.
    async fn answer(&self, job: &XJob) -> Result<(), WorkError> {
        let store = self.conversations.store.as_ref();
        let identity = Platform::X.identity(&job.sender_id);
        if let Some(query) = views::parse_query(&job.text) {
            let text = views::answer_query(store, &identity, &query).await?;
            return self
                .answer_from_the_bridge(crate::queue::notice_for, &identity, job, text)
                .await;
        }
        let slot = store.customer(&identity).await?;
        let key = Key::XDm(&job.event_id).to_string();
        if let (Some(score), Some(case_id)) = (views::rating(&job.text), slot.asked_to_rate()) {
            // Claimed like a message to Flex: a digit forwarded into a chat before its survey
            // was asked (a quick reply, then X replays the event) is not taken for a rating, and
            // a rating redelivered after the next chat dropped the question is not posted.
            return RATE_ONCE
                .step(store, &key, || async {
                    let text = views::answer_rating(store, &case_id, score, &identity).await?;
                    // The thanks is a courtesy: the first DM dropped when the budget is low.
                    self.answer_from_the_bridge(crate::queue::courtesy_for, &identity, job, text)
                        .await
                })
                .await;
        }
        FORWARD_ONCE
            .step(store, &key, || self.post(job, slot))
            .await
    }

    async fn post(&self, job: &XJob, looked_up: CustomerSlot) -> Result<(), WorkError> {
        let carried = match (&job.attachment, &self.x_media, &self.conversations.media) {
            (Some(attachment), Some(x), Some(mcs)) => Some(carry(x, mcs, attachment).await?),
            _ => None,
        };
        let media_sid = match &carried {
            Some(Carried::Uploaded(sid)) => Some(sid.clone()),
            _ => None,
        };
        // The file itself is in the message: the link X's payload noted is of no use to the agent.
        let text = match media_sid {
            Some(_) => without_attachment_note(&job.text),
            None => job.text.clone(),
        };
        let message = CustomerMessage {
            platform: Platform::X,
            address: job.sender_id.clone(),
            user_id: job.sender_id.clone(),
            handle: job.handle.clone(),
            text,
            event_id: job.event_id.clone(),
            agent_requested: false,
            public_post: false,
            media_sid,
        };
        let sid = self
            .conversations
            .post_from_customer(&message, Some(looked_up))
            .await?;
        if let Some(Carried::Refused { filename, refusal }) = carried {
            let told = crate::files::Told {
                twilio: &self.conversations.twilio,
                queue: self.queue.as_ref(),
            };
            told.refusal(
                &Platform::X.identity(&job.sender_id),
                &sid,
                &format!("x-{}", job.event_id),
                &filename,
                &refusal,
            )
            .await?;
        }
        Ok(())
    }

    /// A question about the customer's cases, or their 1–5 after a chat, is answered through
    /// the delivery lane and goes neither to the bot nor to an agent (nor opens a
    /// conversation). The answer's job id is the DM's event id, which delivery sends once
    /// however often it is queued: a question about cases needs no claim.
    async fn answer_from_the_bridge(
        &self,
        notice_for: fn(&str, &str, String) -> Option<crate::queue::OutboundJob>,
        identity: &str,
        job: &XJob,
        text: String,
    ) -> Result<(), WorkError> {
        let notice = notice_for(identity, &format!("x-{}", job.event_id), text)
            .ok_or(WorkError::Identity)?;
        notice.enqueue(self.queue.as_ref()).await?;
        tracing::info!("answered by the bridge");
        Ok(())
    }
}

/// What became of an X customer's file.
enum Carried {
    /// In MCS: the Media SID to post.
    Uploaded(String),
    Refused {
        filename: String,
        refusal: crate::files::Refusal,
    },
}

/// Downloads the DM's file with the brand's credentials and streams it into MCS, unless the
/// allow-list refuses it. Any failure on the way is returned, so the DM retries on its queue.
async fn carry(
    x: &XMediaClient,
    mcs: &MediaClient,
    attachment: &XAttachment,
) -> Result<Carried, WorkError> {
    let content = x.download_dm_media(&attachment.url).await?;
    let filename = crate::files::filename_of(&attachment.url);
    let content_type = content
        .content_type
        .clone()
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    // X's own limit for a video in a DM is the largest it serves.
    let max = DmMediaCategory::Video.max_bytes();
    if let Err(refusal) = crate::files::check(&filename, &content_type, content.content_length, max)
    {
        return Ok(Carried::Refused { filename, refusal });
    }
    let download = crate::files::Download {
        filename,
        content_type,
        content_length: content.content_length,
        response: content.response,
    };
    let media = crate::files::upload(mcs, download, max).await?;
    Ok(Carried::Uploaded(media.sid))
}

/// `text` without the `[The customer attached a …]` line the event parser adds.
fn without_attachment_note(text: &str) -> String {
    match text.rsplit_once('\n') {
        Some((before, last)) if last.starts_with(ATTACHMENT_NOTE) => before.to_owned(),
        None if text.starts_with(ATTACHMENT_NOTE) => String::new(),
        _ => text.to_owned(),
    }
}

/// How the event parser ([`super::events`]) notes an attachment in the text.
const ATTACHMENT_NOTE: &str = "[The customer attached a ";

#[cfg(test)]
mod tests {
    //! The worker without Twilio: the bridge's own answers need none, and a Twilio that cannot
    //! be reached shows what a failure does to the claim and to the batch.
    use super::*;
    use crate::config::{Env, Secret};
    use crate::conversations::ConversationSettings;
    use crate::queue::MemoryQueue;
    use crate::retry::RetryPolicy;
    use crate::store::{Customers, EventLog, MemoryStore};
    use crate::twilio::{TwilioClient, TwilioConfig};
    use std::collections::HashMap;
    use std::time::Duration;

    fn worker() -> (XWorker, Arc<MemoryStore>, Arc<MemoryQueue>) {
        let store = Arc::new(MemoryStore::new());
        let queue = Arc::new(MemoryQueue::new(5, Duration::from_millis(10)));
        let vars: HashMap<String, String> = [
            ("PUBLIC_BASE_URL", "https://bridge.example.com"),
            ("ROUTING", "studio"),
            ("STUDIO_FLOW_SID", "FW00000000000000000000000000000001"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let settings = ConversationSettings::from_env(&mut Env::from_map(vars));
        // The discard port: every Twilio call fails at once, and is not retried.
        let twilio = TwilioClient::new(
            crate::http::http_client(),
            TwilioConfig::at(
                "http://127.0.0.1:9",
                "AC00000000000000000000000000000000",
                Secret::new("TEST_ONLY_token"),
            ),
        )
        .with_retry(RetryPolicy {
            attempts: 1,
            ..RetryPolicy::default()
        });
        let worker = XWorker {
            conversations: Conversations {
                store: store.clone(),
                twilio,
                settings,
                media: None,
            },
            queue: queue.clone(),
            mentions: None,
            x_media: None,
        };
        (worker, store, queue)
    }

    fn record(id: &str, sender: &str, text: &str) -> QueueRecord {
        let job = XJob {
            event_id: format!("19000000000000000{id}"),
            sender_id: sender.into(),
            handle: Some("@cust".into()),
            text: text.into(),
            event_uuid: None,
            kind: XJobKind::Dm,
            attachment: None,
        };
        QueueRecord {
            message_id: id.into(),
            body: serde_json::to_string(&job).unwrap(),
            receive_count: 1,
            group: Some(sender.into()),
        }
    }

    #[tokio::test]
    async fn a_failure_lets_the_claim_go_and_fails_only_its_customers_records() {
        let (worker, store, queue) = worker();
        let batch = vec![
            record("01", "2900000001", "Where is my order?"),
            record("02", "2900000002", "cases"),
            record("03", "2900000001", "my cases"),
        ];
        let failed = worker.handle_batch(batch).await;
        assert_eq!(
            failed,
            ["01", "03"],
            "the customer's later DM waits its turn"
        );
        // The failed DM's claim was let go, and the one after it was never claimed: SQS's
        // retry of both does the work.
        assert!(store
            .claim_event("x#1900000000000000001", 60)
            .await
            .unwrap());
        assert!(store
            .claim_event("x#1900000000000000003", 60)
            .await
            .unwrap());
        // The other customer's question was answered by the bridge, through the delivery lane,
        // without a claim: a redelivery queues the same job again, which the lane drops as a
        // duplicate (and delivery, which dedupes by job id, after the lane's five minutes).
        let job_id =
            |body: &str| serde_json::from_str::<serde_json::Value>(body).unwrap()["id"].clone();
        let answered = queue.receive(10).await;
        assert_eq!(answered.len(), 1);
        assert_eq!(job_id(&answered[0].body), "x-1900000000000000002");
        queue.settle(answered, &[]);
        assert!(worker
            .handle_batch(vec![record("02", "2900000002", "cases")])
            .await
            .is_empty());
        assert!(queue.is_idle(), "the same job, dropped as a duplicate");
        assert!(store
            .claim_event("x#1900000000000000002", 60)
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn a_rating_redelivered_after_the_next_chat_opened_is_not_posted_into_it() {
        let (worker, store, queue) = worker();
        let identity = "x-2900000003";
        crate::store::contract::asked_to_rate(
            store.as_ref(),
            identity,
            "CS-1001",
            crate::now_epoch() + 3600,
        )
        .await;
        let rating = record("05", "2900000003", "4");
        assert!(worker.handle_batch(vec![rating.clone()]).await.is_empty());
        let answered = queue.receive(10).await;
        assert_eq!(answered.len(), 1, "thanked through the delivery lane");
        queue.settle(answered, &[]);
        // The customer starts a new chat, which drops the question; then X redelivers the
        // rating. Posting it would fail here (Twilio is unreachable): it is done already.
        assert!(store.lease_customer(identity, "a", 30).await.unwrap());
        let customer =
            crate::store::contract::customer(identity, "CH00000000000000000000000000000005");
        assert!(store.open_conversation(&customer, "a").await.unwrap());
        assert!(worker.handle_batch(vec![rating]).await.is_empty());
        assert!(queue.is_idle());
    }

    #[tokio::test]
    async fn a_digit_forwarded_into_a_chat_and_replayed_after_its_survey_is_not_a_rating() {
        let (worker, store, queue) = worker();
        let identity = "x-2900000006";
        // "2" went to the chat as a quick reply (its event done, as forwarding leaves it); the
        // chat closed and its survey was asked; then X replays the event.
        let digit = record("06", "2900000006", "2");
        store
            .confirm_event("x#1900000000000000006", FORWARD_ONCE.keep_secs)
            .await
            .unwrap();
        crate::store::contract::asked_to_rate(
            store.as_ref(),
            identity,
            "CS-1001",
            crate::now_epoch() + 3600,
        )
        .await;
        assert!(worker.handle_batch(vec![digit]).await.is_empty());
        assert!(queue.is_idle(), "no thanks for a rating never given");
    }

    #[tokio::test]
    async fn a_malformed_record_fails() {
        let (worker, _, _) = worker();
        let mut bad = record("04", "2900000001", "hi");
        bad.body = "not json".into();
        assert_eq!(worker.handle_batch(vec![bad]).await, ["04"]);
    }
}
