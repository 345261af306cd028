//! Files on the sandbox's Discord: the multipart Create Message (`payload_json` and
//! `files[0]`..`files[9]`, Discord's docs "Uploading Files"; `MessageAttachmentRequest` in
//! openapi.json), the attachment objects messages and interactions carry (`AttachmentResponse`),
//! and the CDN that serves them at signed URLs, as Discord's attachment links are (`ex`, `is`,
//! `hm` query parameters; the sandbox checks `hm`).

use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::validate::{FieldError, Refusal};
use super::Store;
use crate::{time, Sandbox};

/// `MessageAttachmentRequest` properties (openapi.json).
const ATTACHMENT_FIELDS: &[&str] = &[
    "id",
    "filename",
    "description",
    "duration_secs",
    "waveform",
    "title",
    "is_spoiler",
    "is_remix",
];
/// Discord JSON error code 40005, "Request entity too large".
pub const ENTITY_TOO_LARGE: u32 = 40005;
/// Where the sandbox's CDN serves files (Discord's is `cdn.discordapp.com/attachments/...`).
pub(super) const CDN_PREFIX: &str = "/attachments";

/// A file on the sandbox's Discord: one the bot sent, or one a customer attached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiscordFile {
    pub id: String,
    pub filename: String,
    pub content_type: String,
    #[serde(skip)]
    pub bytes: Bytes,
}

impl DiscordFile {
    /// A customer's file, with a fresh attachment id.
    pub fn new(filename: &str, content_type: &str, bytes: Bytes) -> Self {
        Self {
            id: time::discord_snowflake(),
            filename: filename.to_owned(),
            content_type: content_type.to_owned(),
            bytes,
        }
    }
}

/// A stored file and where it is served.
#[derive(Debug, Clone)]
pub(super) struct Served {
    pub channel_id: String,
    pub file: DiscordFile,
    pub token: String,
}

/// What a multipart Create Message carried: the JSON, and the files by their `n`.
pub(super) struct MultipartMessage {
    pub payload: Bytes,
    pub files: Vec<DiscordFile>,
}

fn form_error(path: &str, code: &'static str, message: &str) -> Refusal {
    Refusal::Form(FieldError {
        path: path.into(),
        code,
        message: message.into(),
    })
}

/// Reads `payload_json` and `files[n]` parts; any other part, a repeated one, a file without a
/// name or over `size_limit`, is refused (the last with 413, code 40005).
pub(super) async fn read_multipart(
    mut form: Multipart,
    size_limit: u64,
) -> Result<MultipartMessage, Response> {
    let malformed = |e: axum::extract::multipart::MultipartError| {
        super::error(
            StatusCode::BAD_REQUEST,
            super::INVALID_FORM_BODY,
            &format!("Invalid Form Body: {e}"),
        )
    };
    let mut payload = None;
    let mut files: Vec<(usize, DiscordFile)> = Vec::new();
    while let Some(field) = form.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "payload_json" {
            let value = field.bytes().await.map_err(malformed)?;
            if payload.replace(value).is_some() {
                return Err(form_error("payload_json", "DUPLICATE", "Given twice").into_response());
            }
            continue;
        }
        let index = name
            .strip_prefix("files[")
            .and_then(|rest| rest.strip_suffix(']'))
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n < flex_bridge::discord::media::MAX_FILES)
            .ok_or_else(|| {
                form_error(
                    &name,
                    "UNKNOWN_FIELD",
                    "Not payload_json or files[0] to files[9]",
                )
                .into_response()
            })?;
        let filename = field
            .file_name()
            .map(str::to_owned)
            .filter(|f| !f.is_empty())
            .ok_or_else(|| {
                form_error(&name, "BASE_TYPE_REQUIRED", "A file needs a filename").into_response()
            })?;
        let content_type = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_owned();
        let bytes = field.bytes().await.map_err(malformed)?;
        if bytes.len() as u64 > size_limit {
            return Err(super::error(
                StatusCode::PAYLOAD_TOO_LARGE,
                ENTITY_TOO_LARGE,
                "Request entity too large",
            ));
        }
        if files.iter().any(|(n, _)| *n == index) {
            return Err(form_error(&name, "DUPLICATE", "Given twice").into_response());
        }
        files.push((index, DiscordFile::new(&filename, &content_type, bytes)));
    }
    let payload = payload.ok_or_else(|| {
        form_error(
            "payload_json",
            "BASE_TYPE_REQUIRED",
            "This field is required",
        )
        .into_response()
    })?;
    files.sort_by_key(|(n, _)| *n);
    // Each attachment of the payload names a part by its `n`, and may rename it.
    let attachments = serde_json::from_slice::<Value>(&payload)
        .ok()
        .and_then(|v| v.get("attachments").cloned())
        .and_then(|a| a.as_array().cloned())
        .unwrap_or_default();
    for (i, attachment) in attachments.iter().enumerate() {
        let path = format!("attachments.{i}");
        let object = attachment.as_object().ok_or_else(|| {
            form_error(&path, "MODEL_TYPE_CONVERT", "Must be an object").into_response()
        })?;
        if let Some(key) = object
            .keys()
            .find(|k| !ATTACHMENT_FIELDS.contains(&k.as_str()))
        {
            return Err(
                form_error(&format!("{path}.{key}"), "UNKNOWN_FIELD", "Unknown field")
                    .into_response(),
            );
        }
        let id = match object.get("id") {
            Some(Value::String(s)) => s.parse::<usize>().ok(),
            Some(Value::Number(n)) => n.as_u64().map(|n| n as usize),
            _ => None,
        };
        let file = id
            .and_then(|id| files.iter_mut().find(|(n, _)| *n == id))
            .ok_or_else(|| {
                form_error(
                    &format!("{path}.id"),
                    "ATTACHMENT_NOT_FOUND",
                    "No files[n] with this id",
                )
                .into_response()
            })?;
        if let Some(name) = object.get("filename") {
            match name.as_str() {
                Some(n)
                    if (1..=flex_bridge::discord::media::MAX_FILENAME)
                        .contains(&n.chars().count()) =>
                {
                    file.1.filename = n.to_owned()
                }
                _ => {
                    return Err(form_error(
                        &format!("{path}.filename"),
                        "BASE_TYPE_BAD_LENGTH",
                        "Must be between 1 and 1024 in length.",
                    )
                    .into_response())
                }
            }
        }
    }
    Ok(MultipartMessage {
        payload,
        files: files.into_iter().map(|(_, f)| f).collect(),
    })
}

impl Store {
    /// Keeps `file` on the CDN under `channel_id`; returns its `AttachmentResponse`.
    pub(super) fn serve_file(&mut self, channel_id: &str, file: DiscordFile) -> Value {
        let served = Served {
            channel_id: channel_id.to_owned(),
            token: uuid::Uuid::new_v4().simple().to_string(),
            file,
        };
        let value = self.attachment_json(&served);
        self.files.insert(served.file.id.clone(), served);
        value
    }

    /// `AttachmentResponse` (openapi.json): `id`, `filename`, `size`, `url`, `proxy_url`,
    /// `content_type`.
    pub(super) fn attachment_json(&self, served: &Served) -> Value {
        let url = format!(
            "{}{CDN_PREFIX}/{}/{}/{}?ex={:x}&is={:x}&hm={}",
            self.base_url,
            served.channel_id,
            served.file.id,
            served.file.filename,
            time::now_secs() + 86_400,
            time::now_secs(),
            served.token
        );
        json!({
            "id": served.file.id,
            "filename": served.file.filename,
            "size": served.file.bytes.len(),
            "url": url,
            "proxy_url": url,
            "content_type": served.file.content_type,
        })
    }
}

#[derive(Deserialize)]
pub(super) struct CdnQuery {
    hm: String,
}

/// `GET /attachments/{channel_id}/{attachment_id}/{filename}?ex=&is=&hm=`: the file, for the
/// signed URL only.
pub(super) async fn cdn(
    State(sandbox): State<Sandbox>,
    Path((channel_id, attachment_id, filename)): Path<(String, String, String)>,
    Query(query): Query<CdnQuery>,
) -> Response {
    let store = sandbox.discord_store();
    match store.files.get(&attachment_id) {
        Some(s)
            if s.channel_id == channel_id && s.file.filename == filename && s.token == query.hm =>
        {
            (
                [(header::CONTENT_TYPE, s.file.content_type.clone())],
                s.file.bytes.clone(),
            )
                .into_response()
        }
        _ => (
            StatusCode::NOT_FOUND,
            "This content is no longer available.",
        )
            .into_response(),
    }
}
