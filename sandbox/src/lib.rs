//! A stateful loopback emulator of the Twilio (Conversations, Flex Interactions, TaskRouter), X
//! and Discord API subsets Flex Bridge uses.
//!
//! [`Sandbox::start`] serves, on `127.0.0.1` and an ephemeral port:
//! - Twilio Conversations v1 REST (`/v1/Conversations...`, `/v1/ParticipantConversations`;
//!   form-encoded, Basic auth), see [`twilio`];
//! - on the same base URL, auth, fault gate and request count (in production other hosts): the
//!   Flex Interactions API (`POST /v1/Interactions`, `GET /v1/Interactions/{sid}`), whose
//!   interaction creates a TaskRouter task, and TaskRouter's tasks
//!   (`GET /v1/Workspaces/{ws}/Tasks` with filters and `EvaluateTaskAttributes`,
//!   `GET /v1/Workspaces/{ws}/Tasks/{sid}`), see [`twilio::tasks`];
//! - the X DM send endpoint (`/2/dm_conversations/with/{id}/messages`, OAuth 1.0a), see [`x`];
//! - Discord REST v10 (`/api/v10/...`: DM channels, messages, interaction replies, commands;
//!   `Authorization: Bot`), see [`discord`];
//! - JSON control routes under `/sandbox/...` for a web console, see [`control`].
//!
//! It also plays the other side: the customer on X (signed Account Activity webhooks, with X's
//! retries), the customer on Discord (Ed25519-signed interactions: slash commands, button clicks,
//! modal submissions) and the agent in Flex (accepting a task, replying, ending the chat: signed
//! Conversations webhooks). Everything is in memory and strict: what the official OpenAPI specs
//! would refuse, the sandbox refuses too, so a bridge that passes against it sends well-formed
//! requests.

pub mod control;
pub mod discord;
pub mod faults;
mod time;
pub mod twilio;
pub mod x;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use discord::{DiscordFile, DiscordMessageView, DiscordReply, DiscordUser};
pub use faults::Fault;
pub use twilio::{
    ConversationView, MediaView, MessageMedia, MessageView, ParticipantView, TaskAgent, TaskView,
    WebhookDelivery, WebhookView,
};
pub use x::{SentDm, XDelivery, XDmLimits, XLimitWindow, XMediaView};

/// Credentials the sandbox checks on REST calls and signs its webhooks with.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    pub twilio_account_sid: String,
    /// Checks Basic auth on REST calls and signs `X-Twilio-Signature`.
    pub twilio_auth_token: String,
    pub x_consumer_key: String,
    /// Checks OAuth 1.0a on DM sends and signs `x-twitter-webhooks-signature`.
    pub x_consumer_secret: String,
    pub x_access_token: String,
    pub x_access_token_secret: String,
    /// The brand's X user id (`for_user_id` in webhooks).
    pub x_brand_account_id: String,
    /// Where X webhooks go, e.g. `http://127.0.0.1:PORT/twitter/webhook`.
    pub x_webhook_url: String,
    /// The Discord application (and bot user) id, e.g. `1100000000000000001`.
    pub discord_application_id: String,
    /// Checks `Authorization: Bot <token>` on Discord REST calls.
    pub discord_bot_token: String,
    /// Ed25519 seed the sandbox signs interactions with (TEST-ONLY, fixed); its public half is
    /// [`Sandbox::discord_public_key_hex`].
    pub discord_signing_seed: [u8; 32],
    /// Where interactions are POSTed, e.g. `http://127.0.0.1:PORT/discord/interactions`.
    pub discord_interactions_url: String,
}

impl SandboxConfig {
    /// Fixed TEST-ONLY values (the same as `local::test_secrets`). Never real secrets.
    /// Interactions go to `/discord/interactions` on the X webhook's host (change it with
    /// [`Sandbox::set_discord_interactions_url`]).
    pub fn for_tests(x_webhook_url: impl Into<String>) -> Self {
        let x_webhook_url = x_webhook_url.into();
        Self {
            twilio_account_sid: "AC00000000000000000000000000000000".into(),
            twilio_auth_token: "TEST_ONLY_twilio_auth_token_0123456789".into(),
            x_consumer_key: "TEST_ONLY_consumer_key".into(),
            x_consumer_secret: "TEST_ONLY_consumer_secret_0123456789abcdefghijklmnopqrstuv".into(),
            x_access_token: "1514100000000000001-TEST_ONLY_access_token".into(),
            x_access_token_secret: "TEST_ONLY_access_token_secret".into(),
            x_brand_account_id: "1514100000000000001".into(),
            discord_application_id: "1100000000000000001".into(),
            discord_bot_token: "TEST_ONLY_discord_bot_token.0123456789".into(),
            discord_signing_seed: *b"TEST_ONLY_discord_signing_seed!!",
            discord_interactions_url: same_origin(
                &x_webhook_url,
                flex_bridge::routes::DISCORD_INTERACTIONS_PATH,
            ),
            x_webhook_url,
        }
    }
}

/// `path` on the scheme, host and port of `url` (`http://h:1/a/b` → `http://h:1{path}`); empty
/// if `url` has no host.
pub fn same_origin(url: &str, path: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return String::new();
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() {
        return String::new();
    }
    format!("{scheme}://{host}{path}")
}

/// The emulated services whose REST APIs count requests and take injected faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Twilio,
    X,
    Discord,
}

/// What a test-facing sandbox call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("no conversation {0}")]
    ConversationNotFound(String),
    #[error("conversation {0} is closed")]
    ConversationClosed(String),
    #[error("participant {identity} already exists in conversation {conversation_sid}")]
    ParticipantExists {
        conversation_sid: String,
        identity: String,
    },
    #[error("Twilio refused the media ({code}): {message}")]
    MediaRefused { code: u32, message: String },
    #[error("no task {0}")]
    TaskNotFound(String),
    #[error("task {task_sid} is {status}, not {expected}")]
    TaskStatus {
        task_sid: String,
        status: String,
        expected: &'static str,
    },
    #[error("request to {url} failed: {detail}")]
    Http { url: String, detail: String },
    #[error("CRC answer was not what X expects: {0}")]
    Crc(String),
}

/// A running sandbox. Cloning is cheap; every clone drives the same server and state.
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

struct Inner {
    config: SandboxConfig,
    url: String,
    x_webhook_url: Mutex<String>,
    /// Delays between X's webhook retries (one retry per entry).
    x_retry_backoff: Mutex<Vec<Duration>>,
    twilio: Mutex<twilio::Store>,
    x: Mutex<x::Store>,
    discord: Mutex<discord::Store>,
    faults: faults::Faults,
    /// Sends the webhooks the sandbox fires.
    http: reqwest::Client,
}

/// X retries a failed delivery up to 3 times; real X waits minutes, tests cannot.
const DEFAULT_X_RETRY_BACKOFF: [Duration; 3] = [
    Duration::from_millis(200),
    Duration::from_millis(400),
    Duration::from_millis(800),
];

impl Sandbox {
    /// Binds `127.0.0.1:0` and serves the sandbox on a spawned task of the current runtime.
    pub async fn start(config: SandboxConfig) -> std::io::Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let http = flex_bridge::http::http_client_builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(std::io::Error::other)?;
        let sandbox = Sandbox {
            inner: Arc::new(Inner {
                x_webhook_url: Mutex::new(config.x_webhook_url.clone()),
                x_retry_backoff: Mutex::new(DEFAULT_X_RETRY_BACKOFF.to_vec()),
                twilio: Mutex::new(twilio::Store::default()),
                x: Mutex::new(x::Store::default()),
                discord: Mutex::new({
                    let mut store = discord::Store::new(&config);
                    store.base_url = url.clone();
                    store
                }),
                faults: faults::Faults::default(),
                config,
                url,
                http,
            }),
        };
        let app = axum::Router::new()
            .merge(twilio::routes(sandbox.clone()))
            .merge(x::routes(sandbox.clone()))
            .merge(discord::routes(sandbox.clone()))
            .merge(control::routes(sandbox.clone()));
        tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                tracing::error!(error = %err, "sandbox server stopped");
            }
        });
        tracing::info!(url = %sandbox.url(), "sandbox listening");
        Ok(sandbox)
    }

    /// `http://127.0.0.1:PORT`: `TWILIO_CONVERSATIONS_URL`, `TWILIO_FLEX_URL`,
    /// `TWILIO_TASKROUTER_URL` and `X_API_URL` (Discord's is [`Sandbox::discord_api_url`]).
    pub fn url(&self) -> String {
        self.inner.url.clone()
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.inner.config
    }

    /// The bridge may start after the sandbox (it needs the sandbox URL first).
    pub fn set_x_webhook_url(&self, url: impl Into<String>) {
        *lock(&self.inner.x_webhook_url) = url.into();
    }

    pub fn x_webhook_url(&self) -> String {
        lock(&self.inner.x_webhook_url).clone()
    }

    /// The delays between X's retries of a failed webhook delivery; one retry per entry.
    /// Default 200 ms, 400 ms, 800 ms.
    pub fn set_x_retry_backoff(&self, delays: &[Duration]) {
        *lock(&self.inner.x_retry_backoff) = delays.to_vec();
    }

    /// The next `count` REST requests to `service` answer `status` before any other check
    /// (429 adds `Retry-After: retry_after_secs`; X's 429 also `x-rate-limit-reset`; Discord's
    /// 429 has Discord's body, `retry_after` in seconds, and `X-RateLimit-*` headers).
    pub fn inject_fault(&self, service: Service, status: u16, count: u32, retry_after_secs: u64) {
        self.inject(
            Fault::new(service, status)
                .times(count)
                .retry_after(retry_after_secs),
        );
    }

    /// Queues `fault` (see [`Fault`]: it may target a path prefix such as `/v1/Interactions`,
    /// and may strike after the request was applied).
    pub fn inject(&self, fault: Fault) {
        self.inner.faults.inject(fault);
    }

    /// The next `count` Discord REST requests answer 429 with a precise (sub-second)
    /// `retry_after`; `global` marks it as the app's global limit (`"global": true`,
    /// `X-RateLimit-Global`, `X-RateLimit-Scope: global`).
    pub fn inject_discord_rate_limit(&self, count: u32, retry_after: Duration, global: bool) {
        self.inner
            .faults
            .inject_precise(Service::Discord, 429, count, retry_after, global);
    }

    /// REST requests received by `service`, faulted ones included.
    pub fn request_count(&self, service: Service) -> u64 {
        self.inner.faults.count(service)
    }

    pub fn reset_counts(&self) {
        self.inner.faults.reset_counts();
    }

    fn twilio_store(&self) -> MutexGuard<'_, twilio::Store> {
        lock(&self.inner.twilio)
    }

    fn x_store(&self) -> MutexGuard<'_, x::Store> {
        lock(&self.inner.x)
    }

    fn discord_store(&self) -> MutexGuard<'_, discord::Store> {
        lock(&self.inner.discord)
    }
}

/// A panic while a lock is held must not wedge every later test call: take the data anyway.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
