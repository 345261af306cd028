//! Twilio emulation: the Conversations REST subset the bridge calls ([`rest`]), the Flex
//! Interactions API ([`flex`]) and TaskRouter's task list ([`taskrouter`]) on the same base URL,
//! the state behind them, and Flex's side of a conversation (an agent accepting a task, joining,
//! replying and closing, [`tasks`]), each firing the signed conversation-scoped webhooks real
//! Twilio would ([`webhooks`]).

mod expression;
mod flex;
mod json;
mod media;
mod rest;
pub mod spec;
mod taskrouter;
pub mod tasks;
mod webhooks;

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use serde::Serialize;

use crate::{faults, time, Sandbox, SandboxError};
use spec::TwilioError;

pub use media::{MediaView, MessageMedia, TEMPORARY_LINK_SECS};
pub use tasks::{TaskAgent, TaskView};
pub use webhooks::WebhookDelivery;

/// The Conversations service and Messaging service every sandbox conversation belongs to
/// (a Flex account's defaults). Fixed, so tests can name them.
pub const CHAT_SERVICE_SID: &str = "IS00000000000000000000000000000000";
pub const MESSAGING_SERVICE_SID: &str = "MG00000000000000000000000000000000";

#[derive(Debug, Clone, Serialize)]
pub struct ConversationView {
    pub sid: String,
    pub state: String,
    pub friendly_name: String,
    pub attributes: String,
    /// `Timers.Closed` as the ISO 8601 duration it was set to (e.g. `PT24H`).
    pub timers_closed: Option<String>,
    pub participants: Vec<ParticipantView>,
    pub webhooks: Vec<WebhookView>,
    pub messages: Vec<MessageView>,
    /// Studio flow executions started by `onMessageAdded` on `studio` webhooks.
    pub studio_executions: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct ParticipantView {
    pub sid: String,
    pub identity: String,
    pub attributes: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct WebhookView {
    pub sid: String,
    pub target: String,
    pub url: Option<String>,
    pub method: Option<String>,
    pub filters: Vec<String>,
    pub flow_sid: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    pub sid: String,
    pub index: u64,
    pub author: String,
    pub body: String,
    pub attributes: String,
    /// `API` (REST) or `SDK` (a Flex agent).
    pub source: String,
    /// Whether it was posted with `X-Twilio-Webhook-Enabled: true` (always true for SDK).
    pub webhook_enabled: bool,
    /// The files it carries (MCS), in order.
    pub media: Vec<MessageMedia>,
}

pub(crate) struct Store {
    conversations: Vec<Conversation>,
    deliveries: Vec<WebhookDelivery>,
    /// Created by the Interactions API, oldest first; never removed.
    tasks: Vec<tasks::Task>,
    /// Files in MCS, oldest first.
    media: Vec<media::StoredMedia>,
    /// The largest file MCS takes (bytes).
    media_limit: u64,
}

impl Default for Store {
    fn default() -> Self {
        Self {
            conversations: Vec::new(),
            deliveries: Vec::new(),
            tasks: Vec::new(),
            media: Vec::new(),
            media_limit: flex_bridge::twilio::media::MAX_MEDIA_BYTES,
        }
    }
}

#[derive(Debug, Clone)]
struct Conversation {
    sid: String,
    friendly_name: Option<String>,
    unique_name: Option<String>,
    attributes: String,
    state: String,
    messaging_service_sid: String,
    date_created: String,
    date_updated: String,
    /// When it was created, for the `timers` dates.
    created_secs: u64,
    timers_inactive: Option<String>,
    timers_closed: Option<String>,
    email_address: Option<String>,
    email_name: Option<String>,
    participants: Vec<Participant>,
    webhooks: Vec<Webhook>,
    messages: Vec<Message>,
    studio_executions: u32,
}

#[derive(Debug, Clone)]
struct Participant {
    sid: String,
    identity: Option<String>,
    attributes: String,
    address: Option<String>,
    proxy_address: Option<String>,
    projected_address: Option<String>,
    role_sid: Option<String>,
    date_created: String,
    date_updated: String,
}

#[derive(Debug, Clone)]
struct Webhook {
    sid: String,
    target: String,
    url: Option<String>,
    method: Option<String>,
    filters: Vec<String>,
    triggers: Vec<String>,
    flow_sid: Option<String>,
    replay_after: Option<i64>,
    date_created: String,
}

#[derive(Debug, Clone)]
struct Message {
    sid: String,
    index: u64,
    author: String,
    body: Option<String>,
    attributes: String,
    participant_sid: Option<String>,
    source: &'static str,
    webhook_enabled: bool,
    media: Vec<MessageMedia>,
    content_sid: Option<String>,
    date_created: String,
    date_updated: String,
}

impl Store {
    fn find(&self, sid: &str) -> Result<&Conversation, TwilioError> {
        self.conversations
            .iter()
            .find(|c| c.sid == sid)
            .ok_or_else(|| TwilioError::not_found(&format!("/Conversations/{sid}")))
    }

    fn find_mut(&mut self, sid: &str) -> Result<&mut Conversation, TwilioError> {
        self.conversations
            .iter_mut()
            .find(|c| c.sid == sid)
            .ok_or_else(|| TwilioError::not_found(&format!("/Conversations/{sid}")))
    }
}

impl Conversation {
    fn view(&self) -> ConversationView {
        ConversationView {
            sid: self.sid.clone(),
            state: self.state.clone(),
            friendly_name: self.friendly_name.clone().unwrap_or_default(),
            attributes: self.attributes.clone(),
            timers_closed: self.timers_closed.clone(),
            participants: self
                .participants
                .iter()
                .map(|p| ParticipantView {
                    sid: p.sid.clone(),
                    identity: p.identity.clone().unwrap_or_default(),
                    attributes: p.attributes.clone(),
                })
                .collect(),
            webhooks: self
                .webhooks
                .iter()
                .map(|w| WebhookView {
                    sid: w.sid.clone(),
                    target: w.target.clone(),
                    url: w.url.clone(),
                    method: w.method.clone(),
                    filters: w.filters.clone(),
                    flow_sid: w.flow_sid.clone(),
                })
                .collect(),
            messages: self
                .messages
                .iter()
                .map(|m| MessageView {
                    sid: m.sid.clone(),
                    index: m.index,
                    author: m.author.clone(),
                    body: m.body.clone().unwrap_or_default(),
                    attributes: m.attributes.clone(),
                    source: m.source.to_owned(),
                    webhook_enabled: m.webhook_enabled,
                    media: m.media.clone(),
                })
                .collect(),
            studio_executions: self.studio_executions,
        }
    }

    fn participant_by_identity(&self, identity: &str) -> Option<&Participant> {
        self.participants
            .iter()
            .find(|p| p.identity.as_deref() == Some(identity))
    }
}

/// The Twilio REST routes (Conversations, Interactions, TaskRouter: in production three hosts,
/// here one base URL), behind the fault gate (outermost) and Basic auth.
pub(crate) fn routes(sandbox: Sandbox) -> Router {
    Router::new()
        .route("/v1/Conversations", post(rest::create_conversation))
        .route(
            "/v1/ConversationWithParticipants",
            post(rest::create_conversation_with_participants),
        )
        .route(
            "/v1/Conversations/{sid}",
            get(rest::fetch_conversation).post(rest::update_conversation),
        )
        .route(
            "/v1/Conversations/{sid}/Participants",
            post(rest::create_participant),
        )
        .route(
            "/v1/Conversations/{sid}/Messages",
            get(rest::list_messages).post(rest::create_message),
        )
        .route(
            "/v1/Conversations/{sid}/Webhooks",
            get(rest::list_webhooks).post(rest::create_webhook),
        )
        .route(
            "/v1/ParticipantConversations",
            get(rest::participant_conversations),
        )
        .route(
            "/v1/Services/{service_sid}/Media",
            // A file may be far larger than axum's default 2 MB: MCS's own limit applies.
            post(media::upload).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            "/v1/Services/{service_sid}/Media/{media_sid}",
            get(media::fetch),
        )
        .route("/v1/Interactions", post(flex::create_interaction))
        .route("/v1/Interactions/{sid}", get(flex::fetch_interaction))
        .route(
            "/v1/Workspaces/{workspace_sid}/Tasks",
            get(taskrouter::list_tasks),
        )
        .route(
            "/v1/Workspaces/{workspace_sid}/Tasks/{sid}",
            get(taskrouter::fetch_task),
        )
        // Routes above win over this catch-all whatever the order (axum matches static
        // segments first); it only answers paths no route names.
        .route("/v1/{*rest}", axum::routing::any(rest::unknown_route))
        .method_not_allowed_fallback(rest::method_not_allowed)
        .layer(middleware::from_fn_with_state(sandbox.clone(), basic_auth))
        .layer(middleware::from_fn_with_state(
            sandbox.clone(),
            faults::twilio_gate,
        ))
        .with_state(sandbox.clone())
        // The temporary content links carry their own authorisation: no Basic auth.
        .merge(
            Router::new()
                .route(
                    &format!("{}/{{media_sid}}", media::TEMPORARY_PATH),
                    get(media::temporary_content),
                )
                .with_state(sandbox),
        )
}

/// `Authorization: Basic base64(AccountSid:AuthToken)`, else Twilio's 401 (code 20003).
async fn basic_auth(State(sandbox): State<Sandbox>, request: Request, next: Next) -> Response {
    let config = sandbox.config();
    let expected = format!("{}:{}", config.twilio_account_sid, config.twilio_auth_token);
    let given = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| {
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
        });
    if given.as_deref() == Some(expected.as_bytes()) {
        next.run(request).await
    } else {
        TwilioError::unauthorized().into_response()
    }
}

fn refusal(err: TwilioError, conversation_sid: &str, identity: &str) -> SandboxError {
    match err.code {
        50433 => SandboxError::ParticipantExists {
            conversation_sid: conversation_sid.to_owned(),
            identity: identity.to_owned(),
        },
        c if u64::from(c) == flex_bridge::twilio::CONVERSATION_CLOSED => {
            SandboxError::ConversationClosed(conversation_sid.to_owned())
        }
        c if [
            flex_bridge::twilio::media::MEDIA_TOO_LARGE,
            flex_bridge::twilio::media::MEDIA_ALREADY_SENT,
            flex_bridge::twilio::media::INVALID_MEDIA_SID,
        ]
        .contains(&u64::from(c)) =>
        {
            SandboxError::MediaRefused {
                code: c,
                message: err.message,
            }
        }
        _ => SandboxError::ConversationNotFound(conversation_sid.to_owned()),
    }
}

/// Flex's side of a conversation, and what the test can see of Twilio's state.
impl Sandbox {
    /// Every conversation, oldest first.
    pub fn conversations(&self) -> Vec<ConversationView> {
        self.twilio_store()
            .conversations
            .iter()
            .map(Conversation::view)
            .collect()
    }

    pub fn conversation(&self, sid: &str) -> Option<ConversationView> {
        self.twilio_store().find(sid).ok().map(Conversation::view)
    }

    /// Studio executions `onMessageAdded` started in this conversation (0 if unknown).
    pub fn studio_executions(&self, sid: &str) -> u32 {
        self.twilio_store()
            .find(sid)
            .map(|c| c.studio_executions)
            .unwrap_or(0)
    }

    /// Every conversation webhook the sandbox fired, oldest first, with how it was answered.
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        self.twilio_store().deliveries.clone()
    }

    /// An agent's reply from the Flex UI (`Source=SDK`): stored, then `onMessageAdded` fired to
    /// the conversation's webhooks. Returns the message SID once the webhooks were answered.
    pub async fn agent_message(
        &self,
        conversation_sid: &str,
        author: &str,
        body: &str,
    ) -> Result<String, SandboxError> {
        let new = rest::NewMessage {
            author: author.to_owned(),
            body: Some(body.to_owned()),
            attributes: "{}".to_owned(),
            source: "SDK",
            webhook_enabled: true,
            ..Default::default()
        };
        let (message, dispatch) = self
            .twilio_store()
            .add_message(conversation_sid, new)
            .map_err(|e| refusal(e, conversation_sid, author))?;
        self.deliver(dispatch).await;
        Ok(message.sid)
    }

    /// An agent accepts the task: a participant whose attributes carry `friendly_name` (as
    /// Flex's do) joins, then `onParticipantAdded` is fired.
    pub async fn agent_joins(
        &self,
        conversation_sid: &str,
        identity: &str,
        friendly_name: &str,
    ) -> Result<(), SandboxError> {
        let attributes = serde_json::json!({
            "friendly_name": friendly_name,
            "member_type": "agent",
        });
        let new = rest::NewParticipant {
            identity: Some(identity.to_owned()),
            attributes: attributes.to_string(),
            ..Default::default()
        };
        let (_, dispatch) = self
            .twilio_store()
            .add_participant(conversation_sid, new, true)
            .map_err(|e| refusal(e, conversation_sid, identity))?;
        self.deliver(dispatch).await;
        Ok(())
    }

    /// The agent ends the chat: the conversation closes and `onConversationStateUpdated`
    /// (`StateTo=closed`) is fired. Closing a closed conversation is an error.
    pub async fn close(&self, conversation_sid: &str) -> Result<(), SandboxError> {
        let dispatch = {
            let mut store = self.twilio_store();
            let conversation = store
                .find(conversation_sid)
                .map_err(|e| refusal(e, conversation_sid, ""))?;
            if conversation.state == "closed" {
                return Err(SandboxError::ConversationClosed(
                    conversation_sid.to_owned(),
                ));
            }
            store
                .set_state(conversation_sid, "closed", true)
                .map_err(|e| refusal(e, conversation_sid, ""))?
        };
        self.deliver(dispatch).await;
        Ok(())
    }
}

fn now() -> String {
    time::now_iso()
}
