//! The HTTP shape every webhook handler speaks, independent of Lambda.
//!
//! Lambda (`lambda_http`), the local all-in-one server (axum) and tests all convert to and from
//! these two types, so a handler is one plain async function with one behaviour everywhere.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::Serialize;

pub use http;

/// Webhook bodies we accept are small (a DM, a form post); anything larger is refused unread.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Clone, Debug, Default)]
pub struct WebRequest {
    pub method: String,
    /// The raw query string, without `?`, exactly as received (signatures cover it).
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl WebRequest {
    pub fn post(body: impl Into<Bytes>) -> Self {
        Self {
            method: "POST".into(),
            body: body.into(),
            ..Self::default()
        }
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(name, v);
        }
        self
    }

    /// Header names are case-insensitive (API Gateway lower-cases them).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn query_param(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// Refuses bodies over [`MAX_BODY_BYTES`] before anything reads them.
    pub fn check_size(&self) -> Result<(), ApiError> {
        if self.body.len() > MAX_BODY_BYTES {
            Err(ApiError::TooLarge)
        } else {
            Ok(())
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebResponse {
    pub status: StatusCode,
    pub content_type: &'static str,
    pub body: String,
    /// Seconds, for 429/503 answers that tell the sender when to retry.
    pub retry_after: Option<u64>,
}

impl WebResponse {
    pub fn json(status: StatusCode, value: &impl Serialize) -> Self {
        Self {
            status,
            content_type: "application/json",
            body: serde_json::to_string(value).unwrap_or_else(|_| "{}".into()),
            retry_after: None,
        }
    }

    /// `200 {"ok":true}`: the event was handled, or deliberately ignored.
    pub fn ok() -> Self {
        Self::json(StatusCode::OK, &serde_json::json!({"ok": true}))
    }

    pub fn ignored(reason: &str) -> Self {
        Self::json(
            StatusCode::OK,
            &serde_json::json!({"ok": true, "ignored": reason}),
        )
    }
}

/// Every way a webhook can be refused. Each maps to one status code and a short JSON body;
/// nothing here ever answers 500, and no message carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid signature")]
    Unauthorized,
    #[error("{0}")]
    BadRequest(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("body too large")]
    TooLarge,
    #[error("unsupported content type")]
    UnsupportedMediaType,
    /// The bridge's own side failed (a dependency such as Twilio, DynamoDB or SQS, or its own
    /// work): the sender should retry later. The cause is kept for the one log line at the edge
    /// ([`respond`]) and never sent to the caller.
    #[error("temporarily unavailable, retry later")]
    Unavailable {
        retry_after: Option<u64>,
        #[source]
        cause: Option<Cause>,
    },
}

/// Why the bridge could not answer, with its own causes.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

impl From<crate::retry::HttpError> for ApiError {
    fn from(err: crate::retry::HttpError) -> Self {
        Self::unavailable(err)
    }
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    /// 503, because of `cause`.
    pub fn unavailable(cause: impl Into<Cause>) -> Self {
        Self::Unavailable {
            retry_after: None,
            cause: Some(cause.into()),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl From<ApiError> for WebResponse {
    fn from(err: ApiError) -> Self {
        let mut response =
            WebResponse::json(err.status(), &serde_json::json!({"error": err.to_string()}));
        if let ApiError::Unavailable { retry_after, .. } = err {
            response.retry_after = retry_after.or(Some(5));
        }
        response
    }
}

/// `err` and every cause under it, `outer: inner: innermost`, for a log line.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The edge: turns a handler's error into the matching response, logging it once, with its
/// causes (inside the handler's span, so with its event id or conversation SID).
pub fn respond(result: Result<WebResponse, ApiError>) -> WebResponse {
    result.unwrap_or_else(|err| {
        match &err {
            ApiError::Unavailable { .. } => {
                tracing::error!(error = %chain(&err), "answered 503: the sender will retry")
            }
            refused => tracing::warn!(
                status = refused.status().as_u16(),
                error = %refused,
                "request refused"
            ),
        }
        WebResponse::from(err)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_short_json_with_their_status() {
        let r = WebResponse::from(ApiError::Unauthorized);
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.body, r#"{"error":"invalid signature"}"#);
        let r = WebResponse::from(ApiError::Unavailable {
            retry_after: None,
            cause: None,
        });
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.retry_after, Some(5));
    }

    #[test]
    fn a_503_keeps_its_cause_for_the_log_and_not_for_the_caller() {
        #[derive(Debug, thiserror::Error)]
        #[error("queue: throttled")]
        struct Throttled;
        #[derive(Debug, thiserror::Error)]
        #[error("could not queue the DM")]
        struct Queueing(#[source] Throttled);
        let err = ApiError::unavailable(Queueing(Throttled));
        assert_eq!(
            chain(&err),
            "temporarily unavailable, retry later: could not queue the DM: queue: throttled"
        );
        let r = respond(Err(err));
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(!r.body.contains("throttled"), "{}", r.body);
    }

    #[test]
    fn oversized_bodies_are_refused() {
        let req = WebRequest::post(vec![b'a'; MAX_BODY_BYTES + 1]);
        assert!(matches!(req.check_size(), Err(ApiError::TooLarge)));
    }

    #[test]
    fn header_lookup_ignores_case() {
        let req = WebRequest::post("").with_header("x-twilio-signature", "abc");
        assert_eq!(req.header("X-Twilio-Signature"), Some("abc"));
    }
}
