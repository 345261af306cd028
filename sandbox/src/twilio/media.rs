//! Twilio's Media Content Service (MCS), as twilio.com/docs/conversations/api/media-resource
//! and media-support-conversations describe it (see `flex_bridge::twilio::media` for the facts
//! and what could not be confirmed):
//! - `POST /v1/Services/{ChatServiceSid}/Media[?Filename=]`: the raw body with its
//!   `Content-Type`, Basic auth (the Twilio routes' own check); over the size limit, error 50512
//!   (the sandbox answers it with 413, Twilio's status for it is not documented here);
//! - `GET /v1/Services/{ChatServiceSid}/Media/{MediaSid}`: the resource, whose
//!   `links.content_direct_temporary` is a link the sandbox serves without credentials for
//!   [`TEMPORARY_LINK_SECS`], as a pre-signed URL would be;
//! - a message created with `MediaSid` takes the media (once: 50508; unknown to the service:
//!   50510) and lists it in `media` (`sid`, `content_type`, `filename`, `size`), and its
//!   `onMessageAdded` carries `Media`, a JSON array of `{Sid, Filename, ContentType, Size,
//!   Category}`.

use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::spec::{Form, TwilioError};
use super::{Store, CHAT_SERVICE_SID};
use crate::{time, Sandbox};

/// How long the sandbox's temporary content links work (the sandbox's choice: Twilio documents
/// the links as time-limited without a figure here).
pub const TEMPORARY_LINK_SECS: u64 = 300;

/// Where temporary links point: outside `/v1`, so no Basic auth is asked.
pub(crate) const TEMPORARY_PATH: &str = "/mcs-temporary";

/// Query parameters of the upload.
const UPLOAD_QUERY: &[&str] = &["Filename"];

/// A file in MCS.
#[derive(Debug, Clone)]
pub(crate) struct StoredMedia {
    pub sid: String,
    pub content_type: String,
    pub filename: Option<String>,
    pub bytes: Bytes,
    pub date_created: String,
    /// Set when a message takes it.
    pub message_sid: Option<String>,
    pub channel_sid: Option<String>,
    /// The secret of its temporary link, and when the link stops working.
    pub token: String,
    pub token_expires: u64,
}

/// A file as a message lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageMedia {
    pub sid: String,
    pub content_type: String,
    pub filename: Option<String>,
    pub size: u64,
}

/// A file in the sandbox's MCS, with its bytes, for tests to compare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaView {
    pub sid: String,
    pub content_type: String,
    pub filename: Option<String>,
    #[serde(skip)]
    pub bytes: Bytes,
    pub message_sid: Option<String>,
    pub conversation_sid: Option<String>,
}

impl StoredMedia {
    fn summary(&self) -> MessageMedia {
        MessageMedia {
            sid: self.sid.clone(),
            content_type: self.content_type.clone(),
            filename: self.filename.clone(),
            size: self.bytes.len() as u64,
        }
    }

    fn view(&self) -> MediaView {
        MediaView {
            sid: self.sid.clone(),
            content_type: self.content_type.clone(),
            filename: self.filename.clone(),
            bytes: self.bytes.clone(),
            message_sid: self.message_sid.clone(),
            conversation_sid: self.channel_sid.clone(),
        }
    }
}

/// The message resource's `media` (conversations v1 spec: `content_type`, `filename`, `sid`,
/// `size` per file), `null` without media.
pub(super) fn message_media_json(media: &[MessageMedia]) -> Value {
    if media.is_empty() {
        return Value::Null;
    }
    media
        .iter()
        .map(|m| json!({"sid": m.sid, "content_type": m.content_type, "filename": m.filename, "size": m.size}))
        .collect()
}

/// The webhook's `Media`, in Twilio's capitalised names.
pub(super) fn webhook_media_json(media: &[MessageMedia]) -> String {
    let items: Vec<Value> = media
        .iter()
        .map(|m| {
            json!({"Sid": m.sid, "Filename": m.filename, "ContentType": m.content_type,
                   "Size": m.size, "Category": "media"})
        })
        .collect();
    Value::Array(items).to_string()
}

impl Store {
    /// Stores a file, refusing it over the limit (50512).
    pub(super) fn add_media(
        &mut self,
        content_type: &str,
        filename: Option<String>,
        bytes: Bytes,
    ) -> Result<StoredMedia, TwilioError> {
        if bytes.len() as u64 > self.media_limit {
            return Err(TwilioError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                flex_bridge::twilio::media::MEDIA_TOO_LARGE as u32,
                format!(
                    "Message media size is too large: {} bytes is over {}",
                    bytes.len(),
                    self.media_limit
                ),
            ));
        }
        let media = StoredMedia {
            sid: time::sid("ME"),
            content_type: content_type.to_owned(),
            filename,
            bytes,
            date_created: time::now_iso(),
            message_sid: None,
            channel_sid: None,
            token: uuid::Uuid::new_v4().simple().to_string(),
            token_expires: time::now_secs() + TEMPORARY_LINK_SECS,
        };
        self.media.push(media.clone());
        Ok(media)
    }

    /// Whether a file can be attached: uploaded to this service (else 50510) and not yet sent
    /// with a message (else 50508). A message is validated whole before anything changes.
    pub(super) fn check_media(&self, media_sid: &str) -> Result<(), TwilioError> {
        match self.media.iter().find(|m| m.sid == media_sid) {
            None => Err(TwilioError::new(
                StatusCode::BAD_REQUEST,
                flex_bridge::twilio::media::INVALID_MEDIA_SID as u32,
                "Invalid message media SID: not uploaded to this service",
            )),
            Some(m) if m.message_sid.is_some() => Err(TwilioError::new(
                StatusCode::BAD_REQUEST,
                flex_bridge::twilio::media::MEDIA_ALREADY_SENT as u32,
                "Media already sent with another message",
            )),
            Some(_) => Ok(()),
        }
    }

    /// Attaches an uploaded file to a message (see [`Store::check_media`]).
    pub(super) fn take_media(
        &mut self,
        media_sid: &str,
        conversation_sid: &str,
        message_sid: &str,
    ) -> Result<MessageMedia, TwilioError> {
        self.check_media(media_sid)?;
        let media = self
            .media
            .iter_mut()
            .find(|m| m.sid == media_sid)
            .expect("checked above");
        media.message_sid = Some(message_sid.to_owned());
        media.channel_sid = Some(conversation_sid.to_owned());
        Ok(media.summary())
    }
}

fn media_json(sandbox: &Sandbox, m: &StoredMedia) -> Value {
    let url = format!(
        "{}/v1/Services/{CHAT_SERVICE_SID}/Media/{}",
        sandbox.url(),
        m.sid
    );
    json!({
        "sid": m.sid,
        "account_sid": sandbox.config().twilio_account_sid,
        "service_sid": CHAT_SERVICE_SID,
        "date_created": m.date_created,
        "date_updated": null,
        "channel_sid": m.channel_sid,
        "message_sid": m.message_sid,
        "size": m.bytes.len(),
        "content_type": m.content_type,
        "filename": m.filename,
        "author": "system",
        "category": "media",
        "url": url,
        "links": {
            "content": format!("{url}/Content"),
            "content_direct_temporary": format!(
                "{}{TEMPORARY_PATH}/{}?Token={}", sandbox.url(), m.sid, m.token
            ),
        },
    })
}

fn service_of(service_sid: &str) -> Result<(), TwilioError> {
    if service_sid == CHAT_SERVICE_SID {
        Ok(())
    } else {
        Err(TwilioError::not_found(&format!("/Services/{service_sid}")))
    }
}

/// `POST /v1/Services/{ChatServiceSid}/Media?Filename=`: the body is the file.
pub(super) async fn upload(
    State(sandbox): State<Sandbox>,
    Path(service_sid): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, TwilioError> {
    service_of(&service_sid)?;
    let query = Form::parse(query.unwrap_or_default().as_bytes(), UPLOAD_QUERY)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|t| is_mime_type(t))
        .ok_or_else(|| {
            TwilioError::invalid("Content-Type must be the media's MIME type (type/subtype)")
        })?;
    if body.is_empty() {
        return Err(TwilioError::invalid("The media body is empty"));
    }
    let media = sandbox
        .twilio_store()
        .add_media(content_type, query.string("Filename"), body)?;
    Ok((StatusCode::CREATED, Json(media_json(&sandbox, &media))).into_response())
}

/// `GET /v1/Services/{ChatServiceSid}/Media/{MediaSid}`
pub(super) async fn fetch(
    State(sandbox): State<Sandbox>,
    Path((service_sid, media_sid)): Path<(String, String)>,
) -> Result<Response, TwilioError> {
    service_of(&service_sid)?;
    let media = {
        let mut store = sandbox.twilio_store();
        let media = store
            .media
            .iter_mut()
            .find(|m| m.sid == media_sid)
            .ok_or_else(|| TwilioError::not_found(&format!("/Media/{media_sid}")))?;
        // Each fetch hands out a fresh temporary link, as each of Twilio's does.
        media.token_expires = time::now_secs() + TEMPORARY_LINK_SECS;
        media.clone()
    };
    Ok(Json(media_json(&sandbox, &media)).into_response())
}

#[derive(Deserialize)]
pub(super) struct TemporaryQuery {
    #[serde(rename = "Token")]
    token: String,
}

/// The temporary link: the content with its type, for whoever holds the token, until it
/// expires.
pub(super) async fn temporary_content(
    State(sandbox): State<Sandbox>,
    Path(media_sid): Path<String>,
    Query(query): Query<TemporaryQuery>,
) -> Response {
    let store = sandbox.twilio_store();
    let found = store
        .media
        .iter()
        .find(|m| m.sid == media_sid && m.token == query.token);
    match found {
        Some(m) if time::now_secs() <= m.token_expires => (
            [(header::CONTENT_TYPE, m.content_type.clone())],
            m.bytes.clone(),
        )
            .into_response(),
        Some(_) => (StatusCode::FORBIDDEN, "link expired").into_response(),
        None => (StatusCode::FORBIDDEN, "no such link").into_response(),
    }
}

/// `type/subtype`, each a non-empty token (parameters after `;` allowed).
fn is_mime_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or_default().trim();
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    matches!(essence.split_once('/'), Some((t, s)) if token(t) && token(s))
}

impl Sandbox {
    /// A file in the sandbox's MCS, with its bytes.
    pub fn twilio_media(&self, media_sid: &str) -> Option<MediaView> {
        self.twilio_store()
            .media
            .iter()
            .find(|m| m.sid == media_sid)
            .map(StoredMedia::view)
    }

    /// The largest file MCS takes here (default `MAX_MEDIA_BYTES`, 150 MB); larger uploads are
    /// refused with 50512.
    pub fn set_twilio_media_limit(&self, bytes: u64) {
        self.twilio_store().media_limit = bytes;
    }

    /// An agent's message with files from the Flex UI (`Source=SDK`): each file is uploaded to
    /// MCS, the message takes them all, and `onMessageAdded` carries them in `Media`. Returns
    /// the message SID once the webhooks were answered.
    pub async fn agent_media_message(
        &self,
        conversation_sid: &str,
        author: &str,
        body: Option<&str>,
        files: &[(&str, &str, Bytes)],
    ) -> Result<String, crate::SandboxError> {
        let (message, dispatch) = {
            let mut store = self.twilio_store();
            let mut sids = Vec::new();
            for (filename, content_type, bytes) in files {
                let media = store
                    .add_media(content_type, Some((*filename).to_owned()), bytes.clone())
                    .map_err(|e| super::refusal(e, conversation_sid, author))?;
                sids.push(media.sid);
            }
            let new = super::rest::NewMessage {
                author: author.to_owned(),
                body: body.map(str::to_owned),
                attributes: "{}".to_owned(),
                source: "SDK",
                webhook_enabled: true,
                media_sids: sids,
                ..Default::default()
            };
            store
                .add_message(conversation_sid, new)
                .map_err(|e| super::refusal(e, conversation_sid, author))?
        };
        self.deliver(dispatch).await;
        Ok(message.sid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_types_are_type_and_subtype() {
        for good in [
            "image/png",
            "application/pdf",
            "text/plain; charset=utf-8",
            "application/vnd.ms-excel",
        ] {
            assert!(is_mime_type(good), "{good}");
        }
        for bad in ["", "image", "/png", "image/", "image/png/x", "a b/c"] {
            assert!(!is_mime_type(bad), "{bad}");
        }
    }

    #[test]
    fn media_is_taken_once_and_over_the_limit_refused() {
        let mut store = Store {
            media_limit: 4,
            ..Store::default()
        };
        let err = store
            .add_media("image/png", None, Bytes::from_static(b"12345"))
            .unwrap_err();
        assert_eq!(err.code, 50512);
        let media = store
            .add_media(
                "image/png",
                Some("a.png".into()),
                Bytes::from_static(b"1234"),
            )
            .unwrap();
        assert!(store.check_media(&media.sid).is_ok());
        let taken = store.take_media(&media.sid, "CH1", "IM1").unwrap();
        assert_eq!((taken.size, taken.filename.as_deref()), (4, Some("a.png")));
        assert_eq!(store.check_media(&media.sid).unwrap_err().code, 50508);
        assert_eq!(store.check_media("ME1").unwrap_err().code, 50510);
        assert_eq!(
            webhook_media_json(&[taken]),
            format!(
                r#"[{{"Category":"media","ContentType":"image/png","Filename":"a.png","Sid":"{}","Size":4}}]"#,
                media.sid
            )
        );
    }
}
