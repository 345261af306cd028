//! The two X webhook functions: `twitter-crc` (GET) and `twitter-inbound` (POST).

use crate::conversations::{CustomerMessage, Conversations};
use crate::store::Platform;
use crate::web::{http, ApiError, WebRequest, WebResponse};

use super::{events, signature, XWebhookConfig};

/// Dedupe records outlive X's retries (minutes) by a wide margin.
pub const DEDUPE_TTL_SECS: i64 = 7 * 24 * 3600;

/// `GET /twitter/webhook?crc_token=...`
pub fn crc(config: &XWebhookConfig, request: &WebRequest) -> Result<WebResponse, ApiError> {
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
        if !store.claim_event(&key, DEDUPE_TTL_SECS).await.map_err(|e| {
            tracing::error!(error = %e, "dedupe claim failed");
            unavailable(None)
        })? {
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
