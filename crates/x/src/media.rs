//! Files in X DMs: reading a customer's attachment with the brand's OAuth 1.0a credentials, and
//! sending an agent's file as a DM attachment (chunked upload, then a DM naming the media).
//!
//! What this relies on, and where it comes from:
//! - X's OpenAPI spec (`shared/specs/twitter/openapi.json`, v2.167):
//!   `POST /2/media/upload/initialize` (JSON `InitializeMediaUploadRequest`: `media_category`
//!   with `dm_image`, `dm_gif`, `dm_video`; `media_type`; `total_bytes`; no other keys), answering
//!   `data.id`; `POST /2/media/upload/{id}/append` (`AppendMediaUploadRequest`, multipart:
//!   `media` binary and `segment_index` 0..=999); `POST /2/media/upload/{id}/finalize`
//!   (`data.id`, `size`, `processing_info`); `GET /2/media/upload?media_id=&command=STATUS`; all
//!   of them in OAuth 1.0a user context (`UserToken`). The DM create body
//!   (`CreateDirectMessagesByParticipantIdRequest`) takes `attachments: [{"media_id"}]` beside
//!   or instead of `text`.
//! - The spec's `GET /2/dm_conversations/media/{dm_id}/{media_id}/{resource_id}` ("Downloads media
//!   attached to a legacy Direct Message", raw bytes) lists only OAuth 2.0 user context
//!   (`dm.read`); [`XMediaClient::download_dm_media_by_ids`] signs it with OAuth 1.0a, which X
//!   may refuse: not confirmed.
//! - docs.x.com/x-api/media (introduction): uploads are limited to 5 MB for images, 15 MB for
//!   GIFs and 512 MB for video; the DM categories' own video limit is not stated apart, so 512 MB
//!   is taken as the ceiling ([`DmMediaCategory::max_bytes`], in decimal megabytes so as never to
//!   go over). The v1.1 APPEND reference: a chunk is at most 5 MB.
//! - The Account Activity payload's attachment (`message_data.attachment.media`, the legacy
//!   Message Create Object, `fixtures/x/aaa-v2-dm-inbound-media-quickreply.json`):
//!   `media_url_https` on `ton.twitter.com`, which X serves only to a signed request of a DM
//!   participant; videos and GIFs add `video_info.variants`.
//! - X's docs say one attachment per DM: [`XMediaClient::send_media_dm`] sends exactly one.

use std::future::Future;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::retry::{HttpError, RetryPolicy};
use crate::{budget, SentDm, XApiConfig, XAuth, XClient};

const SERVICE: &str = "x";

/// One APPEND's chunk: 2 MiB, under X's 5 MB, so a 512 MB video takes 245 of the 1,000
/// segments allowed, and an upload holds at most one chunk (plus what the source has read
/// ahead) in memory.
pub const APPEND_CHUNK_BYTES: usize = 2 * 1024 * 1024;
/// `segment_index` maximum (`AppendMediaUploadRequest`).
pub const MAX_SEGMENT_INDEX: u32 = 999;
/// The longest wait for X to process an upload (videos) before the caller's queue takes over.
pub const MAX_PROCESSING_WAIT: Duration = Duration::from_secs(60);

/// Hosts X serves DM media from (the legacy docs and the Account Activity samples): the brand's
/// credentials are signed only for these, or for the configured API host (the sandbox).
pub const DM_MEDIA_HOSTS: [&str; 2] = ["https://ton.twitter.com/", "https://video.twimg.com/"];

/// The DM media categories of `InitializeMediaUploadRequest.media_category`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DmMediaCategory {
    Image,
    Gif,
    Video,
}

impl DmMediaCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "dm_image",
            Self::Gif => "dm_gif",
            Self::Video => "dm_video",
        }
    }

    /// The category a file of `content_type` is uploaded as, if X takes it in a DM: the
    /// `media_type` values of the spec's enum that are images, GIFs or video.
    pub fn for_content_type(content_type: &str) -> Option<Self> {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "image/gif" => Some(Self::Gif),
            "image/jpeg" | "image/pjpeg" | "image/png" | "image/webp" | "image/bmp"
            | "image/tiff" => Some(Self::Image),
            "video/mp4" | "video/webm" | "video/mp2t" | "video/quicktime" => Some(Self::Video),
            _ => None,
        }
    }

    /// X's upload limit for the category (docs.x.com/x-api/media): 5 MB, 15 MB, 512 MB.
    pub fn max_bytes(self) -> u64 {
        match self {
            Self::Image => 5_000_000,
            Self::Gif => 15_000_000,
            Self::Video => 512_000_000,
        }
    }
}

/// Why a file did not get to X, or from it.
#[derive(Debug, thiserror::Error)]
pub enum XMediaError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("X takes no {0:?} in a DM")]
    UnsupportedType(String),
    #[error("{size} bytes is over X's {max} for {category}")]
    TooLarge {
        category: &'static str,
        size: u64,
        max: u64,
    },
    /// The file being passed through could not be read (the other platform's download broke).
    #[error("the file could not be read: {0}")]
    Source(String),
    #[error("X could not process the upload: {0}")]
    Processing(String),
}

impl XMediaError {
    /// Worth trying again later: X or the source failed on the way, not the file itself.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Http(err) => err.is_transient(),
            Self::Source(_) => true,
            Self::UnsupportedType(_) | Self::TooLarge { .. } | Self::Processing(_) => false,
        }
    }
}

/// Where an upload's bytes come from, a chunk at a time, so a file passes through without being
/// held whole: another platform's download, or bytes already in memory.
pub trait ChunkSource: Send {
    /// The next chunk; `None` at the end.
    fn next_chunk(&mut self) -> impl Future<Output = Result<Option<Bytes>, String>> + Send;
}

impl ChunkSource for reqwest::Response {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, String> {
        self.chunk()
            .await
            .map_err(|err| err.without_url().to_string())
    }
}

/// Bytes in memory as a [`ChunkSource`] (handed out once, shared not copied).
#[derive(Debug)]
pub struct InMemory(Option<Bytes>);

impl InMemory {
    pub fn new(bytes: Bytes) -> Self {
        Self(Some(bytes))
    }
}

impl ChunkSource for InMemory {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, String> {
        Ok(self.0.take().filter(|b| !b.is_empty()))
    }
}

/// An upload X has finalised: `media_id` goes into a DM's `attachments`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadedMedia {
    pub media_id: String,
    pub media_key: Option<String>,
    pub size: Option<u64>,
    pub category: DmMediaCategory,
}

/// A DM attachment's content on its way in: headers read, body still streaming.
#[derive(Debug)]
pub struct DmMediaContent {
    pub content_type: Option<String>,
    pub content_length: Option<u64>,
    pub response: reqwest::Response,
}

impl ChunkSource for DmMediaContent {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, String> {
        self.response.next_chunk().await
    }
}

/// A customer's attachment as the webhook describes it (`message_data.attachment.media`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct DmAttachmentMedia {
    pub id_str: String,
    /// `photo`, `animated_gif` or `video`.
    #[serde(rename = "type", default)]
    pub kind: String,
    pub media_url_https: String,
    #[serde(default)]
    pub video_info: Option<VideoInfo>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct VideoInfo {
    #[serde(default)]
    pub variants: Vec<VideoVariant>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct VideoVariant {
    #[serde(default)]
    pub bitrate: Option<u64>,
    pub content_type: String,
    pub url: String,
}

impl DmAttachmentMedia {
    /// The file itself: a photo's `media_url_https`; for a video or GIF, its MP4 of the
    /// highest bitrate (`media_url_https` is then only a still).
    pub fn download_url(&self) -> &str {
        self.video_info
            .iter()
            .flat_map(|info| &info.variants)
            .filter(|v| v.content_type == "video/mp4")
            .max_by_key(|v| v.bitrate.unwrap_or(0))
            .map_or(self.media_url_https.as_str(), |v| v.url.as_str())
    }

    /// `(dm_id, media_id, resource_id)` for the v2 download path, read from a
    /// `…/1.1/ton/data/dm/{dm_id}/{media_id}/{resource}` URL. The mapping of the ton URL's last
    /// segment to `resource_id` is inferred from the two paths' shapes, not documented.
    pub fn v2_ids(&self) -> Option<(&str, &str, &str)> {
        let (_, rest) = self.media_url_https.split_once("/ton/data/dm/")?;
        let mut parts = rest.split('/');
        let ids = (parts.next()?, parts.next()?, parts.next()?);
        parts.next().is_none().then_some(ids)
    }
}

/// Every customer attachment in a webhook body, with its DM event id: Account Activity
/// (`direct_message_events`) and X Activity API deliveries (`data`, one event or a list, each
/// with `payload.direct_message_events`). Events without media, and bodies of other kinds,
/// give nothing.
pub fn dm_attachments(body: &[u8]) -> Vec<(String, DmAttachmentMedia)> {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let activity_events = match value.get("data") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(item) => vec![item],
        None => Vec::new(),
    };
    std::iter::once(&value)
        .chain(activity_events.into_iter().filter_map(|e| e.get("payload")))
        .filter_map(|holder| holder.get("direct_message_events")?.as_array())
        .flatten()
        .filter_map(|event| {
            let id = event.get("id")?.as_str()?.to_owned();
            let media = event
                .pointer("/message_create/message_data/attachment/media")?
                .clone();
            Some((id, serde_json::from_value(media).ok()?))
        })
        .collect()
}

/// The X media calls, in the brand's OAuth 1.0a user context.
#[derive(Clone, Debug)]
pub struct XMediaClient {
    http: reqwest::Client,
    config: XApiConfig,
    retry: RetryPolicy,
    /// For the JSON calls (initialize, finalize, status), signed and retried as every X call.
    json: XClient,
}

#[derive(Deserialize)]
struct Data<T> {
    data: T,
}

#[derive(Deserialize)]
struct Initialized {
    id: String,
}

#[derive(Deserialize)]
struct Finalized {
    id: String,
    #[serde(default)]
    media_key: Option<String>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    processing_info: Option<ProcessingInfo>,
}

#[derive(Deserialize)]
struct ProcessingInfo {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    check_after_secs: Option<u64>,
}

#[derive(Deserialize)]
struct SentMediaDm {
    dm_event_id: String,
}

impl XMediaClient {
    pub fn new(http: reqwest::Client, config: XApiConfig) -> Self {
        Self {
            json: XClient::new(http.clone(), config.clone()),
            http,
            config,
            retry: RetryPolicy::default(),
        }
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.json = self.json.with_retry(retry);
        self.retry = retry;
        self
    }

    /// A fresh `Authorization: OAuth …` for one attempt (X refuses a replayed nonce). The query
    /// is signed; a JSON or multipart body is not (RFC 5849 §3.4.1.3 signs only form bodies).
    fn authorization(&self, method: &str, url: &str, query: &[(String, String)]) -> String {
        let token = oauth1_request::Token::from_parts(
            self.config.consumer_key.as_str(),
            self.config.consumer_secret.expose(),
            self.config.access_token.as_str(),
            self.config.access_token_secret.expose(),
        );
        oauth1_request::authorize(
            method,
            url,
            &oauth1_request::ParameterList::new(query.to_vec()),
            &token,
            oauth1_request::HMAC_SHA1,
        )
    }

    /// Uploads a file for a DM: initialize (with its DM category), append in
    /// [`APPEND_CHUNK_BYTES`] chunks read from `source`, finalize, and wait for X to process
    /// it. `total_bytes` must be the file's exact length. Each chunk is retried on its own; the
    /// source is read once.
    pub async fn upload_dm_media<S: ChunkSource>(
        &self,
        content_type: &str,
        total_bytes: u64,
        source: &mut S,
    ) -> Result<UploadedMedia, XMediaError> {
        let category = DmMediaCategory::for_content_type(content_type)
            .ok_or_else(|| XMediaError::UnsupportedType(content_type.to_owned()))?;
        if total_bytes > category.max_bytes() {
            return Err(XMediaError::TooLarge {
                category: category.as_str(),
                size: total_bytes,
                max: category.max_bytes(),
            });
        }
        if total_bytes == 0 {
            return Err(XMediaError::Source("the file is empty".into()));
        }
        let upload_id = self.initialize(content_type, total_bytes, category).await?;
        let mut buffer = BytesMut::new();
        let mut segment = 0;
        let mut sent = 0u64;
        let mut finished = false;
        while !finished {
            match source.next_chunk().await.map_err(XMediaError::Source)? {
                Some(chunk) => buffer.extend_from_slice(&chunk),
                None => finished = true,
            }
            while buffer.len() >= APPEND_CHUNK_BYTES || (finished && !buffer.is_empty()) {
                let take = buffer.len().min(APPEND_CHUNK_BYTES);
                let chunk = buffer.split_to(take).freeze();
                sent += chunk.len() as u64;
                if sent > total_bytes {
                    return Err(XMediaError::Source(format!(
                        "longer than the {total_bytes} bytes announced"
                    )));
                }
                self.append(&upload_id, segment, chunk).await?;
                segment += 1;
            }
        }
        if sent != total_bytes {
            return Err(XMediaError::Source(format!(
                "{sent} bytes, not the {total_bytes} announced"
            )));
        }
        self.finalize(&upload_id, category).await
    }

    /// `POST /2/media/upload/initialize`; returns the upload's id.
    async fn initialize(
        &self,
        content_type: &str,
        total_bytes: u64,
        category: DmMediaCategory,
    ) -> Result<String, XMediaError> {
        let body = json!({
            "media_category": category.as_str(),
            "media_type": content_type.split(';').next().unwrap_or_default().trim(),
            "total_bytes": total_bytes,
        });
        let answer = self
            .json
            .call_json(
                reqwest::Method::POST,
                "/2/media/upload/initialize",
                &[],
                Some(&body),
                XAuth::User,
            )
            .await?;
        Ok(data::<Initialized>(answer)?.id)
    }

    /// `POST /2/media/upload/{id}/append`: one chunk as the multipart `media` part with its
    /// `segment_index`, retried with the same bytes.
    async fn append(&self, upload_id: &str, segment: u32, chunk: Bytes) -> Result<(), HttpError> {
        if segment > MAX_SEGMENT_INDEX {
            return Err(HttpError::unsent(SERVICE, "more than 1,000 segments"));
        }
        let url = format!(
            "{}/2/media/upload/{}/append",
            self.config.api_url,
            numeric(upload_id)?
        );
        let length = chunk.len() as u64;
        self.retry
            .send(SERVICE, || {
                let media = reqwest::multipart::Part::stream_with_length(chunk.clone(), length)
                    .file_name("media")
                    .mime_str("application/octet-stream")
                    .expect("a valid MIME type");
                let form = reqwest::multipart::Form::new()
                    .text("segment_index", segment.to_string())
                    .part("media", media);
                self.http
                    .post(&url)
                    .header(
                        reqwest::header::AUTHORIZATION,
                        self.authorization("POST", &url, &[]),
                    )
                    .multipart(form)
            })
            .await
            .map(drop)
    }

    /// `POST /2/media/upload/{id}/finalize`, then, while X processes it (videos), the status
    /// every `check_after_secs` for at most [`MAX_PROCESSING_WAIT`].
    async fn finalize(
        &self,
        upload_id: &str,
        category: DmMediaCategory,
    ) -> Result<UploadedMedia, XMediaError> {
        let path = format!("/2/media/upload/{}/finalize", numeric(upload_id)?);
        let answer = self
            .json
            .call_json(reqwest::Method::POST, &path, &[], None, XAuth::User)
            .await?;
        let mut finalized = data::<Finalized>(answer)?;
        let mut waited = Duration::ZERO;
        loop {
            let (state, wait) = match &finalized.processing_info {
                None => break,
                Some(info) => (
                    info.state.as_deref().unwrap_or("succeeded").to_owned(),
                    Duration::from_secs(info.check_after_secs.unwrap_or(1).max(1)),
                ),
            };
            match state.as_str() {
                "succeeded" => break,
                "failed" => return Err(XMediaError::Processing(finalized.id)),
                _ if waited + wait > MAX_PROCESSING_WAIT => {
                    return Err(HttpError {
                        service: SERVICE,
                        status: None,
                        retry_after: Some(wait.as_secs()),
                        detail: "X is still processing the upload".into(),
                        unsent: false,
                    }
                    .into())
                }
                _ => {
                    tokio::time::sleep(wait).await;
                    waited += wait;
                    let status = self
                        .json
                        .call_json(
                            reqwest::Method::GET,
                            "/2/media/upload",
                            &[("media_id", finalized.id.as_str()), ("command", "STATUS")],
                            None,
                            XAuth::User,
                        )
                        .await?;
                    finalized = data(status)?;
                }
            }
        }
        Ok(UploadedMedia {
            media_id: finalized.id,
            media_key: finalized.media_key,
            size: finalized.size,
            category,
        })
    }

    /// Sends one DM carrying `media_id` (and `text`, if any) to `participant_id`:
    /// `POST /2/dm_conversations/with/{participant_id}/messages` with
    /// `attachments: [{"media_id"}]`. Reports the DM budget from X's headers like a text DM.
    pub async fn send_media_dm(
        &self,
        participant_id: &str,
        text: Option<&str>,
        media_id: &str,
    ) -> Result<SentDm, HttpError> {
        let url = format!(
            "{}/2/dm_conversations/with/{}/messages",
            self.config.api_url,
            numeric(participant_id)?
        );
        let mut body = json!({ "attachments": [{ "media_id": numeric(media_id)? }] });
        if let Some(text) = text.filter(|t| !t.is_empty()) {
            body["text"] = json!(text);
        }
        let response = self
            .retry
            .send(SERVICE, || {
                self.http
                    .post(&url)
                    .header(
                        reqwest::header::AUTHORIZATION,
                        self.authorization("POST", &url, &[]),
                    )
                    .json(&body)
            })
            .await?;
        let status = response.status();
        let budget =
            budget::DmBudget::from_headers(response.headers(), flex_bridge_core::now_millis());
        let sent: Data<SentMediaDm> = response
            .json()
            .await
            .map_err(|err| unexpected(status, &err.without_url().to_string()))?;
        Ok(SentDm {
            dm_event_id: sent.data.dm_event_id,
            budget,
        })
    }

    /// A customer's attachment from the URL the webhook gave (`media_url_https`, or a video's
    /// variant: [`DmAttachmentMedia::download_url`]), signed with the brand's credentials. Only
    /// X's DM media hosts ([`DM_MEDIA_HOSTS`]) and the configured API host are signed for.
    pub async fn download_dm_media(&self, media_url: &str) -> Result<DmMediaContent, HttpError> {
        let allowed = DM_MEDIA_HOSTS
            .iter()
            .any(|host| media_url.starts_with(host))
            || media_url.starts_with(&format!("{}/", self.config.api_url));
        if !allowed {
            return Err(HttpError::unsent(
                SERVICE,
                "not an X DM media URL: the brand's credentials are not signed for it",
            ));
        }
        self.get_media(media_url).await
    }

    /// `GET /2/dm_conversations/media/{dm_id}/{media_id}/{resource_id}` (raw bytes), signed with
    /// OAuth 1.0a. The spec lists OAuth 2.0 user context for it: see the module documentation.
    pub async fn download_dm_media_by_ids(
        &self,
        dm_id: &str,
        media_id: &str,
        resource_id: &str,
    ) -> Result<DmMediaContent, HttpError> {
        let plain = |s: &str| {
            !s.is_empty()
                && !s.chars().all(|c| c == '.')
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        };
        if ![dm_id, media_id, resource_id].into_iter().all(plain) {
            return Err(HttpError::unsent(SERVICE, "a malformed DM media id"));
        }
        let url = format!(
            "{}/2/dm_conversations/media/{dm_id}/{media_id}/{resource_id}",
            self.config.api_url
        );
        self.get_media(&url).await
    }

    async fn get_media(&self, url: &str) -> Result<DmMediaContent, HttpError> {
        let (base, query) = match url.split_once('?') {
            Some((base, query)) => (
                base,
                serde_urlencoded::from_str::<Vec<(String, String)>>(query)
                    .map_err(|_| HttpError::unsent(SERVICE, "a malformed media URL query"))?,
            ),
            None => (url, Vec::new()),
        };
        let response = self
            .retry
            .send(SERVICE, || {
                self.http.get(url).header(
                    reqwest::header::AUTHORIZATION,
                    self.authorization("GET", base, &query),
                )
            })
            .await?;
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(DmMediaContent {
            content_type,
            content_length: response.content_length(),
            response,
        })
    }
}

/// An id X writes `^[0-9]{1,19}$`; anything else never reaches a URL or a body.
fn numeric(id: &str) -> Result<&str, HttpError> {
    if (1..=19).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(id)
    } else {
        Err(HttpError::unsent(SERVICE, "not a numeric X id"))
    }
}

fn unexpected(status: reqwest::StatusCode, why: &str) -> HttpError {
    HttpError {
        service: SERVICE,
        status: Some(status),
        retry_after: None,
        detail: format!("unexpected response body: {why}"),
        unsent: false,
    }
}

/// `{"data": T}` out of a JSON answer.
fn data<T: for<'de> Deserialize<'de>>(answer: Value) -> Result<T, HttpError> {
    serde_json::from_value::<Data<T>>(answer)
        .map(|d| d.data)
        .map_err(|err| unexpected(reqwest::StatusCode::OK, &err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dm_categories_follow_the_content_type() {
        use DmMediaCategory::*;
        assert_eq!(DmMediaCategory::for_content_type("image/png"), Some(Image));
        assert_eq!(
            DmMediaCategory::for_content_type("IMAGE/JPEG; charset=binary"),
            Some(Image)
        );
        assert_eq!(DmMediaCategory::for_content_type("image/gif"), Some(Gif));
        assert_eq!(DmMediaCategory::for_content_type("video/mp4"), Some(Video));
        for refused in [
            "application/pdf",
            "text/plain",
            "application/x-msdownload",
            "",
        ] {
            assert_eq!(
                DmMediaCategory::for_content_type(refused),
                None,
                "{refused}"
            );
        }
        assert_eq!(Image.as_str(), "dm_image");
        assert_eq!(Gif.max_bytes(), 15_000_000);
        assert!(Image.max_bytes() < Gif.max_bytes() && Gif.max_bytes() < Video.max_bytes());
    }

    #[test]
    fn attachments_are_found_in_both_webhook_forms() {
        let aaa = include_bytes!("../../../fixtures/x/aaa-v2-dm-inbound-media-quickreply.json");
        let found = dm_attachments(aaa);
        assert_eq!(found.len(), 1);
        let (event_id, media) = &found[0];
        assert_eq!(event_id, "1953112299887766554");
        assert_eq!(media.kind, "photo");
        assert_eq!(media.id_str, "1953112288776655443");
        assert!(media.download_url().starts_with("https://ton.twitter.com/"));
        assert_eq!(
            media.v2_ids(),
            Some(("1953112299887766554", "1953112288776655443", "kP3sXbQ1.jpg"))
        );

        let aaa: Value = serde_json::from_slice(aaa).unwrap();
        let activity = json!({"data": [{"event_type": "dm.received", "payload": {
            "direct_message_events": aaa["direct_message_events"].clone()
        }}]});
        assert_eq!(dm_attachments(activity.to_string().as_bytes()), found);
        let single = json!({"data": {"payload": {"direct_message_events": aaa["direct_message_events"].clone()}}});
        assert_eq!(dm_attachments(single.to_string().as_bytes()), found);

        let text_only = include_bytes!("../../../fixtures/x/aaa-v2-dm-inbound-text.json");
        assert!(dm_attachments(text_only).is_empty());
        assert!(dm_attachments(b"not json").is_empty());
    }

    #[test]
    fn a_video_is_read_from_its_best_mp4() {
        let media: DmAttachmentMedia = serde_json::from_value(json!({
            "id_str": "1", "type": "video",
            "media_url_https": "https://ton.twitter.com/1.1/ton/data/dm/1/1/still.jpg",
            "video_info": {"variants": [
                {"bitrate": 256000, "content_type": "video/mp4", "url": "https://video.twimg.com/dm_video/1/low.mp4"},
                {"content_type": "application/x-mpegURL", "url": "https://video.twimg.com/dm_video/1/pl.m3u8"},
                {"bitrate": 832000, "content_type": "video/mp4", "url": "https://video.twimg.com/dm_video/1/high.mp4"}
            ]}
        }))
        .unwrap();
        assert_eq!(
            media.download_url(),
            "https://video.twimg.com/dm_video/1/high.mp4"
        );
    }

    #[test]
    fn only_numeric_ids_are_used() {
        assert!(numeric("1953112500000000001").is_ok());
        for bad in ["", "12a", "../1", "12345678901234567890"] {
            assert!(numeric(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn in_memory_bytes_are_handed_out_once() {
        let mut source = InMemory::new(Bytes::from_static(b"abc"));
        assert_eq!(
            source.next_chunk().await.unwrap().as_deref(),
            Some(&b"abc"[..])
        );
        assert_eq!(source.next_chunk().await.unwrap(), None);
    }
}
