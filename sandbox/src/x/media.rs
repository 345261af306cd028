//! X media: the chunked upload a DM attachment takes (`POST /2/media/upload/initialize`,
//! `/2/media/upload/{id}/append`, `/2/media/upload/{id}/finalize`, `GET /2/media/upload` STATUS),
//! OAuth 1.0a checked and bodies checked against the spec's schemas
//! (`InitializeMediaUploadRequest`, `AppendMediaUploadRequest`), and the customer's media: files a
//! sandbox customer attached to a DM, served to a signed request at the Account Activity
//! `media_url_https` path (`/1.1/ton/data/dm/{dm_id}/{media_id}/{resource}`) and at
//! `GET /2/dm_conversations/media/{dm_id}/{media_id}/{resource_id}`.
//!
//! The spec lists only OAuth 2.0 user context for the v2 download; the sandbox takes the
//! brand's OAuth 1.0a there too (what X does with it could not be checked).

use std::collections::{BTreeMap, HashMap};

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{check_oauth, invalid, is_numeric_id, json_object_body, problem};
use crate::{time, Sandbox};

/// `InitializeMediaUploadRequest`'s properties and enums (openapi.json).
const INITIALIZE_FIELDS: &[&str] = &[
    "additional_owners",
    "media_category",
    "media_type",
    "shared",
    "total_bytes",
];
const MEDIA_CATEGORIES: &[&str] = &[
    "amplify_video",
    "tweet_gif",
    "tweet_image",
    "tweet_video",
    "dm_gif",
    "dm_image",
    "dm_video",
    "subtitles",
];
const MEDIA_TYPES: &[&str] = &[
    "video/mp4",
    "video/webm",
    "video/mp2t",
    "video/quicktime",
    "text/srt",
    "text/vtt",
    "image/jpeg",
    "image/gif",
    "image/bmp",
    "image/png",
    "image/webp",
    "image/pjpeg",
    "image/tiff",
    "model/gltf-binary",
    "model/vnd.usdz+zip",
];
/// `total_bytes` maximum (openapi.json).
const MAX_TOTAL_BYTES: u64 = 17_179_869_184;
/// One APPEND's chunk: at most 5 MB (v1.1 APPEND reference).
pub const MAX_APPEND_BYTES: usize = 5 * 1024 * 1024;
/// `segment_index` 0..=999 (`AppendMediaUploadRequest`).
const MAX_SEGMENT_INDEX: u64 = 999;
/// How long an upload session lasts (the sandbox's figure, as `expires_after_secs`).
const SESSION_SECS: u64 = 86_400;

#[derive(Debug, Clone)]
struct Upload {
    media_type: String,
    category: String,
    total_bytes: u64,
    segments: BTreeMap<u64, Bytes>,
    finalized: bool,
}

/// A file X holds: one the brand uploaded, or one a customer attached to a DM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct XMediaView {
    pub media_id: String,
    pub content_type: String,
    #[serde(skip)]
    pub bytes: Bytes,
}

#[derive(Default)]
pub(crate) struct MediaStore {
    uploads: HashMap<String, Upload>,
    /// Finalised uploads by media id.
    uploaded: HashMap<String, XMediaView>,
    /// Customers' attachments by (DM event id, media id): the resource name and the file.
    customer: HashMap<(String, String), (String, XMediaView)>,
}

impl MediaStore {
    /// A finalised upload a DM may attach.
    pub(super) fn uploaded(&self, media_id: &str) -> Option<XMediaView> {
        self.uploaded.get(media_id).cloned()
    }
}

fn media_key(category: &str, id: &str) -> String {
    // X's media keys: 3_ photos, 7_ videos, 16_ animated GIFs.
    let prefix = match category {
        c if c.ends_with("gif") => 16,
        c if c.ends_with("video") => 7,
        _ => 3,
    };
    format!("{prefix}_{id}")
}

/// `POST /2/media/upload/initialize`
#[allow(clippy::result_large_err)]
pub(super) async fn initialize(
    State(sandbox): State<Sandbox>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = check_oauth(&sandbox, &method, &uri, &headers) {
        return response;
    }
    let object = match json_object_body(&headers, &body) {
        Ok(object) => object,
        Err(detail) => return invalid(detail),
    };
    if let Some(key) = object
        .keys()
        .find(|k| !INITIALIZE_FIELDS.contains(&k.as_str()))
    {
        return invalid(format!(
            "[{key}] is not one of [{}]",
            INITIALIZE_FIELDS.join(",")
        ));
    }
    let text = |name: &str, allowed: &[&str]| -> Result<String, Response> {
        match object.get(name).and_then(Value::as_str) {
            Some(v) if allowed.contains(&v) => Ok(v.to_owned()),
            Some(v) => Err(invalid(format!(
                "$.{name}: {v:?} is not one of the allowed values"
            ))),
            None => Err(invalid(format!("$.{name} is required"))),
        }
    };
    let (category, media_type) = match (
        text("media_category", MEDIA_CATEGORIES),
        text("media_type", MEDIA_TYPES),
    ) {
        (Ok(c), Ok(t)) => (c, t),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let total_bytes = match object.get("total_bytes").and_then(Value::as_u64) {
        Some(n) if (1..=MAX_TOTAL_BYTES).contains(&n) => n,
        _ => return invalid("$.total_bytes: an integer from 1 to 17179869184 is required"),
    };
    if let Some(max) = dm_limit(&category) {
        if total_bytes > max {
            return invalid(format!(
                "$.total_bytes: {total_bytes} is over the {max} bytes {category} takes"
            ));
        }
    }
    let id = time::snowflake();
    sandbox.x_store().media.uploads.insert(
        id.clone(),
        Upload {
            media_type,
            category: category.clone(),
            total_bytes,
            segments: BTreeMap::new(),
            finalized: false,
        },
    );
    Json(json!({"data": {"id": id, "media_key": media_key(&category, &id), "expires_after_secs": SESSION_SECS}}))
        .into_response()
}

/// X's limits of the DM categories (docs.x.com/x-api/media; `flex_bridge::x::media`).
fn dm_limit(category: &str) -> Option<u64> {
    use flex_bridge::x::media::DmMediaCategory::*;
    [Image, Gif, Video]
        .into_iter()
        .find(|c| c.as_str() == category)
        .map(|c| c.max_bytes())
}

/// The upload session `id`, if it exists and is still open (else the handler's answer).
#[allow(clippy::result_large_err)]
fn open_upload(sandbox: &Sandbox, id: &str) -> Result<Upload, Response> {
    match sandbox.x_store().media.uploads.get(id) {
        Some(upload) if !upload.finalized => Ok(upload.clone()),
        Some(_) => Err(invalid(format!("Upload {id} is already finalized"))),
        None => Err(not_found(id)),
    }
}

fn not_found(id: &str) -> Response {
    problem(
        StatusCode::NOT_FOUND,
        json!({"title": "Not Found Error", "detail": format!("Could not find media upload with id: [{id}]."),
               "type": "https://api.x.com/2/problems/resource-not-found", "resource_type": "media",
               "resource_id": id, "status": 404}),
    )
}

/// `POST /2/media/upload/{id}/append`: `media` (raw in multipart, base64 in JSON) and
/// `segment_index`, nothing else.
pub(super) async fn append(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let (method, uri, headers) = (
        request.method().clone(),
        request.uri().clone(),
        request.headers().clone(),
    );
    if let Err(response) = check_oauth(&sandbox, &method, &uri, &headers) {
        return response;
    }
    if !is_numeric_id(&id) {
        return invalid(format!(
            "The `id` path parameter value [{id}] does not match ^[0-9]{{1,19}}$"
        ));
    }
    if let Err(response) = open_upload(&sandbox, &id) {
        return response;
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let parsed = if content_type.starts_with("multipart/form-data") {
        append_from_multipart(request).await
    } else {
        let body = match Bytes::from_request(request, &()).await {
            Ok(body) => body,
            Err(_) => return invalid("unreadable body"),
        };
        append_from_json(&headers, &body)
    };
    let (segment, media) = match parsed {
        Ok(parsed) => parsed,
        Err(detail) => return invalid(detail),
    };
    if media.len() > MAX_APPEND_BYTES {
        return invalid(format!(
            "$.media: a chunk is at most {MAX_APPEND_BYTES} bytes"
        ));
    }
    let mut store = sandbox.x_store();
    let Some(upload) = store.media.uploads.get_mut(&id) else {
        return not_found(&id);
    };
    upload.segments.insert(segment, media);
    Json(json!({"data": {"expires_at": time::now_secs() + SESSION_SECS}})).into_response()
}

async fn append_from_multipart(request: Request) -> Result<(u64, Bytes), String> {
    let mut form = Multipart::from_request(request, &())
        .await
        .map_err(|e| format!("malformed multipart body: {e}"))?;
    let (mut segment, mut media) = (None, None);
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| format!("malformed multipart body: {e}"))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let value = field
            .bytes()
            .await
            .map_err(|e| format!("malformed multipart part: {e}"))?;
        let slot = match name.as_str() {
            "segment_index" => &mut segment,
            "media" => &mut media,
            other => return Err(format!("[{other}] is not one of [media,segment_index]")),
        };
        if slot.replace(value).is_some() {
            return Err(format!("$.{name} given twice"));
        }
    }
    let segment = segment.ok_or("$.segment_index is required")?;
    let segment = std::str::from_utf8(&segment)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|n| *n <= MAX_SEGMENT_INDEX)
        .ok_or("$.segment_index: an integer from 0 to 999 is required")?;
    Ok((segment, media.ok_or("$.media is required")?))
}

fn append_from_json(headers: &HeaderMap, body: &[u8]) -> Result<(u64, Bytes), String> {
    let object = json_object_body(headers, body)?;
    if let Some(key) = object
        .keys()
        .find(|k| !["media", "segment_index"].contains(&k.as_str()))
    {
        return Err(format!("[{key}] is not one of [media,segment_index]"));
    }
    let segment = object
        .get("segment_index")
        .and_then(Value::as_u64)
        .filter(|n| *n <= MAX_SEGMENT_INDEX)
        .ok_or("$.segment_index: an integer from 0 to 999 is required")?;
    let media = object
        .get("media")
        .and_then(Value::as_str)
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .ok_or("$.media: base64 bytes are required")?;
    Ok((segment, Bytes::from(media)))
}

/// `POST /2/media/upload/{id}/finalize`: the segments, 0 to n without a gap, must add up to
/// `total_bytes`. A video is then "processed": its first status is `pending`.
pub(super) async fn finalize(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = check_oauth(&sandbox, &method, &uri, &headers) {
        return response;
    }
    let upload = match open_upload(&sandbox, &id) {
        Ok(upload) => upload,
        Err(response) => return response,
    };
    let contiguous = upload
        .segments
        .keys()
        .copied()
        .eq(0..upload.segments.len() as u64);
    let size: u64 = upload.segments.values().map(|b| b.len() as u64).sum();
    if !contiguous || size != upload.total_bytes {
        return invalid(format!(
            "File size {size} (segments {:?}) does not match total_bytes {}",
            upload.segments.keys().collect::<Vec<_>>(),
            upload.total_bytes
        ));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    for segment in upload.segments.values() {
        bytes.extend_from_slice(segment);
    }
    let view = XMediaView {
        media_id: id.clone(),
        content_type: upload.media_type.clone(),
        bytes: Bytes::from(bytes),
    };
    {
        let mut store = sandbox.x_store();
        store.media.uploaded.insert(id.clone(), view);
        if let Some(open) = store.media.uploads.get_mut(&id) {
            open.finalized = true;
        }
    }
    let mut data = json!({
        "id": id,
        "media_key": media_key(&upload.category, &id),
        "size": size,
        "expires_after_secs": SESSION_SECS,
    });
    if upload.category.ends_with("video") {
        data["processing_info"] = json!({"state": "pending", "check_after_secs": 1});
    } else {
        data["image"] = json!({"image_type": upload.media_type, "w": 1, "h": 1});
    }
    Json(json!({ "data": data })).into_response()
}

#[derive(Deserialize)]
pub(super) struct StatusQuery {
    media_id: String,
    #[serde(default)]
    command: Option<String>,
}

/// `GET /2/media/upload?media_id=&command=STATUS`: processing is done by the first look.
pub(super) async fn status(
    State(sandbox): State<Sandbox>,
    Query(query): Query<StatusQuery>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = check_oauth(&sandbox, &method, &uri, &headers) {
        return response;
    }
    if query.command.as_deref().is_some_and(|c| c != "STATUS") {
        return invalid("$.command: must be STATUS");
    }
    let Some(view) = sandbox.x_store().media.uploaded(&query.media_id) else {
        return not_found(&query.media_id);
    };
    Json(
        json!({"data": {"id": view.media_id, "size": view.bytes.len(),
        "processing_info": {"state": "succeeded", "progress_percent": 100}}}),
    )
    .into_response()
}

/// A customer's attachment, to a signed request (Account Activity's `media_url_https`).
pub(super) async fn ton_media(
    State(sandbox): State<Sandbox>,
    Path((dm_id, media_id, resource)): Path<(String, String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    customer_media(
        &sandbox, &method, &uri, &headers, &dm_id, &media_id, &resource,
    )
}

/// `GET /2/dm_conversations/media/{dm_id}/{media_id}/{resource_id}`
pub(super) async fn v2_media(
    State(sandbox): State<Sandbox>,
    Path((dm_id, media_id, resource)): Path<(String, String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    customer_media(
        &sandbox, &method, &uri, &headers, &dm_id, &media_id, &resource,
    )
}

fn customer_media(
    sandbox: &Sandbox,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    dm_id: &str,
    media_id: &str,
    resource: &str,
) -> Response {
    if let Err(response) = check_oauth(sandbox, method, uri, headers) {
        return response;
    }
    let store = sandbox.x_store();
    match store
        .media
        .customer
        .get(&(dm_id.to_owned(), media_id.to_owned()))
    {
        Some((name, view)) if name == resource => (
            [(header::CONTENT_TYPE, view.content_type.clone())],
            view.bytes.clone(),
        )
            .into_response(),
        _ => not_found(media_id),
    }
}

impl Sandbox {
    /// A file the brand uploaded and finalised, by media id.
    pub fn x_uploaded_media(&self, media_id: &str) -> Option<XMediaView> {
        self.x_store().media.uploaded(media_id)
    }

    /// Records a customer's attachment to DM `dm_id` and returns its `media` object, as the
    /// Account Activity payload gives it: `media_url_https` on the sandbox's ton path, a t.co
    /// `url`, and `type` photo, animated_gif or video (with `video_info.variants`).
    pub(super) fn attach_customer_media(
        &self,
        dm_id: &str,
        filename: &str,
        content_type: &str,
        bytes: Bytes,
    ) -> Value {
        let media_id = time::snowflake();
        let extension = filename.rsplit_once('.').map_or("bin", |(_, e)| e);
        let resource = format!(
            "{}.{extension}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let url = format!(
            "{}/1.1/ton/data/dm/{dm_id}/{media_id}/{resource}",
            self.url()
        );
        let kind = match content_type {
            "image/gif" => "animated_gif",
            t if t.starts_with("video/") => "video",
            _ => "photo",
        };
        self.x_store().media.customer.insert(
            (dm_id.to_owned(), media_id.clone()),
            (
                resource,
                XMediaView {
                    media_id: media_id.clone(),
                    content_type: content_type.to_owned(),
                    bytes,
                },
            ),
        );
        let short = format!(
            "https://t.co/{}",
            &uuid::Uuid::new_v4().simple().to_string()[..10]
        );
        let mut media = json!({
            "id": media_id.parse::<u64>().unwrap_or(0),
            "id_str": media_id,
            "media_url": url,
            "media_url_https": url,
            "url": short,
            "display_url": format!("pic.twitter.com/{}", &short[13..]),
            "expanded_url": format!("https://twitter.com/messages/media/{dm_id}"),
            "type": kind,
            "sizes": {"large": {"w": 1, "h": 1, "resize": "fit"}},
        });
        if kind != "photo" {
            media["video_info"] = json!({"variants": [
                {"bitrate": 832_000, "content_type": content_type, "url": url},
            ]});
        }
        media
    }
}
