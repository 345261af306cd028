//! Real accounts from this machine: `make run` with a `.env` in the repository root.
//!
//! The handlers are built from the `.env`'s variables with the same readers the Lambdas use
//! ([`Env`] and each piece's `from_env`), served on the API Gateway paths on
//! `127.0.0.1:PORT` (a tunnel such as ngrok makes that `PUBLIC_BASE_URL`), with the in-memory
//! store and queues and their consumers, and they call the real Twilio, X and Discord APIs.
//!
//! The `.env` is parsed into a map ([`parse_dotenv`]), never exported into the process
//! environment. Every missing or malformed variable is named in one error ([`InvalidConfig`]),
//! and nothing printed ([`RealConfig::banner`], the errors) ever holds a secret.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use flex_bridge::bot::Chatbot;
use flex_bridge::config::{ConfigError, Env, PublicUrl, Secret};
use flex_bridge::conversations::{ConversationSettings, Conversations};
use flex_bridge::delivery::Delivery;
use flex_bridge::discord::webhook::DiscordInteractions;
use flex_bridge::discord::worker::DiscordWorker;
use flex_bridge::discord::{
    DiscordApiConfig, DiscordAppConfig, DiscordClient, DiscordInteractionsConfig,
};
use flex_bridge::flex::FlexWebhooks;
use flex_bridge::queue::MemoryQueue;
use flex_bridge::routes::{CHANNEL_UPDATED_PATH, CHATBOT_PATH, FLEX_OUTBOUND_PATH};
use flex_bridge::routing::Routing;
use flex_bridge::store::{MemoryStore, Store};
use flex_bridge::twilio::{TwilioClient, TwilioConfig};
use flex_bridge::x::webhook::{CrcConfig, XInbound};
use flex_bridge::x::worker::XWorker;
use flex_bridge::x::{XApiConfig, XClient, XWebhookConfig};

use crate::{consume_memory, server, Functions};

/// The file `make run` reads real accounts from (git-ignored; `.env.example` is its template).
pub const ENV_FILE: &str = ".env";

/// `FLEX_BRIDGE_SANDBOX=1` keeps the sandbox and its console even when a `.env` exists.
pub const SANDBOX_VAR: &str = "FLEX_BRIDGE_SANDBOX";

/// How long a failed queued job waits before its retry (SQS's visibility timeout, shortened).
const RETRY_DELAY: Duration = Duration::from_secs(20);

/// Which of the two ways `flex-bridge-local` runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The sandbox plays Twilio, Flex, X and Discord; the web console.
    Sandbox,
    /// Real accounts, configured by this `.env` file.
    Real(PathBuf),
}

/// The sandbox unless a `.env` exists; `FLEX_BRIDGE_SANDBOX=1` (or `true`, `yes`) and `--demo`
/// keep the sandbox anyway.
pub fn mode(sandbox_var: Option<&str>, demo: bool, candidates: &[PathBuf]) -> Mode {
    let forced = sandbox_var
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| matches!(v.as_str(), "1" | "true" | "yes"));
    if forced || demo {
        return Mode::Sandbox;
    }
    match candidates.iter().find(|p| p.is_file()) {
        Some(path) => Mode::Real(path.clone()),
        None => Mode::Sandbox,
    }
}

/// Where a `.env` may be: the current directory (`make run` runs in the repository root), then
/// the repository root this binary was built from.
pub fn env_file_candidates() -> Vec<PathBuf> {
    vec![
        PathBuf::from(ENV_FILE),
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(ENV_FILE),
    ]
}

/// The variables of a `.env` text (dotenvy's syntax: `NAME=value`, `#` comments, quotes),
/// without touching the process environment. A line that does not parse is named by the
/// variable before it, never shown (it may hold a secret).
pub fn parse_dotenv(text: &str) -> Result<HashMap<String, String>, String> {
    let mut vars = HashMap::new();
    let mut last: Option<String> = None;
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        match item {
            Ok((name, value)) => {
                last = Some(name.clone());
                vars.insert(name, value);
            }
            Err(_) => {
                let place = match last {
                    Some(name) => format!("the line after {name}"),
                    None => "its first variable's line".to_owned(),
                };
                return Err(format!(
                    "{place} is not NAME=value (quote a value with spaces, # or $ in single \
                     quotes)"
                ));
            }
        }
    }
    Ok(vars)
}

/// [`parse_dotenv`] of a file.
pub fn read_dotenv(path: &Path) -> Result<HashMap<String, String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    parse_dotenv(&text).map_err(|problem| format!("{}: {problem}", path.display()))
}

/// Every missing or malformed variable of a `.env`, by name (never by value).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{}", .problems.join("; "))]
pub struct InvalidConfig {
    pub problems: Vec<String>,
}

impl InvalidConfig {
    /// Whether `name` is one of the variables reported.
    pub fn names(&self, name: &str) -> bool {
        self.problems.iter().any(|p| {
            p.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .any(|word| word == name)
        })
    }
}

/// X, when configured: the webhook's and the DM sender's settings.
#[derive(Clone, Debug)]
pub struct XSetup {
    pub webhook: XWebhookConfig,
    pub api: XApiConfig,
}

/// Discord, when configured.
#[derive(Clone, Debug)]
pub struct DiscordSetup {
    pub interactions: DiscordInteractionsConfig,
    pub api: DiscordApiConfig,
    pub app: DiscordAppConfig,
}

/// Everything the handlers need, read from a `.env` the way the Lambdas read their environment.
#[derive(Clone, Debug)]
pub struct RealConfig {
    pub public_url: PublicUrl,
    /// `PUBLIC_BASE_URL` without its trailing slash, for printing.
    pub base: String,
    pub twilio: TwilioConfig,
    pub settings: ConversationSettings,
    pub bot_name: String,
    pub max_receives: u32,
    pub x: Option<XSetup>,
    pub discord: Option<DiscordSetup>,
}

/// What is wrong with a URL variable, if anything (never the value itself).
fn url_problem(value: &str, public: bool) -> Option<String> {
    let Ok(url) = reqwest::Url::parse(value) else {
        return Some("is not a URL".into());
    };
    let host = url.host_str().unwrap_or_default();
    if !matches!(url.scheme(), "http" | "https") || host.is_empty() {
        return Some("is not an http(s) URL with a host".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Some("has a query or fragment: drop it".into());
    }
    if public {
        if url.scheme() != "https" {
            return Some(
                "must be https (X, Twilio and Discord call it): the tunnel's https URL".into(),
            );
        }
        let loopback = host == "localhost"
            || host
                .trim_matches(|c| c == '[' || c == ']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified());
        if loopback {
            return Some(
                "is this machine's address: X, Twilio and Discord cannot reach it; use the \
                 tunnel's public URL (ngrok http PORT prints it)"
                    .into(),
            );
        }
        let path = url.path().trim_end_matches('/');
        if let Some(route) = ROUTES.iter().find(|r| path.ends_with(*r)) {
            return Some(format!("is a webhook's URL, not the base: drop {route}"));
        }
    }
    None
}

/// The API routes, as API Gateway serves them.
const ROUTES: [&str; 5] = flex_bridge::routes::ALL;

/// The checks `from_env` does not make (it only knows missing variables and one bad value):
/// each malformed value, by name.
fn malformed(env: &Env, x: bool, discord: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let mut bad = |name: &str, why: String| problems.push(format!("{name} {why}"));
    if let Some(value) = env.optional("PUBLIC_BASE_URL") {
        if let Some(why) = url_problem(&value, true) {
            bad("PUBLIC_BASE_URL", why);
        }
    }
    for name in [
        "TWILIO_CONVERSATIONS_URL",
        "TWILIO_FLEX_URL",
        "TWILIO_TASKROUTER_URL",
        "X_API_URL",
        "DISCORD_API_URL",
    ] {
        if let Some(why) = env.optional(name).and_then(|v| url_problem(&v, false)) {
            bad(name, format!("{why} (leave it unset for the real API)"));
        }
    }
    let sid = |name: &str, prefix: &str| {
        env.optional(name)
            .filter(|v| !flex_bridge::twilio::is_sid(v, prefix))
            .map(|_| format!("is not {prefix} followed by 32 hex digits"))
    };
    for (name, prefix) in [
        ("TWILIO_ACCOUNT_SID", "AC"),
        ("FLEX_WORKSPACE_SID", "WS"),
        ("FLEX_WORKFLOW_SID", "WW"),
        ("STUDIO_FLOW_SID", "FW"),
    ] {
        if let Some(why) = sid(name, prefix) {
            bad(name, why);
        }
    }
    let mode = env.or_default("ROUTING", "bot").to_ascii_lowercase();
    if !matches!(mode.as_str(), "bot" | "agent" | "studio") {
        bad("ROUTING", "is not one of bot, agent, studio".into());
    }
    if let Some(value) = env.optional("DELIVERY_MAX_RECEIVES") {
        if !value.parse::<u32>().is_ok_and(|n| n >= 1) {
            bad(
                "DELIVERY_MAX_RECEIVES",
                "is not a whole number of at least 1".into(),
            );
        }
    }
    if x {
        if let Some(value) = env.optional("X_ACCOUNT_ID") {
            if !flex_bridge::config::is_numeric_id(&value) {
                bad(
                    "X_ACCOUNT_ID",
                    "is not a numeric X user id (the brand account's id, not its @handle)".into(),
                );
            }
        }
    }
    if discord {
        if let Some(key) = env.optional("DISCORD_PUBLIC_KEY") {
            if DiscordInteractionsConfig::new(key).validate().is_err() {
                bad(
                    "DISCORD_PUBLIC_KEY",
                    "is not 64 hex digits of an Ed25519 public key (Developer Portal > \
                     General Information > Public Key)"
                        .into(),
                );
            }
        }
        for name in [
            "DISCORD_APPLICATION_ID",
            "DISCORD_BUG_CHANNEL_ID",
            "DISCORD_FEATURE_CHANNEL_ID",
        ] {
            if env
                .optional(name)
                .is_some_and(|v| !flex_bridge::config::is_numeric_id(&v))
            {
                bad(name, "is not a numeric Discord id".into());
            }
        }
    }
    problems
}

impl RealConfig {
    /// Reads and checks a `.env`'s variables. X and Discord are each optional (all of a
    /// platform's variables or none), but not both.
    pub fn from_map(vars: HashMap<String, String>) -> Result<Self, InvalidConfig> {
        let mut env = Env::from_map(vars);
        let set = |names: &[&str], env: &Env| names.iter().any(|n| env.optional(n).is_some());
        let (with_x, with_discord) = (
            set(&flex_bridge::x::PLATFORM_VARIABLES, &env),
            set(&flex_bridge::discord::PLATFORM_VARIABLES, &env),
        );
        let mut problems = Vec::new();
        if !with_x && !with_discord {
            problems.push(format!(
                "neither X nor Discord is configured: set {} or {}",
                flex_bridge::x::PLATFORM_VARIABLES.join(", "),
                flex_bridge::discord::PLATFORM_VARIABLES.join(", ")
            ));
        }

        // The Lambdas' own readers, in their order.
        let public_url = PublicUrl::from_env(&mut env);
        let twilio = TwilioConfig::from_env(&mut env);
        let settings = ConversationSettings::from_env(&mut env);
        let bot_name = env.or_default("BOT_NAME", "Virtual agent");
        let max_receives = env.or_default("DELIVERY_MAX_RECEIVES", "5");
        let x = with_x.then(|| XSetup {
            webhook: XWebhookConfig::from_env(&mut env),
            api: XApiConfig::from_env(&mut env),
        });
        let discord = with_discord.then(|| DiscordSetup {
            interactions: DiscordInteractionsConfig::from_env(&mut env),
            api: DiscordApiConfig::from_env(&mut env),
            app: DiscordAppConfig::from_env(&mut env),
        });
        let base = env.optional("PUBLIC_BASE_URL").unwrap_or_default();
        let malformed = malformed(&env, with_x, with_discord);
        // Missing variables, all named; a bad value `from_env` noticed unless named below.
        match env.finish() {
            Ok(()) => {}
            Err(ConfigError::Invalid { name, .. })
                if malformed.iter().any(|p| p.starts_with(name)) => {}
            Err(err) => problems.push(err.to_string()),
        }
        problems.extend(malformed);
        if !problems.is_empty() {
            return Err(InvalidConfig { problems });
        }
        Ok(Self {
            public_url,
            base: base.trim_end_matches('/').to_owned(),
            twilio,
            settings,
            bot_name,
            max_receives: max_receives.parse().unwrap_or(5),
            x,
            discord,
        })
    }

    /// What `make run` prints: where to point the tunnel, each URL to paste (and where), which
    /// services it will call. Holds URLs only: no credential, id or other `.env` value.
    pub fn banner(&self, local_url: &str, env_file: &Path, log: &Path) -> String {
        let route = |path: &str| self.public_url.route(path);
        let port = local_url.rsplit(':').next().unwrap_or("PORT");
        let mut lines = vec![
            format!(
                "Flex Bridge with real accounts (from {}; FLEX_BRIDGE_SANDBOX=1 make run for the sandbox)",
                env_file.display()
            ),
            format!("  Serving the API on {local_url}: point the tunnel there (ngrok http {port}); its public URL is {}", self.base),
            String::new(),
            "  Paste these:".into(),
        ];
        match &self.x {
            Some(_) => lines.push(format!(
                "    X webhook URL:                   {}   (flex-bridge x webhook register <url>, then flex-bridge x subscribe)",
                route(flex_bridge::routes::TWITTER_WEBHOOK_PATH)
            )),
            None => lines.push("    X: not configured (its route refuses every request)".into()),
        }
        match &self.discord {
            Some(_) => lines.push(format!(
                "    Discord Interactions Endpoint:   {}   (Developer Portal > General Information; then flex-bridge discord register-commands)",
                route(flex_bridge::routes::DISCORD_INTERACTIONS_PATH)
            )),
            None => {
                lines.push("    Discord: not configured (its route refuses every request)".into())
            }
        }
        lines.push(
            "  Twilio conversation webhooks (the bridge sets them on each conversation it opens; \
             shown to check):"
                .into(),
        );
        lines.push(format!(
            "    flex-outbound:   {}   (onMessageAdded, onParticipantAdded)",
            route(FLEX_OUTBOUND_PATH)
        ));
        lines.push(format!(
            "    channel-updated: {}   (onConversationStateUpdated)",
            route(CHANNEL_UPDATED_PATH)
        ));
        match &self.settings.routing {
            Routing::Studio { .. } => lines.push(
                "    chatbot:         not used (ROUTING=studio: your Studio flow routes)".into(),
            ),
            _ => lines.push(format!(
                "    chatbot:         {}   (onMessageAdded, the virtual agent)",
                route(CHATBOT_PATH)
            )),
        }
        lines.push(String::new());
        lines.push("  It will call:".into());
        lines.push(format!(
            "    Twilio: Conversations {}, Flex Interactions {}, TaskRouter {}",
            self.twilio.conversations_url, self.twilio.flex_url, self.twilio.taskrouter_url
        ));
        if let Some(x) = &self.x {
            lines.push(format!(
                "    X: {} (DMs as the brand account)",
                x.api.api_url
            ));
        }
        if let Some(discord) = &self.discord {
            lines.push(format!("    Discord: {} (as the bot)", discord.api.api_url));
        }
        let routing = match &self.settings.routing {
            Routing::Bot(_) => "the virtual agent answers first, then hands off to Flex",
            Routing::Agent(_) => "every conversation goes to a Flex agent at once",
            Routing::Studio { .. } => "your Studio flow routes each conversation",
        };
        lines.push(format!("  Routing: {routing}."));
        lines.push(
            "  State and queues: in memory, on this machine (gone when it stops).".to_owned(),
        );
        lines.push(format!("  Logs: {}   Ctrl-C to stop.", log.display()));
        lines.join("\n") + "\n"
    }

    /// The handlers of every function, as the Lambdas build them, on `store` and the queues.
    fn functions(&self, store: Arc<dyn Store>, queues: &RealQueues) -> Functions {
        let http = flex_bridge::http::http_client();
        let twilio = TwilioClient::new(http.clone(), self.twilio.clone());
        let conversations = Conversations {
            store: store.clone(),
            twilio: twilio.clone(),
            settings: self.settings.clone(),
        };
        // A platform that is not configured gets a key nobody holds: its route answers 401.
        let x_webhook = match &self.x {
            Some(x) => x.webhook.clone(),
            None => XWebhookConfig {
                consumer_secret: Secret::new(unguessable()),
                account_id: "0".into(),
            },
        };
        let interactions = match &self.discord {
            Some(d) => d.interactions.clone(),
            None => {
                let seed = flex_bridge::discord::signature::seed_from_hex(&unguessable())
                    .expect("64 hex digits");
                DiscordInteractionsConfig::new(flex_bridge::discord::signature::public_key_hex(
                    &seed,
                ))
            }
        };
        let discord_client = self
            .discord
            .as_ref()
            .map(|d| DiscordClient::new(http.clone(), d.api.clone()));
        let app = match &self.discord {
            Some(d) => d.app.clone(),
            None => DiscordAppConfig {
                application_id: String::new(),
                bug_channel_id: String::new(),
                feature_channel_id: String::new(),
            },
        };
        let delivery_queue: Arc<dyn flex_bridge::queue::Queue> = queues.delivery.clone();
        Functions {
            crc: CrcConfig {
                consumer_secret: x_webhook.consumer_secret.clone(),
            },
            x_inbound: XInbound {
                config: x_webhook,
                intake: queues.x.clone(),
                // Public mentions are not served from this machine (X_MENTIONS is off).
                mentions: flex_bridge::x::mentions::MentionMode::Off,
            },
            x_worker: XWorker {
                conversations: conversations.clone(),
                queue: delivery_queue.clone(),
                mentions: None,
            },
            flex: FlexWebhooks {
                store: store.clone(),
                queue: delivery_queue.clone(),
                auth_token: self.twilio.auth_token.clone(),
                public_url: self.public_url.clone(),
            },
            chatbot: Chatbot {
                store: store.clone(),
                queue: delivery_queue,
                auth_token: self.twilio.auth_token.clone(),
                public_url: self.public_url.clone(),
                routing: self.settings.routing.clone(),
                bot_name: self.bot_name.clone(),
                index: kb::Index::builtin(),
            },
            delivery: Delivery {
                store,
                twilio,
                x: self
                    .x
                    .as_ref()
                    .map(|x| XClient::new(http.clone(), x.api.clone())),
                discord: discord_client.clone(),
                max_receives: self.max_receives,
            },
            discord_interactions: DiscordInteractions {
                config: interactions,
                queue: queues.discord.clone(),
            },
            discord_worker: DiscordWorker {
                conversations,
                // Without Discord, never called: no interaction verifies.
                discord: discord_client.unwrap_or_else(|| {
                    DiscordClient::new(
                        http,
                        DiscordApiConfig {
                            bot_token: Secret::default(),
                            api_url: flex_bridge::discord::DEFAULT_API_URL.into(),
                        },
                    )
                }),
                app,
            },
        }
    }
}

/// 64 random hex digits (two v4 UUIDs).
fn unguessable() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The in-memory queues of a real-accounts run.
struct RealQueues {
    delivery: Arc<MemoryQueue>,
    discord: Arc<MemoryQueue>,
    x: Arc<MemoryQueue>,
}

/// A running real-accounts bridge.
pub struct RealBridge {
    /// Where it listens: `http://127.0.0.1:PORT`.
    pub url: String,
    pub store: Arc<dyn Store>,
}

impl RealBridge {
    /// Builds the handlers from `config` and serves them on `127.0.0.1:port` (0: any free
    /// port), with the in-memory store and queues and the queues' consumers.
    pub async fn start(config: &RealConfig, port: u16) -> Result<Self, Box<dyn std::error::Error>> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let memory = || Arc::new(MemoryQueue::new(config.max_receives, RETRY_DELAY));
        let queues = RealQueues {
            delivery: memory(),
            discord: memory(),
            x: memory(),
        };
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let functions = Arc::new(config.functions(store.clone(), &queues));
        tokio::spawn(server::serve(
            listener,
            functions.clone(),
            axum::Router::new(),
        ));
        let (f, g, h) = (functions.clone(), functions.clone(), functions);
        tokio::spawn(consume_memory(queues.delivery, move |batch| {
            f.clone().deliver(batch)
        }));
        tokio::spawn(consume_memory(queues.discord, move |batch| {
            g.clone().work_discord(batch)
        }));
        tokio::spawn(consume_memory(queues.x, move |batch| {
            h.clone().work_x(batch)
        }));
        Ok(Self { url, store })
    }
}
