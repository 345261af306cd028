//! The two X webhook functions: `twitter-crc` (GET) and `twitter-inbound` (POST).

use std::sync::Arc;

use crate::cases::views;
use crate::config::{ConfigError, Env, Secret};
use crate::conversations::{ConversationSettings, Conversations, CustomerMessage};
use crate::delivery;
use crate::idempotency::{Once, Outcome};
use crate::lambda::{http_client, Aws};
use crate::queue::Queue;
use crate::store::Platform;
use crate::twilio::{TwilioClient, TwilioConfig};
use crate::web::{http, ApiError, WebRequest, WebResponse};

use super::{events, signature, XWebhookConfig};

/// An X event is claimed for a week at once (one write on the warm path): a failure lets it go
/// so X's retry posts it; dedupe records outlive X's retries (minutes) by a wide margin.
const FORWARD_ONCE: Once = Once {
    claim_secs: 7 * 24 * 3600,
    keep_secs: 7 * 24 * 3600,
};

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

pub struct XInbound {
    pub config: XWebhookConfig,
    pub conversations: Conversations,
    /// The delivery lane, for the bridge's own answers (a customer's cases, thanks for a
    /// rating) that never go to Flex.
    pub queue: Arc<dyn Queue>,
}

impl XInbound {
    /// Everything `twitter-inbound` needs, built once per cold start.
    pub async fn from_env(mut env: Env) -> Result<Self, ConfigError> {
        let config = XWebhookConfig::from_env(&mut env);
        let twilio = TwilioConfig::from_env(&mut env);
        let settings = ConversationSettings::from_env(&mut env);
        let table = env.required("TABLE_NAME");
        let queue_url = env.required("DELIVERY_QUEUE_URL");
        env.finish()?;
        let aws = Aws::new(table).await;
        Ok(Self {
            config,
            queue: aws.queue(queue_url),
            conversations: Conversations {
                store: aws.store,
                twilio: TwilioClient::new(http_client(), twilio),
                settings,
            },
        })
    }

    /// `POST /twitter/webhook`: verify, parse, drop echoes and duplicates, post to Flex.
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
            self.forward(dm).await?;
        }
        Ok(WebResponse::ok())
    }

    #[tracing::instrument(name = "x_dm", skip_all, fields(event_id = %dm.event_id, conversation_sid = tracing::field::Empty))]
    async fn forward(&self, dm: events::InboundDm) -> Result<(), ApiError> {
        let store = self.conversations.store.as_ref();
        let key = format!("x#{}", dm.event_id);
        let outcome = FORWARD_ONCE
            .run(store, &key, || self.post(&dm))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "dedupe claim failed");
                ApiError::Unavailable { retry_after: None }
            })?;
        match outcome {
            Outcome::Done(()) | Outcome::AlreadyDone => Ok(()),
            // Forgotten, so X's retry is not taken for a duplicate.
            Outcome::Failed(retry_after) => Err(ApiError::Unavailable { retry_after }),
        }
    }

    /// The DM to Flex, or answered by the bridge; on failure, the wait to suggest to X.
    async fn post(&self, dm: &events::InboundDm) -> Result<(), Option<u64>> {
        let identity = Platform::X.identity(&dm.sender_id);
        match self.answer_from_the_bridge(&identity, dm).await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(err) => {
                tracing::error!(error = %err, "could not answer from the bridge; X will retry");
                return Err(None);
            }
        }
        let message = CustomerMessage {
            platform: Platform::X,
            address: dm.sender_id.clone(),
            user_id: dm.sender_id.clone(),
            handle: dm.handle.clone(),
            text: dm.text.clone(),
            event_id: dm.event_id.clone(),
            agent_requested: false,
        };
        self.conversations
            .post_from_customer(&message)
            .await
            .map(drop)
            .map_err(|err| {
                tracing::error!(error = %err, "could not post the DM to Flex; X will retry");
                err.retry_after()
            })
    }

    /// A question about the customer's cases, or their 1–5 after a chat, is answered by the
    /// bridge through the delivery lane and goes neither to the bot nor to an agent (nor opens
    /// a conversation). `false`: an ordinary message. Only such short messages cost a read.
    async fn answer_from_the_bridge(
        &self,
        identity: &str,
        dm: &events::InboundDm,
    ) -> Result<bool, BridgeAnswerError> {
        let store = self.conversations.store.as_ref();
        let answer = if let Some(query) = views::parse_query(&dm.text) {
            Some(views::answer_query(store, identity, &query).await?)
        } else if let Some(score) = views::rating(&dm.text) {
            views::answer_rating(store, identity, score).await?
        } else {
            None
        };
        let Some(text) = answer else {
            return Ok(false);
        };
        let job = delivery::notice_for(identity, &format!("x-{}", dm.event_id), text)
            .ok_or(BridgeAnswerError::Identity)?;
        job.enqueue(self.queue.as_ref()).await?;
        tracing::info!("answered by the bridge");
        Ok(true)
    }
}

#[derive(Debug, thiserror::Error)]
enum BridgeAnswerError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Queue(#[from] crate::queue::QueueError),
    #[error("not a customer identity")]
    Identity,
}
