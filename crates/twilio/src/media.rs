//! Files in Flex: Twilio's Media Content Service (MCS), the `Media` an agent's message carries
//! in `onMessageAdded`, and the form that posts a media message to a conversation.
//!
//! MCS is not in Twilio's OpenAPI specs. What this module relies on, from
//! twilio.com/docs/conversations/api/media-resource and
//! twilio.com/docs/conversations/media-support-conversations:
//! - the base URL is `https://mcs.us1.twilio.com/v1`, on its own host, with HTTP Basic auth
//!   (Account SID and Auth Token, or an API key and its secret), like the other Twilio APIs;
//! - a Media resource has `sid` (34 characters, `ME…`), `account_sid`, `service_sid` (the Chat
//!   Service, `IS…`), `date_created`, `date_updated`, `channel_sid` and `message_sid` (the
//!   conversation and message it was attached to), `size` (bytes) and `content_type`;
//! - media is uploaded as the raw body with the file's `Content-Type`
//!   (`POST /v1/Services/{ChatServiceSid}/Media`), and its content is read through a temporary,
//!   time-limited link (`links.content_direct_temporary` of
//!   `GET /v1/Services/{ChatServiceSid}/Media/{MediaSid}`);
//! - a media file belongs to the message it is sent with: a Media SID is attached once
//!   (error 50508 "Media already sent with another message"), and must have been uploaded to the
//!   conversation's own service (error 50510 "Invalid message media SID");
//! - error 50512, "Conversations: Message media size is too large"
//!   (twilio.com/docs/api/errors/50512).
//!
//! Not confirmed from Twilio's documentation (the pages reachable here were cut short):
//! - the query parameter naming the file on upload: `Filename`, as Twilio's own JavaScript MCS
//!   client (`@twilio/mcs-client`) is understood to send it;
//! - the largest file MCS takes: [`MAX_MEDIA_BYTES`] is the 150 MB widely quoted for Chat media,
//!   not a figure read in the docs; callers should treat a 50512 answer as the authority;
//! - the HTTP status that comes with 50512 (the sandbox answers 413).

use bytes::Bytes;
use serde::Deserialize;

use crate::retry::{HttpError, RetryPolicy};
use crate::{error_code, TwilioConfig, WEBHOOK_ENABLED_HEADER};

const SERVICE: &str = "twilio";

/// MCS's host (`TWILIO_MEDIA_URL` in a deployment that sets it); the `/v1` is added per path.
pub const DEFAULT_MEDIA_URL: &str = "https://mcs.us1.twilio.com";

/// Twilio error 50512: the media is larger than the conversation takes.
pub const MEDIA_TOO_LARGE: u64 = 50512;
/// Twilio error 50508: the Media SID was already sent with another message.
pub const MEDIA_ALREADY_SENT: u64 = 50508;
/// Twilio error 50510: the Media SID is malformed or not uploaded to this Chat Service.
pub const INVALID_MEDIA_SID: u64 = 50510;

/// The largest file this bridge sends to MCS: 150 MB. Not confirmed in Twilio's docs (see the
/// module documentation); MCS's own answer, [`MEDIA_TOO_LARGE`], decides.
pub const MAX_MEDIA_BYTES: u64 = 150 * 1024 * 1024;

/// Whether Twilio refused a file as too large (error 50512).
pub fn is_media_too_large(err: &HttpError) -> bool {
    err.service == SERVICE && error_code(err) == Some(MEDIA_TOO_LARGE)
}

/// Where MCS is and which Chat Service (the conversations' `ChatServiceSid`, `IS…`) the media
/// belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaConfig {
    /// Scheme and host, without `/v1` (default [`DEFAULT_MEDIA_URL`]; the sandbox's URL in
    /// tests).
    pub media_url: String,
    pub chat_service_sid: String,
}

impl MediaConfig {
    pub fn new(chat_service_sid: impl Into<String>) -> Self {
        Self::at(DEFAULT_MEDIA_URL, chat_service_sid)
    }

    /// MCS at another base URL (the sandbox).
    pub fn at(media_url: &str, chat_service_sid: impl Into<String>) -> Self {
        Self {
            media_url: media_url.trim_end_matches('/').to_owned(),
            chat_service_sid: chat_service_sid.into(),
        }
    }
}

/// A Media resource as MCS describes it. Only `sid` is required: the rest is read when given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Media {
    pub sid: String,
    #[serde(default)]
    pub service_sid: Option<String>,
    #[serde(default)]
    pub channel_sid: Option<String>,
    #[serde(default)]
    pub message_sid: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub filename: Option<String>,
    /// Bytes.
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub links: MediaLinks,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct MediaLinks {
    /// The content, behind Basic auth.
    #[serde(default)]
    pub content: Option<String>,
    /// A temporary, pre-authorised URL of the content: fetched without credentials.
    #[serde(default)]
    pub content_direct_temporary: Option<String>,
}

/// A file to upload. `bytes` is shared, not copied, by each retry.
#[derive(Clone, Debug)]
pub struct NewMedia<'a> {
    pub content_type: &'a str,
    pub filename: &'a str,
    pub bytes: Bytes,
}

/// A download in progress: the headers are read, the body is still on the wire, so a large file
/// can be passed on chunk by chunk ([`MediaContent::chunk`]) or as a request body
/// ([`MediaContent::into_body`]) without being held whole.
#[derive(Debug)]
pub struct MediaContent {
    pub content_type: Option<String>,
    /// `Content-Length`, when the server sent it.
    pub content_length: Option<u64>,
    pub response: reqwest::Response,
}

impl MediaContent {
    fn new(response: reqwest::Response) -> Self {
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Self {
            content_type,
            content_length: response.content_length(),
            response,
        }
    }

    /// The next piece of the body; `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, HttpError> {
        let status = self.response.status();
        self.response
            .chunk()
            .await
            .map_err(|err| read_error(status, err))
    }

    /// The whole body, refused past `max_bytes` (checked as it arrives, so a lying or missing
    /// `Content-Length` cannot make it read more).
    pub async fn bytes_at_most(mut self, max_bytes: u64) -> Result<Bytes, HttpError> {
        if self.content_length.is_some_and(|length| length > max_bytes) {
            return Err(too_long(max_bytes));
        }
        let mut body = bytes::BytesMut::new();
        while let Some(chunk) = self.chunk().await? {
            if (body.len() + chunk.len()) as u64 > max_bytes {
                return Err(too_long(max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }

    /// The body as a request body for another call, streamed through.
    pub fn into_body(self) -> reqwest::Body {
        reqwest::Body::wrap_stream(self.response.bytes_stream())
    }
}

fn too_long(max_bytes: u64) -> HttpError {
    HttpError::unsent(SERVICE, format!("media longer than {max_bytes} bytes"))
}

fn read_error(status: reqwest::StatusCode, err: reqwest::Error) -> HttpError {
    HttpError {
        service: SERVICE,
        status: Some(status),
        retry_after: None,
        // Without the URL: a temporary link is a credential.
        detail: format!("media body not read: {}", err.without_url()),
        unsent: false,
    }
}

/// An agent's file as `onMessageAdded` carries it: the `Media` form field is a JSON array of
/// these (Twilio's capitalised names: `Sid`, `Filename`, `ContentType`, `Size`, `Category`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct WebhookMedia {
    #[serde(rename = "Sid")]
    pub sid: String,
    #[serde(rename = "Filename", default)]
    pub filename: Option<String>,
    #[serde(rename = "ContentType", default)]
    pub content_type: Option<String>,
    /// Bytes.
    #[serde(rename = "Size", default)]
    pub size: Option<u64>,
    /// `media` for a file the sender attached.
    #[serde(rename = "Category", default)]
    pub category: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("the webhook's Media field is not a JSON array of media: {0}")]
pub struct MediaFieldError(String);

/// The `Media` of an `onMessageAdded` form body, in the order the agent attached them; empty
/// when the message has none.
pub fn webhook_media(form_body: &[u8]) -> Result<Vec<WebhookMedia>, MediaFieldError> {
    let field = url::form_urlencoded::parse(form_body)
        .find(|(name, _)| name == "Media")
        .map(|(_, value)| value.into_owned());
    match field {
        None => Ok(Vec::new()),
        Some(raw) if raw.trim().is_empty() => Ok(Vec::new()),
        Some(raw) => serde_json::from_str(&raw).map_err(|e| MediaFieldError(e.to_string())),
    }
}

/// A media message to post (`POST /v1/Conversations/{sid}/Messages` with `MediaSid`, as the
/// Conversations v1 spec's CreateConversationMessage takes it: `^ME[0-9a-fA-F]{32}$`; `Body`
/// optional beside it). The spec's message resource then lists the file in `media`
/// (`sid`, `content_type`, `filename`, `size`).
#[derive(Debug)]
pub struct NewMediaMessage<'a> {
    pub author: &'a str,
    /// The text sent with the file, if any.
    pub body: Option<&'a str>,
    pub media_sid: &'a str,
    pub attributes: Option<&'a serde_json::Value>,
    /// `X-Twilio-Webhook-Enabled`, so the conversation's webhooks fire as for a text message.
    pub webhooks: bool,
}

impl NewMediaMessage<'_> {
    /// The form fields, in the spec's names.
    pub fn form(&self) -> Vec<(&'static str, String)> {
        let mut form = vec![
            ("Author", self.author.to_owned()),
            ("MediaSid", self.media_sid.to_owned()),
        ];
        if let Some(body) = self.body.filter(|b| !b.is_empty()) {
            form.push(("Body", body.to_owned()));
        }
        if let Some(attributes) = self.attributes {
            form.push(("Attributes", attributes.to_string()));
        }
        form
    }
}

/// The Media Content Service's client, with the account's credentials.
#[derive(Clone, Debug)]
pub struct MediaClient {
    http: reqwest::Client,
    twilio: TwilioConfig,
    media: MediaConfig,
    retry: RetryPolicy,
}

impl MediaClient {
    pub fn new(http: reqwest::Client, twilio: TwilioConfig, media: MediaConfig) -> Self {
        Self {
            http,
            twilio,
            media,
            retry: RetryPolicy::default(),
        }
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn config(&self) -> &MediaConfig {
        &self.media
    }

    fn collection_url(&self) -> Result<String, HttpError> {
        if !crate::is_sid(&self.media.chat_service_sid, "IS") {
            return Err(HttpError::unsent(
                SERVICE,
                "the Chat Service SID is not an IS SID",
            ));
        }
        Ok(format!(
            "{}/v1/Services/{}/Media",
            self.media.media_url, self.media.chat_service_sid
        ))
    }

    fn authorised(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.basic_auth(
            &self.twilio.account_sid,
            Some(self.twilio.auth_token.expose()),
        )
    }

    /// `POST /v1/Services/{ChatServiceSid}/Media`: the bytes as the body, with their
    /// `Content-Type`; returns the Media resource (its `sid` is the `ME…` a message carries as
    /// `MediaSid`). Retried like every Twilio call: the same bytes each time, never copied.
    pub async fn upload(&self, file: &NewMedia<'_>) -> Result<Media, HttpError> {
        let url = self.collection_url()?;
        let response = self
            .retry
            .send(SERVICE, || {
                self.authorised(self.http.post(&url))
                    .query(&[("Filename", file.filename)])
                    .header(reqwest::header::CONTENT_TYPE, file.content_type)
                    .body(file.bytes.clone())
            })
            .await?;
        decode(response).await
    }

    /// The same upload from a body that streams (another download passed through), of
    /// `content_length` bytes. A stream cannot be replayed, so it is sent once: a failure goes
    /// back to the caller's queue.
    pub async fn upload_stream(
        &self,
        content_type: &str,
        filename: &str,
        content_length: u64,
        body: reqwest::Body,
    ) -> Result<Media, HttpError> {
        let url = self.collection_url()?;
        let body = std::sync::Mutex::new(Some(body));
        let once = RetryPolicy {
            attempts: 1,
            ..self.retry
        };
        let response = once
            .send(SERVICE, || {
                let body = body
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .take()
                    .unwrap_or_else(|| reqwest::Body::from(Bytes::new()));
                self.authorised(self.http.post(&url))
                    .query(&[("Filename", filename)])
                    .header(reqwest::header::CONTENT_TYPE, content_type)
                    .header(reqwest::header::CONTENT_LENGTH, content_length)
                    .body(body)
            })
            .await?;
        decode(response).await
    }

    /// `GET /v1/Services/{ChatServiceSid}/Media/{MediaSid}`: the resource, with its temporary
    /// content link.
    pub async fn fetch(&self, media_sid: &str) -> Result<Media, HttpError> {
        if !crate::is_sid(media_sid, "ME") {
            return Err(HttpError::unsent(SERVICE, "not a Media SID (ME…)"));
        }
        let url = format!("{}/{media_sid}", self.collection_url()?);
        let response = self
            .retry
            .send(SERVICE, || self.authorised(self.http.get(&url)))
            .await?;
        decode(response).await
    }

    /// The content of `media` through its temporary link, without credentials (the link is
    /// itself the authorisation, and a pre-signed URL may refuse an `Authorization` header).
    pub async fn download(&self, media: &Media) -> Result<MediaContent, HttpError> {
        let url = media
            .links
            .content_direct_temporary
            .as_deref()
            .ok_or_else(|| HttpError::unsent(SERVICE, "the media has no temporary link"))?;
        let response = self.retry.send(SERVICE, || self.http.get(url)).await?;
        Ok(MediaContent::new(response))
    }

    /// [`Self::fetch`] then [`Self::download`]: an agent's file by its SID.
    pub async fn fetch_content(&self, media_sid: &str) -> Result<(Media, MediaContent), HttpError> {
        let media = self.fetch(media_sid).await?;
        let content = self.download(&media).await?;
        Ok((media, content))
    }

    /// `POST {conversations}/v1/Conversations/{sid}/Messages` with `MediaSid` (and the text, if
    /// any): the file appears in the conversation as the customer's (or the bridge's) message.
    pub async fn post_media_message(
        &self,
        conversation_sid: &str,
        message: &NewMediaMessage<'_>,
    ) -> Result<crate::Message, HttpError> {
        if !crate::is_sid(conversation_sid, "CH") {
            return Err(HttpError::unsent(SERVICE, "not a Conversation SID (CH…)"));
        }
        let url = format!(
            "{}/v1/Conversations/{conversation_sid}/Messages",
            self.twilio.conversations_url
        );
        let form = message.form();
        let response = self
            .retry
            .send(SERVICE, || {
                self.authorised(self.http.post(&url))
                    .header(WEBHOOK_ENABLED_HEADER, message.webhooks.to_string())
                    .form(&form)
            })
            .await?;
        decode(response).await
    }
}

async fn decode<T: for<'de> Deserialize<'de>>(response: reqwest::Response) -> Result<T, HttpError> {
    let status = response.status();
    response.json::<T>().await.map_err(|err| HttpError {
        service: SERVICE,
        status: Some(status),
        retry_after: None,
        detail: format!("unexpected response body: {}", err),
        unsent: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_media_is_read_from_the_form() {
        let media = serde_json::json!([
            {"Sid": "ME0123456789abcdef0123456789abcdef", "Filename": "receipt.png",
             "ContentType": "image/png", "Size": 2048, "Category": "media"},
            {"Sid": "ME1123456789abcdef0123456789abcdef", "ContentType": "application/pdf", "Size": 10}
        ]);
        let body = serde_urlencoded::to_string([
            ("EventType", "onMessageAdded"),
            ("Media", media.to_string().as_str()),
        ])
        .unwrap();
        let parsed = webhook_media(body.as_bytes()).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].filename.as_deref(), Some("receipt.png"));
        assert_eq!(parsed[0].size, Some(2048));
        assert_eq!(parsed[1].filename, None);
        assert_eq!(parsed[1].content_type.as_deref(), Some("application/pdf"));
        assert!(webhook_media(b"EventType=onMessageAdded&Body=hi")
            .unwrap()
            .is_empty());
        assert!(webhook_media(b"Media=%7B%7D").is_err());
    }

    #[test]
    fn the_media_message_form_uses_the_spec_names() {
        let attributes = serde_json::json!({"bridge": true});
        let message = NewMediaMessage {
            author: "x-2900000001",
            body: Some("My receipt"),
            media_sid: "ME0123456789abcdef0123456789abcdef",
            attributes: Some(&attributes),
            webhooks: true,
        };
        assert_eq!(
            message.form(),
            vec![
                ("Author", "x-2900000001".to_owned()),
                ("MediaSid", "ME0123456789abcdef0123456789abcdef".to_owned()),
                ("Body", "My receipt".to_owned()),
                ("Attributes", r#"{"bridge":true}"#.to_owned()),
            ]
        );
        let bare = NewMediaMessage {
            body: Some(""),
            attributes: None,
            ..message
        };
        assert_eq!(bare.form().len(), 2, "an empty body is left out");
    }

    #[test]
    fn fifty_five_twelve_is_media_too_large() {
        let refusal = |service, detail: &str| HttpError {
            service,
            status: Some(reqwest::StatusCode::PAYLOAD_TOO_LARGE),
            retry_after: None,
            detail: detail.into(),
            unsent: false,
        };
        assert!(is_media_too_large(&refusal(
            "twilio",
            r#"{"code": 50512, "message": "Message media size is too large"}"#
        )));
        assert!(!is_media_too_large(&refusal(
            "twilio",
            r#"{"code": 50510}"#
        )));
        assert!(!is_media_too_large(&refusal("x", r#"{"code": 50512}"#)));
    }

    #[test]
    fn a_config_is_trimmed_and_ids_are_checked_before_sending() {
        let config = MediaConfig::at("http://127.0.0.1:9/", "IS00000000000000000000000000000000");
        assert_eq!(config.media_url, "http://127.0.0.1:9");
        assert_eq!(MediaConfig::new("IS1").media_url, DEFAULT_MEDIA_URL);
        let twilio = TwilioConfig::at(
            "http://127.0.0.1:9",
            "AC00000000000000000000000000000000",
            crate::config::Secret::new("t"),
        );
        let client = MediaClient::new(
            flex_bridge_core::http::http_client(),
            twilio,
            MediaConfig::at("http://127.0.0.1:9", "IS1"),
        );
        assert!(client.collection_url().is_err());
    }
}
