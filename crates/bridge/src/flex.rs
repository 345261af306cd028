//! What Flex tells us through conversation-scoped webhooks: `flex-outbound` (agent messages and
//! agents joining) and `channel-updated` (the conversation closed). Both verify
//! `X-Twilio-Signature` against the public URL first; both only put work on the delivery queue,
//! so Twilio gets its answer fast and an X or Discord outage loses nothing.

use std::sync::Arc;

use serde_json::json;

use crate::config::{PublicUrl, Secret};
use crate::queue::{AgentFile, OutboundJob, OutboundKind, Queue};
use crate::retry::HttpError;
use crate::routes::{CHANNEL_UPDATED_PATH, FLEX_OUTBOUND_PATH};
use crate::store::{Customer, CustomerIdentity, Store};
use crate::twilio::events::Event;
use crate::twilio::media::webhook_media;
use crate::twilio::signature;
use crate::twilio::{NewMessage, TwilioClient};
use crate::web::{ApiError, WebRequest, WebResponse};

/// Messages the bridge itself writes into conversations carry this attribute key (the one the
/// transcripts read).
pub use crate::transcripts::BRIDGE_ATTRIBUTE;

/// Posts a note for the agent in a conversation: authored "Flex Bridge", without webhooks and
/// marked `{BRIDGE_ATTRIBUTE: {mark: id}}`, so it never loops back into delivery.
pub(crate) async fn post_note(
    twilio: &TwilioClient,
    conversation_sid: &str,
    note: &str,
    mark: &str,
    id: &str,
) -> Result<(), HttpError> {
    let attributes = json!({ BRIDGE_ATTRIBUTE: { mark: id } });
    twilio
        .post_message(
            conversation_sid,
            &NewMessage {
                author: "Flex Bridge",
                body: note,
                attributes: Some(&attributes),
                webhooks: false,
            },
        )
        .await
        .map(drop)
}

pub struct FlexWebhooks {
    pub store: Arc<dyn Store>,
    pub queue: Arc<dyn Queue>,
    pub auth_token: Secret,
    pub public_url: PublicUrl,
}

/// Checks a Twilio webhook's `X-Twilio-Signature` against the public URL of `path` (with the
/// query string Twilio called), before anything else is read; then parses the event.
pub fn verify_webhook(
    request: &WebRequest,
    path: &str,
    auth_token: &Secret,
    public_url: &PublicUrl,
) -> Result<Event, ApiError> {
    request.check_size()?;
    let mut url = public_url.route(path);
    if !request.query.is_empty() {
        url = format!("{url}?{}", request.query);
    }
    let given = request.header(signature::HEADER);
    if !signature::verify(auth_token.expose(), &url, &request.body, given) {
        tracing::debug!(path, "twilio webhook refused: bad or missing signature");
        return Err(ApiError::Unauthorized);
    }
    Event::from_form(&request.body).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// Customer identities are `x-<id>` / `discord-<id>`; agents' are Flex worker identities.
pub fn is_customer_identity(identity: &str) -> bool {
    identity.parse::<CustomerIdentity>().is_ok()
}

impl FlexWebhooks {
    fn verified_event(&self, request: &WebRequest, path: &str) -> Result<Event, ApiError> {
        verify_webhook(request, path, &self.auth_token, &self.public_url)
    }

    async fn customer_of(&self, conversation_sid: &str) -> Result<Option<Customer>, ApiError> {
        Ok(self.store.conversation(conversation_sid).await?)
    }

    async fn enqueue(&self, job: OutboundJob) -> Result<WebResponse, ApiError> {
        job.enqueue(self.queue.as_ref()).await?;
        tracing::info!(conversation_sid = %job.customer.conversation_sid, job = %job.id, "queued for delivery");
        Ok(WebResponse::ok())
    }

    /// `POST /twilio/flex-outbound`
    pub async fn outbound(&self, request: &WebRequest) -> Result<WebResponse, ApiError> {
        match self.verified_event(request, FLEX_OUTBOUND_PATH)? {
            Event::MessageAdded {
                conversation_sid,
                message_sid,
                author,
                body,
                attributes,
                ..
            } => {
                if is_customer_identity(&author) {
                    return Ok(WebResponse::ignored("customer message"));
                }
                if attributes.contains(&format!("\"{BRIDGE_ATTRIBUTE}\"")) {
                    return Ok(WebResponse::ignored("bridge message"));
                }
                let Some(customer) = self.customer_of(&conversation_sid).await? else {
                    tracing::info!(conversation_sid = %conversation_sid, "no open bridge conversation");
                    return Ok(WebResponse::ignored("no open conversation"));
                };
                let media = agent_files(&request.body);
                self.enqueue(OutboundJob {
                    id: message_sid,
                    customer,
                    kind: OutboundKind::AgentMessage {
                        author,
                        body,
                        media,
                    },
                })
                .await
            }
            Event::ParticipantAdded {
                conversation_sid,
                participant_sid,
                identity,
                attributes,
            } => {
                if identity.is_empty() || is_customer_identity(&identity) {
                    return Ok(WebResponse::ignored("not an agent"));
                }
                let Some(customer) = self.customer_of(&conversation_sid).await? else {
                    return Ok(WebResponse::ignored("no open conversation"));
                };
                let name = agent_name(&attributes);
                self.enqueue(OutboundJob {
                    id: format!("joined-{participant_sid}"),
                    customer,
                    kind: OutboundKind::AgentJoined { name, identity },
                })
                .await
            }
            Event::StateUpdated { .. } | Event::Other(_) => {
                Ok(WebResponse::ignored("event not handled here"))
            }
        }
    }

    /// `POST /twilio/channel-updated`
    pub async fn state_updated(&self, request: &WebRequest) -> Result<WebResponse, ApiError> {
        let Event::StateUpdated {
            conversation_sid,
            state_to,
        } = self.verified_event(request, CHANNEL_UPDATED_PATH)?
        else {
            return Ok(WebResponse::ignored("event not handled here"));
        };
        if state_to != "closed" {
            return Ok(WebResponse::ignored("not closed"));
        }
        let Some(customer) = self.customer_of(&conversation_sid).await? else {
            return Ok(WebResponse::ignored("no open conversation"));
        };
        // Queue the notice first: if ending the mapping then fails, Twilio's retry re-queues
        // it and the FIFO deduplication id drops the copy.
        let job = OutboundJob {
            id: format!("closed-{conversation_sid}"),
            customer,
            kind: OutboundKind::ChatEnded,
        };
        job.enqueue(self.queue.as_ref()).await?;
        self.store.end_conversation(&conversation_sid).await?;
        tracing::info!(conversation_sid = %conversation_sid, "conversation closed; mapping ended");
        Ok(WebResponse::ok())
    }
}

/// The files of an agent's message. A `Media` field that cannot be read loses the files, not
/// the text (logged, so the agent's note-less file can be traced).
fn agent_files(form_body: &[u8]) -> Vec<AgentFile> {
    match webhook_media(form_body) {
        Ok(media) => media
            .into_iter()
            .map(|m| AgentFile {
                sid: m.sid,
                filename: m.filename,
                content_type: m.content_type,
                size: m.size,
            })
            .collect(),
        Err(err) => {
            tracing::warn!(error = %err, "the agent's files are unreadable; the text goes alone");
            Vec::new()
        }
    }
}

/// The name a customer sees when an agent joins: Flex puts the worker's name in the
/// participant's attributes. Never the identity, which is often an email address.
fn agent_name(attributes: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(attributes).unwrap_or_default();
    ["friendly_name", "full_name", "name"]
        .iter()
        .find_map(|k| {
            value
                .get(k)
                .and_then(|v| v.as_str())
                .map(str::trim)
                .filter(|s| !s.is_empty())
        })
        .map(|name| name.split_whitespace().next().unwrap_or(name).to_owned())
        .unwrap_or_else(|| "An agent".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_name_prefers_a_first_name_and_never_the_identity() {
        assert_eq!(agent_name(r#"{"friendly_name":"Sam Rivera"}"#), "Sam");
        assert_eq!(agent_name(r#"{"full_name":"Ana"}"#), "Ana");
        assert_eq!(agent_name("{}"), "An agent");
        assert_eq!(agent_name("not json"), "An agent");
    }
}
