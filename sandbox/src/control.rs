//! JSON control routes under `/sandbox/...`: the test-facing [`Sandbox`] methods over HTTP, for
//! a web console or a person with curl. No auth: the sandbox only listens on loopback.
//!
//! | route | does |
//! |---|---|
//! | `GET /sandbox/conversations` | every conversation ([`ConversationView`]s) |
//! | `GET /sandbox/conversations/{sid}` | one conversation |
//! | `POST /sandbox/conversations/{sid}/agent-messages` `{author, body}` | agent reply → `{sid}` |
//! | `POST /sandbox/conversations/{sid}/agent-join` `{identity, friendly_name}` | agent joins |
//! | `POST /sandbox/conversations/{sid}/close` | agent ends the chat |
//! | `GET /sandbox/webhook-deliveries` | Twilio webhooks fired and their answers |
//! | `GET /sandbox/tasks` | every Flex task the Interactions API created ([`crate::TaskView`]s) |
//! | `GET /sandbox/tasks/{task_sid}` | one task |
//! | `POST /sandbox/tasks/{task_sid}/accept` `{agent, identity?}` | agent accepts and joins → task |
//! | `POST /sandbox/tasks/{task_sid}/reply` `{body}` | the accepting agent replies → `{sid}` |
//! | `POST /sandbox/tasks/{task_sid}/complete` | agent ends the chat (conversation closed) → task |
//! | `POST /sandbox/x/dm` `{sender_id, screen_name, text}` | customer DM → [`crate::XDelivery`] |
//! | `GET /sandbox/x/dms/{participant_id}` | texts the brand sent that user |
//! | `GET /sandbox/x/sent` | every DM the brand sent |
//! | `GET /sandbox/discord` | application id, public key, API and interactions URLs, guild channels |
//! | `POST /sandbox/discord/interactions-url` `{url}` | where interactions go |
//! | `POST /sandbox/discord/command` `{user_id, username, in_guild, name, options{}}` | slash command → [`crate::DiscordReply`] |
//! | `POST /sandbox/discord/click` `{user_id, username, message_id, custom_id}` | button click → reply |
//! | `POST /sandbox/discord/modal` `{user_id, username, custom_id, fields{}, label_shape}` | modal submission → reply |
//! | `POST /sandbox/discord/ping` | Discord's PING → reply |
//! | `GET /sandbox/discord/replies` | every interaction sent and the bridge's answers |
//! | `GET /sandbox/discord/dms/{user_id}` | the bot's messages in that user's DM ([`crate::DiscordMessageView`]s) |
//! | `GET /sandbox/discord/channels/{channel_id}/messages` | the bot's messages in a channel |
//! | `POST /sandbox/discord/dms/{user_id}/closed` `{closed}` | the user closes (or opens) their DMs |
//! | `GET /sandbox/discord/originals/{token}` | `{content}` of an edited interaction reply |
//! | `GET /sandbox/discord/commands` | the last registered command list |
//! | `POST /sandbox/faults` `{service, status, count, retry_after, path_prefix, after_processing}` | inject faults ([`crate::Fault`]) |
//! | `GET /sandbox/counts`, `POST /sandbox/counts/reset` | REST request counters |

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::discord::{BUG_CHANNEL_ID, FEATURE_CHANNEL_ID, GUILD_ID, SUPPORT_CHANNEL_ID};
use crate::{DiscordUser, Fault, Sandbox, SandboxError, Service};

pub(crate) fn routes(sandbox: Sandbox) -> Router {
    Router::new()
        .route("/sandbox/conversations", get(conversations))
        .route("/sandbox/conversations/{sid}", get(conversation))
        .route(
            "/sandbox/conversations/{sid}/agent-messages",
            post(agent_message),
        )
        .route("/sandbox/conversations/{sid}/agent-join", post(agent_join))
        .route("/sandbox/conversations/{sid}/close", post(close))
        .route("/sandbox/webhook-deliveries", get(webhook_deliveries))
        .route("/sandbox/tasks", get(tasks))
        .route("/sandbox/tasks/{task_sid}", get(task))
        .route("/sandbox/tasks/{task_sid}/accept", post(accept_task))
        .route("/sandbox/tasks/{task_sid}/reply", post(task_reply))
        .route("/sandbox/tasks/{task_sid}/complete", post(complete_task))
        .route("/sandbox/x/dm", post(customer_dm))
        .route("/sandbox/x/dms/{participant_id}", get(dms_to))
        .route("/sandbox/x/sent", get(sent_dms))
        .route("/sandbox/discord", get(discord_info))
        .route(
            "/sandbox/discord/interactions-url",
            post(discord_interactions_url),
        )
        .route("/sandbox/discord/command", post(discord_command))
        .route("/sandbox/discord/click", post(discord_click))
        .route("/sandbox/discord/modal", post(discord_modal))
        .route("/sandbox/discord/ping", post(discord_ping))
        .route("/sandbox/discord/replies", get(discord_replies))
        .route("/sandbox/discord/dms/{user_id}", get(discord_dms))
        .route(
            "/sandbox/discord/dms/{user_id}/closed",
            post(discord_dms_closed),
        )
        .route(
            "/sandbox/discord/channels/{channel_id}/messages",
            get(discord_channel_messages),
        )
        .route("/sandbox/discord/originals/{token}", get(discord_original))
        .route("/sandbox/discord/commands", get(discord_commands))
        .route("/sandbox/faults", post(inject_fault))
        .route("/sandbox/counts", get(counts))
        .route("/sandbox/counts/reset", post(reset_counts))
        .with_state(sandbox)
}

impl IntoResponse for SandboxError {
    fn into_response(self) -> Response {
        let status = match &self {
            SandboxError::ConversationNotFound(_) | SandboxError::TaskNotFound(_) => {
                StatusCode::NOT_FOUND
            }
            SandboxError::ConversationClosed(_)
            | SandboxError::ParticipantExists { .. }
            | SandboxError::TaskStatus { .. } => StatusCode::CONFLICT,
            SandboxError::MediaRefused { .. } => StatusCode::BAD_REQUEST,
            SandboxError::Http { .. } | SandboxError::Crc(_) => StatusCode::BAD_GATEWAY,
        };
        (status, Json(json!({"error": self.to_string()}))).into_response()
    }
}

async fn conversations(State(sandbox): State<Sandbox>) -> Response {
    Json(sandbox.conversations()).into_response()
}

async fn conversation(State(sandbox): State<Sandbox>, Path(sid): Path<String>) -> Response {
    match sandbox.conversation(&sid) {
        Some(view) => Json(view).into_response(),
        None => SandboxError::ConversationNotFound(sid).into_response(),
    }
}

#[derive(Deserialize)]
struct AgentMessage {
    author: String,
    body: String,
}

async fn agent_message(
    State(sandbox): State<Sandbox>,
    Path(sid): Path<String>,
    Json(request): Json<AgentMessage>,
) -> Result<Response, SandboxError> {
    let message_sid = sandbox
        .agent_message(&sid, &request.author, &request.body)
        .await?;
    Ok((StatusCode::CREATED, Json(json!({"sid": message_sid}))).into_response())
}

#[derive(Deserialize)]
struct AgentJoin {
    identity: String,
    friendly_name: String,
}

async fn agent_join(
    State(sandbox): State<Sandbox>,
    Path(sid): Path<String>,
    Json(request): Json<AgentJoin>,
) -> Result<Response, SandboxError> {
    sandbox
        .agent_joins(&sid, &request.identity, &request.friendly_name)
        .await?;
    Ok(Json(json!({"ok": true})).into_response())
}

async fn close(
    State(sandbox): State<Sandbox>,
    Path(sid): Path<String>,
) -> Result<Response, SandboxError> {
    sandbox.close(&sid).await?;
    Ok(Json(json!({"ok": true})).into_response())
}

async fn tasks(State(sandbox): State<Sandbox>) -> Response {
    Json(sandbox.tasks()).into_response()
}

async fn task(State(sandbox): State<Sandbox>, Path(task_sid): Path<String>) -> Response {
    match sandbox.task(&task_sid) {
        Some(view) => Json(view).into_response(),
        None => SandboxError::TaskNotFound(task_sid).into_response(),
    }
}

#[derive(Deserialize)]
struct AcceptTask {
    /// The agent's display name (`friendly_name` in the participant's attributes).
    agent: String,
    /// The agent's participant identity; by default the name, lowercased, `_` for the rest.
    identity: Option<String>,
}

/// `Sam Rivera` → `sam_rivera`.
fn identity_for(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

async fn accept_task(
    State(sandbox): State<Sandbox>,
    Path(task_sid): Path<String>,
    Json(request): Json<AcceptTask>,
) -> Result<Response, SandboxError> {
    let identity = request
        .identity
        .unwrap_or_else(|| identity_for(&request.agent));
    let view = sandbox
        .accept_task(&task_sid, &identity, &request.agent)
        .await?;
    Ok(Json(view).into_response())
}

#[derive(Deserialize)]
struct TaskReply {
    body: String,
}

async fn task_reply(
    State(sandbox): State<Sandbox>,
    Path(task_sid): Path<String>,
    Json(request): Json<TaskReply>,
) -> Result<Response, SandboxError> {
    let message_sid = sandbox.task_reply(&task_sid, &request.body).await?;
    Ok((StatusCode::CREATED, Json(json!({"sid": message_sid}))).into_response())
}

async fn complete_task(
    State(sandbox): State<Sandbox>,
    Path(task_sid): Path<String>,
) -> Result<Response, SandboxError> {
    Ok(Json(sandbox.complete_task(&task_sid).await?).into_response())
}

async fn webhook_deliveries(State(sandbox): State<Sandbox>) -> Response {
    Json(sandbox.webhook_deliveries()).into_response()
}

/// The body of `POST /sandbox/x/dm` (and of the local console's own route, which records it).
#[derive(Debug, Deserialize)]
pub struct CustomerDm {
    pub sender_id: String,
    pub screen_name: String,
    pub text: String,
}

async fn customer_dm(State(sandbox): State<Sandbox>, Json(request): Json<CustomerDm>) -> Response {
    let delivery = sandbox
        .customer_dm(&request.sender_id, &request.screen_name, &request.text)
        .await;
    Json(delivery).into_response()
}

async fn dms_to(State(sandbox): State<Sandbox>, Path(participant_id): Path<String>) -> Response {
    Json(sandbox.dms_to(&participant_id)).into_response()
}

async fn sent_dms(State(sandbox): State<Sandbox>) -> Response {
    Json(sandbox.sent_dms()).into_response()
}

async fn inject_fault(State(sandbox): State<Sandbox>, Json(fault): Json<Fault>) -> Response {
    let refusal = if StatusCode::from_u16(fault.status).is_err() {
        Some(format!("{} is not an HTTP status", fault.status))
    } else if fault
        .path_prefix
        .as_deref()
        .is_some_and(|p| !p.starts_with('/'))
    {
        Some("path_prefix must start with /".to_owned())
    } else {
        None
    };
    if let Some(error) = refusal {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": error}))).into_response();
    }
    sandbox.inject(fault);
    Json(json!({"ok": true})).into_response()
}

async fn discord_info(State(sandbox): State<Sandbox>) -> Response {
    Json(json!({
        "application_id": sandbox.config().discord_application_id,
        "public_key": sandbox.discord_public_key_hex(),
        "api_url": sandbox.discord_api_url(),
        "interactions_url": sandbox.discord_interactions_url(),
        "guild_id": GUILD_ID,
        "support_channel_id": SUPPORT_CHANNEL_ID,
        "bug_channel_id": BUG_CHANNEL_ID,
        "feature_channel_id": FEATURE_CHANNEL_ID,
    }))
    .into_response()
}

#[derive(Deserialize)]
struct InteractionsUrl {
    url: String,
}

async fn discord_interactions_url(
    State(sandbox): State<Sandbox>,
    Json(request): Json<InteractionsUrl>,
) -> Response {
    sandbox.set_discord_interactions_url(request.url);
    Json(json!({"ok": true})).into_response()
}

/// String values of a JSON object, in its order (`options{}`, `fields{}`).
pub fn string_pairs(object: &Map<String, Value>) -> Vec<(String, String)> {
    object
        .iter()
        .map(|(k, v)| {
            let value = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), value)
        })
        .collect()
}

pub fn borrowed(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// The body of `POST /sandbox/discord/command` (and of the console's).
#[derive(Debug, Deserialize)]
pub struct DiscordCommand {
    pub user_id: String,
    pub username: String,
    #[serde(default)]
    pub in_guild: bool,
    pub name: String,
    #[serde(default)]
    pub options: Map<String, Value>,
}

async fn discord_command(
    State(sandbox): State<Sandbox>,
    Json(request): Json<DiscordCommand>,
) -> Response {
    let user = request.user();
    let options = string_pairs(&request.options);
    let reply = sandbox
        .discord_command(&user, request.in_guild, &request.name, &borrowed(&options))
        .await;
    Json(reply).into_response()
}

/// The body of `POST /sandbox/discord/click` (and of the console's).
#[derive(Debug, Deserialize)]
pub struct DiscordClick {
    pub user_id: String,
    pub username: String,
    pub message_id: String,
    pub custom_id: String,
}

async fn discord_click(
    State(sandbox): State<Sandbox>,
    Json(request): Json<DiscordClick>,
) -> Response {
    let user = request.user();
    let reply = sandbox
        .discord_click(&user, &request.message_id, &request.custom_id)
        .await;
    Json(reply).into_response()
}

/// The body of `POST /sandbox/discord/modal` (and of the console's).
#[derive(Debug, Deserialize)]
pub struct DiscordModal {
    pub user_id: String,
    pub username: String,
    pub custom_id: String,
    #[serde(default)]
    pub fields: Map<String, Value>,
    #[serde(default = "yes")]
    pub label_shape: bool,
}

fn yes() -> bool {
    true
}

impl DiscordCommand {
    pub fn user(&self) -> DiscordUser {
        DiscordUser::new(self.user_id.clone(), self.username.clone())
    }
}

impl DiscordClick {
    pub fn user(&self) -> DiscordUser {
        DiscordUser::new(self.user_id.clone(), self.username.clone())
    }
}

impl DiscordModal {
    pub fn user(&self) -> DiscordUser {
        DiscordUser::new(self.user_id.clone(), self.username.clone())
    }
}

async fn discord_modal(
    State(sandbox): State<Sandbox>,
    Json(request): Json<DiscordModal>,
) -> Response {
    let user = request.user();
    let fields = string_pairs(&request.fields);
    let reply = sandbox
        .discord_modal_submit(
            &user,
            &request.custom_id,
            &borrowed(&fields),
            request.label_shape,
        )
        .await;
    Json(reply).into_response()
}

async fn discord_ping(State(sandbox): State<Sandbox>) -> Response {
    Json(sandbox.discord_ping().await).into_response()
}

async fn discord_replies(State(sandbox): State<Sandbox>) -> Response {
    Json(sandbox.discord_replies()).into_response()
}

async fn discord_dms(State(sandbox): State<Sandbox>, Path(user_id): Path<String>) -> Response {
    Json(sandbox.discord_dms_to(&user_id)).into_response()
}

#[derive(Deserialize)]
struct DmsClosed {
    #[serde(default = "yes")]
    closed: bool,
}

async fn discord_dms_closed(
    State(sandbox): State<Sandbox>,
    Path(user_id): Path<String>,
    Json(request): Json<DmsClosed>,
) -> Response {
    sandbox.set_discord_dms_closed(&user_id, request.closed);
    Json(json!({"ok": true})).into_response()
}

async fn discord_channel_messages(
    State(sandbox): State<Sandbox>,
    Path(channel_id): Path<String>,
) -> Response {
    Json(sandbox.discord_messages(&channel_id)).into_response()
}

async fn discord_original(State(sandbox): State<Sandbox>, Path(token): Path<String>) -> Response {
    match sandbox.discord_original(&token) {
        Some(content) => Json(json!({"content": content})).into_response(),
        None => {
            let error = json!({"error": "no edited reply for that token"});
            (StatusCode::NOT_FOUND, Json(error)).into_response()
        }
    }
}

async fn discord_commands(State(sandbox): State<Sandbox>) -> Response {
    Json(sandbox.discord_commands()).into_response()
}

async fn counts(State(sandbox): State<Sandbox>) -> Response {
    Json(json!({
        "twilio": sandbox.request_count(Service::Twilio),
        "x": sandbox.request_count(Service::X),
        "discord": sandbox.request_count(Service::Discord),
    }))
    .into_response()
}

async fn reset_counts(State(sandbox): State<Sandbox>) -> Response {
    sandbox.reset_counts();
    Json(json!({"ok": true})).into_response()
}
