//! Discord emulation: the REST v10 subset the bridge calls with its bot token (DM channels,
//! messages, editing an interaction's reply, registering commands), checked against the
//! official spec ([`validate`]), and the customer's side: Ed25519-signed interactions (slash
//! commands, button clicks, modal submissions) POSTed to the bridge once, as Discord does
//! ([`interactions`]).
//!
//! The sandbox has one guild, [`GUILD_ID`], with text channels [`SUPPORT_CHANNEL_ID`] (where
//! guild commands are typed), [`BUG_CHANNEL_ID`] and [`FEATURE_CHANNEL_ID`] (where the bridge
//! posts cases); more with [`Sandbox::add_discord_channel`]. A user's DM channel with the bot
//! appears when the bot opens it or the user uses a command there.

mod files;
mod interactions;
pub mod validate;

use std::collections::{HashMap, HashSet};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, patch, post, put};
use axum::{middleware, Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{faults, time, Sandbox, SandboxConfig};
use validate::Refusal;

pub use files::DiscordFile;

/// The sandbox guild and its text channels (fixed, so tests and the local runner can name
/// them: `DISCORD_BUG_CHANNEL_ID` and `DISCORD_FEATURE_CHANNEL_ID` are these).
pub const GUILD_ID: &str = "1183000000000000001";
pub const SUPPORT_CHANNEL_ID: &str = "1183000000000000042";
pub const BUG_CHANNEL_ID: &str = "1183000000000000051";
pub const FEATURE_CHANNEL_ID: &str = "1183000000000000052";

/// The bot user's name (its id is the application id).
pub const BOT_USERNAME: &str = "SandboxSupport";

/// The API version prefix the bridge's `DISCORD_API_URL` ends in.
pub const API_PREFIX: &str = "/api/v10";

/// Discord JSON error codes (docs, "Opcodes and Status Codes", JSON Error Codes).
pub const UNKNOWN_CHANNEL: u32 = 10003;
pub const UNKNOWN_WEBHOOK: u32 = 10015;
pub const MISSING_ACCESS: u32 = 50001;
pub const EMPTY_MESSAGE: u32 = 50006;
pub const DMS_CLOSED: u32 = 50007;
pub const INVALID_WEBHOOK_TOKEN: u32 = 50027;
pub const INVALID_FORM_BODY: u32 = 50035;
pub const INVALID_JSON: u32 = 50109;

/// An interaction token works for 15 minutes (docs, "Receiving and Responding").
pub const TOKEN_LIFETIME_MS: u64 = 15 * 60 * 1000;
/// `enforce_nonce`: "checked for uniqueness in the past few minutes" (docs, "Create Message").
pub const NONCE_WINDOW_MS: u64 = 5 * 60 * 1000;

/// A Discord user, as the sandbox's customers are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscordUser {
    pub id: String,
    pub username: String,
}

impl DiscordUser {
    pub fn new(id: impl Into<String>, username: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            username: username.into(),
        }
    }
}

/// What the bridge answered an interaction with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiscordReply {
    pub interaction_id: String,
    pub token: String,
    /// 0 if the bridge could not be reached.
    pub status: u16,
    /// The bridge's interaction response, `Null` if not JSON.
    pub body: Value,
}

/// A message the bot posted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiscordMessageView {
    pub id: String,
    pub channel_id: String,
    pub content: String,
    /// As sent (`[]` when absent).
    pub components: Value,
    pub embeds: Value,
    /// As sent (`null` when absent).
    pub allowed_mentions: Value,
    /// The files it carries (multipart `files[n]`), with their bytes.
    pub attachments: Vec<DiscordFile>,
}

#[derive(Debug, Clone)]
struct StoredMessage {
    id: String,
    channel_id: String,
    content: String,
    components: Value,
    embeds: Value,
    allowed_mentions: Value,
    nonce: Option<String>,
    flags: u64,
    tts: bool,
    timestamp: String,
    attachments: Vec<DiscordFile>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ChannelKind {
    /// The bot's DM with this user.
    Dm {
        user_id: String,
    },
    GuildText,
}

#[derive(Debug, Clone)]
struct Channel {
    id: String,
    name: String,
    kind: ChannelKind,
    messages: Vec<StoredMessage>,
}

/// An interaction's original response, editable with its token.
#[derive(Debug, Clone)]
struct Original {
    channel_id: String,
    created_ms: u64,
    message_id: String,
    /// Set by the first `PATCH @original`.
    edited: Option<StoredMessage>,
}

pub(crate) struct Store {
    interactions_url: String,
    application_id: String,
    /// Usernames of users seen in interactions.
    users: HashMap<String, String>,
    /// User id → their DM channel's id.
    dm_channels: HashMap<String, String>,
    channels: HashMap<String, Channel>,
    closed_dms: HashSet<String>,
    originals: HashMap<String, Original>,
    /// Nonce → (message id, when), for `enforce_nonce`.
    nonces: HashMap<String, (String, u64)>,
    /// The last `PUT .../commands` body.
    commands: Value,
    /// Registered command name → id (stable across overwrites, like Discord's).
    command_ids: HashMap<String, String>,
    /// Where each user last interacted, so a modal is submitted where it was opened.
    places: HashMap<String, interactions::Place>,
    last_interaction: Option<Vec<u8>>,
    replies: Vec<DiscordReply>,
    /// Files on the CDN (the bot's and customers'), by attachment id.
    files: HashMap<String, files::Served>,
    /// The sandbox's URL, for attachment links.
    pub(crate) base_url: String,
}

impl Store {
    pub(crate) fn new(config: &SandboxConfig) -> Self {
        let mut store = Self {
            interactions_url: config.discord_interactions_url.clone(),
            application_id: config.discord_application_id.clone(),
            users: HashMap::new(),
            dm_channels: HashMap::new(),
            channels: HashMap::new(),
            closed_dms: HashSet::new(),
            originals: HashMap::new(),
            nonces: HashMap::new(),
            commands: Value::Null,
            command_ids: HashMap::new(),
            places: HashMap::new(),
            last_interaction: None,
            replies: Vec::new(),
            files: HashMap::new(),
            base_url: String::new(),
        };
        for (id, name) in [
            (SUPPORT_CHANNEL_ID, "support"),
            (BUG_CHANNEL_ID, "bug-reports"),
            (FEATURE_CHANNEL_ID, "feature-requests"),
        ] {
            store.add_guild_channel(id, name);
        }
        store
    }

    fn add_guild_channel(&mut self, id: &str, name: &str) {
        self.channels
            .entry(id.to_owned())
            .or_insert_with(|| Channel {
                id: id.to_owned(),
                name: name.to_owned(),
                kind: ChannelKind::GuildText,
                messages: Vec::new(),
            });
    }

    /// The user's DM channel with the bot, opened if need be.
    fn dm_channel(&mut self, user_id: &str) -> String {
        if let Some(id) = self.dm_channels.get(user_id) {
            return id.clone();
        }
        let id = time::discord_snowflake();
        self.dm_channels.insert(user_id.to_owned(), id.clone());
        self.channels.insert(
            id.clone(),
            Channel {
                id: id.clone(),
                name: String::new(),
                kind: ChannelKind::Dm {
                    user_id: user_id.to_owned(),
                },
                messages: Vec::new(),
            },
        );
        id
    }

    fn username(&self, user_id: &str) -> String {
        self.users
            .get(user_id)
            .cloned()
            .unwrap_or_else(|| format!("user{user_id}"))
    }

    fn find_message(&self, message_id: &str) -> Option<&StoredMessage> {
        self.channels
            .values()
            .flat_map(|c| c.messages.iter())
            .find(|m| m.id == message_id)
    }

    fn channel_json(&self, channel: &Channel) -> Value {
        let last_message_id = channel.messages.last().map(|m| m.id.clone());
        match &channel.kind {
            ChannelKind::Dm { user_id } => json!({
                "id": channel.id,
                "type": 1,
                "last_message_id": last_message_id,
                "flags": 0,
                "recipients": [user_json(user_id, &self.username(user_id))],
            }),
            ChannelKind::GuildText => json!({
                "id": channel.id,
                "type": 0,
                "guild_id": GUILD_ID,
                "name": channel.name,
                "last_message_id": last_message_id,
                "flags": 0,
                "nsfw": false,
                "parent_id": null,
                "permissions": interactions::MEMBER_PERMISSIONS,
                "position": 0,
                "rate_limit_per_user": 0,
                "topic": null,
            }),
        }
    }

    /// `MessageResponse` (openapi.json), authored by the bot.
    fn message_json(&self, message: &StoredMessage) -> Value {
        let mut body = json!({
            "id": message.id,
            "type": 0,
            "channel_id": message.channel_id,
            "content": message.content,
            "author": bot_json(&self.application_id),
            "attachments": message
                .attachments
                .iter()
                .filter_map(|f| self.files.get(&f.id))
                .map(|served| self.attachment_json(served))
                .collect::<Vec<_>>(),
            "embeds": message.embeds,
            "components": message.components,
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": false,
            "pinned": false,
            "tts": message.tts,
            "timestamp": message.timestamp,
            "edited_timestamp": null,
            "flags": message.flags,
        });
        if let Some(nonce) = &message.nonce {
            body["nonce"] = json!(nonce);
        }
        let in_guild = self
            .channels
            .get(&message.channel_id)
            .is_some_and(|c| c.kind == ChannelKind::GuildText);
        if in_guild {
            body["guild_id"] = json!(GUILD_ID);
        }
        body
    }
}

/// A user object (`UserResponse`, openapi.json) with no avatar or display name.
fn user_json(id: &str, username: &str) -> Value {
    json!({
        "id": id,
        "username": username,
        "avatar": null,
        "discriminator": "0",
        "public_flags": 0,
        "flags": 0,
        "global_name": null,
        "primary_guild": null,
    })
}

fn bot_json(application_id: &str) -> Value {
    let mut bot = user_json(application_id, BOT_USERNAME);
    bot["bot"] = json!(true);
    bot["public_flags"] = json!(524_288);
    bot
}

impl StoredMessage {
    fn view(&self) -> DiscordMessageView {
        DiscordMessageView {
            id: self.id.clone(),
            channel_id: self.channel_id.clone(),
            content: self.content.clone(),
            components: self.components.clone(),
            embeds: self.embeds.clone(),
            allowed_mentions: self.allowed_mentions.clone(),
            attachments: self.attachments.clone(),
        }
    }
}

pub(crate) fn routes(sandbox: Sandbox) -> Router {
    Router::new()
        .route("/api/v10/users/@me/channels", post(create_dm))
        .route(
            "/api/v10/channels/{channel_id}/messages",
            // Files may be far larger than axum's default 2 MB: Discord's own limit applies.
            post(create_message).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            "/api/v10/webhooks/{application_id}/{token}/messages/@original",
            patch(edit_original),
        )
        .route(
            "/api/v10/applications/{application_id}/commands",
            put(overwrite_commands),
        )
        .route("/api/v10/{*rest}", any(unknown_route))
        .layer(middleware::from_fn_with_state(
            sandbox.clone(),
            faults::discord_gate,
        ))
        .with_state(sandbox.clone())
        // The CDN is not the API: no bot token, no API faults.
        .merge(
            Router::new()
                .route(
                    &format!(
                        "{}/{{channel_id}}/{{attachment_id}}/{{filename}}",
                        files::CDN_PREFIX
                    ),
                    axum::routing::get(files::cdn),
                )
                .with_state(sandbox),
        )
}

impl Sandbox {
    /// `url()` + `/api/v10`: the bridge's `DISCORD_API_URL`.
    pub fn discord_api_url(&self) -> String {
        format!("{}{API_PREFIX}", self.url())
    }

    /// The user's DM channel with the bot, if it was opened (by the bot with
    /// `POST /users/@me/channels`, or by the user using a command there).
    pub fn discord_dm_channel(&self, user_id: &str) -> Option<String> {
        self.discord_store().dm_channels.get(user_id).cloned()
    }

    /// The bot's messages in a channel, oldest first (empty for an unknown channel).
    pub fn discord_messages(&self, channel_id: &str) -> Vec<DiscordMessageView> {
        self.discord_store()
            .channels
            .get(channel_id)
            .map(|c| c.messages.iter().map(StoredMessage::view).collect())
            .unwrap_or_default()
    }

    /// The bot's messages in a user's DM, oldest first (empty if there is no DM channel).
    pub fn discord_dms_to(&self, user_id: &str) -> Vec<DiscordMessageView> {
        match self.discord_dm_channel(user_id) {
            Some(channel_id) => self.discord_messages(&channel_id),
            None => Vec::new(),
        }
    }

    /// The body of the last `PUT /applications/{id}/commands` (`Null` if none yet).
    pub fn discord_commands(&self) -> Value {
        self.discord_store().commands.clone()
    }

    /// The content of an interaction's original response after `PATCH @original` edits; `None`
    /// if it was never edited (or the token is unknown).
    pub fn discord_original(&self, token: &str) -> Option<String> {
        self.discord_store()
            .originals
            .get(token)
            .and_then(|o| o.edited.as_ref())
            .map(|m| m.content.clone())
    }

    /// Whether the user accepts DMs from the bot. Closed: sending to their DM channel answers
    /// 403 `{"code": 50007, "message": "Cannot send messages to this user"}`.
    pub fn set_discord_dms_closed(&self, user_id: &str, closed: bool) {
        let mut store = self.discord_store();
        if closed {
            store.closed_dms.insert(user_id.to_owned());
        } else {
            store.closed_dms.remove(user_id);
        }
    }

    /// Another text channel in the sandbox guild the bot may post to.
    pub fn add_discord_channel(&self, channel_id: &str, name: &str) {
        self.discord_store().add_guild_channel(channel_id, name);
    }
}

/// Discord's error body: `{"message", "code"}`.
fn error(status: StatusCode, code: u32, message: &str) -> Response {
    (status, Json(json!({"message": message, "code": code}))).into_response()
}

fn unauthorized() -> Response {
    error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized")
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::BadJson => error(
                StatusCode::BAD_REQUEST,
                INVALID_JSON,
                "The request body contains invalid JSON.",
            ),
            Refusal::Empty => error(
                StatusCode::BAD_REQUEST,
                EMPTY_MESSAGE,
                "Cannot send an empty message",
            ),
            Refusal::Form(field) => {
                tracing::info!(path = %field.path, code = field.code, "sandbox: Discord refused a body");
                let body = json!({
                    "code": INVALID_FORM_BODY,
                    "message": "Invalid Form Body",
                    "errors": field.errors(),
                });
                (StatusCode::BAD_REQUEST, Json(body)).into_response()
            }
        }
    }
}

/// `Authorization: Bot <token>` (the `BotToken` security scheme, openapi.json).
fn refuse_bot(sandbox: &Sandbox, headers: &HeaderMap) -> Option<Response> {
    let expected = format!("Bot {}", sandbox.config().discord_bot_token);
    let given = headers.get("authorization").and_then(|v| v.to_str().ok());
    if given == Some(expected.as_str()) {
        None
    } else {
        tracing::info!("sandbox: Discord refused a bot token");
        Some(unauthorized())
    }
}

/// Only JSON bodies (the spec also allows forms and multipart, which the bridge never sends).
fn refuse_non_json(headers: &HeaderMap) -> Option<Response> {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("application/json") {
        None
    } else {
        Some(Refusal::BadJson.into_response())
    }
}

/// `POST /api/v10/users/@me/channels` `{"recipient_id"}`: the DM channel (the same one every
/// time for a user).
async fn create_dm(State(sandbox): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refusal) = refuse_bot(&sandbox, &headers).or_else(|| refuse_non_json(&headers)) {
        return refusal;
    }
    let user_id = match validate::create_dm(&body) {
        Ok(id) => id,
        Err(refusal) => return refusal.into_response(),
    };
    let mut store = sandbox.discord_store();
    let channel_id = store.dm_channel(&user_id);
    let channel = store.channel_json(&store.channels[&channel_id]);
    Json(channel).into_response()
}

/// `POST /api/v10/channels/{channel_id}/messages`: JSON, or multipart with `payload_json` and
/// `files[n]` ([`files`]).
async fn create_message(
    State(sandbox): State<Sandbox>,
    Path(channel_id): Path<String>,
    request: axum::extract::Request,
) -> Response {
    use axum::extract::FromRequest;
    let headers = request.headers().clone();
    if let Some(refusal) = refuse_bot(&sandbox, &headers) {
        return refusal;
    }
    let multipart = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("multipart/form-data"));
    let (body, attachments) = if multipart {
        let form = match axum::extract::Multipart::from_request(request, &()).await {
            Ok(form) => form,
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    INVALID_FORM_BODY,
                    "Invalid Form Body",
                )
            }
        };
        match files::read_multipart(form, interactions::ATTACHMENT_SIZE_LIMIT).await {
            Ok(message) => (message.payload, message.files),
            Err(refusal) => return refusal,
        }
    } else {
        if let Some(refusal) = refuse_non_json(&headers) {
            return refusal;
        }
        match Bytes::from_request(request, &()).await {
            Ok(body) => (body, Vec::new()),
            Err(_) => return Refusal::BadJson.into_response(),
        }
    };
    let new = match validate::message_create(&body) {
        Ok(new) => new,
        // Files alone make a message.
        Err(Refusal::Empty) if !attachments.is_empty() => validate::NewMessage {
            embeds: json!([]),
            components: json!([]),
            ..validate::NewMessage::default()
        },
        Err(refusal) => return refusal.into_response(),
    };
    let now = time::now_millis();
    let mut store = sandbox.discord_store();
    let Some(channel) = store.channels.get(&channel_id) else {
        return error(StatusCode::NOT_FOUND, UNKNOWN_CHANNEL, "Unknown Channel");
    };
    if let ChannelKind::Dm { user_id } = &channel.kind {
        if store.closed_dms.contains(user_id) {
            return error(
                StatusCode::FORBIDDEN,
                DMS_CLOSED,
                "Cannot send messages to this user",
            );
        }
    }
    if let (true, Some(nonce)) = (new.enforce_nonce, &new.nonce) {
        let earlier = store
            .nonces
            .get(nonce)
            .filter(|(_, at)| now.saturating_sub(*at) < NONCE_WINDOW_MS)
            .and_then(|(id, _)| store.find_message(id));
        if let Some(earlier) = earlier {
            tracing::info!(
                nonce,
                "sandbox: Discord nonce reused, earlier message returned"
            );
            return Json(store.message_json(earlier)).into_response();
        }
    }
    let message = StoredMessage {
        id: time::discord_snowflake(),
        channel_id: channel_id.clone(),
        content: new.content,
        components: new.components,
        embeds: new.embeds,
        allowed_mentions: new.allowed_mentions,
        nonce: new.nonce,
        flags: new.flags,
        tts: new.tts,
        timestamp: time::discord_timestamp(now),
        attachments: attachments.clone(),
    };
    for file in attachments {
        store.serve_file(&channel_id, file);
    }
    if let (true, Some(nonce)) = (new.enforce_nonce, &message.nonce) {
        store
            .nonces
            .insert(nonce.clone(), (message.id.clone(), now));
    }
    let body = store.message_json(&message);
    if let Some(channel) = store.channels.get_mut(&channel_id) {
        channel.messages.push(message);
    }
    Json(body).into_response()
}

/// `PATCH /api/v10/webhooks/{application_id}/{token}/messages/@original`: the token is the
/// credential; no bot token needed.
async fn edit_original(
    State(sandbox): State<Sandbox>,
    Path((application_id, token)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = time::now_millis();
    let mut store = sandbox.discord_store();
    let known = application_id == store.application_id && store.originals.contains_key(&token);
    if !known {
        return error(StatusCode::NOT_FOUND, UNKNOWN_WEBHOOK, "Unknown Webhook");
    }
    let original = store.originals[&token].clone();
    if now.saturating_sub(original.created_ms) > TOKEN_LIFETIME_MS {
        return error(
            StatusCode::UNAUTHORIZED,
            INVALID_WEBHOOK_TOKEN,
            "Invalid Webhook Token",
        );
    }
    if let Some(refusal) = refuse_non_json(&headers) {
        return refusal;
    }
    let edit = match validate::webhook_edit(&body) {
        Ok(edit) => edit,
        Err(refusal) => return refusal.into_response(),
    };
    let mut message = original.edited.clone().unwrap_or_else(|| StoredMessage {
        id: original.message_id.clone(),
        channel_id: original.channel_id.clone(),
        content: String::new(),
        components: json!([]),
        embeds: json!([]),
        allowed_mentions: Value::Null,
        nonce: None,
        flags: 0,
        tts: false,
        timestamp: time::discord_timestamp(original.created_ms),
        attachments: Vec::new(),
    });
    if let Some(content) = edit.content {
        message.content = content;
    }
    if let Some(components) = edit.components {
        message.components = components;
    }
    if let Some(embeds) = edit.embeds {
        message.embeds = embeds;
    }
    if let Some(allowed_mentions) = edit.allowed_mentions {
        message.allowed_mentions = allowed_mentions;
    }
    if let Some(flags) = edit.flags {
        message.flags = flags;
    }
    let mut body = store.message_json(&message);
    body["edited_timestamp"] = json!(time::discord_timestamp(now));
    body["webhook_id"] = json!(store.application_id);
    body["application_id"] = json!(store.application_id);
    if let Some(original) = store.originals.get_mut(&token) {
        original.edited = Some(message);
    }
    Json(body).into_response()
}

/// `PUT /api/v10/applications/{application_id}/commands`: a bulk overwrite of the global
/// commands; answers `ApplicationCommandResponse`s (openapi.json).
async fn overwrite_commands(
    State(sandbox): State<Sandbox>,
    Path(application_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refusal) = refuse_bot(&sandbox, &headers).or_else(|| refuse_non_json(&headers)) {
        return refusal;
    }
    if application_id != sandbox.config().discord_application_id {
        return error(StatusCode::FORBIDDEN, MISSING_ACCESS, "Missing Access");
    }
    let commands = match validate::commands(&body) {
        Ok(commands) => commands,
        Err(refusal) => return refusal.into_response(),
    };
    let mut store = sandbox.discord_store();
    let mut ids = HashMap::new();
    let registered: Vec<Value> = commands
        .iter()
        .map(|command| {
            let name = command["name"].as_str().unwrap_or_default().to_owned();
            let id = store
                .command_ids
                .get(&name)
                .cloned()
                .unwrap_or_else(time::discord_snowflake);
            ids.insert(name.clone(), id.clone());
            let mut response = json!({
                "id": id,
                "application_id": application_id,
                "version": time::discord_snowflake(),
                // A string of the permission bits in responses.
                "default_member_permissions": match command.get("default_member_permissions") {
                    Some(Value::Number(bits)) => json!(bits.to_string()),
                    _ => Value::Null,
                },
                "type": command.get("type").and_then(Value::as_u64).unwrap_or(validate::CHAT_INPUT),
                "name": name,
                "description": command.get("description").and_then(Value::as_str).unwrap_or_default(),
                "dm_permission": command.get("dm_permission").and_then(Value::as_bool).unwrap_or(true),
                "contexts": command.get("contexts").cloned().unwrap_or(Value::Null),
                "integration_types": command.get("integration_types").filter(|v| !v.is_null()).cloned().unwrap_or(json!([0])),
                "nsfw": command.get("nsfw").and_then(Value::as_bool).unwrap_or(false),
            });
            if let Some(options) = command.get("options").filter(|v| !v.is_null()) {
                response["options"] = options.clone();
            }
            response
        })
        .collect();
    store.command_ids = ids;
    store.commands = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Json(Value::Array(registered)).into_response()
}

/// Any other `/api/v10/...` path.
async fn unknown_route() -> Response {
    error(StatusCode::NOT_FOUND, 0, "404: Not Found")
}
