//! The two X webhook functions: `twitter-crc` (GET) and `twitter-inbound` (POST).
//!
//! `twitter-inbound` verifies, parses, drops echoes, and puts each customer DM on the X intake
//! queue (FIFO, grouped by customer, deduplicated by X's event id) for `x-worker`, then answers
//! X at once: no Twilio call and no table access, so a slow or failing Twilio, or a killed
//! invocation, can no longer lose a DM that X will not send again. With `X_MENTIONS` on, a
//! public mention of the brand is queued the same way (see [`super::mentions`]).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::Secret;
use crate::metrics;
use crate::queue::{Lane, Queue};
use crate::web::{http, ApiError, WebRequest, WebResponse};

use super::mentions::MentionMode;
use super::{events, signature, XWebhookConfig};

/// `twitter-crc` needs only the consumer secret.
#[derive(Clone, Debug)]
pub struct CrcConfig {
    pub consumer_secret: Secret,
}

/// `GET /twitter/webhook?crc_token=...`. The CRC answer is the HMAC a POST body is signed
/// with, so signing any token would make this endpoint sign forged DMs: only tokens of the form
/// X sends are answered (see [`signature::is_crc_token`]); no JSON body has that form.
pub fn crc(config: &CrcConfig, request: &WebRequest) -> Result<WebResponse, ApiError> {
    // A `+` of a base64 token sent unescaped reads as a space in a query string; a token has no
    // spaces, so each one is that `+`.
    let token = request
        .query_param("crc_token")
        .ok_or_else(|| ApiError::bad_request("missing crc_token"))?
        .replace(' ', "+");
    if !signature::is_crc_token(&token) {
        tracing::warn!(
            length = token.len(),
            "crc_token refused: not of the form X sends"
        );
        return Err(ApiError::bad_request(
            "crc_token is not of the form X sends",
        ));
    }
    let response_token = signature::crc_response_token(config.consumer_secret.expose(), &token);
    Ok(WebResponse::json(
        http::StatusCode::OK,
        &serde_json::json!({ "response_token": response_token }),
    ))
}

/// What a delivery held besides customers' DMs: XChat gets one warning line and a metric (the
/// customer wrote where the bridge cannot read); the rest is counted at debug.
fn report_skipped(parsed: &events::Parsed) {
    let encrypted = parsed.encrypted_total();
    if encrypted > 0 {
        tracing::warn!(
            events = encrypted,
            types = ?parsed.encrypted,
            "XChat events received: end-to-end encrypted, not read (customers must use DMs)"
        );
        metrics::count("XChatEvents", encrypted as u64);
    }
    if parsed.malformed > 0 {
        metrics::count("XMalformedEvents", parsed.malformed as u64);
    }
    tracing::debug!(
        ignored = parsed.ignored,
        foreign = parsed.foreign,
        malformed = parsed.malformed,
        "x delivery read"
    );
}

/// What an [`XJob`] carries. Bodies queued before mentions existed have no `kind`: DMs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum XJobKind {
    #[default]
    Dm,
    /// A public post naming the brand: `event_id` is the post id, `sender_id` its author.
    Mention,
}

impl XJobKind {
    fn is_dm(&self) -> bool {
        *self == XJobKind::Dm
    }
}

/// One customer DM (or public mention) on the X intake queue: what `x-worker` needs to post it
/// to Flex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct XJob {
    /// X's DM event id: the queue's deduplication id and the worker's dedupe key.
    pub event_id: String,
    /// The customer's X user id: the queue's message group, so their DMs stay in order.
    pub sender_id: String,
    #[serde(default)]
    pub handle: Option<String>,
    pub text: String,
    /// The X Activity API delivery it came in, for the logs (none for Account Activity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_uuid: Option<String>,
    /// Absent for a DM, so a DM's body is what it was before mentions.
    #[serde(default, skip_serializing_if = "XJobKind::is_dm")]
    pub kind: XJobKind,
    /// The DM's file, read at intake from the webhook (`message_data.attachment.media`); the
    /// worker downloads it with the brand's credentials. Absent in jobs queued before files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<XAttachment>,
}

/// A customer's file on X, as the intake queue carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct XAttachment {
    /// The file itself (a photo's `media_url_https`, a video's or GIF's best MP4), on X's DM
    /// media hosts: served only to a request signed by the brand.
    pub url: String,
    /// `photo`, `animated_gif` or `video`.
    pub kind: String,
}

impl From<events::InboundDm> for XJob {
    fn from(dm: events::InboundDm) -> Self {
        Self {
            event_id: dm.event_id,
            sender_id: dm.sender_id,
            handle: dm.handle,
            text: dm.text,
            event_uuid: dm.event_uuid,
            kind: XJobKind::Dm,
            attachment: None,
        }
    }
}

impl From<events::InboundMention> for XJob {
    fn from(mention: events::InboundMention) -> Self {
        Self {
            event_id: mention.post_id,
            sender_id: mention.author_id,
            handle: mention.handle,
            text: mention.text,
            event_uuid: mention.event_uuid,
            kind: XJobKind::Mention,
            attachment: None,
        }
    }
}

impl XJob {
    /// Puts the DM on the intake queue: grouped by customer, deduplicated by event id (a
    /// mention by `post-<post id>`).
    pub async fn enqueue(&self, queue: &dyn Queue) -> Result<(), crate::queue::QueueError> {
        let body =
            serde_json::to_string(self).map_err(|e| crate::queue::QueueError(e.to_string()))?;
        let dedupe = match self.kind {
            XJobKind::Dm => self.event_id.clone(),
            XJobKind::Mention => format!("post-{}", self.event_id),
        };
        queue
            .send(&Lane::platform_user(&self.sender_id), &dedupe, &body)
            .await
    }
}

/// `twitter-inbound`: holds its config and the intake queue, and nothing else (no store, no
/// HTTP client): answering X never waits on Twilio or DynamoDB.
pub struct XInbound {
    pub config: XWebhookConfig,
    /// The X intake queue `x-worker` consumes.
    pub intake: Arc<dyn Queue>,
    /// `X_MENTIONS`: off, public mentions are acknowledged and dropped.
    pub mentions: MentionMode,
}

/// The event that could not be queued: X redelivers the whole delivery, and the events already
/// queued are deduplicated.
#[derive(Debug, thiserror::Error)]
#[error("could not queue X event {event_id} for x-worker")]
struct NotQueued {
    event_id: String,
    #[source]
    source: crate::queue::QueueError,
}

impl XInbound {
    /// `POST /twitter/webhook`: verify, parse, drop echoes, queue each customer DM, answer 200.
    /// A queue failure answers 503, so X retries (the DMs already queued are deduplicated).
    pub async fn handle(&self, request: &WebRequest) -> Result<WebResponse, ApiError> {
        request.check_size()?;
        let secret = self.config.consumer_secret.expose();
        if !signature::verify(secret, &request.body, request.header(signature::HEADER)) {
            tracing::debug!("x webhook refused: bad or missing signature");
            return Err(ApiError::Unauthorized);
        }
        let parsed = events::parse(&request.body, &self.config.account_id)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        report_skipped(&parsed);
        if parsed.is_all_malformed() {
            return Err(ApiError::bad_request("no readable event in the delivery"));
        }
        let mut attachments: std::collections::HashMap<String, XAttachment> =
            crate::x::media::dm_attachments(&request.body)
                .into_iter()
                .map(|(event_id, media)| {
                    let attachment = XAttachment {
                        url: media.download_url().to_owned(),
                        kind: media.kind.clone(),
                    };
                    (event_id, attachment)
                })
                .collect();
        let mut jobs: Vec<XJob> = parsed
            .messages
            .into_iter()
            .map(|dm| {
                let attachment = attachments.remove(&dm.event_id);
                XJob {
                    attachment,
                    ..XJob::from(dm)
                }
            })
            .collect();
        if self.mentions.is_on() {
            jobs.extend(parsed.mentions.into_iter().map(XJob::from));
        } else if !parsed.mentions.is_empty() {
            tracing::debug!(
                mentions = parsed.mentions.len(),
                "public mentions ignored (X_MENTIONS is off)"
            );
        }
        if jobs.is_empty() {
            return Ok(WebResponse::ignored("no customer messages"));
        }
        for job in jobs {
            let (event_id, event_uuid) = (job.event_id.as_str(), job.event_uuid.as_deref());
            job.enqueue(self.intake.as_ref())
                .await
                .map_err(|source| NotQueued {
                    event_id: event_id.to_owned(),
                    source,
                })
                .map_err(ApiError::unavailable)?;
            tracing::info!(event_id, event_uuid, kind = ?job.kind, "queued for x-worker");
        }
        Ok(WebResponse::ok())
    }
}

#[cfg(test)]
mod tests {
    //! The endpoint holds no HTTP client and no store: every answer below is made with nothing
    //! but the queue.
    use super::*;
    use crate::queue::{MemoryQueue, QueueError};
    use async_trait::async_trait;
    use std::time::Duration;

    const SECRET: &str = "TEST_ONLY_consumer_secret";
    const BRAND: &str = "1514100000000000001";

    fn endpoint(queue: Arc<dyn Queue>) -> XInbound {
        XInbound {
            config: XWebhookConfig {
                consumer_secret: Secret::new(SECRET),
                account_id: BRAND.into(),
            },
            intake: queue,
            mentions: MentionMode::Off,
        }
    }

    fn dm(event_id: &str, sender: &str, text: &str) -> String {
        serde_json::json!({
            "for_user_id": BRAND,
            "direct_message_events": [{
                "type": "message_create", "id": event_id, "created_timestamp": "1786012345678",
                "message_create": {
                    "target": {"recipient_id": BRAND}, "sender_id": sender,
                    "message_data": {"text": text, "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []}}
                }
            }],
            "users": {sender: {"id": sender, "screen_name": "jordan_cust"}}
        })
        .to_string()
    }

    fn signed(body: &str) -> WebRequest {
        WebRequest::post(body.to_owned())
            .with_header(signature::HEADER, &signature::sign(SECRET, body.as_bytes()))
    }

    #[tokio::test]
    async fn queues_each_dm_grouped_by_customer_and_answers_at_once() {
        let queue = Arc::new(MemoryQueue::new(5, Duration::from_millis(10)));
        let endpoint = endpoint(queue.clone());
        let body = dm("1900000000000000001", "2900000001", "Where is my order?");
        for _ in 0..3 {
            let response = endpoint.handle(&signed(&body)).await.expect("answered");
            assert_eq!(response.status, http::StatusCode::OK);
        }
        let queued = queue.receive(10).await;
        assert_eq!(queued.len(), 1, "X's retries are deduplicated by event id");
        assert_eq!(queued[0].group.as_deref(), Some("2900000001"));
        let job: XJob = serde_json::from_str(&queued[0].body).unwrap();
        assert_eq!(
            job,
            XJob {
                event_id: "1900000000000000001".into(),
                sender_id: "2900000001".into(),
                handle: Some("@jordan_cust".into()),
                text: "Where is my order?".into(),
                event_uuid: None,
                kind: XJobKind::Dm,
                attachment: None,
            }
        );
    }

    /// An X Activity API `dm.received` event for the brand.
    fn xaa_event(uuid: &str, event_id: &str, sender: &str, text: &str) -> serde_json::Value {
        serde_json::json!({
            "event_uuid": uuid, "filter": {"user_id": BRAND}, "event_type": "dm.received",
            "payload": {"direct_message_events": [{
                "type": "message_create", "id": event_id, "created_timestamp": "1786012345678",
                "message_create": {"target": {"recipient_id": BRAND}, "sender_id": sender,
                    "message_data": {"text": text}}
            }], "users": {}}
        })
    }

    #[tokio::test]
    async fn a_batched_delivery_queues_every_dm_in_its_customers_group() {
        let queue = Arc::new(MemoryQueue::new(5, Duration::from_millis(10)));
        let endpoint = endpoint(queue.clone());
        let body = serde_json::json!({"data": [
            xaa_event("u1", "1900000000000000101", "2900000001", "one"),
            {"event_uuid": "u2", "event_type": 3},
            xaa_event("u3", "1900000000000000102", "2900000002", "two"),
            {"event_uuid": "u4", "filter": {"user_id": BRAND}, "event_type": "chat.received", "payload": {}},
            xaa_event("u5", "1900000000000000103", "2900000001", "three"),
        ]})
        .to_string();
        let response = endpoint.handle(&signed(&body)).await.expect("answered");
        assert_eq!(response.status, http::StatusCode::OK);
        let queued: Vec<(Option<String>, XJob)> = queue
            .receive(10)
            .await
            .into_iter()
            .map(|m| (m.group, serde_json::from_str(&m.body).unwrap()))
            .collect();
        let seen: Vec<(&str, &str, &str, &str)> = queued
            .iter()
            .map(|(group, job)| {
                (
                    group.as_deref().unwrap(),
                    job.event_id.as_str(),
                    job.text.as_str(),
                    job.event_uuid.as_deref().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                ("2900000001", "1900000000000000101", "one", "u1"),
                ("2900000002", "1900000000000000102", "two", "u3"),
                ("2900000001", "1900000000000000103", "three", "u5"),
            ]
        );
    }

    fn xaa_mention(uuid: &str, post_id: &str, author: &str) -> serde_json::Value {
        serde_json::json!({
            "event_uuid": uuid, "filter": {"user_id": BRAND}, "event_type": "post.mention.create",
            "payload": {"id": post_id, "author_id": author, "text": "@AcmeSupport help"},
            "includes": {"users": [{"id": author, "username": "cust"}]}
        })
    }

    #[tokio::test]
    async fn mentions_are_queued_only_when_on_grouped_by_author_and_deduplicated_by_post() {
        let body = serde_json::json!({"data": [
            xaa_mention("u1", "1960000000000000001", "2900000001"),
            xaa_event("u2", "1900000000000000301", "2900000001", "a DM"),
        ]})
        .to_string();
        let queue = Arc::new(MemoryQueue::new(5, Duration::from_millis(10)));
        let off = endpoint(queue.clone());
        assert_eq!(
            off.handle(&signed(&body)).await.unwrap().status,
            http::StatusCode::OK
        );
        let queued = queue.receive(10).await;
        assert_eq!(queued.len(), 1, "off: the DM only");
        queue.settle(queued, &[]);

        let queue = Arc::new(MemoryQueue::new(5, Duration::from_millis(10)));
        let on = XInbound {
            mentions: MentionMode::Reply,
            ..endpoint(queue.clone())
        };
        for _ in 0..2 {
            assert_eq!(
                on.handle(&signed(&body)).await.unwrap().status,
                http::StatusCode::OK
            );
        }
        let queued = queue.receive(10).await;
        assert_eq!(queued.len(), 2, "the DM and the mention, each once");
        let mention: XJob = serde_json::from_str(&queued[1].body).unwrap();
        assert_eq!(queued[1].group.as_deref(), Some("2900000001"));
        assert_eq!(
            mention,
            XJob {
                event_id: "1960000000000000001".into(),
                sender_id: "2900000001".into(),
                handle: Some("@cust".into()),
                text: "@AcmeSupport help".into(),
                event_uuid: Some("u1".into()),
                kind: XJobKind::Mention,
                attachment: None,
            }
        );
        let dm: serde_json::Value = serde_json::from_str(&queued[0].body).unwrap();
        assert!(dm.get("kind").is_none(), "a DM's body is unchanged: {dm}");
    }

    #[test]
    fn a_job_queued_before_mentions_reads_as_a_dm() {
        let old = r#"{"event_id":"1900000000000000001","sender_id":"2900000001","handle":null,"text":"hi"}"#;
        let job: XJob = serde_json::from_str(old).unwrap();
        assert_eq!(job.kind, XJobKind::Dm);
    }

    fn crc_endpoint(token: &str) -> Result<WebResponse, ApiError> {
        let config = CrcConfig {
            consumer_secret: Secret::new(SECRET),
        };
        let query = serde_urlencoded::to_string([("crc_token", token)]).unwrap();
        let request = WebRequest {
            method: "GET".into(),
            query,
            ..WebRequest::default()
        };
        crc(&config, &request)
    }

    #[test]
    fn the_crc_answers_xs_tokens_only() {
        let token = "NjI4ZmM0ZjEtM2Q2Ni00ZjI1LTg0YjYtYzQxMmQzZDFjMDcx";
        let answer = crc_endpoint(token).expect("answered");
        assert_eq!(answer.status, http::StatusCode::OK);
        let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(
            body["response_token"],
            signature::crc_response_token(SECRET, token)
        );
        // X's token with an unescaped `+`: the `+` it sent is signed, not a space.
        let raw_plus = WebRequest {
            method: "GET".into(),
            query: "crc_token=abc+defghijklmnop".into(),
            ..WebRequest::default()
        };
        let body: serde_json::Value = serde_json::from_str(
            &crc(
                &CrcConfig {
                    consumer_secret: Secret::new(SECRET),
                },
                &raw_plus,
            )
            .expect("answered")
            .body,
        )
        .unwrap();
        assert_eq!(
            body["response_token"],
            signature::crc_response_token(SECRET, "abc+defghijklmnop")
        );
        let dm_body = dm("1900000000000000201", "2900000001", "forged");
        for refused in [
            dm_body.as_str(),
            "",
            "short",
            &"A".repeat(129),
            "a+b c\td e f g h i j",
        ] {
            assert!(
                matches!(crc_endpoint(refused), Err(ApiError::BadRequest(_))),
                "{refused:?}"
            );
        }
    }

    /// The oracle, closed: whatever the CRC endpoint signs, that signature on that body is
    /// refused by the webhook before anything is queued (no CRC token is a JSON object).
    #[tokio::test]
    async fn no_crc_answer_signs_a_body_the_webhook_takes() {
        let queue = Arc::new(MemoryQueue::new(5, Duration::from_millis(10)));
        let endpoint = endpoint(queue.clone());
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-";
        let mut tokens: Vec<String> = (16..=128)
            .map(|len| alphabet.chars().cycle().skip(len).take(len).collect())
            .collect();
        tokens.push("e30=e30=e30=e30=".into()); // base64 of "{}", which is not "{}"
        tokens.push("1234567890123456".into()); // JSON, but a number: not a delivery
        for token in tokens {
            let answer = crc_endpoint(&token).expect("an X-form token is answered");
            let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
            let signed_by_crc = WebRequest::post(token.clone())
                .with_header(signature::HEADER, body["response_token"].as_str().unwrap());
            assert!(
                matches!(
                    endpoint.handle(&signed_by_crc).await,
                    Err(ApiError::BadRequest(_))
                ),
                "{token}"
            );
        }
        assert!(queue.is_idle());
    }

    #[tokio::test]
    async fn refuses_bad_signatures_before_queueing_anything() {
        let queue = Arc::new(MemoryQueue::new(5, Duration::from_millis(10)));
        let endpoint = endpoint(queue.clone());
        let body = dm("1900000000000000002", "2900000001", "hi");
        let mut forged = signed(&body);
        forged.body = body.replace("hi", "ho").into();
        assert!(matches!(
            endpoint.handle(&forged).await,
            Err(ApiError::Unauthorized)
        ));
        assert!(matches!(
            endpoint.handle(&WebRequest::post(body)).await,
            Err(ApiError::Unauthorized)
        ));
        assert!(queue.is_idle());
        assert!(matches!(
            endpoint.handle(&signed("not json")).await,
            Err(ApiError::BadRequest(_))
        ));
    }

    #[tokio::test]
    async fn echoes_are_not_queued() {
        let queue = Arc::new(MemoryQueue::new(5, Duration::from_millis(10)));
        let endpoint = endpoint(queue.clone());
        let echo = dm("1900000000000000003", BRAND, "Thanks for waiting!");
        let response = endpoint.handle(&signed(&echo)).await.expect("answered");
        assert_eq!(response.status, http::StatusCode::OK);
        assert!(queue.is_idle());
    }

    struct Down;

    #[async_trait]
    impl Queue for Down {
        async fn send(&self, _: &Lane, _: &str, _: &str) -> Result<(), QueueError> {
            Err(QueueError("unreachable".into()))
        }
    }

    #[tokio::test]
    async fn a_queue_failure_asks_x_to_retry() {
        let endpoint = endpoint(Arc::new(Down));
        let body = dm("1900000000000000004", "2900000001", "hello");
        assert!(matches!(
            endpoint.handle(&signed(&body)).await,
            Err(ApiError::Unavailable { .. })
        ));
    }
}
