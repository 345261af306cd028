//! The customer's side of Discord: interactions (the shape of `fixtures/discord/*.json`),
//! signed with Ed25519 (`x-signature-ed25519` over `x-signature-timestamp` + body) and POSTed
//! to the bridge's interactions endpoint. Discord tries once: no retries.

use std::time::{Duration, Instant};

use base64::Engine;
use flex_bridge::discord::interactions::{
    APPLICATION_COMMAND, MESSAGE_COMPONENT, MODAL_SUBMIT, PING,
};
use flex_bridge::discord::signature::{self, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use serde_json::{json, Value};

use super::{
    bot_json, user_json, ChannelKind, DiscordFile, DiscordReply, DiscordUser, Original, Store,
    GUILD_ID, SUPPORT_CHANNEL_ID,
};
use crate::{time, Sandbox, SandboxError};

/// Permission bit strings as in the fixtures (`app_permissions`, `member.permissions`).
pub(super) const APP_PERMISSIONS: &str = "2248473465835073";
pub(super) const MEMBER_PERMISSIONS: &str = "2222085186636353";
const LOCALE: &str = "en-US";
/// `attachment_size_limit` in the fixtures (10 MiB).
pub(super) const ATTACHMENT_SIZE_LIMIT: u64 = 10_485_760;
/// What Discord's interaction requests identify as.
const USER_AGENT: &str = "Discord-Interactions/1.0 (+https://discord.com)";
/// Discord gives up on an answer after 3 seconds (docs, "Receiving and Responding"). The
/// sandbox waits longer, so a slow test machine does not fail the test, but says so.
const RESPONSE_DEADLINE: Duration = Duration::from_secs(3);
/// `ApplicationCommandOptionType` STRING, `MessageComponentTypes` BUTTON, ACTION_ROW,
/// TEXT_INPUT and LABEL (openapi.json, docs "Component Reference").
const STRING_OPTION: u8 = 3;
const BUTTON: u8 = 2;
const ACTION_ROW: u8 = 1;
const TEXT_INPUT: u8 = 4;
const LABEL: u8 = 18;
/// `ApplicationCommandOptionType` ATTACHMENT and `MessageComponentTypes` FILE_UPLOAD.
const ATTACHMENT_OPTION: u8 = 11;
const FILE_UPLOAD: u8 = 19;

/// Where an interaction happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Place {
    /// A guild text channel (`member.user`, `guild_id`, context 0).
    Guild { channel_id: String },
    /// The user's DM with the bot (`user`, context 1).
    Dm { channel_id: String },
}

impl Place {
    fn channel_id(&self) -> &str {
        match self {
            Place::Guild { channel_id } | Place::Dm { channel_id } => channel_id,
        }
    }
}

/// An interaction ready to send.
struct Built {
    interaction_id: String,
    token: String,
    body: Vec<u8>,
}

/// A fresh interaction token: URL-safe, like Discord's (`aW50ZXJhY3Rpb246...`).
fn new_token(interaction_id: &str) -> String {
    let raw = format!(
        "interaction:{interaction_id}:{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// The 1-based, depth-first number of the component with `custom_id` (Discord numbers a
/// message's components this way when the sender gives no `id`).
fn component_number(components: &Value, custom_id: &str) -> Option<u64> {
    fn walk(value: &Value, custom_id: &str, counter: &mut u64) -> Option<u64> {
        for component in value.as_array()? {
            *counter += 1;
            if let Some(id) = component.get("id").and_then(Value::as_u64) {
                *counter = id;
            }
            if component.get("custom_id").and_then(Value::as_str) == Some(custom_id) {
                return Some(*counter);
            }
            if let Some(children) = component.get("components") {
                if let Some(found) = walk(children, custom_id, counter) {
                    return Some(found);
                }
            }
        }
        None
    }
    walk(components, custom_id, &mut 0)
}

impl Store {
    /// Records everything the interaction makes known (user, place, token) and builds it.
    fn build(
        &mut self,
        kind: u8,
        user: &DiscordUser,
        place: Place,
        data: Value,
        message: Option<Value>,
    ) -> Built {
        self.users.insert(user.id.clone(), user.username.clone());
        let interaction_id = time::discord_snowflake();
        let token = new_token(&interaction_id);
        self.originals.insert(
            token.clone(),
            Original {
                channel_id: place.channel_id().to_owned(),
                created_ms: time::now_millis(),
                message_id: time::discord_snowflake(),
                edited: None,
            },
        );
        self.places.insert(user.id.clone(), place.clone());
        let user_object = user_json(&user.id, &user.username);
        let channel = self
            .channels
            .get(place.channel_id())
            .map(|c| self.channel_json(c))
            .unwrap_or_else(|| json!({"id": place.channel_id()}));
        let mut body = json!({
            "app_permissions": APP_PERMISSIONS,
            "application_id": self.application_id,
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "channel": channel,
            "channel_id": place.channel_id(),
            "data": data,
            "entitlements": [],
            "id": interaction_id,
            "locale": LOCALE,
            "token": token,
            "type": kind,
            "version": 1,
        });
        match place {
            Place::Guild { .. } => {
                body["authorizing_integration_owners"] = json!({"0": GUILD_ID});
                body["context"] = json!(0);
                body["guild"] = json!({"id": GUILD_ID, "features": [], "locale": LOCALE});
                body["guild_id"] = json!(GUILD_ID);
                body["guild_locale"] = json!(LOCALE);
                body["member"] = json!({
                    "avatar": null,
                    "banner": null,
                    "communication_disabled_until": null,
                    "deaf": false,
                    "flags": 0,
                    "joined_at": "2024-03-11T09:21:44.512000+00:00",
                    "mute": false,
                    "nick": null,
                    "pending": false,
                    "permissions": MEMBER_PERMISSIONS,
                    "premium_since": null,
                    "roles": [],
                    "user": user_object,
                });
            }
            Place::Dm { .. } => {
                // A guild-installed app in its bot DM (fixtures/discord/README.md).
                body["authorizing_integration_owners"] = json!({"0": "0"});
                body["context"] = json!(1);
                body["user"] = user_object;
            }
        }
        if let Some(message) = message {
            body["message"] = message;
        }
        let body = serde_json::to_vec(&body).unwrap_or_default();
        self.last_interaction = Some(body.clone());
        Built {
            interaction_id,
            token,
            body,
        }
    }

    /// Puts a customer's files on the CDN (under the interaction's channel) and returns
    /// `{"attachments": {id: AttachmentResponse}}`, or `None` without files.
    fn resolve_files<'a>(
        &mut self,
        channel_id: &str,
        files: impl Iterator<Item = &'a DiscordFile>,
    ) -> Option<Value> {
        let attachments: serde_json::Map<String, Value> = files
            .map(|file| (file.id.clone(), self.serve_file(channel_id, file.clone())))
            .collect();
        (!attachments.is_empty()).then(|| json!({ "attachments": attachments }))
    }

    /// The place of an interaction in this channel.
    fn place_of(&mut self, channel_id: &str, user_id: &str) -> Place {
        match self.channels.get(channel_id).map(|c| &c.kind) {
            Some(ChannelKind::GuildText) => Place::Guild {
                channel_id: channel_id.to_owned(),
            },
            Some(ChannelKind::Dm { .. }) => Place::Dm {
                channel_id: channel_id.to_owned(),
            },
            None => Place::Dm {
                channel_id: self.dm_channel(user_id),
            },
        }
    }
}

impl Sandbox {
    /// The bridge may start after the sandbox (it needs the sandbox URL first).
    pub fn set_discord_interactions_url(&self, url: impl Into<String>) {
        self.discord_store().interactions_url = url.into();
    }

    pub fn discord_interactions_url(&self) -> String {
        self.discord_store().interactions_url.clone()
    }

    /// The hex Ed25519 public key interactions are signed for: the bridge's
    /// `DISCORD_PUBLIC_KEY`.
    pub fn discord_public_key_hex(&self) -> String {
        signature::public_key_hex(&self.config().discord_signing_seed)
    }

    /// A slash command by `user`, in a guild (`member.user`, `guild_id`, context 0, in
    /// [`super::SUPPORT_CHANNEL_ID`]) or in the bot's DM (`user`, context 1). Options are
    /// strings (type 3).
    pub async fn discord_command(
        &self,
        user: &DiscordUser,
        in_guild: bool,
        name: &str,
        options: &[(&str, &str)],
    ) -> DiscordReply {
        self.discord_command_with_files(user, in_guild, name, options, &[])
            .await
    }

    /// The same with files: each `(option, file)` is an ATTACHMENT option (type 11) whose
    /// `value` is the file's attachment id, resolved in `data.resolved.attachments`; the files
    /// are then on the sandbox's CDN at their `url`.
    pub async fn discord_command_with_files(
        &self,
        user: &DiscordUser,
        in_guild: bool,
        name: &str,
        options: &[(&str, &str)],
        files: &[(&str, DiscordFile)],
    ) -> DiscordReply {
        let built = {
            let mut store = self.discord_store();
            let place = if in_guild {
                Place::Guild {
                    channel_id: SUPPORT_CHANNEL_ID.to_owned(),
                }
            } else {
                Place::Dm {
                    channel_id: store.dm_channel(&user.id),
                }
            };
            let command_id = store
                .command_ids
                .entry(name.to_owned())
                .or_insert_with(time::discord_snowflake)
                .clone();
            let mut data = json!({"id": command_id, "name": name, "type": 1});
            let mut all: Vec<Value> = options
                .iter()
                .map(|(name, value)| json!({"name": name, "type": STRING_OPTION, "value": value}))
                .collect();
            all.extend(files.iter().map(|(option, file)| {
                json!({"name": option, "type": ATTACHMENT_OPTION, "value": file.id})
            }));
            if !all.is_empty() {
                data["options"] = Value::Array(all);
            }
            let resolved = store.resolve_files(place.channel_id(), files.iter().map(|(_, f)| f));
            if let Some(resolved) = resolved {
                data["resolved"] = resolved;
            }
            store.build(APPLICATION_COMMAND, user, place, data, None)
        };
        self.send_built(built).await
    }

    /// A button click (MESSAGE_COMPONENT, `data.custom_id`, `component_type` 2) on a message
    /// the bot sent; the interaction happens in that message's channel and carries it as
    /// `message`. An unknown message id is still sent (from the user's DM, with a stub
    /// message), so tests can click stale or forged buttons.
    pub async fn discord_click(
        &self,
        user: &DiscordUser,
        message_id: &str,
        custom_id: &str,
    ) -> DiscordReply {
        let built = {
            let mut store = self.discord_store();
            let (place, message) = match store.find_message(message_id).cloned() {
                Some(message) => {
                    let place = store.place_of(&message.channel_id, &user.id);
                    (place, store.message_json(&message))
                }
                None => {
                    tracing::warn!(message_id, "sandbox: click on a message the bot never sent");
                    let channel_id = store.dm_channel(&user.id);
                    let stub = json!({
                        "id": message_id,
                        "type": 0,
                        "channel_id": channel_id,
                        "content": "",
                        "author": bot_json(&store.application_id),
                        "attachments": [],
                        "embeds": [],
                        "components": [],
                        "flags": 0,
                        "timestamp": time::discord_timestamp(time::now_millis()),
                        "edited_timestamp": null,
                    });
                    (Place::Dm { channel_id }, stub)
                }
            };
            let number = component_number(&message["components"], custom_id).unwrap_or(1);
            let data = json!({"component_type": BUTTON, "custom_id": custom_id, "id": number});
            store.build(MESSAGE_COMPONENT, user, place, data, Some(message))
        };
        self.send_built(built).await
    }

    /// A modal submission (MODAL_SUBMIT) where the user last interacted (their bot DM if
    /// nowhere yet). `label_shape`: each text input (type 4) in a Label (type 18), as Discord
    /// now sends; otherwise in a legacy action row (type 1).
    pub async fn discord_modal_submit(
        &self,
        user: &DiscordUser,
        custom_id: &str,
        fields: &[(&str, &str)],
        label_shape: bool,
    ) -> DiscordReply {
        self.modal_submit(user, custom_id, fields, label_shape, &[])
            .await
    }

    /// A modal submission in the Label shape with File Uploads: each `(custom_id, files)` is a
    /// File Upload (type 19) in a Label, submitted as `values` (attachment ids) and resolved in
    /// `data.resolved.attachments`.
    pub async fn discord_modal_submit_with_files(
        &self,
        user: &DiscordUser,
        custom_id: &str,
        fields: &[(&str, &str)],
        uploads: &[(&str, Vec<DiscordFile>)],
    ) -> DiscordReply {
        self.modal_submit(user, custom_id, fields, true, uploads)
            .await
    }

    async fn modal_submit(
        &self,
        user: &DiscordUser,
        custom_id: &str,
        fields: &[(&str, &str)],
        label_shape: bool,
        uploads: &[(&str, Vec<DiscordFile>)],
    ) -> DiscordReply {
        let built = {
            let mut store = self.discord_store();
            let place = match store.places.get(&user.id).cloned() {
                Some(place) => place,
                None => Place::Dm {
                    channel_id: store.dm_channel(&user.id),
                },
            };
            let mut components: Vec<Value> = fields
                .iter()
                .enumerate()
                .map(|(i, (field_id, value))| {
                    let number = 2 * i as u64 + 1;
                    let input = json!({
                        "type": TEXT_INPUT,
                        "id": number + 1,
                        "custom_id": field_id,
                        "value": value,
                    });
                    if label_shape {
                        json!({"type": LABEL, "id": number, "component": input})
                    } else {
                        json!({"type": ACTION_ROW, "id": number, "components": [input]})
                    }
                })
                .collect();
            for (i, (upload_id, files)) in uploads.iter().enumerate() {
                let number = 2 * (fields.len() + i) as u64 + 1;
                let values: Vec<&str> = files.iter().map(|f| f.id.as_str()).collect();
                components.push(json!({"type": LABEL, "id": number, "component": {
                    "type": FILE_UPLOAD, "id": number + 1, "custom_id": upload_id, "values": values,
                }}));
            }
            let mut data = json!({"custom_id": custom_id, "components": components});
            let resolved =
                store.resolve_files(place.channel_id(), uploads.iter().flat_map(|(_, f)| f));
            if let Some(resolved) = resolved {
                data["resolved"] = resolved;
            }
            store.build(MODAL_SUBMIT, user, place, data, None)
        };
        self.send_built(built).await
    }

    /// Discord's PING (sent when the endpoint URL is saved); the bridge must answer
    /// `{"type": 1}`.
    pub async fn discord_ping(&self) -> DiscordReply {
        let interaction_id = time::discord_snowflake();
        let token = new_token(&interaction_id);
        let body = json!({
            "id": interaction_id,
            "application_id": self.config().discord_application_id,
            "type": PING,
            "token": token,
            "version": 1,
        });
        let body = serde_json::to_vec(&body).unwrap_or_default();
        let (status, response) = self.post_interaction(&body).await;
        DiscordReply {
            interaction_id,
            token,
            status,
            body: response,
        }
    }

    /// What Discord checks before accepting an interactions endpoint URL: a correctly signed
    /// PING is answered 200 `{"type": 1}`, and a badly signed one 401.
    pub async fn discord_endpoint_check(&self) -> Result<bool, SandboxError> {
        let url = self.discord_interactions_url();
        let body = json!({
            "id": time::discord_snowflake(),
            "application_id": self.config().discord_application_id,
            "type": PING,
            "token": new_token("0"),
            "version": 1,
        })
        .to_string()
        .into_bytes();
        let timestamp = time::now_secs().to_string();
        // Signed for another timestamp: a valid signature, but not for this request.
        let forged = signature::sign(&self.config().discord_signing_seed, "0", &body);
        let (status, _) = self
            .post_signed(&url, &forged, &timestamp, &body)
            .await
            .map_err(|detail| SandboxError::Http {
                url: url.clone(),
                detail,
            })?;
        if status != 401 {
            return Ok(false);
        }
        let good = signature::sign(&self.config().discord_signing_seed, &timestamp, &body);
        let (status, response) = self
            .post_signed(&url, &good, &timestamp, &body)
            .await
            .map_err(|detail| SandboxError::Http {
                url: url.clone(),
                detail,
            })?;
        Ok(status == 200 && response.get("type").and_then(Value::as_u64) == Some(1))
    }

    /// Re-delivers exactly `body`, freshly and correctly signed, `times` times (one attempt
    /// each, as Discord makes); returns each status (0 if the bridge could not be reached).
    /// The body's token becomes usable for `PATCH @original`.
    pub async fn deliver_discord_interaction(&self, body: &[u8], times: usize) -> Vec<u16> {
        if let Ok(value) = serde_json::from_slice::<Value>(body) {
            if let Some(token) = value.get("token").and_then(Value::as_str) {
                let channel_id = value
                    .get("channel_id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                self.discord_store()
                    .originals
                    .entry(token.to_owned())
                    .or_insert_with(|| Original {
                        channel_id,
                        created_ms: time::now_millis(),
                        message_id: time::discord_snowflake(),
                        edited: None,
                    });
            }
        }
        let mut statuses = Vec::with_capacity(times);
        for _ in 0..times {
            statuses.push(self.post_interaction(body).await.0);
        }
        statuses
    }

    /// The last raw body sent by [`Sandbox::discord_command`], [`Sandbox::discord_click`] or
    /// [`Sandbox::discord_modal_submit`] (to replay or forge in tests).
    pub fn last_discord_interaction(&self) -> Option<Vec<u8>> {
        self.discord_store().last_interaction.clone()
    }

    /// Every interaction those three sent, and the bridge's answers, oldest first.
    pub fn discord_replies(&self) -> Vec<DiscordReply> {
        self.discord_store().replies.clone()
    }

    async fn send_built(&self, built: Built) -> DiscordReply {
        let (status, body) = self.post_interaction(&built.body).await;
        let reply = DiscordReply {
            interaction_id: built.interaction_id,
            token: built.token,
            status,
            body,
        };
        self.discord_store().replies.push(reply.clone());
        reply
    }

    /// Signs and POSTs once; (0, Null) if the bridge could not be reached.
    async fn post_interaction(&self, body: &[u8]) -> (u16, Value) {
        let url = self.discord_interactions_url();
        let timestamp = time::now_secs().to_string();
        let signature = signature::sign(&self.config().discord_signing_seed, &timestamp, body);
        match self.post_signed(&url, &signature, &timestamp, body).await {
            Ok(answer) => answer,
            Err(detail) => {
                tracing::info!(%detail, "sandbox: Discord interaction not delivered");
                (0, Value::Null)
            }
        }
    }

    async fn post_signed(
        &self,
        url: &str,
        signature: &str,
        timestamp: &str,
        body: &[u8],
    ) -> Result<(u16, Value), String> {
        let started = Instant::now();
        let response = self
            .inner
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("user-agent", USER_AGENT)
            .header(SIGNATURE_HEADER, signature)
            .header(TIMESTAMP_HEADER, timestamp)
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| e.to_string())?;
        let elapsed = started.elapsed();
        if elapsed > RESPONSE_DEADLINE {
            tracing::warn!(
                elapsed_ms = elapsed.as_millis() as u64,
                "sandbox: the bridge took longer than Discord's 3 s to answer an interaction"
            );
        }
        tracing::info!(status, "sandbox: Discord interaction delivered");
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_url_safe_and_unique() {
        let a = new_token("1");
        let b = new_token("1");
        assert_ne!(a, b);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert!(a.starts_with("aW50ZXJhY3Rpb246"));
    }

    #[test]
    fn components_are_numbered_depth_first() {
        let components = json!([
            {"type": 1, "components": [
                {"type": 2, "custom_id": "qr:A"},
                {"type": 2, "custom_id": "qr:B"},
            ]},
            {"type": 1, "components": [
                {"type": 2, "custom_id": "reply"},
            ]},
        ]);
        assert_eq!(component_number(&components, "qr:A"), Some(2));
        assert_eq!(component_number(&components, "reply"), Some(5));
        assert_eq!(component_number(&components, "nope"), None);
    }
}
