//! Real accounts from this machine: `make run` with a `.env` in the repository root.
//!
//! The handlers are built from the `.env`'s variables by the Lambdas' own composition root
//! ([`Handlers::from_env`], checked whole by the configuration schema), served on the API Gateway paths on
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

use flex_bridge::app::Handlers;
use flex_bridge::config::{schema, Env, PublicUrl};
use flex_bridge::queue::MemoryQueue;
use flex_bridge::routes::{CHANNEL_UPDATED_PATH, CHATBOT_PATH, FLEX_OUTBOUND_PATH};
use flex_bridge::routing::Routing;
use flex_bridge::store::{MemoryStore, Store};
use flex_bridge::twilio::TwilioConfig;

use crate::{server, LocalResources, MemoryQueues};

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

/// Everything the banner shows, read from a `.env` the way the Lambdas read their environment;
/// the handlers are built from the same variables ([`Handlers::from_env`]).
#[derive(Clone, Debug)]
pub struct RealConfig {
    vars: HashMap<String, String>,
    pub public_url: PublicUrl,
    /// `PUBLIC_BASE_URL` without its trailing slash, for printing.
    pub base: String,
    pub twilio: TwilioConfig,
    pub routing: Routing,
    pub max_receives: u32,
    /// The X API's URL, when X is configured.
    pub x: Option<String>,
    /// The Discord API's URL, when Discord is configured.
    pub discord: Option<String>,
}

/// Why a public base URL cannot be this machine's: X, Twilio and Discord call it over https from
/// the internet (the deployed stack's own URL is always that). The schema has checked the rest.
fn tunnel_problem(value: &str) -> Option<&'static str> {
    let url = reqwest::Url::parse(value).ok()?;
    if url.scheme() != "https" {
        return Some("must be https (X, Twilio and Discord call it): the tunnel's https URL");
    }
    let host = url.host_str().unwrap_or_default();
    let loopback = host == "localhost"
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified());
    loopback.then_some(
        "is this machine's address: X, Twilio and Discord cannot reach it; use the tunnel's \
         public URL (ngrok http PORT prints it)",
    )
}

impl RealConfig {
    /// Reads and checks a `.env`'s variables as a deployment ([`schema::check_deployment`]):
    /// X and Discord are each optional (all of a platform's variables or none), but not both.
    pub fn from_map(vars: HashMap<String, String>) -> Result<Self, InvalidConfig> {
        let mut env = Env::from_map(vars.clone());
        let platforms = schema::check_deployment(&mut env);
        if let Some(reason) = env
            .optional(&schema::PUBLIC_BASE_URL)
            .and_then(|url| tunnel_problem(&url))
        {
            env.invalid(schema::PUBLIC_BASE_URL.name, reason);
        }
        let public_url = PublicUrl::from_env(&mut env);
        let config = Self {
            base: public_url.as_str().to_owned(),
            public_url,
            twilio: TwilioConfig::from_env(&mut env),
            routing: Routing::from_env(&mut env),
            max_receives: env.number(&schema::DELIVERY_MAX_RECEIVES),
            x: platforms.x.then(|| env.required(&schema::X_API_URL)),
            discord: platforms
                .discord
                .then(|| env.required(&schema::DISCORD_API_URL)),
            vars,
        };
        env.finish().map_err(|err| InvalidConfig {
            problems: err.parts(),
        })?;
        Ok(config)
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
        match &self.routing {
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
        if let Some(api_url) = &self.x {
            lines.push(format!("    X: {api_url} (DMs as the brand account)"));
        }
        if let Some(api_url) = &self.discord {
            lines.push(format!("    Discord: {api_url} (as the bot)"));
        }
        let routing = match &self.routing {
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

    /// The handlers of every function, built as the Lambdas build theirs, on `store` and the
    /// in-memory queues.
    fn handlers(&self, resources: &LocalResources) -> Handlers {
        let mut vars = self.vars.clone();
        vars.extend(resources.variables());
        Handlers::from_env(Env::from_map(vars), resources).expect("checked by RealConfig::from_map")
    }
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
        let queues = MemoryQueues {
            delivery: memory(),
            discord: memory(),
            x: memory(),
        };
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let resources = LocalResources::new(store.clone(), queues.local_queues());
        let handlers = Arc::new(config.handlers(&resources));
        tokio::spawn(server::serve(
            listener,
            handlers.clone(),
            axum::Router::new(),
        ));
        queues.consume(handlers);
        Ok(Self { url, store })
    }
}
