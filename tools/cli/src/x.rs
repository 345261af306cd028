//! `flex-bridge x webhook register | list | delete`, `x subscribe`, `x subscriptions list |
//! delete` and `x replay`: the X side of the set-up, with the X API v2 endpoints of X's OpenAPI
//! spec (`shared/specs/twitter/openapi.json` beside the repository; what is used of it is
//! written down here, so nothing reads the spec at run time).
//!
//! Each call uses an auth the spec's `security` lists for it and the bridge's credentials can do:
//!
//! | command                 | endpoint                                                        | auth            |
//! |-------------------------|-----------------------------------------------------------------|-----------------|
//! | `webhook register URL`  | `POST /2/webhooks` `{"url"}`                                    | OAuth 1.0a user |
//! | `webhook list`          | `GET /2/webhooks?webhook_config.fields=created_at,id,url,valid` | app Bearer (only) |
//! | `webhook delete ID`     | `DELETE /2/webhooks/{webhook_id}`                               | OAuth 1.0a user |
//! | `subscribe [--mentions [--keyword W]]` | `GET /2/activity/subscriptions`, then `POST` of each one missing | OAuth 1.0a user |
//! | `subscribe --account-activity` | `POST /2/account_activity/webhooks/{id}/subscriptions/all` | OAuth 1.0a user |
//! | `subscriptions list`    | `GET /2/activity/subscriptions?max_results=1000` (+ `pagination_token`) | OAuth 1.0a user |
//! | `subscriptions delete ID` | `DELETE /2/activity/subscriptions/{subscription_id}`         | app Bearer (only) |
//! | `replay`                | `POST /2/webhooks/replay` (`yyyymmddhhmm` UTC dates)           | app Bearer      |
//!
//! `subscribe` asks for (`CreateActivitySubscriptionRequest`, `additionalProperties: false`:
//! `event_type`, `filter`, `tag`, `webhook_id`; `CreateActivitySubscriptionFilter`: `user_id`,
//! `direction` (`inbound`/`outbound`), `keyword`):
//!
//! - `dm.received`, filter `{"user_id": X_ACCOUNT_ID, "direction": "inbound"}`: DM events are
//!   private, so user context as the brand account;
//! - with `--mentions`, `post.mention.create`, filter `{"user_id": X_ACCOUNT_ID}` and, with
//!   `--keyword W`, `"keyword": W` (the spec's `Keyword`: 1 to 150 characters).
//!
//! An identical subscription (same `event_type`, filter and `webhook_id`) already listed is
//! reported and not created again. Listing answers `GetActivitySubscriptionsResponse` (`data`:
//! `subscription_id`, `event_type`, `filter`, `webhook_id`, `tag`, `created_at`, `updated_at`;
//! no `data` when there are none); further pages' token is `meta.next_token` (docs.x.com).
//! Deleting answers `DeleteActivitySubscriptionResponse` `{"data": {"deleted": bool}}`.
//!
//! OAuth 1.0a reads `X_CONSUMER_KEY`, `X_CONSUMER_SECRET`, `X_ACCESS_TOKEN` and
//! `X_ACCESS_TOKEN_SECRET`; the app-only calls read `X_BEARER_TOKEN`; all read `X_API_URL`
//! (default `https://api.x.com`). Finding the webhook when `--webhook-id` is absent lists the
//! webhooks, so it needs `X_BEARER_TOKEN` too.

use flex_bridge_core::calendar::UtcDateTime;
use std::io::Write;

use flex_bridge_core::config::{schema, ConfigError, Env, Secret};
use flex_bridge_core::retry::HttpError;
use flex_bridge_x::{Method, XApiConfig, XAuth, XClient};
use serde_json::{json, Value};

use crate::{XCommand, XSubscriptionsCommand, XWebhookCommand};

/// X replays at most the past 24 hours.
pub const REPLAY_WINDOW_SECS: i64 = 24 * 3600;

/// The event type of the brand's DMs, and of public posts that mention it.
pub const DM_RECEIVED: &str = "dm.received";
pub const POST_MENTION_CREATE: &str = "post.mention.create";

/// The `tag` the bridge's subscriptions carry (the spec allows 1 to 200 characters).
pub const TAG: &str = "flex-bridge";

/// The spec's `Keyword`: 1 to 150 characters.
pub const MAX_KEYWORD_CHARS: usize = 150;

/// `GET /2/activity/subscriptions`' largest page (`max_results` 1 to 1000).
const SUBSCRIPTIONS_PAGE: &str = "1000";

/// Pages followed at most when listing (1000 a page): a loop guard, far beyond any app's count.
const MAX_PAGES: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// A bad argument, or nothing to act on.
    #[error("{0}")]
    Argument(String),
    /// `message` is X's `detail` (or `title`) when its answer has one, else `error` as is.
    #[error("X refused to {action}: {message}{hint}")]
    X {
        action: &'static str,
        error: Box<HttpError>,
        message: String,
        hint: String,
    },
    #[error("X answered something unexpected to {action}: {body}")]
    Unexpected { action: &'static str, body: String },
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

/// Which credentials a call is made with (for the hints).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Auth {
    User,
    App,
}

/// The clients a command needs, read from the environment at once (every missing variable is
/// named in one error).
pub(crate) struct Clients {
    client: XClient,
    bearer: Option<Secret>,
}

impl Clients {
    /// For `doctor`, which reads the configuration itself: `bearer` for the app-only calls.
    pub(crate) fn new(client: XClient, bearer: Option<Secret>) -> Self {
        Self { client, bearer }
    }

    fn from_env(mut env: Env, user: bool, app: bool) -> Result<Self, Error> {
        let api_url = env.required(&schema::X_API_URL);
        let config = if user {
            XApiConfig::from_env(&mut env)
        } else {
            XApiConfig {
                consumer_key: String::new(),
                consumer_secret: Secret::new(""),
                access_token: String::new(),
                access_token_secret: Secret::new(""),
                api_url,
            }
        };
        let bearer = app.then(|| env.secret(&schema::X_BEARER_TOKEN));
        env.finish()?;
        Ok(Self {
            client: XClient::new(flex_bridge_core::http::http_client(), config),
            bearer,
        })
    }

    async fn call(
        &self,
        action: &'static str,
        auth: Auth,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Value, Error> {
        let x_auth = match (auth, &self.bearer) {
            (Auth::App, Some(bearer)) => XAuth::App(bearer),
            _ => XAuth::User,
        };
        self.client
            .call_json(method, path, query, body, x_auth)
            .await
            .map_err(|error| {
                let hint = hint(&error, auth, action);
                Error::X {
                    action,
                    message: message(&error),
                    error: Box::new(error),
                    hint,
                }
            })
    }

    /// Every X Activity API subscription (`GET /2/activity/subscriptions`, page after page), in
    /// user context as the brand account.
    pub(crate) async fn subscriptions(&self) -> Result<Vec<Subscription>, Error> {
        let action = "list the X Activity subscriptions";
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![("max_results", SUBSCRIPTIONS_PAGE)];
            if let Some(token) = &token {
                query.push(("pagination_token", token.as_str()));
            }
            let body = self
                .call(
                    action,
                    Auth::User,
                    Method::GET,
                    "/2/activity/subscriptions",
                    &query,
                    None,
                )
                .await?;
            match body.get("data") {
                None | Some(Value::Null) => {}
                Some(Value::Array(items)) => all.extend(items.iter().map(Subscription::from_json)),
                Some(_) => return Err(unexpected(action, &body)),
            }
            match body.pointer("/meta/next_token").and_then(Value::as_str) {
                Some(next) if !next.is_empty() && token.as_deref() != Some(next) => {
                    token = Some(next.to_owned())
                }
                _ => return Ok(all),
            }
        }
        Ok(all)
    }

    pub(crate) async fn webhooks(&self) -> Result<Vec<Webhook>, Error> {
        let action = "list the webhooks";
        let body = self
            .call(
                action,
                Auth::App,
                Method::GET,
                "/2/webhooks",
                &[("webhook_config.fields", "created_at,id,url,valid")],
                None,
            )
            .await?;
        match body.get("data") {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items.iter().map(Webhook::from_json).collect()),
            Some(_) => Err(unexpected(action, &body)),
        }
    }

    /// `--webhook-id`, or the only registered webhook.
    async fn webhook_id(&self, given: Option<String>) -> Result<String, Error> {
        if let Some(id) = given {
            return check_id(&id);
        }
        let webhooks = self.webhooks().await?;
        match webhooks.as_slice() {
            [only] => Ok(only.id.clone()),
            [] => Err(Error::Argument(
                "no webhook is registered: register the bridge's with `flex-bridge x webhook register https://<bridge host>/twitter/webhook`".into(),
            )),
            many => Err(Error::Argument(format!(
                "{} webhooks are registered ({}): say which with --webhook-id",
                many.len(),
                many.iter()
                    .map(|w| format!("{} {}", w.id, w.url))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

/// A `WebhookConfig`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub valid: Option<bool>,
    pub created_at: String,
}

impl Webhook {
    fn from_json(value: &Value) -> Self {
        let text = |k: &str| {
            value
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        Self {
            id: text("id"),
            url: text("url"),
            valid: value.get("valid").and_then(Value::as_bool),
            created_at: text("created_at"),
        }
    }

    fn valid(&self) -> &'static str {
        match self.valid {
            Some(true) => "true",
            Some(false) => "false",
            None => "-",
        }
    }
}

/// An X Activity API subscription's filter (`CreateActivitySubscriptionFilter`,
/// `GetActivitySubscriptionsResponseDataFilter`): absent fields are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub user_id: Option<String>,
    pub direction: Option<String>,
    pub keyword: Option<String>,
}

impl Filter {
    fn from_json(value: Option<&Value>) -> Self {
        let text = |k: &str| {
            value
                .and_then(|v| v.get(k))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Self {
            user_id: text("user_id"),
            direction: text("direction"),
            keyword: text("keyword"),
        }
    }

    fn to_json(&self) -> Value {
        let mut filter = serde_json::Map::new();
        for (key, value) in [
            ("user_id", &self.user_id),
            ("direction", &self.direction),
            ("keyword", &self.keyword),
        ] {
            if let Some(value) = value {
                filter.insert(key.into(), json!(value));
            }
        }
        Value::Object(filter)
    }
}

impl std::fmt::Display for Filter {
    /// `user_id=123,direction=inbound,keyword="help"` (no spaces unless the keyword has some);
    /// `-` for an empty filter.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(user_id) = &self.user_id {
            parts.push(format!("user_id={user_id}"));
        }
        if let Some(direction) = &self.direction {
            parts.push(format!("direction={direction}"));
        }
        if let Some(keyword) = &self.keyword {
            parts.push(format!("keyword={keyword:?}"));
        }
        if parts.is_empty() {
            f.write_str("-")
        } else {
            f.write_str(&parts.join(","))
        }
    }
}

/// An X Activity API subscription (`GetActivitySubscriptionsResponseData`,
/// `CreateActivitySubscriptionResponseDataSubscription`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: String,
    pub event_type: String,
    pub filter: Filter,
    pub webhook_id: Option<String>,
    pub tag: Option<String>,
    pub created_at: String,
}

impl Subscription {
    fn from_json(value: &Value) -> Self {
        let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_owned);
        Self {
            id: text("subscription_id").unwrap_or_default(),
            event_type: text("event_type").unwrap_or_default(),
            filter: Filter::from_json(value.get("filter")),
            webhook_id: text("webhook_id"),
            tag: text("tag"),
            created_at: text("created_at").unwrap_or_default(),
        }
    }

    /// Whether it delivers `event_type` with exactly `filter` to `webhook_id`.
    pub fn is(&self, event_type: &str, filter: &Filter, webhook_id: &str) -> bool {
        self.event_type == event_type
            && &self.filter == filter
            && self.webhook_id.as_deref() == Some(webhook_id)
    }
}

/// The subscriptions the bridge wants for the brand account `account_id`: DMs to it (inbound
/// only) and, with `mentions`, public posts that mention it (with `keyword` if given).
pub fn wanted_subscriptions(
    account_id: &str,
    mentions: bool,
    keyword: Option<&str>,
) -> Vec<(&'static str, Filter)> {
    let mut wanted = vec![(
        DM_RECEIVED,
        Filter {
            user_id: Some(account_id.to_owned()),
            direction: Some("inbound".into()),
            keyword: None,
        },
    )];
    if mentions {
        wanted.push((
            POST_MENTION_CREATE,
            Filter {
                user_id: Some(account_id.to_owned()),
                direction: None,
                keyword: keyword.map(str::to_owned),
            },
        ));
    }
    wanted
}

fn unexpected(action: &'static str, body: &Value) -> Error {
    Error::Unexpected {
        action,
        body: body.to_string().chars().take(300).collect(),
    }
}

fn check_id(id: &str) -> Result<String, Error> {
    check_id_of(id, "webhook", "x webhook list")
}

/// `id` when it is X's form of an id (`^[0-9]{1,19}$`), else an error naming `what` and the
/// command that lists them.
fn check_id_of(id: &str, what: &str, lister: &str) -> Result<String, Error> {
    if (1..=19).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(id.to_owned())
    } else {
        Err(Error::Argument(format!(
            "not a {what} id: {id:?} (X's ids are 1 to 19 digits; `flex-bridge {lister}` shows them)"
        )))
    }
}

/// `x answered 400: <X's detail>`: the problem's `detail` (or `title`) rather than its JSON,
/// which the error keeps only the start of.
fn message(error: &HttpError) -> String {
    let Some(status) = error.status else {
        return error.to_string();
    };
    let parsed: Option<Value> = serde_json::from_str(&error.detail).ok();
    let field = |name: &str| -> Option<String> {
        if let Some(value) = &parsed {
            return value.get(name).and_then(Value::as_str).map(str::to_owned);
        }
        // Cut short: the field's string, if it is all there.
        let start = error.detail.find(&format!("\"{name}\":\""))? + name.len() + 4;
        let rest = &error.detail[start..];
        let mut end = None;
        let mut escaped = false;
        for (i, c) in rest.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => {
                    end = Some(i);
                    break;
                }
                _ => escaped = false,
            }
        }
        serde_json::from_str(&format!("\"{}\"", &rest[..end?])).ok()
    };
    match field("detail").or_else(|| field("title")) {
        Some(text) => format!("x answered {}: {text}", status.as_u16()),
        None => error.to_string(),
    }
}

/// What to check for the usual failures.
fn hint(error: &HttpError, auth: Auth, action: &str) -> String {
    let status = error.status.map(|s| s.as_u16());
    match (status, auth) {
        (Some(401), Auth::User) => "\nCheck the four X credentials: X_CONSUMER_KEY and X_CONSUMER_SECRET (Developer Portal > your app > Keys and tokens > Consumer Keys), X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET (the brand account's Access Token and Secret). Regenerating a key invalidates the old one; the access token must be generated again after the consumer keys are.".into(),
        (Some(401), Auth::App) => "\nCheck X_BEARER_TOKEN: Developer Portal > your app > Keys and tokens > Bearer Token (regenerate it if the consumer keys were regenerated).".into(),
        (Some(403), _) => "\nCheck the app's permissions and product access: User authentication settings must allow \"Read and write and Direct message\" (then generate X_ACCESS_TOKEN again), and the app must be in a Project with access to the X Activity API / Account Activity API (Developer Portal > Products).".into(),
        (Some(404), _) if action.contains("subscription") && !action.starts_with("create") => "\nNo such subscription: `flex-bridge x subscriptions list` shows them.".into(),
        (Some(404), _) => "\nNo such webhook: `flex-bridge x webhook list` shows the registered ones.".into(),
        (Some(409), _) => "\nIt already exists: nothing to do.".into(),
        (Some(400), _) if action == "register the webhook" => "\nX sends the URL a CRC challenge (GET ?crc_token=...): the bridge must be deployed there and answer it, signed with the same X_CONSUMER_SECRET; the URL must be https:// and at most 200 characters, and not registered already.".into(),
        (Some(429), _) => "\nRate limited: try again later.".into(),
        (None, _) => "\nCheck X_API_URL and the network.".into(),
        _ => String::new(),
    }
}

pub async fn run(command: XCommand, env: Env, out: &mut dyn Write) -> Result<(), Error> {
    match command {
        XCommand::Webhook(XWebhookCommand::Register { url }) => register(env, &url, out).await,
        XCommand::Webhook(XWebhookCommand::List) => list(env, out).await,
        XCommand::Webhook(XWebhookCommand::Delete { id }) => delete(env, &id, out).await,
        XCommand::Subscribe {
            account_activity,
            webhook_id,
            mentions,
            keyword,
        } => {
            if account_activity {
                subscribe_account_activity(env, webhook_id, out).await
            } else {
                subscribe(env, webhook_id, mentions, keyword.as_deref(), out).await
            }
        }
        XCommand::Subscriptions(XSubscriptionsCommand::List) => list_subscriptions(env, out).await,
        XCommand::Subscriptions(XSubscriptionsCommand::Delete { id }) => {
            delete_subscription(env, &id, out).await
        }
        XCommand::Replay {
            from,
            to,
            webhook_id,
        } => replay(env, &from, to.as_deref(), webhook_id, out).await,
    }
}

async fn register(env: Env, url: &str, out: &mut dyn Write) -> Result<(), Error> {
    if !(url.starts_with("https://") || url.starts_with("http://")) || url.chars().count() > 200 {
        return Err(Error::Argument(format!(
            "not a webhook URL: {url:?} (X wants an https:// URL of at most 200 characters, e.g. https://<bridge host>/twitter/webhook)"
        )));
    }
    let clients = Clients::from_env(env, true, false)?;
    let action = "register the webhook";
    let body = clients
        .call(
            action,
            Auth::User,
            Method::POST,
            "/2/webhooks",
            &[],
            Some(&json!({ "url": url })),
        )
        .await?;
    let webhook = body
        .get("data")
        .filter(|d| d.get("id").is_some())
        .map(Webhook::from_json)
        .ok_or_else(|| unexpected(action, &body))?;
    writeln!(out, "Registered webhook {}", webhook.id)?;
    writeln!(out, "  url         {}", webhook.url)?;
    writeln!(out, "  valid       {}", webhook.valid())?;
    writeln!(out, "  created_at  {}", webhook.created_at)?;
    writeln!(
        out,
        "Next: `flex-bridge x subscribe` to have the brand account's DMs delivered to it."
    )?;
    Ok(())
}

async fn list(env: Env, out: &mut dyn Write) -> Result<(), Error> {
    let clients = Clients::from_env(env, false, true)?;
    let webhooks = clients.webhooks().await?;
    if webhooks.is_empty() {
        writeln!(
            out,
            "No webhooks registered. Register one with `flex-bridge x webhook register URL`."
        )?;
        return Ok(());
    }
    let id_width = webhooks
        .iter()
        .map(|w| w.id.len())
        .max()
        .unwrap_or(0)
        .max(2);
    let url_width = webhooks
        .iter()
        .map(|w| w.url.chars().count())
        .max()
        .unwrap_or(0)
        .max(3);
    writeln!(
        out,
        "{:<id_width$}  {:<url_width$}  {:<5}  CREATED_AT",
        "ID", "URL", "VALID"
    )?;
    for w in &webhooks {
        writeln!(
            out,
            "{:<id_width$}  {:<url_width$}  {:<5}  {}",
            w.id,
            w.url,
            w.valid(),
            w.created_at
        )?;
    }
    Ok(())
}

async fn delete(env: Env, id: &str, out: &mut dyn Write) -> Result<(), Error> {
    let id = check_id(id)?;
    let clients = Clients::from_env(env, true, false)?;
    let path = format!("/2/webhooks/{id}");
    let action = "delete the webhook";
    delete_one(&clients, action, Auth::User, &path, "webhook", &id, out).await
}

/// `DELETE`s one webhook or subscription (`what`) at `path` and says whether X did
/// (`data.deleted`).
async fn delete_one(
    clients: &Clients,
    action: &'static str,
    auth: Auth,
    path: &str,
    what: &str,
    id: &str,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let body = clients
        .call(action, auth, Method::DELETE, path, &[], None)
        .await?;
    match body.pointer("/data/deleted").and_then(Value::as_bool) {
        Some(true) => writeln!(out, "Deleted {what} {id}.")?,
        Some(false) => writeln!(out, "X did not delete {what} {id}.")?,
        None => return Err(unexpected(action, &body)),
    }
    Ok(())
}

/// `subscribe --account-activity`: the Account Activity API, until it ends on 2027-01-01.
async fn subscribe_account_activity(
    env: Env,
    webhook_id: Option<String>,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let clients = Clients::from_env(env, true, webhook_id.is_none())?;
    let webhook_id = clients.webhook_id(webhook_id).await?;
    let action = "create the Account Activity subscription";
    let body = clients
        .call(
            action,
            Auth::User,
            Method::POST,
            &format!("/2/account_activity/webhooks/{webhook_id}/subscriptions/all"),
            &[],
            Some(&json!({})),
        )
        .await?;
    if body.pointer("/data/subscribed").and_then(Value::as_bool) != Some(true) {
        return Err(unexpected(action, &body));
    }
    writeln!(
        out,
        "Subscribed the brand account (the user of X_ACCESS_TOKEN) to webhook {webhook_id} with the Account Activity API."
    )?;
    Ok(())
}

/// `subscribe [--mentions [--keyword W]]`: the X Activity API subscriptions the bridge needs,
/// each created unless an identical one exists.
async fn subscribe(
    mut env: Env,
    webhook_id: Option<String>,
    mentions: bool,
    keyword: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), Error> {
    if let Some(keyword) = keyword {
        let chars = keyword.chars().count();
        if keyword.trim().is_empty() || chars > MAX_KEYWORD_CHARS {
            return Err(Error::Argument(format!(
                "--keyword {keyword:?}: X takes a keyword of 1 to {MAX_KEYWORD_CHARS} characters"
            )));
        }
    }
    let account_id = env.required(&schema::X_ACCOUNT_ID);
    let clients = Clients::from_env(env, true, webhook_id.is_none())?;
    let webhook_id = clients.webhook_id(webhook_id).await?;
    let existing = clients.subscriptions().await?;
    for (event_type, filter) in wanted_subscriptions(&account_id, mentions, keyword) {
        if let Some(found) = existing
            .iter()
            .find(|s| s.is(event_type, &filter, &webhook_id))
        {
            writeln!(
                out,
                "Already subscribed with the X Activity API: subscription {} ({event_type}, {filter}, webhook {webhook_id}): not created again.",
                found.id
            )?;
        } else {
            let action = "create the X Activity subscription";
            let body = clients
                .call(
                    action,
                    Auth::User,
                    Method::POST,
                    "/2/activity/subscriptions",
                    &[],
                    Some(&json!({
                        "event_type": event_type,
                        "filter": filter.to_json(),
                        "webhook_id": webhook_id,
                        "tag": TAG,
                    })),
                )
                .await?;
            let created = body
                .pointer("/data/subscription")
                .filter(|s| s.get("subscription_id").is_some())
                .map(Subscription::from_json)
                .ok_or_else(|| unexpected(action, &body))?;
            let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
            writeln!(
                out,
                "Subscribed with the X Activity API: subscription {}",
                created.id
            )?;
            writeln!(out, "  event_type  {}", created.event_type)?;
            writeln!(out, "  filter      {}", created.filter)?;
            writeln!(out, "  webhook_id  {}", or_dash(&created.webhook_id))?;
            writeln!(out, "  created_at  {}", created.created_at)?;
        }
        // Another subscription of the same kind for the brand on this webhook (e.g. one made
        // without `direction` by an earlier version): X delivers its events too.
        for other in existing.iter().filter(|s| {
            s.event_type == event_type
                && s.filter.user_id == filter.user_id
                && s.webhook_id.as_deref() == Some(webhook_id.as_str())
                && s.filter != filter
        }) {
            writeln!(
                out,
                "Note: subscription {} ({event_type}, {}) delivers to the same webhook; the bridge drops what it gets twice, or remove it with `flex-bridge x subscriptions delete {}`.",
                other.id, other.filter, other.id
            )?;
        }
    }
    if !mentions {
        writeln!(
            out,
            "Public mentions of the brand: `flex-bridge x subscribe --mentions` (with X_MENTIONS=notify or reply)."
        )?;
    }
    Ok(())
}

async fn list_subscriptions(env: Env, out: &mut dyn Write) -> Result<(), Error> {
    let clients = Clients::from_env(env, true, false)?;
    let subscriptions = clients.subscriptions().await?;
    if subscriptions.is_empty() {
        writeln!(
            out,
            "No X Activity subscriptions. Create the bridge's with `flex-bridge x subscribe`."
        )?;
        return Ok(());
    }
    let rows: Vec<[String; 5]> = subscriptions
        .iter()
        .map(|s| {
            [
                s.id.clone(),
                s.event_type.clone(),
                s.filter.to_string(),
                s.webhook_id.clone().unwrap_or_else(|| "-".into()),
                s.tag.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let header = ["ID", "EVENT_TYPE", "FILTER", "WEBHOOK_ID", "TAG"];
    let widths: Vec<usize> = (0..4)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: [&str; 5]| {
        format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
        )
    };
    writeln!(out, "{}", line(header))?;
    for r in &rows {
        writeln!(
            out,
            "{}",
            line([
                r[0].as_str(),
                r[1].as_str(),
                r[2].as_str(),
                r[3].as_str(),
                r[4].as_str()
            ])
        )?;
    }
    Ok(())
}

async fn delete_subscription(env: Env, id: &str, out: &mut dyn Write) -> Result<(), Error> {
    let id = check_id_of(id, "subscription", "x subscriptions list")?;
    // The spec's DELETE /2/activity/subscriptions/{subscription_id} takes the app's bearer
    // token only.
    let clients = Clients::from_env(env, false, true)?;
    let path = format!("/2/activity/subscriptions/{id}");
    let action = "delete the X Activity subscription";
    delete_one(&clients, action, Auth::App, &path, "subscription", &id, out).await
}

async fn replay(
    env: Env,
    from: &str,
    to: Option<&str>,
    webhook_id: Option<String>,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let now = flex_bridge_core::now_epoch();
    let from_secs = parse_time(from).map_err(|e| Error::Argument(format!("--from: {e}")))?;
    let to_secs = match to {
        Some(to) => parse_time(to).map_err(|e| Error::Argument(format!("--to: {e}")))?,
        None => now,
    };
    // X takes whole minutes: the minute that contains each end counts.
    let (from_secs, to_secs) = (
        from_secs - from_secs.rem_euclid(60),
        to_secs - to_secs.rem_euclid(60),
    );
    if from_secs > to_secs {
        return Err(Error::Argument(format!(
            "--from ({}) is after --to ({})",
            utc_minute(from_secs),
            utc_minute(to_secs)
        )));
    }
    if to_secs > now {
        return Err(Error::Argument(format!(
            "--to ({}) is in the future",
            utc_minute(to_secs)
        )));
    }
    if from_secs + REPLAY_WINDOW_SECS < now - now.rem_euclid(60) {
        return Err(Error::Argument(format!(
            "--from ({}) is more than 24 hours ago: X replays only the past 24 hours",
            utc_minute(from_secs)
        )));
    }
    let clients = Clients::from_env(env, false, true)?;
    let webhook_id = clients.webhook_id(webhook_id).await?;
    let (from_date, to_date) = (x_minute(from_secs), x_minute(to_secs));
    let action = "create the replay job";
    let body = clients
        .call(
            action,
            Auth::App,
            Method::POST,
            "/2/webhooks/replay",
            &[],
            Some(&json!({
                "webhook_id": webhook_id,
                "from_date": from_date,
                "to_date": to_date,
            })),
        )
        .await?;
    let job_id = body
        .pointer("/data/job_id")
        .and_then(Value::as_str)
        .ok_or_else(|| unexpected(action, &body))?;
    let created_at = body
        .pointer("/data/created_at")
        .and_then(Value::as_str)
        .unwrap_or("-");
    writeln!(out, "Replay job {job_id} created at {created_at}")?;
    writeln!(out, "  webhook_id  {webhook_id}")?;
    writeln!(out, "  from        {} ({from_date})", utc_minute(from_secs))?;
    writeln!(out, "  to          {} ({to_date})", utc_minute(to_secs))?;
    writeln!(
        out,
        "X redelivers the events of that window to the webhook; the bridge drops the ones it already handled."
    )?;
    Ok(())
}

/// RFC 3339 (`2025-06-01T12:30:00Z`, `2025-06-01T14:30:00+02:00`, seconds optional) or X's
/// `YYYYMMDDHHmm` (UTC) into Unix seconds.
pub fn parse_time(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let bad = || {
        format!("{s:?} is not a time: use RFC 3339 (2025-06-01T12:30:00Z) or YYYYMMDDHHmm in UTC (202506011230)")
    };
    let num = |part: &str| -> Result<i64, String> {
        if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    if !s.is_ascii() {
        return Err(bad());
    }
    let (y, mo, d, h, mi, sec, offset);
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        (y, mo, d, h, mi, sec, offset) = (
            num(&s[0..4])?,
            num(&s[4..6])?,
            num(&s[6..8])?,
            num(&s[8..10])?,
            num(&s[10..12])?,
            0,
            0,
        );
    } else {
        let b = s.as_bytes();
        if b.len() < 17
            || b[4] != b'-'
            || b[7] != b'-'
            || !matches!(b[10], b'T' | b't' | b' ')
            || b[13] != b':'
        {
            return Err(bad());
        }
        (y, mo, d, h, mi) = (
            num(&s[0..4])?,
            num(&s[5..7])?,
            num(&s[8..10])?,
            num(&s[11..13])?,
            num(&s[14..16])?,
        );
        let mut rest = &s[16..];
        let mut seconds = 0;
        if let Some(r) = rest.strip_prefix(':') {
            if r.len() < 2 {
                return Err(bad());
            }
            seconds = num(&r[..2])?;
            rest = &r[2..];
            if let Some(frac) = rest.strip_prefix('.') {
                let n = frac.bytes().take_while(u8::is_ascii_digit).count();
                if n == 0 {
                    return Err(bad());
                }
                rest = &frac[n..];
            }
        }
        sec = seconds;
        offset = match rest.as_bytes() {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
                let minutes = num(&rest[1..3])? * 60 + num(&rest[4..6])?;
                if *sign == b'+' {
                    minutes * 60
                } else {
                    -minutes * 60
                }
            }
            _ => {
                return Err(format!(
                    "{s:?} has no time zone: end it with Z (UTC) or an offset such as +02:00"
                ))
            }
        };
    }
    let time = UtcDateTime {
        year: y,
        month: mo,
        day: d,
        hour: h,
        minute: mi,
        second: sec,
    };
    Ok(time.to_epoch().ok_or_else(bad)? - offset)
}

/// X's `yyyymmddhhmm` (UTC) for Unix seconds.
pub fn x_minute(secs: i64) -> String {
    let t = UtcDateTime::from_epoch(secs);
    format!(
        "{:04}{:02}{:02}{:02}{:02}",
        t.year, t.month, t.day, t.hour, t.minute
    )
}

/// `2025-06-01 12:30 UTC` for Unix seconds.
pub fn utc_minute(secs: i64) -> String {
    format!("{} UTC", UtcDateTime::from_epoch(secs).to_minute())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_both_formats() {
        assert_eq!(parse_time("197001010000"), Ok(0));
        assert_eq!(parse_time("2024-06-01T12:30:00Z"), Ok(1_717_245_000));
        assert_eq!(parse_time("2024-06-01T12:30Z"), Ok(1_717_245_000));
        assert_eq!(
            parse_time("2024-06-01T14:30:00.123+02:00"),
            Ok(1_717_245_000)
        );
        assert_eq!(parse_time("2024-06-01T07:30:59-05:00"), Ok(1_717_245_059));
        assert_eq!(parse_time("202406011230"), Ok(1_717_245_000));
        assert_eq!(x_minute(1_717_245_059), "202406011230");
        assert_eq!(utc_minute(1_717_245_000), "2024-06-01 12:30 UTC");
        assert_eq!(
            x_minute(parse_time("2024-02-29T23:59:00Z").unwrap()),
            "202402292359"
        );
        for bad in [
            "yesterday",
            "2024-06-01T12:30:00",
            "2024-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "20240601123",
            "202406012460",
            "2024-06-01T12:3é:00Z",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
        assert!(parse_time("2024-06-01T12:30:00")
            .unwrap_err()
            .contains("time zone"));
    }

    #[test]
    fn x_problems_are_shown_by_their_detail() {
        let error = |detail: &str| HttpError {
            service: "x",
            status: Some(axum::http::StatusCode::BAD_REQUEST),
            retry_after: None,
            detail: detail.to_owned(),
            unsent: false,
        };
        assert_eq!(
            message(&error(
                r#"{"title":"Invalid Request","detail":"CRC \"failed\""}"#
            )),
            r#"x answered 400: CRC "failed""#
        );
        assert_eq!(
            message(&error(r#"{"detail":"cut short","title":"Invalid Req"#)),
            "x answered 400: cut short"
        );
        assert_eq!(message(&error("plain text")), "x answered 400: plain text");
    }

    #[test]
    fn the_wanted_subscriptions_follow_the_spec_filter() {
        let wanted = wanted_subscriptions("42", true, Some("help"));
        let bodies: Vec<(&str, Value)> = wanted.iter().map(|(t, f)| (*t, f.to_json())).collect();
        assert_eq!(
            bodies,
            [
                (
                    "dm.received",
                    json!({"user_id": "42", "direction": "inbound"})
                ),
                (
                    "post.mention.create",
                    json!({"user_id": "42", "keyword": "help"})
                ),
            ]
        );
        // CreateActivitySubscriptionFilter's properties, and no others.
        for (_, filter) in &bodies {
            for key in filter.as_object().unwrap().keys() {
                assert!(["direction", "keyword", "user_id"].contains(&key.as_str()));
            }
        }
        assert_eq!(wanted_subscriptions("42", false, None).len(), 1);
        assert_eq!(
            wanted[0].1.to_string(),
            "user_id=42,direction=inbound".to_owned()
        );
        assert_eq!(wanted[1].1.to_string(), r#"user_id=42,keyword="help""#);
        assert_eq!(Filter::default().to_string(), "-");
    }

    #[test]
    fn a_listed_subscription_is_read_with_its_filter() {
        let listed = Subscription::from_json(&json!({
            "subscription_id": "1", "event_type": "dm.received", "created_at": "t",
            "filter": {"user_id": "42", "direction": "inbound"}, "webhook_id": "7", "tag": "x"
        }));
        let (_, filter) = &wanted_subscriptions("42", false, None)[0];
        assert!(listed.is("dm.received", filter, "7"));
        assert!(!listed.is("dm.received", filter, "8"));
        assert!(!listed.is("dm.sent", filter, "7"));
        let without_direction = Filter {
            direction: None,
            ..filter.clone()
        };
        assert!(!listed.is("dm.received", &without_direction, "7"));
    }

    #[test]
    fn ids_are_checked_before_any_call() {
        assert!(check_id("1234").is_ok());
        assert!(check_id("12a").is_err());
        assert!(check_id("").is_err());
    }
}
