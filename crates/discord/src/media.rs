//! Files on Discord: what a customer attaches (a slash command's ATTACHMENT option, a modal's
//! File Upload), and the multipart message that sends an agent's files to the customer's DM
//! ([`super::DiscordClient::send_files`]; downloads: [`super::DiscordClient::download_attachment`]).
//!
//! Facts, and where they come from:
//! - The OpenAPI spec (`shared/specs/discord/openapi.json`, API v10):
//!   `ApplicationCommandOptionType` ATTACHMENT = 11 (`ApplicationCommandAttachmentOption`: `type`,
//!   `name` 1..32, `description` 1..100, `required`); `MessageComponentTypes` FILE_UPLOAD = 19
//!   (`FileUploadComponentForModalRequest`: `custom_id` 1..100, `min_values` 0..10,
//!   `max_values` 1..10, `required`), placed in a Label (18); an attachment as Discord describes
//!   it (`AttachmentResponse`: `id`, `filename`, `size`, `url`, `proxy_url` required,
//!   `content_type`, `width`, `height`, `description` optional); `POST /channels/{id}/messages`
//!   takes `multipart/form-data` with `files[0]` to `files[9]` beside the message, whose
//!   `attachments` (at most 10) are `MessageAttachmentRequest`s (`id` required, `filename`
//!   1..1024).
//! - Discord's docs (Reference, "Uploading Files"): the message's JSON goes in a
//!   `payload_json` part, each file in a `files[n]` part with its filename, and
//!   `attachments[].id` is that `n`. The spec's multipart schema does not name `payload_json`.
//! - Discord's docs (Interactions, "Receiving and Responding"): an ATTACHMENT option's `value`
//!   is the attachment's id, resolved in `data.resolved.attachments`; a modal's File Upload
//!   submits `{type: 19, id, custom_id, values: [attachment ids]}`, resolved the same way; the
//!   interaction's `attachment_size_limit` is the most a file may weigh there.
//! - 10 MiB is Discord's default upload limit (and the sandbox's `attachment_size_limit`); a
//!   boosted server's is higher, so the interaction's own figure is the one to use.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::messages::OutgoingMessage;

/// `ApplicationCommandOptionType` ATTACHMENT.
pub const ATTACHMENT_OPTION: u8 = 11;
pub use super::components::{FILE_UPLOAD, MAX_UPLOAD_VALUES};
/// Discord's default per-file upload limit: 10 MiB.
pub const DEFAULT_ATTACHMENT_SIZE_LIMIT: u64 = 10 * 1024 * 1024;
/// `files[0]`..`files[9]` and `attachments` maxItems 10.
pub const MAX_FILES: usize = 10;
/// `MessageAttachmentRequest.filename` maxLength.
pub const MAX_FILENAME: usize = 1024;

/// Where Discord serves attachments: only these (and the configured API's own host, for the
/// sandbox) are downloaded from.
pub const ATTACHMENT_HOSTS: [&str; 2] = [
    "https://cdn.discordapp.com/",
    "https://media.discordapp.net/",
];

/// A customer's file as an interaction resolves it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: String,
    pub filename: String,
    /// Bytes.
    pub size: u64,
    pub url: String,
    pub proxy_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The files an interaction carries, in the order the customer gave them, and how large a file
/// may be there.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InteractionFiles {
    /// The interaction's `attachment_size_limit` ([`DEFAULT_ATTACHMENT_SIZE_LIMIT`] if absent).
    pub size_limit: u64,
    pub files: Vec<Attachment>,
}

#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("not a Discord interaction: {0}")]
    NotJson(String),
    /// An option or File Upload names an attachment that `data.resolved.attachments` lacks.
    #[error("attachment {0} is not in data.resolved.attachments")]
    Unresolved(String),
    #[error("attachment {id} is not an attachment object: {why}")]
    Malformed { id: String, why: String },
}

/// The files of a verified interaction body: ATTACHMENT options of a command (subcommands
/// included) and every File Upload of a modal submission (in Labels, or anywhere in the tree),
/// each resolved in `data.resolved.attachments`.
pub fn interaction_files(body: &[u8]) -> Result<InteractionFiles, FilesError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| FilesError::NotJson(e.to_string()))?;
    let size_limit = value
        .get("attachment_size_limit")
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_ATTACHMENT_SIZE_LIMIT);
    let data = value.get("data").cloned().unwrap_or(Value::Null);
    let mut ids = Vec::new();
    option_attachments(data.get("options"), &mut ids);
    upload_values(data.get("components"), &mut ids);
    let resolved = data.pointer("/resolved/attachments");
    let files = ids
        .into_iter()
        .map(|id| {
            let object = resolved
                .and_then(|r| r.get(&id))
                .ok_or_else(|| FilesError::Unresolved(id.clone()))?;
            serde_json::from_value(object.clone()).map_err(|e| FilesError::Malformed {
                id,
                why: e.to_string(),
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(InteractionFiles { size_limit, files })
}

fn option_attachments(options: Option<&Value>, ids: &mut Vec<String>) {
    for option in options.and_then(Value::as_array).into_iter().flatten() {
        if option.get("type").and_then(Value::as_u64) == Some(u64::from(ATTACHMENT_OPTION)) {
            if let Some(id) = option.get("value").and_then(Value::as_str) {
                ids.push(id.to_owned());
            }
        }
        option_attachments(option.get("options"), ids);
    }
}

fn upload_values(components: Option<&Value>, ids: &mut Vec<String>) {
    let children = components
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .chain(components.filter(|c| c.is_object()));
    for component in children {
        if component.get("type").and_then(Value::as_u64) == Some(u64::from(FILE_UPLOAD)) {
            let values = component.get("values").and_then(Value::as_array);
            ids.extend(
                values
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned),
            );
        }
        upload_values(component.get("components"), ids);
        upload_values(component.get("component"), ids);
    }
}

/// A slash command's optional file option (`ApplicationCommandAttachmentOption`), for the
/// command list.
pub fn attachment_option(name: &str, description: &str) -> Value {
    json!({
        "name": name,
        "description": description,
        "type": ATTACHMENT_OPTION,
        "required": false,
    })
}

/// A file for the customer. `bytes` is shared by each retry, not copied.
#[derive(Clone, Debug)]
pub struct OutgoingFile {
    pub filename: String,
    pub content_type: String,
    pub bytes: Bytes,
}

impl OutgoingFile {
    /// Discord's limit on the name (1..=1024 characters); an empty name becomes `file`.
    pub fn new(filename: &str, content_type: &str, bytes: Bytes) -> Self {
        let filename = match super::ids::truncate(filename.trim(), MAX_FILENAME) {
            name if name.is_empty() => "file".to_owned(),
            name => name,
        };
        Self {
            filename,
            content_type: content_type.to_owned(),
            bytes,
        }
    }
}

/// The `payload_json` of a message with `files`: the message, and `attachments` naming each
/// `files[n]` part by its index.
pub fn payload_json(message: &OutgoingMessage, files: &[OutgoingFile]) -> Value {
    let mut payload = serde_json::to_value(message).unwrap_or_else(|_| json!({}));
    payload["attachments"] = files
        .iter()
        .enumerate()
        .map(|(n, file)| json!({"id": n.to_string(), "filename": file.filename}))
        .collect();
    payload
}

/// The multipart body: `payload_json`, then `files[0]`, `files[1]`, … with their names and
/// types.
pub(crate) fn multipart_form(
    payload: &str,
    files: &[OutgoingFile],
) -> Result<reqwest::multipart::Form, reqwest::Error> {
    let json_part =
        reqwest::multipart::Part::text(payload.to_owned()).mime_str("application/json")?;
    let mut form = reqwest::multipart::Form::new().part("payload_json", json_part);
    for (n, file) in files.iter().enumerate() {
        let part = reqwest::multipart::Part::stream_with_length(
            file.bytes.clone(),
            file.bytes.len() as u64,
        )
        .file_name(file.filename.clone())
        .mime_str(&file.content_type)?;
        form = form.part(format!("files[{n}]"), part);
    }
    Ok(form)
}

/// Whether `url` is a Discord attachment URL: one of [`ATTACHMENT_HOSTS`], or under `origin`
/// (the configured API's scheme and host).
pub(crate) fn is_attachment_url(url: &str, origin: Option<&str>) -> bool {
    ATTACHMENT_HOSTS.iter().any(|host| url.starts_with(host))
        || origin.is_some_and(|origin| url.starts_with(&format!("{origin}/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attachment(id: &str, filename: &str) -> Value {
        json!({"id": id, "filename": filename, "size": 3, "content_type": "image/png",
               "url": format!("https://cdn.discordapp.com/attachments/1/{id}/{filename}"),
               "proxy_url": format!("https://media.discordapp.net/attachments/1/{id}/{filename}")})
    }

    #[test]
    fn a_command_option_resolves_its_attachment() {
        let body = json!({
            "type": 2, "attachment_size_limit": 26_214_400,
            "data": {"name": "helpme", "options": [
                {"name": "question", "type": 3, "value": "Crash"},
                {"name": "attachment", "type": 11, "value": "1300000000000000001"},
            ], "resolved": {"attachments": {"1300000000000000001": attachment("1300000000000000001", "crash.png")}}},
        });
        let files = interaction_files(body.to_string().as_bytes()).unwrap();
        assert_eq!(files.size_limit, 26_214_400);
        assert_eq!(files.files.len(), 1);
        assert_eq!(files.files[0].filename, "crash.png");
        assert_eq!(files.files[0].content_type.as_deref(), Some("image/png"));
    }

    #[test]
    fn a_modal_file_upload_resolves_every_value_in_order() {
        let body = json!({
            "type": 5,
            "data": {"custom_id": "reply_modal", "components": [
                {"type": 18, "id": 1, "component": {"type": 4, "id": 2, "custom_id": "message", "value": "here"}},
                {"type": 18, "id": 3, "component": {"type": 19, "id": 4, "custom_id": "files",
                    "values": ["1300000000000000003", "1300000000000000002"]}},
            ], "resolved": {"attachments": {
                "1300000000000000002": attachment("1300000000000000002", "b.pdf"),
                "1300000000000000003": attachment("1300000000000000003", "a.png"),
            }}},
        });
        let files = interaction_files(body.to_string().as_bytes()).unwrap();
        assert_eq!(files.size_limit, DEFAULT_ATTACHMENT_SIZE_LIMIT);
        let names: Vec<_> = files.files.iter().map(|f| f.filename.as_str()).collect();
        assert_eq!(names, ["a.png", "b.pdf"]);
    }

    #[test]
    fn no_files_and_unresolved_files() {
        let none = json!({"type": 2, "data": {"name": "reply", "options": [{"name": "message", "type": 3, "value": "hi"}]}});
        assert!(interaction_files(none.to_string().as_bytes())
            .unwrap()
            .files
            .is_empty());
        let missing = json!({"type": 2, "data": {"options": [{"name": "attachment", "type": 11, "value": "9"}]}});
        assert!(matches!(
            interaction_files(missing.to_string().as_bytes()),
            Err(FilesError::Unresolved(id)) if id == "9"
        ));
        assert!(interaction_files(b"[").is_err());
    }

    #[test]
    fn the_payload_names_each_file_by_index() {
        let files = [
            OutgoingFile::new("a.png", "image/png", Bytes::from_static(b"png")),
            OutgoingFile::new("  ", "text/plain", Bytes::from_static(b"txt")),
        ];
        let payload = payload_json(&OutgoingMessage::text("Your files"), &files);
        assert_eq!(payload["content"], "Your files");
        assert_eq!(
            payload["attachments"],
            json!([{"id": "0", "filename": "a.png"}, {"id": "1", "filename": "file"}])
        );
        assert_eq!(
            OutgoingFile::new(&"n".repeat(2000), "x/y", Bytes::new())
                .filename
                .chars()
                .count(),
            MAX_FILENAME
        );
    }

    #[test]
    fn builders_follow_the_spec() {
        let option = attachment_option("attachment", "A screenshot or file");
        assert_eq!(option["type"], 11);
        assert_eq!(option["required"], false);
        let upload = serde_json::to_value(super::super::components::Component::file_upload(
            "files", 20,
        ))
        .unwrap();
        assert_eq!(upload["type"], 19);
        assert_eq!(upload["max_values"], 10);
        assert!(is_attachment_url(
            "https://cdn.discordapp.com/attachments/1/2/a.png",
            None
        ));
        assert!(is_attachment_url(
            "http://127.0.0.1:9/attachments/1/2/a.png",
            Some("http://127.0.0.1:9")
        ));
        assert!(!is_attachment_url(
            "http://127.0.0.1:9/attachments/1/2/a.png",
            None
        ));
        assert!(!is_attachment_url(
            "https://cdn.discordapp.com.evil/x",
            None
        ));
    }
}
