//! The two X webhook functions: `twitter-crc` (GET) and `twitter-inbound` (POST).
//!
//! `twitter-inbound` verifies, parses, drops echoes, and puts each customer DM on the X intake
//! queue (FIFO, grouped by customer, deduplicated by X's event id) for `x-worker`, then answers
//! X at once: no Twilio call and no table access, so a slow or failing Twilio, or a killed
//! invocation, can no longer lose a DM that X will not send again.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, Env, Secret};
use crate::lambda::Aws;
use crate::queue::Queue;
use crate::web::{http, ApiError, WebRequest, WebResponse};

use super::{events, signature, XWebhookConfig, INTAKE_QUEUE_URL};

/// `twitter-crc` needs only the consumer secret.
#[derive(Clone, Debug)]
pub struct CrcConfig {
    pub consumer_secret: Secret,
}

impl CrcConfig {
    pub fn from_env(mut env: Env) -> Result<Self, ConfigError> {
        let consumer_secret = env.required_secret("X_CONSUMER_SECRET");
        env.finish()?;
        Ok(Self { consumer_secret })
    }
}

/// `GET /twitter/webhook?crc_token=...`
pub fn crc(config: &CrcConfig, request: &WebRequest) -> Result<WebResponse, ApiError> {
    let token = request
        .query_param("crc_token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::bad_request("missing crc_token"))?;
    let response_token = signature::crc_response_token(config.consumer_secret.expose(), &token);
    Ok(WebResponse::json(
        http::StatusCode::OK,
        &serde_json::json!({ "response_token": response_token }),
    ))
}

/// One customer DM on the X intake queue: what `x-worker` needs to post it to Flex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct XJob {
    /// X's DM event id: the queue's deduplication id and the worker's dedupe key.
    pub event_id: String,
    /// The customer's X user id: the queue's message group, so their DMs stay in order.
    pub sender_id: String,
    #[serde(default)]
    pub handle: Option<String>,
    pub text: String,
}

impl From<events::InboundDm> for XJob {
    fn from(dm: events::InboundDm) -> Self {
        Self {
            event_id: dm.event_id,
            sender_id: dm.sender_id,
            handle: dm.handle,
            text: dm.text,
        }
    }
}

impl XJob {
    /// Puts the DM on the intake queue: grouped by customer, deduplicated by event id.
    pub async fn enqueue(&self, queue: &dyn Queue) -> Result<(), crate::queue::QueueError> {
        let body =
            serde_json::to_string(self).map_err(|e| crate::queue::QueueError(e.to_string()))?;
        queue.send(&self.sender_id, &self.event_id, &body).await
    }
}

/// `twitter-inbound`: holds its config and the intake queue, and nothing else (no store, no
/// HTTP client): answering X never waits on Twilio or DynamoDB.
pub struct XInbound {
    pub config: XWebhookConfig,
    /// The X intake queue `x-worker` consumes.
    pub intake: Arc<dyn Queue>,
}

impl XInbound {
    /// Everything `twitter-inbound` needs, built once per cold start.
    pub fn from_env(mut env: Env, aws: &Aws) -> Result<Self, ConfigError> {
        let config = XWebhookConfig::from_env(&mut env);
        let queue_url = env.required(INTAKE_QUEUE_URL);
        env.finish()?;
        Ok(Self {
            config,
            intake: aws.queue(queue_url),
        })
    }

    /// `POST /twitter/webhook`: verify, parse, drop echoes, queue each customer DM, answer 200.
    /// A queue failure answers 503, so X retries (the DMs already queued are deduplicated).
    pub async fn handle(&self, request: &WebRequest) -> Result<WebResponse, ApiError> {
        request.check_size()?;
        let secret = self.config.consumer_secret.expose();
        if !signature::verify(secret, &request.body, request.header(signature::HEADER)) {
            tracing::warn!("x webhook refused: bad or missing signature");
            return Err(ApiError::Unauthorized);
        }
        let parsed = events::parse(&request.body, &self.config.account_id)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        if parsed.messages.is_empty() {
            return Ok(WebResponse::ignored("no customer messages"));
        }
        for dm in parsed.messages {
            let job = XJob::from(dm);
            job.enqueue(self.intake.as_ref()).await.map_err(|err| {
                tracing::error!(event_id = %job.event_id, error = %err, "could not queue the DM; X will retry");
                ApiError::Unavailable { retry_after: None }
            })?;
            tracing::info!(event_id = %job.event_id, "DM queued for x-worker");
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
            }
        );
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
        async fn send(&self, _: &str, _: &str, _: &str) -> Result<(), QueueError> {
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
