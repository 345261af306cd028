//! The conversation-scoped webhooks Twilio fires: form-encoded, with Twilio's parameter names,
//! signed with `X-Twilio-Signature` over the configured URL. Delivered one after the other and
//! never retried (Twilio's default); each answer is recorded for debugging.

use serde::Serialize;

use super::{Conversation, Message, Participant, Store, CHAT_SERVICE_SID};
use crate::{Sandbox, SandboxConfig};

/// One webhook request the sandbox sent, and how it was answered.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookDelivery {
    pub conversation_sid: String,
    pub webhook_sid: String,
    pub event_type: String,
    pub url: String,
    pub method: String,
    /// The HTTP status, or `None` if the request failed (connection refused, timeout).
    pub status: Option<u16>,
    pub error: Option<String>,
}

/// Webhooks to fire for one event, computed under the lock and delivered after it.
pub(crate) struct Dispatch {
    conversation_sid: String,
    event_type: &'static str,
    /// Event parameters, without the per-webhook ones (`WebhookSid`, ...).
    params: Vec<(String, String)>,
    targets: Vec<Target>,
}

struct Target {
    webhook_sid: String,
    url: String,
    method: String,
}

impl Dispatch {
    pub(crate) fn none() -> Self {
        Self {
            conversation_sid: String::new(),
            event_type: "",
            params: Vec::new(),
            targets: Vec::new(),
        }
    }
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// `onMessageAdded` parameters (`ClientIdentity` only for SDK messages, as Twilio sends it).
pub(super) fn message_added(m: &Message, messaging_service_sid: &str) -> Vec<(String, String)> {
    let index = m.index.to_string();
    let mut params = pairs(&[
        ("MessageSid", &m.sid),
        ("MessagingServiceSid", messaging_service_sid),
        ("Index", &index),
        ("Author", &m.author),
        ("Body", m.body.as_deref().unwrap_or("")),
        ("Attributes", &m.attributes),
        ("DateCreated", &m.date_created),
        ("Source", m.source),
    ]);
    if let Some(sid) = &m.participant_sid {
        params.extend(pairs(&[("ParticipantSid", sid)]));
    }
    if !m.media.is_empty() {
        let media = super::media::webhook_media_json(&m.media);
        params.extend(pairs(&[("Media", &media)]));
    }
    if m.source == "SDK" {
        params.extend(pairs(&[("ClientIdentity", &m.author)]));
    }
    params
}

pub(super) fn participant_added(p: &Participant) -> Vec<(String, String)> {
    let mut params = pairs(&[
        ("ParticipantSid", &p.sid),
        ("Attributes", &p.attributes),
        ("DateCreated", &p.date_created),
        ("Source", "API"),
    ]);
    if let Some(identity) = &p.identity {
        params.extend(pairs(&[("Identity", identity)]));
    }
    params
}

pub(super) fn state_updated(c: &Conversation, state_from: &str) -> Vec<(String, String)> {
    pairs(&[
        ("StateFrom", state_from),
        ("StateTo", &c.state),
        ("Reason", "API"),
        ("DateCreated", &c.date_created),
        ("DateUpdated", &c.date_updated),
        ("Source", "API"),
    ])
}

impl Store {
    /// The webhooks of `sid` whose filters name `event_type`. `studio` webhooks only count an
    /// execution (Studio itself is not emulated); `trigger` webhooks are not emulated.
    pub(super) fn dispatch(
        &mut self,
        sid: &str,
        event_type: &'static str,
        params: Vec<(String, String)>,
    ) -> Dispatch {
        let mut dispatch = Dispatch::none();
        let Ok(conversation) = self.find_mut(sid) else {
            return dispatch;
        };
        for webhook in &conversation.webhooks {
            let wanted = webhook.filters.iter().any(|f| f == event_type);
            match webhook.target.as_str() {
                "webhook" if wanted => dispatch.targets.push(Target {
                    webhook_sid: webhook.sid.clone(),
                    url: webhook.url.clone().unwrap_or_default(),
                    method: webhook.method.clone().unwrap_or_else(|| "post".into()),
                }),
                "studio"
                    if event_type == "onMessageAdded" && (wanted || webhook.filters.is_empty()) =>
                {
                    conversation.studio_executions += 1;
                }
                _ => {}
            }
        }
        dispatch.conversation_sid = sid.to_owned();
        dispatch.event_type = event_type;
        dispatch.params = params;
        dispatch
    }
}

impl Sandbox {
    /// Sends each webhook of `dispatch` in order, waiting for each answer.
    pub(super) async fn deliver(&self, dispatch: Dispatch) {
        for target in &dispatch.targets {
            let delivery = self.deliver_one(&dispatch, target).await;
            tracing::info!(
                event = delivery.event_type,
                url = %delivery.url,
                status = ?delivery.status,
                "sandbox: twilio webhook delivered"
            );
            self.twilio_store().deliveries.push(delivery);
        }
    }

    async fn deliver_one(&self, dispatch: &Dispatch, target: &Target) -> WebhookDelivery {
        let params = full_params(self.config(), dispatch, target);
        let token = &self.config().twilio_auth_token;
        let http = &self.inner.http;
        let request = if target.method == "get" {
            // A GET carries the parameters in the query; Twilio signs that full URL alone.
            let query = serde_urlencoded::to_string(&params).unwrap_or_default();
            let separator = if target.url.contains('?') { '&' } else { '?' };
            let url = format!("{}{separator}{query}", target.url);
            let signature = flex_bridge::twilio::signature::sign(token, &url, &[]);
            http.get(&url)
                .header(flex_bridge::twilio::signature::HEADER, signature)
        } else {
            let signature = flex_bridge::twilio::signature::sign(token, &target.url, &params);
            http.post(&target.url)
                .header(flex_bridge::twilio::signature::HEADER, signature)
                .form(&params)
        };
        let result = request
            .header("user-agent", "TwilioProxy/1.1")
            .header(
                "i-twilio-idempotency-token",
                uuid::Uuid::new_v4().to_string(),
            )
            .send()
            .await;
        let (status, error) = match result {
            Ok(response) => (Some(response.status().as_u16()), None),
            Err(err) => (None, Some(err.to_string())),
        };
        WebhookDelivery {
            conversation_sid: dispatch.conversation_sid.clone(),
            webhook_sid: target.webhook_sid.clone(),
            event_type: dispatch.event_type.to_owned(),
            url: target.url.clone(),
            method: target.method.clone(),
            status,
            error,
        }
    }
}

/// The event's parameters plus those every conversation webhook carries.
fn full_params(
    config: &SandboxConfig,
    dispatch: &Dispatch,
    target: &Target,
) -> Vec<(String, String)> {
    let mut params = pairs(&[
        ("AccountSid", &config.twilio_account_sid),
        ("ChatServiceSid", CHAT_SERVICE_SID),
        ("ConversationSid", &dispatch.conversation_sid),
        ("EventType", dispatch.event_type),
        ("WebhookSid", &target.webhook_sid),
        ("WebhookType", "webhook"),
        ("RetryCount", "0"),
    ]);
    params.extend(dispatch.params.iter().cloned());
    params
}
