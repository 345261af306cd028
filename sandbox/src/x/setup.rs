//! The set-up endpoints of X's API an operator calls once, as `openapi.json` describes them:
//! webhook configs (`/2/webhooks`, CRC-checked when registered), X Activity API subscriptions
//! (`POST`, `GET /2/activity/subscriptions`, `DELETE /2/activity/subscriptions/{subscription_id}`),
//! Account Activity API subscriptions
//! (`POST /2/account_activity/webhooks/{webhook_id}/subscriptions/all`) and replay jobs
//! (`POST /2/webhooks/replay`).
//!
//! Auth follows each operation's `security`: `UserToken` is OAuth 1.0a user context (checked
//! like DM sends), `BearerToken` the app-only bearer token ([`Sandbox::x_bearer_token`]).
//! The sandbox accepts `http://` webhook URLs (real X wants `https://`) so tests can register
//! a local receiver.

// The helpers return the handler's early answer as their error: it is built once, on the way
// out, so its size does not matter.
#![allow(clippy::result_large_err)]

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::{invalid, is_numeric_id, json_object_body, problem, unauthorized};
use crate::{time, Sandbox};

/// A registered webhook config (`WebhookConfig`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct XWebhookConfig {
    pub id: String,
    pub url: String,
    pub valid: bool,
    pub created_at: String,
}

/// An X Activity API subscription as created.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct XActivitySubscription {
    pub subscription_id: String,
    pub event_type: String,
    /// The filter as sent (`user_id`, `direction`, `keyword`).
    pub filter: Value,
    pub webhook_id: Option<String>,
    pub tag: Option<String>,
    pub created_at: String,
}

/// An Account Activity API subscription: `user_id`'s activity goes to `webhook_id`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct XAccountActivitySubscription {
    pub webhook_id: String,
    pub user_id: String,
}

/// A replay job: `from_date` and `to_date` as sent (`yyyymmddhhmm`, UTC).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct XReplayJob {
    pub job_id: String,
    pub webhook_id: String,
    pub from_date: String,
    pub to_date: String,
    pub created_at: String,
}

#[derive(Default)]
pub(crate) struct SetupStore {
    webhooks: Vec<XWebhookConfig>,
    activity: Vec<XActivitySubscription>,
    account_activity: Vec<XAccountActivitySubscription>,
    replays: Vec<XReplayJob>,
    bearer_token: Option<String>,
    /// The app lacks access to these products (403 client-forbidden).
    forbidden: bool,
}

/// The event types of `CreateActivitySubscriptionRequest.event_type`.
const EVENT_TYPES: &[&str] = &[
    "profile.update.bio",
    "profile.update.profile_picture",
    "profile.update.banner_picture",
    "profile.update.screenname",
    "profile.update.geo",
    "profile.update.url",
    "profile.update.verified_badge",
    "profile.update.affiliate_badge",
    "profile.update.handle",
    "news.new",
    "follow.follow",
    "follow.unfollow",
    "spaces.start",
    "spaces.end",
    "broadcast.start",
    "broadcast.end",
    "broadcast.chat",
    "chat.received",
    "chat.sent",
    "chat.conversation.join",
    "chat.conversation_join",
    "chat.conversation.member_added",
    "chat.conversation.member_removed",
    "chat.conversation.admin_added",
    "chat.conversation.admin_removed",
    "chat.update.group_name",
    "chat.update.restrictions",
    "dm.sent",
    "dm.received",
    "dm.indicate_typing",
    "dm.read",
    "post.create",
    "post.delete",
    "post.mention.create",
    "post.reply.create",
    "post.quote.create",
    "post.repost.create",
    "like.create",
    "mute.mute",
    "mute.unmute",
    "block.block",
    "block.unblock",
];

const WEBHOOK_FIELDS: &[&str] = &["created_at", "id", "url", "valid"];

/// X replays at most the past 24 hours.
const REPLAY_WINDOW_SECS: u64 = 24 * 3600;

/// `GET /2/activity/subscriptions`' `max_results`: 1 to 1000, 1000 when unspecified.
const MAX_SUBSCRIPTIONS_PAGE: usize = 1000;

impl Sandbox {
    /// The app-only bearer token the sandbox accepts (`X_BEARER_TOKEN`).
    pub fn x_bearer_token(&self) -> String {
        let store = self.x_store();
        store.setup.bearer_token.clone().unwrap_or_else(|| {
            format!(
                "TEST_ONLY_bearer_{}",
                self.config()
                    .x_consumer_key
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "")
            )
        })
    }

    /// Accept another app-only bearer token from now on.
    pub fn set_x_bearer_token(&self, token: impl Into<String>) {
        self.x_store().setup.bearer_token = Some(token.into());
    }

    /// Whether the app may use the webhook, activity and replay endpoints; when not, they answer
    /// 403 `client-forbidden` as X does for an app without the product. Allowed by default.
    pub fn set_x_product_access(&self, allowed: bool) {
        self.x_store().setup.forbidden = !allowed;
    }

    /// The registered webhook configs, oldest first.
    pub fn x_webhooks(&self) -> Vec<XWebhookConfig> {
        self.x_store().setup.webhooks.clone()
    }

    /// Registers a webhook directly (no CRC), as if done earlier; returns its id.
    pub fn add_x_webhook(&self, url: &str) -> String {
        let webhook = XWebhookConfig {
            id: time::snowflake(),
            url: url.to_owned(),
            valid: true,
            created_at: created_at(),
        };
        let id = webhook.id.clone();
        self.x_store().setup.webhooks.push(webhook);
        id
    }

    /// The X Activity API subscriptions, oldest first.
    pub fn x_activity_subscriptions(&self) -> Vec<XActivitySubscription> {
        self.x_store().setup.activity.clone()
    }

    /// Creates an X Activity API subscription directly (no auth or checks), as if done earlier;
    /// returns its id.
    pub fn add_x_activity_subscription(
        &self,
        event_type: &str,
        filter: Value,
        webhook_id: Option<&str>,
    ) -> String {
        let subscription = XActivitySubscription {
            subscription_id: time::snowflake(),
            event_type: event_type.to_owned(),
            filter,
            webhook_id: webhook_id.map(str::to_owned),
            tag: None,
            created_at: created_at(),
        };
        let id = subscription.subscription_id.clone();
        self.x_store().setup.activity.push(subscription);
        id
    }

    /// Marks a webhook valid or not (`valid` of `GET /2/webhooks`), as X does after its
    /// periodic CRC check succeeds or fails. Returns whether the webhook exists.
    pub fn set_x_webhook_valid(&self, webhook_id: &str, valid: bool) -> bool {
        let mut store = self.x_store();
        match store.setup.webhooks.iter_mut().find(|w| w.id == webhook_id) {
            Some(webhook) => {
                webhook.valid = valid;
                true
            }
            None => false,
        }
    }

    /// The Account Activity API subscriptions, oldest first.
    pub fn x_account_activity_subscriptions(&self) -> Vec<XAccountActivitySubscription> {
        self.x_store().setup.account_activity.clone()
    }

    /// The replay jobs requested, oldest first.
    pub fn x_replay_jobs(&self) -> Vec<XReplayJob> {
        self.x_store().setup.replays.clone()
    }

    /// Whether `url` answers X's CRC challenge for the sandbox's consumer secret.
    pub(super) async fn crc_check_url(&self, url: &str) -> bool {
        let token = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            uuid::Uuid::new_v4().to_string(),
        );
        let expected =
            flex_bridge::x::signature::crc_response_token(&self.config().x_consumer_secret, &token);
        let Ok(response) = self
            .inner
            .http
            .get(url)
            .query(&[("crc_token", &token)])
            .send()
            .await
        else {
            return false;
        };
        if !response.status().is_success() {
            return false;
        }
        let body: Value = response.json().await.unwrap_or_default();
        body.get("response_token").and_then(Value::as_str) == Some(expected.as_str())
    }
}

/// X's timestamps: `2025-06-01T12:00:00.000Z`.
fn created_at() -> String {
    time::now_iso().replace('Z', ".000Z")
}

/// Who made a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    /// OAuth 1.0a as the brand account.
    User,
    /// App-only bearer token.
    App,
}

/// What an operation's `security` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    /// `UserToken` or `BearerToken`.
    Either,
    /// `UserToken` only.
    UserToken,
    /// `BearerToken` only.
    BearerToken,
}

/// Checks the `Authorization` header against what the operation's `security` allows.
fn authenticate(
    sandbox: &Sandbox,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    security: Security,
) -> Result<Caller, Response> {
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
    let caller = match authorization {
        Some(h) if h.len() > 7 && h[..7].eq_ignore_ascii_case("bearer ") => {
            if h[7..].trim() != sandbox.x_bearer_token() {
                tracing::info!("sandbox: X bearer token refused");
                return Err(unauthorized());
            }
            Caller::App
        }
        _ => {
            super::check_oauth(sandbox, method, uri, headers)?;
            Caller::User
        }
    };
    if sandbox.x_store().setup.forbidden {
        return Err(client_forbidden());
    }
    match (caller, security) {
        (Caller::App, Security::UserToken) => Err(unsupported_auth("OAuth 2.0 Application-Only")),
        (Caller::User, Security::BearerToken) => Err(unsupported_auth("OAuth 1.0a User Context")),
        (caller, _) => Ok(caller),
    }
}

/// The checks a set-up call without query parameters starts with, in this order: its auth (as
/// [`authenticate`]), no query string, and its path parameter `path_id` (name and value), if
/// it has one, an id of 1 to 19 digits.
fn check_call(
    sandbox: &Sandbox,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    query: &Option<String>,
    security: Security,
    path_id: Option<(&str, &str)>,
) -> Result<Caller, Response> {
    let caller = authenticate(sandbox, method, uri, headers, security)?;
    no_query(query)?;
    if let Some((name, id)) = path_id {
        if !is_numeric_id(id) {
            return Err(invalid(format!(
                "The `{name}` path parameter value [{id}] does not match ^[0-9]{{1,19}}$"
            )));
        }
    }
    Ok(caller)
}

/// X's answer to an auth type the endpoint does not take.
fn unsupported_auth(kind: &str) -> Response {
    problem(
        StatusCode::FORBIDDEN,
        json!({
            "title": "Unsupported Authentication",
            "detail": format!("Authenticating with {kind} is forbidden for this endpoint.  Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context] or [OAuth 2.0 Application-Only]."),
            "type": "https://api.x.com/2/problems/unsupported-authentication",
            "status": 403,
        }),
    )
}

/// X's answer to an app without access to the product.
fn client_forbidden() -> Response {
    problem(
        StatusCode::FORBIDDEN,
        json!({
            "title": "Client Forbidden",
            "detail": "When authenticating requests to the X API v2 endpoints, you must use keys and tokens from an X developer App that is attached to a Project, with access to this product.",
            "reason": "client-not-enrolled",
            "required_enrollment": "Appropriate Level of API Access",
            "registration_url": "https://developer.x.com/en/portal/products",
            "type": "https://api.x.com/2/problems/client-forbidden",
            "status": 403,
        }),
    )
}

fn not_found(resource_type: &str, id: &str) -> Response {
    problem(
        StatusCode::NOT_FOUND,
        json!({
            "errors": [{"message": format!("{resource_type} {id} not found")}],
            "title": "Not Found Error",
            "detail": format!("Could not find {resource_type} with id: [{id}]."),
            "resource_type": resource_type,
            "resource_id": id,
            "type": "https://api.x.com/2/problems/resource-not-found",
            "status": 404,
        }),
    )
}

fn conflict(detail: String) -> Response {
    problem(
        StatusCode::CONFLICT,
        json!({
            "title": "Conflict",
            "detail": detail,
            "type": "about:blank",
            "status": 409,
        }),
    )
}

fn not_authorized(detail: &str) -> Response {
    problem(
        StatusCode::FORBIDDEN,
        json!({
            "title": "Forbidden",
            "detail": detail,
            "resource_type": "user",
            "type": "https://api.x.com/2/problems/not-authorized-for-resource",
            "status": 403,
        }),
    )
}

/// A JSON object body, as a `requestBody` with `application/json` requires.
fn json_object(headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, Response> {
    json_object_body(headers, body).map_err(invalid)
}

fn no_query(query: &Option<String>) -> Result<(), Response> {
    match query.as_deref().filter(|q| !q.is_empty()) {
        Some(q) => {
            let name = q.split(['=', '&']).next().unwrap_or(q);
            Err(invalid(format!(
                "The query parameter [{name}] is not one of []"
            )))
        }
        None => Ok(()),
    }
}

/// `POST /2/webhooks` (`UserToken` or `BearerToken`): `CreateWebhooksRequest` `{"url"}`; X
/// sends the URL a CRC challenge and registers it only if answered.
pub(super) async fn create_webhook(
    State(sandbox): State<Sandbox>,
    RawQuery(query): RawQuery,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = check_call(
        &sandbox,
        &method,
        &uri,
        &headers,
        &query,
        Security::Either,
        None,
    ) {
        return response;
    }
    let object = match json_object(&headers, &body) {
        Ok(object) => object,
        Err(response) => return response,
    };
    let url = match object.get("url") {
        Some(Value::String(url)) if (1..=200).contains(&url.chars().count()) => url.clone(),
        Some(Value::String(_)) => return invalid("$.url: must be 1 to 200 characters"),
        Some(_) => return invalid("$.url: must be a string"),
        None => return invalid("$.url: is missing but it is required"),
    };
    match reqwest::Url::parse(&url) {
        Ok(parsed) if ["https", "http"].contains(&parsed.scheme()) && parsed.host().is_some() => {}
        _ => {
            return invalid(format!(
                "Invalid webhook URL [{url}]: must be an https:// URL"
            ))
        }
    }
    if let Some(existing) = sandbox
        .x_store()
        .setup
        .webhooks
        .iter()
        .find(|w| w.url == url)
    {
        return invalid(format!(
            "A webhook with URL [{url}] is already registered (id {})",
            existing.id
        ));
    }
    if !sandbox.crc_check_url(&url).await {
        return invalid(format!(
            "CRC check failed: [{url}] did not answer GET ?crc_token=... with the expected response_token"
        ));
    }
    let webhook = XWebhookConfig {
        id: time::snowflake(),
        url,
        valid: true,
        created_at: created_at(),
    };
    sandbox.x_store().setup.webhooks.push(webhook.clone());
    (StatusCode::OK, Json(json!({"data": webhook}))).into_response()
}

/// `GET /2/webhooks` (`BearerToken` only), `webhook_config.fields` optional.
pub(super) async fn list_webhooks(
    State(sandbox): State<Sandbox>,
    RawQuery(query): RawQuery,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = authenticate(&sandbox, &method, &uri, &headers, Security::BearerToken) {
        return response;
    }
    let params: Vec<(String, String)> = query
        .as_deref()
        .map(|q| serde_urlencoded::from_str(q).unwrap_or_default())
        .unwrap_or_default();
    let mut fields: Vec<&str> = WEBHOOK_FIELDS.to_vec();
    for (name, value) in &params {
        if name != "webhook_config.fields" {
            return invalid(format!(
                "The query parameter [{name}] is not one of [webhook_config.fields]"
            ));
        }
        let asked: Vec<&str> = value.split(',').collect();
        for field in &asked {
            if !WEBHOOK_FIELDS.contains(field) {
                return invalid(format!(
                    "The `webhook_config.fields` query parameter value [{field}] is not one of [created_at,id,url,valid]"
                ));
            }
        }
        let mut unique = asked.clone();
        unique.sort_unstable();
        unique.dedup();
        if unique.len() != asked.len() {
            return invalid("The `webhook_config.fields` query parameter has duplicate values");
        }
        fields = asked;
        fields.push("id");
    }
    let data: Vec<Value> = sandbox
        .x_store()
        .setup
        .webhooks
        .iter()
        .map(|w| {
            let full = json!(w);
            Value::Object(
                full.as_object()
                    .unwrap()
                    .iter()
                    .filter(|(k, _)| fields.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            )
        })
        .collect();
    let count = data.len();
    Json(json!({"data": data, "meta": {"result_count": count}})).into_response()
}

/// `DELETE /2/webhooks/{webhook_id}` (`UserToken` or `BearerToken`). Its subscriptions go too.
pub(super) async fn delete_webhook(
    State(sandbox): State<Sandbox>,
    Path(webhook_id): Path<String>,
    RawQuery(query): RawQuery,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = check_call(
        &sandbox,
        &method,
        &uri,
        &headers,
        &query,
        Security::Either,
        Some(("webhook_id", &webhook_id)),
    ) {
        return response;
    }
    let mut store = sandbox.x_store();
    let setup = &mut store.setup;
    let before = setup.webhooks.len();
    setup.webhooks.retain(|w| w.id != webhook_id);
    if setup.webhooks.len() == before {
        return not_found("webhook", &webhook_id);
    }
    setup
        .account_activity
        .retain(|s| s.webhook_id != webhook_id);
    setup
        .activity
        .retain(|s| s.webhook_id.as_deref() != Some(webhook_id.as_str()));
    Json(json!({"data": {"deleted": true}})).into_response()
}

/// `POST /2/activity/subscriptions` (`UserToken` or `BearerToken`; `OAuth2UserToken` is not
/// emulated): `CreateActivitySubscriptionRequest`, additionalProperties false. DM and chat
/// events are private: they need the user's own context (`filter.user_id` = the
/// authenticated user), as do mute and block events.
pub(super) async fn create_activity_subscription(
    State(sandbox): State<Sandbox>,
    RawQuery(query): RawQuery,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let caller = match check_call(
        &sandbox,
        &method,
        &uri,
        &headers,
        &query,
        Security::Either,
        None,
    ) {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let object = match json_object(&headers, &body) {
        Ok(object) => object,
        Err(response) => return response,
    };
    let request = match parse_activity_request(&object) {
        Ok(request) => request,
        Err(detail) => return invalid(detail),
    };
    let (event_type, filter, webhook_id, tag) = request;
    let brand = sandbox.config().x_brand_account_id.clone();
    let private = ["dm.", "chat.", "mute.", "block."]
        .iter()
        .any(|p| event_type.starts_with(p));
    if private {
        if caller != Caller::User {
            return not_authorized(&format!(
                "{event_type} events are private: subscribe in the user's context (OAuth 1.0a or OAuth 2.0 user token)"
            ));
        }
        if filter.get("user_id").and_then(Value::as_str) != Some(brand.as_str()) {
            return not_authorized(&format!(
                "filter.user_id must be the authenticated user ({brand}) for {event_type} events"
            ));
        }
    }
    let mut store = sandbox.x_store();
    let setup = &mut store.setup;
    if let Some(id) = &webhook_id {
        if !setup.webhooks.iter().any(|w| &w.id == id) {
            return not_found("webhook", id);
        }
    }
    if let Some(existing) = setup
        .activity
        .iter()
        .find(|s| s.event_type == event_type && s.filter == filter && s.webhook_id == webhook_id)
    {
        return conflict(format!(
            "A subscription for {event_type} with this filter already exists (subscription_id {})",
            existing.subscription_id
        ));
    }
    let subscription = XActivitySubscription {
        subscription_id: time::snowflake(),
        event_type,
        filter,
        webhook_id,
        tag,
        created_at: created_at(),
    };
    setup.activity.push(subscription.clone());
    let data = subscription_json(&subscription);
    Json(json!({"data": {"subscription": data}})).into_response()
}

/// A subscription as X answers it (`CreateActivitySubscriptionResponseDataSubscription`,
/// `GetActivitySubscriptionsResponseData`): absent fields are left out.
fn subscription_json(subscription: &XActivitySubscription) -> Value {
    let mut data = json!({
        "subscription_id": subscription.subscription_id,
        "event_type": subscription.event_type,
        "filter": subscription.filter,
        "created_at": subscription.created_at,
        "updated_at": subscription.created_at,
    });
    if let Some(id) = &subscription.webhook_id {
        data["webhook_id"] = json!(id);
    }
    if let Some(tag) = &subscription.tag {
        data["tag"] = json!(tag);
    }
    data
}

/// `GET /2/activity/subscriptions` (`UserToken` or `BearerToken`; `OAuth2UserToken` is not
/// emulated): the app's subscriptions, oldest first, `max_results` (1 to 1000, default 1000)
/// a page. A further page's `pagination_token` (base32hex, at least 16 characters) comes in
/// `meta.next_token`, as docs.x.com describes (the spec's `GetActivitySubscriptionsResponse`
/// declares only `data` and `errors`). No subscriptions: no `data` (its minimum is one item).
pub(super) async fn list_activity_subscriptions(
    State(sandbox): State<Sandbox>,
    RawQuery(query): RawQuery,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = authenticate(&sandbox, &method, &uri, &headers, Security::Either) {
        return response;
    }
    let params: Vec<(String, String)> = match query.as_deref().filter(|q| !q.is_empty()) {
        None => Vec::new(),
        Some(q) => match serde_urlencoded::from_str(q) {
            Ok(params) => params,
            Err(_) => return invalid("The query string is malformed"),
        },
    };
    let mut page_size = MAX_SUBSCRIPTIONS_PAGE;
    let mut offset = 0;
    let mut seen = Vec::new();
    for (name, value) in &params {
        if seen.contains(&name.as_str()) {
            return invalid(format!(
                "The query parameter [{name}] is given more than once"
            ));
        }
        seen.push(name.as_str());
        match name.as_str() {
            "max_results" => match value.parse::<usize>() {
                Ok(n) if (1..=MAX_SUBSCRIPTIONS_PAGE).contains(&n) => page_size = n,
                _ => {
                    return invalid(format!(
                        "The `max_results` query parameter value [{value}] is not between 1 and 1000"
                    ))
                }
            },
            "pagination_token" => match decode_page_token(value) {
                Some(at) => offset = at,
                None => {
                    return invalid(format!(
                        "The `pagination_token` query parameter value [{value}] is not a valid pagination token"
                    ))
                }
            },
            _ => {
                return invalid(format!(
                    "The query parameter [{name}] is not one of [max_results,pagination_token]"
                ))
            }
        }
    }
    let store = sandbox.x_store();
    let all = &store.setup.activity;
    let page: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(page_size)
        .map(subscription_json)
        .collect();
    let mut meta = json!({"result_count": page.len()});
    let next = offset.saturating_add(page_size);
    if next < all.len() {
        meta["next_token"] = json!(encode_page_token(next));
    }
    let mut body = json!({"meta": meta});
    if !page.is_empty() {
        body["data"] = json!(page);
    }
    Json(body).into_response()
}

/// `DELETE /2/activity/subscriptions/{subscription_id}` (`BearerToken` only):
/// `DeleteActivitySubscriptionResponse` `{"data": {"deleted": true}}`.
pub(super) async fn delete_activity_subscription(
    State(sandbox): State<Sandbox>,
    Path(subscription_id): Path<String>,
    RawQuery(query): RawQuery,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = check_call(
        &sandbox,
        &method,
        &uri,
        &headers,
        &query,
        Security::BearerToken,
        Some(("subscription_id", &subscription_id)),
    ) {
        return response;
    }
    let mut store = sandbox.x_store();
    let activity = &mut store.setup.activity;
    let before = activity.len();
    activity.retain(|s| s.subscription_id != subscription_id);
    if activity.len() == before {
        return not_found("subscription", &subscription_id);
    }
    Json(json!({"data": {"deleted": true}})).into_response()
}

/// base32hex (RFC 4648, `0-9A-V`) of 10 bytes: 16 characters, no padding.
const BASE32HEX: &[u8; 32] = b"0123456789ABCDEFGHIJKLMNOPQRSTUV";

/// The pagination token of the page starting at `offset`: the offset's 8 bytes after a
/// two-byte marker, in base32hex (16 characters, the spec's minimum length).
fn encode_page_token(offset: usize) -> String {
    let mut bytes = [0u8; 10];
    bytes[..2].copy_from_slice(b"sp");
    bytes[2..].copy_from_slice(&(offset as u64).to_be_bytes());
    let bits = bytes
        .iter()
        .fold(0u128, |acc, b| (acc << 8) | u128::from(*b));
    (0..16)
        .map(|i| BASE32HEX[((bits >> (75 - 5 * i)) & 31) as usize] as char)
        .collect()
}

fn decode_page_token(token: &str) -> Option<usize> {
    if token.len() != 16 {
        return None;
    }
    let mut bits = 0u128;
    for c in token.bytes() {
        let value = BASE32HEX
            .iter()
            .position(|b| *b == c.to_ascii_uppercase())?;
        bits = (bits << 5) | value as u128;
    }
    let bytes: Vec<u8> = (0..10).rev().map(|i| (bits >> (8 * i)) as u8).collect();
    if &bytes[..2] != b"sp" {
        return None;
    }
    let offset = u64::from_be_bytes(bytes[2..].try_into().ok()?);
    usize::try_from(offset).ok()
}

type ActivityRequest = (String, Value, Option<String>, Option<String>);

fn parse_activity_request(object: &Map<String, Value>) -> Result<ActivityRequest, String> {
    if let Some(key) = object
        .keys()
        .find(|k| !["event_type", "filter", "tag", "webhook_id"].contains(&k.as_str()))
    {
        return Err(format!(
            "[{key}] is not one of [event_type,filter,tag,webhook_id]"
        ));
    }
    let event_type = match object.get("event_type") {
        None => return Err("$.event_type: is missing but it is required".into()),
        Some(Value::String(t)) if EVENT_TYPES.contains(&t.as_str()) => {
            // Responses use the canonical name.
            if t == "chat.conversation_join" {
                "chat.conversation.join".to_owned()
            } else {
                t.clone()
            }
        }
        Some(other) => return Err(format!("$.event_type: {other} is not a known event type")),
    };
    let filter = match object.get("filter") {
        None => return Err("$.filter: is missing but it is required".into()),
        Some(Value::Object(filter)) => filter,
        Some(_) => return Err("$.filter: must be an object".into()),
    };
    if let Some(key) = filter
        .keys()
        .find(|k| !["direction", "keyword", "user_id"].contains(&k.as_str()))
    {
        return Err(format!(
            "$.filter: [{key}] is not one of [direction,keyword,user_id]"
        ));
    }
    for key in ["direction", "keyword", "user_id"] {
        if filter.get(key).is_some_and(|v| !v.is_string()) {
            return Err(format!("$.filter.{key}: must be a string"));
        }
    }
    if let Some(direction) = filter.get("direction").and_then(Value::as_str) {
        if !["inbound", "outbound"].contains(&direction) {
            return Err(format!(
                "$.filter.direction: [{direction}] is not one of [inbound,outbound]"
            ));
        }
        if event_type.starts_with("mute.") || event_type.starts_with("block.") {
            return Err("$.filter.direction: not supported for mute.* or block.* events".into());
        }
    }
    let tag = match object.get("tag") {
        None => None,
        Some(Value::String(t)) if (1..=200).contains(&t.chars().count()) => Some(t.clone()),
        Some(_) => return Err("$.tag: must be a string of 1 to 200 characters".into()),
    };
    let webhook_id = match object.get("webhook_id") {
        None => None,
        Some(Value::String(id)) if is_numeric_id(id) => Some(id.clone()),
        Some(_) => return Err("$.webhook_id: must match ^[0-9]{1,19}$".into()),
    };
    Ok((event_type, Value::Object(filter.clone()), webhook_id, tag))
}

/// `POST /2/account_activity/webhooks/{webhook_id}/subscriptions/all` (`UserToken`; the
/// `OAuth2UserToken` alternative is not emulated): subscribes the authenticated user.
/// `CreateAccountActivitySubscriptionRequest` is an object with no properties.
pub(super) async fn create_account_activity_subscription(
    State(sandbox): State<Sandbox>,
    Path(webhook_id): Path<String>,
    RawQuery(query): RawQuery,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = check_call(
        &sandbox,
        &method,
        &uri,
        &headers,
        &query,
        Security::UserToken,
        Some(("webhook_id", &webhook_id)),
    ) {
        return response;
    }
    if let Err(response) = json_object(&headers, &body) {
        return response;
    }
    let user_id = sandbox.config().x_brand_account_id.clone();
    let mut store = sandbox.x_store();
    let setup = &mut store.setup;
    if !setup.webhooks.iter().any(|w| w.id == webhook_id) {
        return not_found("webhook", &webhook_id);
    }
    let subscription = XAccountActivitySubscription {
        webhook_id,
        user_id,
    };
    if setup.account_activity.contains(&subscription) {
        return conflict(format!(
            "User {} is already subscribed to webhook {}",
            subscription.user_id, subscription.webhook_id
        ));
    }
    setup.account_activity.push(subscription);
    Json(json!({"data": {"subscribed": true}})).into_response()
}

/// `POST /2/webhooks/replay` (`BearerToken` only): `CreateWebhookReplayJobRequest`
/// `{webhook_id, from_date, to_date}`, dates `yyyymmddhhmm` UTC within the past 24 hours.
pub(super) async fn create_replay_job(
    State(sandbox): State<Sandbox>,
    RawQuery(query): RawQuery,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = check_call(
        &sandbox,
        &method,
        &uri,
        &headers,
        &query,
        Security::BearerToken,
        None,
    ) {
        return response;
    }
    let object = match json_object(&headers, &body) {
        Ok(object) => object,
        Err(response) => return response,
    };
    let field = |name: &str| -> Result<String, Response> {
        match object.get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(invalid(format!("$.{name}: must be a string"))),
            None => Err(invalid(format!("$.{name}: is missing but it is required"))),
        }
    };
    let (webhook_id, from_date, to_date) =
        match (field("webhook_id"), field("from_date"), field("to_date")) {
            (Ok(a), Ok(b), Ok(c)) => (a, b, c),
            (Err(r), _, _) | (_, Err(r), _) | (_, _, Err(r)) => return r,
        };
    if !is_numeric_id(&webhook_id) {
        return invalid("$.webhook_id: must match ^[0-9]{1,19}$");
    }
    let (Some(from), Some(to)) = (parse_yyyymmddhhmm(&from_date), parse_yyyymmddhhmm(&to_date))
    else {
        return invalid("$.from_date and $.to_date: must match ^[0-9]{12}$ (yyyymmddhhmm, UTC)");
    };
    let now = time::now_secs();
    if from > to {
        return invalid("from_date must not be after to_date");
    }
    // Minutes are whole: the minute that contains "24 hours ago" still counts.
    if from + REPLAY_WINDOW_SECS + 60 < now {
        return invalid("from_date must be within the past 24 hours");
    }
    if to > now + 60 {
        return invalid("to_date must not be in the future");
    }
    let mut store = sandbox.x_store();
    let setup = &mut store.setup;
    if !setup.webhooks.iter().any(|w| w.id == webhook_id) {
        return not_found("webhook", &webhook_id);
    }
    let job = XReplayJob {
        job_id: time::snowflake(),
        webhook_id,
        from_date,
        to_date,
        created_at: created_at(),
    };
    setup.replays.push(job.clone());
    Json(json!({"data": {"job_id": job.job_id, "created_at": job.created_at}})).into_response()
}

/// `yyyymmddhhmm` (UTC) into Unix seconds; None unless 12 digits of a real date and time.
fn parse_yyyymmddhhmm(s: &str) -> Option<u64> {
    if s.len() != 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().ok();
    let time = flex_bridge::calendar::UtcDateTime {
        year: n(0..4)?,
        month: n(4..6)?,
        day: n(6..8)?,
        hour: n(8..10)?,
        minute: n(10..12)?,
        second: 0,
    };
    u64::try_from(time.to_epoch()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_dates_are_minutes_in_utc() {
        assert_eq!(parse_yyyymmddhhmm("197001010000"), Some(0));
        assert_eq!(parse_yyyymmddhhmm("202406011230"), Some(1_717_245_000));
        assert_eq!(parse_yyyymmddhhmm("202402290000"), Some(1_709_164_800));
        for bad in [
            "202302290000",
            "202413010000",
            "20240601123",
            "2024-06-01T1",
            "202406012460",
        ] {
            assert_eq!(parse_yyyymmddhhmm(bad), None, "{bad}");
        }
    }

    #[test]
    fn page_tokens_are_base32hex_and_round_trip() {
        for offset in [0, 1, 2, 999, 1000, 123_456_789] {
            let token = encode_page_token(offset);
            assert_eq!(token.len(), 16, "{token}");
            assert!(token.bytes().all(|b| BASE32HEX.contains(&b)), "{token}");
            assert_eq!(decode_page_token(&token), Some(offset), "{token}");
        }
        for bad in [
            "",
            "0000000000000000",
            "WWWWWWWWWWWWWWWW",
            "short",
            "{\"page\":1}xxxxxx",
        ] {
            assert_eq!(decode_page_token(bad), None, "{bad}");
        }
    }

    #[test]
    fn activity_requests_follow_the_spec() {
        let ok = |v: Value| parse_activity_request(v.as_object().unwrap());
        let (event, filter, webhook, tag) = ok(json!({
            "event_type": "dm.received", "filter": {"user_id": "1"}, "webhook_id": "12", "tag": "t"
        }))
        .unwrap();
        assert_eq!(
            (event.as_str(), webhook.as_deref(), tag.as_deref()),
            ("dm.received", Some("12"), Some("t"))
        );
        assert_eq!(filter, json!({"user_id": "1"}));
        for bad in [
            json!({"filter": {}}),
            json!({"event_type": "dm.received"}),
            json!({"event_type": "dm.nope", "filter": {}}),
            json!({"event_type": "dm.received", "filter": {"user": "1"}}),
            json!({"event_type": "dm.received", "filter": {}, "extra": 1}),
            json!({"event_type": "dm.received", "filter": {"direction": "up"}}),
            json!({"event_type": "mute.mute", "filter": {"direction": "inbound"}}),
            json!({"event_type": "dm.received", "filter": {}, "webhook_id": "abc"}),
            json!({"event_type": "dm.received", "filter": {}, "tag": ""}),
        ] {
            assert!(ok(bad.clone()).is_err(), "{bad}");
        }
    }
}
