//! The two X webhook functions: `twitter-crc` (GET) and `twitter-inbound` (POST).

use std::sync::Arc;

use crate::config::{ConfigError, Env, Secret};
use crate::conversations::{ConversationSettings, Conversations, CustomerMessage};
use crate::lambda::{aws_config, http_client};
use crate::store::DynamoStore;
use crate::store::Platform;
use crate::twilio::{TwilioClient, TwilioConfig};
use crate::web::{http, ApiError, WebRequest, WebResponse};

use super::{events, signature, XWebhookConfig};

/// Dedupe records outlive X's retries (minutes) by a wide margin.
pub const DEDUPE_TTL_SECS: i64 = 7 * 24 * 3600;

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
}

impl XInbound {
    /// Everything `twitter-inbound` needs, built once per cold start.
    pub async fn from_env(mut env: Env) -> Result<Self, ConfigError> {
        let config = XWebhookConfig::from_env(&mut env);
        let twilio = TwilioConfig::from_env(&mut env);
        let settings = ConversationSettings::from_env(&mut env);
        let table = env.required("TABLE_NAME");
        env.finish()?;
        let aws = aws_config().await;
        Ok(Self {
            config,
            conversations: Conversations {
                store: Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), table)),
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
        let store = &self.conversations.store;
        let key = format!("x#{}", dm.event_id);
        let unavailable = |retry_after| ApiError::Unavailable { retry_after };
        if !store
            .claim_event(&key, DEDUPE_TTL_SECS)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "dedupe claim failed");
                unavailable(None)
            })?
        {
            tracing::info!("duplicate X event ignored");
            return Ok(());
        }
        let message = CustomerMessage {
            platform: Platform::X,
            address: dm.sender_id.clone(),
            user_id: dm.sender_id,
            handle: dm.handle,
            text: dm.text,
            event_id: dm.event_id,
            agent_requested: false,
        };
        if let Err(err) = self.conversations.post_from_customer(&message).await {
            tracing::error!(error = %err, "could not post the DM to Flex; X will retry");
            // Forget the event so X's retry is not taken for a duplicate.
            if let Err(release) = store.release_event(&key).await {
                tracing::error!(error = %release, "could not release the dedupe record");
            }
            return Err(unavailable(err.retry_after()));
        }
        Ok(())
    }
}
