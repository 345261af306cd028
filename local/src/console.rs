//! The local web console, served next to the bridge's API routes: an agent desk in Flex's place,
//! an X customer and a Discord customer, and the cases.
//!
//! Everything the console does to the bridge goes through the sandbox, as in production: the
//! customer's DMs, commands, clicks and form submissions become signed X webhooks and Discord
//! interactions, and the agent's accept, replies and end of chat become signed Twilio webhooks.
//! The browser calls the sandbox's own control routes (`/sandbox/...`) on the console's origin:
//! the customer's actions are recorded here on the way (so their side of the thread can be shown:
//! the sandbox only keeps what the bridge sent) and everything else is forwarded to the
//! sandbox's port. Only the operator's case actions (resolve, reopen) call the library directly,
//! as the operator CLI does.
//!
//! | route | does |
//! |---|---|
//! | `GET /`, `/console.css`, `/console.js` | the console (compiled in) |
//! | `GET /console/api/state` | the snapshot the console renders (see [`Console::snapshot`]) |
//! | `GET /console/api/events` | server-sent events: the snapshot, each time it changes |
//! | `GET /console/api/cases` | every case, newest first |
//! | `POST /console/api/cases/{id}/resolve` `{note}` | resolves it as the operator (a bug's or feature's reporter is told) |
//! | `POST /console/api/cases/{id}/reopen` `{note}` | reopens it as the operator |
//! | `POST /console/api/customers` `{platform, id, name}` | remembers an X customer or Discord user |
//! | `POST /sandbox/x/dm`, `/sandbox/discord/command`, `/click`, `/modal` | the sandbox's routes, recorded |
//! | `ANY /sandbox/...` | forwarded to the sandbox |

use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use flex_bridge::cases::{self, Case, CaseFilter, CaseStore};
use flex_bridge::queue::Queue;
use flex_bridge::store::Store;
use futures_util::Stream;
use sandbox::control::{
    borrowed, string_pairs, CustomerDm, DiscordClick, DiscordCommand, DiscordModal,
};
use sandbox::{DiscordReply, DiscordUser, Sandbox, XDelivery};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

const INDEX_HTML: &str = include_str!("../console/index.html");
const CONSOLE_CSS: &str = include_str!("../console/console.css");
const CONSOLE_JS: &str = include_str!("../console/console.js");

/// How often a connected console's state is looked at; it is sent only when it changed.
const POLL: Duration = Duration::from_millis(300);

/// Who resolves and reopens cases from the console (as with the CLI).
const OPERATOR: &str = "operator";

/// The console's state and the handles it drives. Cloning is cheap.
#[derive(Clone)]
pub struct Console {
    inner: Arc<Inner>,
}

struct Inner {
    sandbox: Sandbox,
    store: Arc<dyn Store>,
    queue: Arc<dyn Queue>,
    bot_name: String,
    http: reqwest::Client,
    log: Mutex<Log>,
}

/// What the customers did through the console, in order.
#[derive(Default)]
struct Log {
    x: Vec<XCustomer>,
    discord: Vec<DiscordCustomer>,
    next_id: u64,
}

struct XCustomer {
    id: String,
    handle: String,
    sent: Vec<XSent>,
}

/// A DM the customer wrote: `after` the brand's first `after` DMs to them.
#[derive(Clone, Serialize)]
struct XSent {
    id: u64,
    after: usize,
    text: String,
    /// The bridge's answer to the webhook (after X's retries); `None` while in flight.
    status: Option<u16>,
}

struct DiscordCustomer {
    id: String,
    username: String,
    actions: Vec<DiscordAction>,
}

/// A slash command, button click or form submission: `after` the bot's first `after` messages
/// in the user's DM channel.
#[derive(Clone, Serialize)]
struct DiscordAction {
    id: u64,
    after: usize,
    /// `command`, `click` or `modal`.
    kind: &'static str,
    /// What the user did, as they would see it (`/helpme question: …`, `Talk to an agent`).
    label: String,
    /// What the bridge answered the interaction with; `None` while in flight.
    reply: Option<DiscordReply>,
}

impl Log {
    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn x_customer(&mut self, id: &str, handle: &str) -> &mut XCustomer {
        let handle = handle.trim().trim_start_matches('@');
        let index = match self.x.iter().position(|c| c.id == id) {
            Some(index) => index,
            None => {
                self.x.push(XCustomer {
                    id: id.to_owned(),
                    handle: handle.to_owned(),
                    sent: Vec::new(),
                });
                self.x.len() - 1
            }
        };
        let customer = &mut self.x[index];
        if !handle.is_empty() {
            customer.handle = handle.to_owned();
        }
        customer
    }

    fn discord_user(&mut self, id: &str, username: &str) -> &mut DiscordCustomer {
        let index = match self.discord.iter().position(|c| c.id == id) {
            Some(index) => index,
            None => {
                self.discord.push(DiscordCustomer {
                    id: id.to_owned(),
                    username: username.to_owned(),
                    actions: Vec::new(),
                });
                self.discord.len() - 1
            }
        };
        let user = &mut self.discord[index];
        if !username.trim().is_empty() {
            user.username = username.trim().to_owned();
        }
        user
    }
}

/// Why a case action was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error(transparent)]
    Case(#[from] cases::CaseError),
    #[error("{0}")]
    Queue(String),
    #[error("{0}")]
    Store(String),
}

/// The case the operator named; one that cannot be a case id is not found.
fn case_id(id: &str) -> Result<cases::CaseId, cases::CaseError> {
    id.parse()
        .map_err(|_| cases::CaseError::NotFound(id.to_owned()))
}

impl Console {
    pub fn new(
        sandbox: Sandbox,
        store: Arc<dyn Store>,
        queue: Arc<dyn Queue>,
        bot_name: impl Into<String>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                sandbox,
                store,
                queue,
                bot_name: bot_name.into(),
                http: flex_bridge::http::http_client_builder()
                    .timeout(Duration::from_secs(30))
                    .build()
                    .unwrap_or_default(),
                log: Mutex::new(Log::default()),
            }),
        }
    }

    fn log(&self) -> MutexGuard<'_, Log> {
        self.inner
            .log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn sandbox(&self) -> &Sandbox {
        &self.inner.sandbox
    }

    /// Shows an X customer (even before they write).
    pub fn add_x_customer(&self, id: &str, handle: &str) {
        self.log().x_customer(id, handle);
    }

    /// Shows a Discord user (even before they act).
    pub fn add_discord_user(&self, id: &str, username: &str) {
        self.log().discord_user(id, username);
    }

    /// The customer DMs the brand: a signed Account Activity webhook, with X's retries
    /// ([`Sandbox::customer_dm`]), recorded for the customer's thread.
    pub async fn x_dm(&self, sender_id: &str, screen_name: &str, text: &str) -> XDelivery {
        let after = self.sandbox().dms_to(sender_id).len();
        let id = {
            let mut log = self.log();
            let id = log.next_id();
            log.x_customer(sender_id, screen_name).sent.push(XSent {
                id,
                after,
                text: text.to_owned(),
                status: None,
            });
            id
        };
        let delivery = self
            .sandbox()
            .customer_dm(sender_id, screen_name, text)
            .await;
        let mut log = self.log();
        let customer = log.x_customer(sender_id, "");
        if let Some(sent) = customer.sent.iter_mut().find(|s| s.id == id) {
            sent.status = Some(delivery.status);
        }
        delivery
    }

    /// Records an interaction the user is about to make; returns its id.
    fn begin_action(&self, user: &DiscordUser, kind: &'static str, label: String) -> u64 {
        let after = self.sandbox().discord_dms_to(&user.id).len();
        let mut log = self.log();
        let id = log.next_id();
        log.discord_user(&user.id, &user.username)
            .actions
            .push(DiscordAction {
                id,
                after,
                kind,
                label,
                reply: None,
            });
        id
    }

    fn end_action(&self, user: &DiscordUser, id: u64, reply: &DiscordReply) {
        let mut log = self.log();
        let entry = log.discord_user(&user.id, "");
        if let Some(action) = entry.actions.iter_mut().find(|a| a.id == id) {
            action.reply = Some(reply.clone());
        }
    }

    /// The user runs a slash command ([`Sandbox::discord_command`]), recorded.
    pub async fn discord_command(
        &self,
        user: &DiscordUser,
        in_guild: bool,
        name: &str,
        options: &[(&str, &str)],
    ) -> DiscordReply {
        let mut label = format!("/{name}");
        for (option, value) in options {
            label.push_str(&format!(" {option}: {value}"));
        }
        let id = self.begin_action(user, "command", label);
        let reply = self
            .sandbox()
            .discord_command(user, in_guild, name, options)
            .await;
        self.end_action(user, id, &reply);
        reply
    }

    /// The user clicks a button on one of the bot's messages ([`Sandbox::discord_click`]),
    /// recorded with the button's label.
    pub async fn discord_click(
        &self,
        user: &DiscordUser,
        message_id: &str,
        custom_id: &str,
    ) -> DiscordReply {
        let label = self
            .sandbox()
            .discord_dms_to(&user.id)
            .iter()
            .find(|m| m.id == message_id)
            .and_then(|m| button_label(&m.components, custom_id))
            .unwrap_or_else(|| custom_id.to_owned());
        let id = self.begin_action(user, "click", label);
        let reply = self
            .sandbox()
            .discord_click(user, message_id, custom_id)
            .await;
        self.end_action(user, id, &reply);
        reply
    }

    /// The user submits a form ([`Sandbox::discord_modal_submit`]), recorded.
    pub async fn discord_modal(
        &self,
        user: &DiscordUser,
        custom_id: &str,
        fields: &[(&str, &str)],
        label_shape: bool,
    ) -> DiscordReply {
        let label = fields
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("\n");
        let id = self.begin_action(user, "modal", label);
        let reply = self
            .sandbox()
            .discord_modal_submit(user, custom_id, fields, label_shape)
            .await;
        self.end_action(user, id, &reply);
        reply
    }

    /// Every case, newest first.
    pub async fn cases(&self) -> Result<Vec<Case>, ConsoleError> {
        let store: &dyn CaseStore = &*self.inner.store;
        let mut all = Vec::new();
        let mut page: Option<String> = None;
        // Enough for any local session; a page is a few hundred cases.
        for _ in 0..50 {
            let listed = store
                .list_cases(&CaseFilter::default(), page.as_deref(), 200)
                .await
                .map_err(|e| ConsoleError::Store(e.to_string()))?;
            all.extend(listed.cases);
            match listed.next {
                Some(next) => page = Some(next),
                None => break,
            }
        }
        all.sort_by_key(|c| std::cmp::Reverse(c.number()));
        Ok(all)
    }

    /// The operator resolves a case with a note; a bug's or feature's reporter is told through
    /// the delivery queue (as `flex-bridge cases resolve` does).
    pub async fn resolve_case(&self, id: &str, note: &str) -> Result<Case, ConsoleError> {
        let case = cases::resolve(&*self.inner.store, &case_id(id)?, OPERATOR, note).await?;
        if let Some(job) = flex_bridge::queue::resolved_notice(&case, note) {
            job.enqueue(&*self.inner.queue)
                .await
                .map_err(|e| ConsoleError::Queue(format!("{} resolved, but {e}", case.id)))?;
        }
        Ok(case)
    }

    /// The operator reopens a resolved case with a note.
    pub async fn reopen_case(&self, id: &str, note: &str) -> Result<Case, ConsoleError> {
        Ok(cases::reopen(&*self.inner.store, &case_id(id)?, OPERATOR, note).await?)
    }

    /// Everything the console shows: Flex tasks and conversations, each X customer's thread
    /// (what they wrote, interleaved with the brand's DMs), each Discord user's DM channel and
    /// interactions, and the cases.
    pub async fn snapshot(&self) -> Value {
        let sandbox = self.sandbox();
        let tasks = sandbox.tasks();
        let conversations = sandbox.conversations();
        let (cases, cases_error) = match self.cases().await {
            Ok(cases) => (cases, None),
            Err(err) => (Vec::new(), Some(err.to_string())),
        };

        // Customers seen anywhere: through the console, in conversations, cases and sent DMs.
        let mut seen: Vec<(String, String, String)> = Vec::new();
        for conversation in &conversations {
            for participant in &conversation.participants {
                let handle = serde_json::from_str::<Value>(&participant.attributes)
                    .ok()
                    .and_then(|a| a["handle"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                if let Some((platform, id)) = participant.identity.split_once('-') {
                    seen.push((platform.to_owned(), id.to_owned(), handle));
                }
            }
        }
        for case in &cases {
            if let Some((platform, id)) = case.reporter.split_once('-') {
                seen.push((platform.to_owned(), id.to_owned(), String::new()));
            }
        }
        for dm in sandbox.sent_dms() {
            seen.push(("x".into(), dm.participant_id, String::new()));
        }
        {
            let mut log = self.log();
            for (platform, id, handle) in seen {
                let handle = handle.trim_start_matches('@');
                let known_x = log.x.iter().any(|c| c.id == id);
                let known_discord = log.discord.iter().any(|c| c.id == id);
                match platform.as_str() {
                    "x" if !known_x => {
                        log.x_customer(&id, if handle.is_empty() { &id } else { handle });
                    }
                    "discord" if !known_discord => {
                        log.discord_user(&id, if handle.is_empty() { &id } else { handle });
                    }
                    _ => {}
                }
            }
        }
        let (x, discord) = {
            let log = self.log();
            let x: Vec<(String, String, Vec<XSent>)> = log
                .x
                .iter()
                .map(|c| (c.id.clone(), c.handle.clone(), c.sent.clone()))
                .collect();
            let discord: Vec<(String, String, Vec<DiscordAction>)> = log
                .discord
                .iter()
                .map(|c| (c.id.clone(), c.username.clone(), c.actions.clone()))
                .collect();
            (x, discord)
        };

        let x_customers: Vec<Value> = x
            .into_iter()
            .map(|(id, handle, sent)| {
                let brand = sandbox.dms_to(&id);
                json!({
                    "id": id,
                    "handle": handle,
                    "thread": x_thread(&sent, &brand),
                })
            })
            .collect();
        let discord_users: Vec<Value> = discord
            .into_iter()
            .map(|(id, username, actions)| {
                let actions: Vec<Value> = actions
                    .into_iter()
                    .map(|action| {
                        let original = action
                            .reply
                            .as_ref()
                            .and_then(|r| sandbox.discord_original(&r.token));
                        let mut value = serde_json::to_value(&action).unwrap_or(Value::Null);
                        value["original"] = json!(original);
                        value
                    })
                    .collect();
                json!({
                    "id": id,
                    "username": username,
                    "channel_id": sandbox.discord_dm_channel(&id),
                    "messages": sandbox.discord_dms_to(&id),
                    "actions": actions,
                })
            })
            .collect();

        json!({
            "bot_name": self.inner.bot_name,
            "sandbox_url": sandbox.url(),
            "tasks": tasks,
            "conversations": conversations,
            "x_customers": x_customers,
            "discord_users": discord_users,
            "cases": cases,
            "cases_error": cases_error,
        })
    }

    /// The console's routes (see the module docs), to merge into the bridge's router.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/", get(index))
            .route("/console.css", get(css))
            .route("/console.js", get(js))
            .route("/console/api/state", get(state))
            .route("/console/api/events", get(events))
            .route("/console/api/cases", get(list_cases))
            .route("/console/api/cases/{id}/resolve", post(resolve))
            .route("/console/api/cases/{id}/reopen", post(reopen))
            .route("/console/api/customers", post(add_customer))
            .route("/sandbox/x/dm", post(x_dm))
            .route("/sandbox/discord/command", post(discord_command))
            .route("/sandbox/discord/click", post(discord_click))
            .route("/sandbox/discord/modal", post(discord_modal))
            .route("/sandbox", any(forward))
            .route("/sandbox/{*rest}", any(forward))
            .with_state(self.clone())
    }
}

/// The label of the button `custom_id` in a message's action rows.
fn button_label(components: &Value, custom_id: &str) -> Option<String> {
    components
        .as_array()?
        .iter()
        .flat_map(|row| row["components"].as_array().into_iter().flatten())
        .find(|c| c["custom_id"] == custom_id)
        .and_then(|c| c["label"].as_str().map(str::to_owned))
}

/// The customer's DMs interleaved with the brand's, oldest first.
fn x_thread(sent: &[XSent], brand: &[String]) -> Vec<Value> {
    let mut thread = Vec::new();
    let mut mine = sent.iter().peekable();
    for (n, text) in brand.iter().enumerate() {
        while let Some(dm) = mine.next_if(|dm| dm.after <= n) {
            thread.push(json!({"from": "customer", "text": dm.text, "status": dm.status}));
        }
        thread.push(json!({"from": "brand", "text": text}));
    }
    for dm in mine {
        thread.push(json!({"from": "customer", "text": dm.text, "status": dm.status}));
    }
    thread
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

async fn css() -> Response {
    asset("text/css; charset=utf-8", CONSOLE_CSS)
}

async fn js() -> Response {
    asset("text/javascript; charset=utf-8", CONSOLE_JS)
}

async fn state(State(console): State<Console>) -> Response {
    Json(console.snapshot().await).into_response()
}

/// The snapshot now, then again each time it changes.
async fn events(
    State(console): State<Console>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream =
        futures_util::stream::unfold((console, String::new()), |(console, last)| async move {
            loop {
                let now = console.snapshot().await.to_string();
                if now != last {
                    let event = Event::default().event("state").data(now.clone());
                    return Some((Ok(event), (console, now)));
                }
                tokio::time::sleep(POLL).await;
            }
        });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, Json(json!({"error": message.to_string()}))).into_response()
}

async fn list_cases(State(console): State<Console>) -> Response {
    match console.cases().await {
        Ok(cases) => Json(cases).into_response(),
        Err(err) => error(StatusCode::BAD_GATEWAY, err),
    }
}

#[derive(Deserialize)]
struct Note {
    #[serde(default)]
    note: String,
}

impl ConsoleError {
    fn status(&self) -> StatusCode {
        match self {
            ConsoleError::Case(cases::CaseError::NotFound(_)) => StatusCode::NOT_FOUND,
            ConsoleError::Case(cases::CaseError::Transition { .. }) => StatusCode::CONFLICT,
            _ => StatusCode::BAD_GATEWAY,
        }
    }
}

fn note_text(note: &str, default: &str) -> String {
    match note.trim() {
        "" => default.to_owned(),
        text => text.to_owned(),
    }
}

async fn resolve(
    State(console): State<Console>,
    Path(id): Path<String>,
    Json(request): Json<Note>,
) -> Response {
    let note = note_text(&request.note, "resolved from the console");
    match console.resolve_case(&id, &note).await {
        Ok(case) => Json(case).into_response(),
        Err(err) => error(err.status(), err),
    }
}

async fn reopen(
    State(console): State<Console>,
    Path(id): Path<String>,
    Json(request): Json<Note>,
) -> Response {
    let note = note_text(&request.note, "reopened from the console");
    match console.reopen_case(&id, &note).await {
        Ok(case) => Json(case).into_response(),
        Err(err) => error(err.status(), err),
    }
}

#[derive(Deserialize)]
struct NewCustomer {
    platform: String,
    id: String,
    #[serde(default)]
    name: String,
}

async fn add_customer(
    State(console): State<Console>,
    Json(request): Json<NewCustomer>,
) -> Response {
    let id = request.id.trim();
    let numeric = !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit());
    if !numeric {
        return error(StatusCode::BAD_REQUEST, "the id must be a number");
    }
    let name = request.name.trim().trim_start_matches('@');
    let name = if name.is_empty() { id } else { name };
    match request.platform.as_str() {
        "x" => console.add_x_customer(id, name),
        "discord" if id.len() >= 17 => console.add_discord_user(id, name),
        "discord" => return error(StatusCode::BAD_REQUEST, "a Discord id has 17 to 20 digits"),
        _ => return error(StatusCode::BAD_REQUEST, "platform is x or discord"),
    }
    Json(json!({"ok": true})).into_response()
}

async fn x_dm(State(console): State<Console>, Json(request): Json<CustomerDm>) -> Response {
    let delivery = console
        .x_dm(&request.sender_id, &request.screen_name, &request.text)
        .await;
    Json(delivery).into_response()
}

async fn discord_command(
    State(console): State<Console>,
    Json(request): Json<DiscordCommand>,
) -> Response {
    let user = request.user();
    let options = string_pairs(&request.options);
    let reply = console
        .discord_command(&user, request.in_guild, &request.name, &borrowed(&options))
        .await;
    Json(reply).into_response()
}

async fn discord_click(
    State(console): State<Console>,
    Json(request): Json<DiscordClick>,
) -> Response {
    let user = request.user();
    let reply = console
        .discord_click(&user, &request.message_id, &request.custom_id)
        .await;
    Json(reply).into_response()
}

async fn discord_modal(
    State(console): State<Console>,
    Json(request): Json<DiscordModal>,
) -> Response {
    let user = request.user();
    let fields = string_pairs(&request.fields);
    let reply = console
        .discord_modal(
            &user,
            &request.custom_id,
            &borrowed(&fields),
            request.label_shape,
        )
        .await;
    Json(reply).into_response()
}

/// Any other `/sandbox/...` route: forwarded to the sandbox's port as is, so the browser stays
/// on one origin.
async fn forward(State(console): State<Console>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let url = format!("{}{path}", console.sandbox().url());
    let body: Bytes = match axum::body::to_bytes(body, 1 << 20).await {
        Ok(body) => body,
        Err(_) => return error(StatusCode::PAYLOAD_TOO_LARGE, "body too large"),
    };
    let mut outgoing = console.inner.http.request(parts.method, &url).body(body);
    if let Some(content_type) = parts.headers.get(header::CONTENT_TYPE) {
        outgoing = outgoing.header(header::CONTENT_TYPE, content_type);
    }
    let answer = match outgoing.send().await {
        Ok(answer) => answer,
        Err(err) => return error(StatusCode::BAD_GATEWAY, format!("sandbox: {err}")),
    };
    let status = answer.status();
    let content_type = answer
        .headers()
        .get(header::CONTENT_TYPE)
        .cloned()
        .unwrap_or(HeaderValue::from_static("application/json"));
    let bytes = answer.bytes().await.unwrap_or_default();
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(after: usize, text: &str) -> XSent {
        XSent {
            id: 0,
            after,
            text: text.into(),
            status: Some(200),
        }
    }

    #[test]
    fn the_x_thread_interleaves_what_the_customer_wrote() {
        let brand = vec!["answer 1".to_owned(), "answer 2".to_owned()];
        let thread = x_thread(&[sent(0, "q1"), sent(1, "q2"), sent(2, "q3")], &brand);
        let texts: Vec<&str> = thread.iter().map(|t| t["text"].as_str().unwrap()).collect();
        assert_eq!(texts, ["q1", "answer 1", "q2", "answer 2", "q3"]);
        assert_eq!(thread[1]["from"], "brand");
    }

    #[test]
    fn a_button_label_is_found_in_the_action_rows() {
        let rows = json!([{"type": 1, "components": [
            {"type": 2, "custom_id": "agent", "label": "Talk to an agent", "style": 2}
        ]}]);
        assert_eq!(
            button_label(&rows, "agent").as_deref(),
            Some("Talk to an agent")
        );
        assert_eq!(button_label(&rows, "reply"), None);
    }
}
