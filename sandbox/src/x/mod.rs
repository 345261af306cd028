//! X emulation: the v2 DM send endpoint the bridge calls (OAuth 1.0a checked for real, body
//! checked against the spec), and the customer's side: signed Account Activity webhooks with
//! X's retries, and the CRC challenge ([`webhooks`]).

mod limits;
mod media;
mod oauth;
mod posts;
mod setup;
mod webhooks;

pub use limits::{XDmLimits, XLimitWindow};
pub use media::{XMediaView, MAX_APPEND_BYTES};
pub use posts::CreatedPost;
pub use setup::{XAccountActivitySubscription, XActivitySubscription, XReplayJob, XWebhookConfig};

use std::collections::HashSet;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post};
use axum::{middleware, Json, Router};
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::{faults, time, Sandbox};

/// X refuses DM text over 10,000 characters (docs.x.com, "Direct Messages" limits).
pub const MAX_DM_CHARS: usize = 10_000;

/// What a webhook delivery from "X" came to: `status` is the last answer (0 if the bridge
/// could not be reached), after `attempts` tries (1 + retries).
#[derive(Debug, Clone, Serialize)]
pub struct XDelivery {
    /// The DM event id (empty for typing and read events, which have none).
    pub event_id: String,
    pub status: u16,
    pub attempts: u32,
}

/// A DM the brand sent through the API.
#[derive(Debug, Clone, Serialize)]
pub struct SentDm {
    pub participant_id: String,
    pub dm_event_id: String,
    pub dm_conversation_id: String,
    pub text: Option<String>,
    pub media_ids: Vec<String>,
    /// The files attached, as uploaded (bytes and type), in `media_ids` order.
    pub media: Vec<XMediaView>,
}

#[derive(Default)]
pub(crate) struct Store {
    dms: Vec<SentDm>,
    /// Every nonce accepted so far: X refuses a replayed one.
    nonces: HashSet<String>,
    echoes: bool,
    setup: setup::SetupStore,
    dm_limits: limits::XDmLimits,
    posts: posts::PostsStore,
    media: media::MediaStore,
}

pub(crate) fn routes(sandbox: Sandbox) -> Router {
    Router::new()
        .route(
            "/2/dm_conversations/with/{participant_id}/messages",
            post(send_dm),
        )
        .route(
            "/2/webhooks",
            get(setup::list_webhooks).post(setup::create_webhook),
        )
        .route("/2/webhooks/replay", post(setup::create_replay_job))
        .route("/2/webhooks/{webhook_id}", delete(setup::delete_webhook))
        .route(
            "/2/activity/subscriptions",
            get(setup::list_activity_subscriptions).post(setup::create_activity_subscription),
        )
        .route(
            "/2/activity/subscriptions/{subscription_id}",
            delete(setup::delete_activity_subscription),
        )
        .route(
            "/2/account_activity/webhooks/{webhook_id}/subscriptions/all",
            post(setup::create_account_activity_subscription),
        )
        .route("/2/tweets", post(posts::create_post))
        .route("/2/media/upload", get(media::status))
        .route("/2/media/upload/initialize", post(media::initialize))
        .route(
            "/2/media/upload/{id}/append",
            // A chunk may be 5 MB, over axum's default 2 MB: the handler checks X's limit.
            post(media::append).layer(axum::extract::DefaultBodyLimit::max(
                media::MAX_APPEND_BYTES + 64 * 1024,
            )),
        )
        .route("/2/media/upload/{id}/finalize", post(media::finalize))
        .route(
            "/2/dm_conversations/media/{dm_id}/{media_id}/{resource_id}",
            get(media::v2_media),
        )
        .route(
            "/1.1/ton/data/dm/{dm_id}/{media_id}/{resource}",
            get(media::ton_media),
        )
        .route("/2/{*rest}", any(unknown_route))
        // A user whose DMs are closed to the brand: X refuses the DM (403).
        .layer(middleware::from_fn_with_state(
            sandbox.clone(),
            posts::closed_dms,
        ))
        .layer(middleware::from_fn_with_state(
            sandbox.clone(),
            faults::x_gate,
        ))
        .with_state(sandbox)
}

impl Sandbox {
    /// Texts of the DMs the brand sent to `participant_id`, oldest first.
    pub fn dms_to(&self, participant_id: &str) -> Vec<String> {
        self.x_store()
            .dms
            .iter()
            .filter(|dm| dm.participant_id == participant_id)
            .filter_map(|dm| dm.text.clone())
            .collect()
    }

    /// Every DM the brand sent, oldest first, with ids and attachments.
    pub fn sent_dms(&self) -> Vec<SentDm> {
        self.x_store().dms.clone()
    }

    /// Whether each DM the brand sends comes back as a `message_create` webhook from the brand
    /// (as real X does; the bridge must drop these). Off by default.
    pub fn set_x_echoes(&self, enabled: bool) {
        self.x_store().echoes = enabled;
    }
}

fn problem(status: StatusCode, body: Value) -> Response {
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(
        "content-type",
        axum::http::HeaderValue::from_static("application/problem+json"),
    );
    response
}

fn unauthorized() -> Response {
    problem(
        StatusCode::UNAUTHORIZED,
        json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}),
    )
}

/// X's `InvalidRequestProblem`.
fn invalid(detail: impl Into<String>) -> Response {
    let detail = detail.into();
    problem(
        StatusCode::BAD_REQUEST,
        json!({
            "errors": [{"message": detail}],
            "title": "Invalid Request",
            "detail": detail,
            "type": "https://api.x.com/2/problems/invalid-request",
            "status": 400,
        }),
    )
}

fn is_numeric_id(s: &str) -> bool {
    (1..=19).contains(&s.len()) && s.bytes().all(|c| c.is_ascii_digit())
}

/// A JSON object body, as a `requestBody` with `application/json` requires; the error is the
/// detail of X's `InvalidRequestProblem`.
fn json_object_body(headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, String> {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/json") {
        return Err(format!(
            "Content-Type must be application/json, not {content_type:?}"
        ));
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err("Request body must be a JSON object".into()),
        Err(e) => Err(format!("Request body is not valid JSON: {e}")),
    }
}

/// Checks an OAuth 1.0a user-context `Authorization` header (and that its nonce is fresh); the
/// error is the handler's answer.
#[allow(clippy::result_large_err)]
fn check_oauth(
    sandbox: &Sandbox,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<(), Response> {
    // The client signed the URL it called; the Host header says which spelling it used.
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| sandbox.url().trim_start_matches("http://").to_owned());
    let signed_url = format!("http://{host}{}", uri.path());
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
    let nonce = match oauth::verify(
        sandbox.config(),
        method.as_str(),
        &signed_url,
        uri.query(),
        authorization,
    ) {
        Ok(nonce) => nonce,
        Err(reason) => {
            tracing::info!(reason, "sandbox: X OAuth refused");
            return Err(unauthorized());
        }
    };
    if !sandbox.x_store().nonces.insert(nonce) {
        tracing::info!("sandbox: X OAuth refused: replayed nonce");
        return Err(unauthorized());
    }
    Ok(())
}

/// `POST /2/dm_conversations/with/{participant_id}/messages`
async fn send_dm(
    State(sandbox): State<Sandbox>,
    Path(participant_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = check_oauth(&sandbox, &method, &uri, &headers) {
        return response;
    }
    let config = sandbox.config();
    if !is_numeric_id(&participant_id) {
        return invalid(format!(
            "The `participant_id` query parameter value [{participant_id}] does not match ^[0-9]{{1,19}}$"
        ));
    }
    let (text, media_ids) = match parse_dm_body(&headers, &body) {
        Ok(parsed) => parsed,
        Err(detail) => return invalid(detail),
    };
    // X takes one attachment per DM (docs.x.com, Direct Messages), and only media it holds.
    if media_ids.len() > 1 {
        return invalid("$.attachments: a DM takes one attachment");
    }
    let media = {
        let store = sandbox.x_store();
        match media_ids
            .iter()
            .map(|id| store.media.uploaded(id).ok_or(id))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(media) => media,
            Err(id) => return invalid(format!("$.attachments[0].media_id: media {id} not found")),
        }
    };
    let (allowed, limit_headers) = sandbox.x_store().dm_limits.spend();
    if !allowed {
        let mut response = problem(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}),
        );
        response.headers_mut().extend(limit_headers);
        return response;
    }
    let brand = &config.x_brand_account_id;
    let dm = SentDm {
        dm_event_id: time::snowflake(),
        dm_conversation_id: conversation_id(brand, &participant_id),
        participant_id,
        text,
        media_ids,
        media,
    };
    let echoes = {
        let mut store = sandbox.x_store();
        store.dms.push(dm.clone());
        store.echoes
    };
    if echoes {
        let sandbox = sandbox.clone();
        let dm = dm.clone();
        tokio::spawn(async move { sandbox.echo(&dm).await });
    }
    let body = json!({"data": {"dm_conversation_id": dm.dm_conversation_id, "dm_event_id": dm.dm_event_id}});
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    response.headers_mut().extend(limit_headers);
    response
}

/// A one-to-one conversation id is the two user ids, smaller first.
fn conversation_id(a: &str, b: &str) -> String {
    let (a_num, b_num) = (a.parse::<u64>().unwrap_or(0), b.parse::<u64>().unwrap_or(0));
    if a_num <= b_num {
        format!("{a}-{b}")
    } else {
        format!("{b}-{a}")
    }
}

/// `CreateDirectMessagesByParticipantIdRequest` (X openapi.json): `text` (minLength 1) and/or
/// `attachments` (`[{media_id: ^[0-9]{1,19}$}]`, no other keys), additionalProperties false.
fn parse_dm_body(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Option<String>, Vec<String>), String> {
    let object = json_object_body(headers, body)?;
    if let Some(key) = object
        .keys()
        .find(|k| !["text", "attachments"].contains(&k.as_str()))
    {
        return Err(format!("[{key}] is not one of [text,attachments]"));
    }
    let text = match object.get("text") {
        None => None,
        Some(Value::String(t)) if t.is_empty() => return Err("$.text: must not be empty".into()),
        Some(Value::String(t)) if t.chars().count() > MAX_DM_CHARS => {
            return Err(format!("$.text: longer than {MAX_DM_CHARS} characters"))
        }
        Some(Value::String(t)) => Some(t.clone()),
        Some(_) => return Err("$.text: must be a string".into()),
    };
    let mut media_ids = Vec::new();
    if let Some(attachments) = object.get("attachments") {
        let items = attachments
            .as_array()
            .ok_or("$.attachments: must be an array")?;
        for item in items {
            let media_id = item
                .as_object()
                .filter(|o| o.len() == 1)
                .and_then(|o| o.get("media_id"))
                .and_then(Value::as_str)
                .filter(|id| is_numeric_id(id))
                .ok_or("$.attachments[]: must be {\"media_id\": \"<numeric id>\"}")?;
            media_ids.push(media_id.to_owned());
        }
    }
    if text.is_none() && media_ids.is_empty() {
        return Err("At least one of `text`, `attachments` is required".into());
    }
    Ok((text, media_ids))
}

/// Any other `/2/...` path: X's not-found problem.
async fn unknown_route(uri: Uri) -> Response {
    problem(
        StatusCode::NOT_FOUND,
        json!({
            "title": "Not Found Error",
            "detail": format!("Could not find {}", uri.path()),
            "type": "https://api.x.com/2/problems/resource-not-found",
            "status": 404,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Content-Type: application/json`, for the body parsers' tests here and in `posts`.
    pub(super) fn json_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", "application/json".parse().unwrap());
        headers
    }

    #[test]
    fn dm_bodies_follow_the_spec() {
        let h = json_headers();
        assert_eq!(
            parse_dm_body(&h, br#"{"text":"hi"}"#).unwrap(),
            (Some("hi".into()), vec![])
        );
        assert_eq!(
            parse_dm_body(&h, br#"{"attachments":[{"media_id":"123"}]}"#).unwrap(),
            (None, vec!["123".into()])
        );
        for bad in [
            &br#"{"text":""}"#[..],
            br#"{}"#,
            br#"{"text":"hi","quick_reply":{}}"#,
            br#"{"attachments":[{"media_id":"abc"}]}"#,
            br#"{"attachments":[{"media_id":"1","x":1}]}"#,
            br#"{"text":5}"#,
            b"not json",
        ] {
            assert!(
                parse_dm_body(&h, bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(parse_dm_body(&HeaderMap::new(), br#"{"text":"hi"}"#).is_err());
    }

    #[test]
    fn conversation_ids_put_the_smaller_id_first() {
        assert_eq!(
            conversation_id("1514100000000000001", "2900000001"),
            "2900000001-1514100000000000001"
        );
        assert_eq!(conversation_id("1", "2"), "1-2");
    }
}
