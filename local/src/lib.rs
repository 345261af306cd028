//! Flex Bridge on one machine: every function's handler served on the paths API Gateway uses,
//! the queues (delivery, Discord work, X intake) consumed as the Lambda event source mappings
//! would, and the sandbox playing Twilio and X. The local runner (`flex-bridge-local`) and the
//! end-to-end tests both start it.
//!
//! Two back ends: in-memory (no account, no emulator) for the local run, and DynamoDB + SQS at
//! `AWS_ENDPOINT_URL` (moto server in tests) for the real parts.

mod aws;
pub mod console;
pub mod real;
mod server;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use flex_bridge::app::Handlers;
use flex_bridge::config::Env;
use flex_bridge::queue::{MemoryQueue, Queue, QueueRecord};
use flex_bridge::resources::Resources;
use flex_bridge::retry::RetryPolicy;
use flex_bridge::routing::{FlexTaskRouting, Routing};
use flex_bridge::store::{MemoryStore, Store};
use flex_bridge::transcripts::{MemoryTranscripts, TranscriptStore};
use sandbox::{Sandbox, SandboxConfig};

pub use aws::AwsResources;
pub use console::Console;

/// TEST-ONLY credentials shared by the bridge and the sandbox. Never real secrets.
pub mod test_secrets {
    pub const TWILIO_ACCOUNT_SID: &str = "AC00000000000000000000000000000000";
    pub const TWILIO_AUTH_TOKEN: &str = "TEST_ONLY_twilio_auth_token_0123456789";
    pub const X_CONSUMER_KEY: &str = "TEST_ONLY_consumer_key";
    pub const X_CONSUMER_SECRET: &str =
        "TEST_ONLY_consumer_secret_0123456789abcdefghijklmnopqrstuv";
    pub const X_ACCESS_TOKEN: &str = "1514100000000000001-TEST_ONLY_access_token";
    pub const X_ACCESS_TOKEN_SECRET: &str = "TEST_ONLY_access_token_secret";
    pub const X_ACCOUNT_ID: &str = "1514100000000000001";
    pub const DISCORD_APPLICATION_ID: &str = "1100000000000000001";
    /// Where bug reports and feature requests are posted: the sandbox guild's channels.
    pub const DISCORD_BUG_CHANNEL_ID: &str = sandbox::discord::BUG_CHANNEL_ID;
    pub const DISCORD_FEATURE_CHANNEL_ID: &str = sandbox::discord::FEATURE_CHANNEL_ID;
    pub const DISCORD_BOT_TOKEN: &str = "TEST_ONLY_discord_bot_token.0123456789";
    /// The Ed25519 seed the sandbox signs interactions with; the bridge gets its public half
    /// (`Sandbox::discord_public_key_hex`) as `DISCORD_PUBLIC_KEY`.
    pub const DISCORD_SIGNING_SEED: [u8; 32] = *b"TEST_ONLY_discord_signing_seed!!";
}

/// The bot's name in conversations, as agents see it.
pub const BOT_NAME: &str = "Emberfall Assistant";

/// Where state and queued work live.
pub enum Backend {
    Memory,
    /// DynamoDB and SQS at `AWS_ENDPOINT_URL`, in fresh resources named after `prefix`.
    Aws {
        prefix: String,
    },
}

/// The store and queues a back end provides.
struct Parts {
    store: Arc<dyn Store>,
    /// The delivery queue (the console puts the agent's messages on it).
    delivery: Arc<dyn Queue>,
    queues: Vec<LocalQueue>,
    aws: Option<AwsResources>,
    /// The delivery, Discord and X intake queues, when in memory (their consumers are ours to
    /// run).
    memory_queues: Option<MemoryQueues>,
}

/// The in-process queues, whose consumers the local bridge runs.
pub(crate) struct MemoryQueues {
    pub delivery: Arc<MemoryQueue>,
    pub discord: Arc<MemoryQueue>,
    pub x: Arc<MemoryQueue>,
}

impl MemoryQueues {
    pub(crate) fn local_queues(&self) -> Vec<LocalQueue> {
        vec![
            LocalQueue::memory("DELIVERY_QUEUE_URL", self.delivery.clone()),
            LocalQueue::memory("DISCORD_QUEUE_URL", self.discord.clone()),
            LocalQueue::memory("X_INTAKE_QUEUE_URL", self.x.clone()),
        ]
    }

    /// Runs each queue's consumer, as its event source mapping would invoke its function.
    pub(crate) fn consume(self, handlers: Arc<Handlers>) {
        let h = handlers.clone();
        tokio::spawn(consume_memory(self.delivery, move |batch| {
            let h = h.clone();
            async move { h.delivery.handle_batch(batch).await }
        }));
        if handlers.discord.is_some() {
            let h = handlers.clone();
            tokio::spawn(consume_memory(self.discord, move |batch| {
                let h = h.clone();
                async move { discord_worker(&h).handle_batch(batch).await }
            }));
        }
        if handlers.x.is_some() {
            tokio::spawn(consume_memory(self.x, move |batch| {
                let h = handlers.clone();
                async move { x_worker(&h).handle_batch(batch).await }
            }));
        }
    }
}

/// The consumers run only for a platform that has handlers.
fn discord_worker(handlers: &Handlers) -> &flex_bridge::discord::worker::DiscordWorker {
    &handlers
        .discord
        .as_ref()
        .expect("Discord is configured")
        .worker
}

fn x_worker(handlers: &Handlers) -> &flex_bridge::x::worker::XWorker {
    &handlers.x.as_ref().expect("X is configured").worker
}

impl Backend {
    async fn create(self, options: &Options) -> Result<Parts, Box<dyn std::error::Error>> {
        Ok(match self {
            Backend::Memory => {
                let memory =
                    || Arc::new(MemoryQueue::new(options.max_receives, options.retry_delay));
                let queues = MemoryQueues {
                    delivery: memory(),
                    discord: memory(),
                    x: memory(),
                };
                Parts {
                    store: Arc::new(MemoryStore::new()),
                    delivery: queues.delivery.clone(),
                    queues: queues.local_queues(),
                    aws: None,
                    memory_queues: Some(queues),
                }
            }
            Backend::Aws { prefix } => {
                let aws = AwsResources::create(&prefix, options.max_receives, options.retry_delay)
                    .await?;
                let delivery: Arc<dyn Queue> = Arc::new(aws.queue());
                let queue = |variable, url: &String, queue: Arc<dyn Queue>| LocalQueue {
                    variable,
                    url: url.clone(),
                    queue,
                };
                Parts {
                    store: Arc::new(aws.store()),
                    queues: vec![
                        queue("DELIVERY_QUEUE_URL", &aws.queue_url, delivery.clone()),
                        queue(
                            "DISCORD_QUEUE_URL",
                            &aws.discord_queue_url,
                            Arc::new(aws.discord_queue()),
                        ),
                        queue(
                            "X_INTAKE_QUEUE_URL",
                            &aws.x_queue_url,
                            Arc::new(aws.x_queue()),
                        ),
                    ],
                    delivery,
                    aws: Some(aws),
                    memory_queues: None,
                }
            }
        })
    }
}

/// The TEST-ONLY Flex workspace and workflow the sandbox's Interactions API routes to.
pub fn test_flex_routing() -> FlexTaskRouting {
    FlexTaskRouting {
        workspace_sid: "WS00000000000000000000000000000001".into(),
        workflow_sid: "WW00000000000000000000000000000001".into(),
    }
}

/// Options the tests vary.
#[derive(Clone, Debug)]
pub struct Options {
    /// `ROUTING`: the bot by default.
    pub routing: Routing,
    /// The Discord client's invalid request limit (`limit` 401/403/429 answers per `window`);
    /// `None`: the deployed one.
    pub discord_invalid_requests: Option<(usize, Duration)>,
    /// `maxReceiveCount` of the delivery queue.
    pub max_receives: u32,
    /// SQS visibility timeout: how long a failed delivery waits before its retry.
    pub retry_delay: Duration,
    pub port: u16,
    /// `X_MENTIONS`: off by default.
    pub x_mentions: flex_bridge::x::mentions::MentionMode,
    /// `TRANSCRIPTS=send`: off (`keep`) by default.
    pub send_transcripts: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            routing: Routing::Bot(test_flex_routing()),
            discord_invalid_requests: None,
            max_receives: 5,
            retry_delay: Duration::from_secs(1),
            port: 0,
            x_mentions: flex_bridge::x::mentions::MentionMode::Off,
            send_transcripts: false,
        }
    }
}

/// A running bridge and its sandbox.
pub struct LocalBridge {
    pub url: String,
    pub sandbox: Sandbox,
    pub store: Arc<dyn Store>,
    pub aws: Option<AwsResources>,
    /// The web console, served at `url` (`/`) next to the API routes.
    pub console: Console,
    /// The transcripts the close of each support case's conversation kept.
    pub transcripts: Arc<MemoryTranscripts>,
}

/// The environment a deployed function would see, for this local deployment.
pub fn environment(bridge_url: &str, sandbox_url: &str) -> HashMap<String, String> {
    use test_secrets::*;
    let discord_public_key = flex_bridge::discord::signature::public_key_hex(&DISCORD_SIGNING_SEED);
    [
        ("PUBLIC_BASE_URL", bridge_url),
        ("TWILIO_ACCOUNT_SID", TWILIO_ACCOUNT_SID),
        ("TWILIO_AUTH_TOKEN", TWILIO_AUTH_TOKEN),
        ("TWILIO_CONVERSATIONS_URL", sandbox_url),
        ("TWILIO_FLEX_URL", sandbox_url),
        ("TWILIO_TASKROUTER_URL", sandbox_url),
        // The sandbox serves MCS on its own host, under the one Chat Service it has.
        ("TWILIO_MEDIA_URL", sandbox_url),
        ("TWILIO_CHAT_SERVICE_SID", sandbox::twilio::CHAT_SERVICE_SID),
        ("FLEX_WORKSPACE_SID", "WS00000000000000000000000000000001"),
        ("FLEX_WORKFLOW_SID", "WW00000000000000000000000000000001"),
        ("X_CONSUMER_KEY", X_CONSUMER_KEY),
        ("X_CONSUMER_SECRET", X_CONSUMER_SECRET),
        ("X_ACCESS_TOKEN", X_ACCESS_TOKEN),
        ("X_ACCESS_TOKEN_SECRET", X_ACCESS_TOKEN_SECRET),
        ("X_ACCOUNT_ID", X_ACCOUNT_ID),
        ("X_API_URL", sandbox_url),
        ("DISCORD_PUBLIC_KEY", &discord_public_key),
        ("DISCORD_BOT_TOKEN", DISCORD_BOT_TOKEN),
        ("DISCORD_APPLICATION_ID", DISCORD_APPLICATION_ID),
        ("DISCORD_BUG_CHANNEL_ID", DISCORD_BUG_CHANNEL_ID),
        ("DISCORD_FEATURE_CHANNEL_ID", DISCORD_FEATURE_CHANNEL_ID),
        (
            "DISCORD_API_URL",
            &format!("{sandbox_url}{}", sandbox::discord::API_PREFIX),
        ),
        ("BOT_NAME", BOT_NAME),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

pub fn sandbox_config(x_webhook_url: String) -> SandboxConfig {
    use test_secrets::*;
    SandboxConfig {
        twilio_account_sid: TWILIO_ACCOUNT_SID.into(),
        twilio_auth_token: TWILIO_AUTH_TOKEN.into(),
        x_consumer_key: X_CONSUMER_KEY.into(),
        x_consumer_secret: X_CONSUMER_SECRET.into(),
        x_access_token: X_ACCESS_TOKEN.into(),
        x_access_token_secret: X_ACCESS_TOKEN_SECRET.into(),
        x_brand_account_id: X_ACCOUNT_ID.into(),
        discord_application_id: DISCORD_APPLICATION_ID.into(),
        discord_bot_token: DISCORD_BOT_TOKEN.into(),
        discord_signing_seed: DISCORD_SIGNING_SEED,
        // On the bridge's host, next to the X webhook.
        discord_interactions_url: sandbox::same_origin(
            &x_webhook_url,
            flex_bridge::routes::DISCORD_INTERACTIONS_PATH,
        ),
        x_webhook_url,
    }
}

/// `ROUTING` and its SIDs as variables.
fn routing_variables(routing: &Routing) -> Vec<(&'static str, String)> {
    let flex = |mode: &'static str, flex: &FlexTaskRouting| {
        vec![
            ("ROUTING", mode.to_owned()),
            ("FLEX_WORKSPACE_SID", flex.workspace_sid.clone()),
            ("FLEX_WORKFLOW_SID", flex.workflow_sid.clone()),
        ]
    };
    match routing {
        Routing::Bot(f) => flex("bot", f),
        Routing::Agent(f) => flex("agent", f),
        Routing::Studio { flow_sid } => vec![
            ("ROUTING", "studio".to_owned()),
            ("STUDIO_FLOW_SID", flow_sid.clone()),
        ],
    }
}

/// One local queue: the variable a deployment names it by, its URL, and the queue.
pub struct LocalQueue {
    pub variable: &'static str,
    pub url: String,
    pub queue: Arc<dyn Queue>,
}

impl LocalQueue {
    /// An in-process queue, at a URL that only names it.
    fn memory(variable: &'static str, queue: Arc<MemoryQueue>) -> Self {
        Self {
            variable,
            url: format!("http://queue.local/{}", variable.to_ascii_lowercase()),
            queue,
        }
    }
}

/// What the handlers are built on here: the one HTTP client, the store and the queues, found
/// by the names [`LocalResources::variables`] gives the composition root.
pub struct LocalResources {
    http: reqwest::Client,
    store: Arc<dyn Store>,
    queues: Vec<LocalQueue>,
    /// Transcripts in memory (the S3 adapter is tested on its own against moto).
    pub transcripts: Arc<MemoryTranscripts>,
}

/// The local transcripts bucket's name (one store: any name reaches it).
const TRANSCRIPTS_BUCKET: &str = "flex-bridge-local-transcripts";

/// The local table's name (one store: any name reaches it).
const TABLE: &str = "flex-bridge-local";

impl LocalResources {
    pub fn new(store: Arc<dyn Store>, queues: Vec<LocalQueue>) -> Self {
        Self {
            http: flex_bridge::http::http_client(),
            store,
            queues,
            transcripts: Arc::new(MemoryTranscripts::default()),
        }
    }

    /// `TABLE_NAME` and the queues' URLs, as the template sets them.
    pub fn variables(&self) -> Vec<(String, String)> {
        let queues = self
            .queues
            .iter()
            .map(|q| (q.variable.to_owned(), q.url.clone()));
        [
            ("TABLE_NAME".to_owned(), TABLE.to_owned()),
            (
                "TRANSCRIPTS_BUCKET".to_owned(),
                TRANSCRIPTS_BUCKET.to_owned(),
            ),
        ]
        .into_iter()
        .chain(queues)
        .collect()
    }
}

impl Resources for LocalResources {
    fn http(&self) -> &reqwest::Client {
        &self.http
    }

    fn store(&self, _table: String) -> Arc<dyn Store> {
        self.store.clone()
    }

    fn transcripts(&self, _bucket: String) -> Option<Arc<dyn TranscriptStore>> {
        Some(self.transcripts.clone())
    }

    fn queue(&self, queue_url: String) -> Arc<dyn Queue> {
        // Built from `variables`, so a URL not among them is a wiring mistake in this crate.
        self.queues
            .iter()
            .find(|q| q.url == queue_url)
            .unwrap_or_else(|| panic!("no local queue at {queue_url}"))
            .queue
            .clone()
    }
}

impl LocalBridge {
    pub async fn start(
        backend: Backend,
        options: Options,
    ) -> Result<Self, Box<dyn std::error::Error>> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port)).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let sandbox = Sandbox::start(sandbox_config(format!("{url}/twitter/webhook"))).await?;

        let Parts {
            store,
            delivery,
            queues,
            aws,
            memory_queues,
        } = backend.create(&options).await?;

        let console = Console::new(sandbox.clone(), store.clone(), delivery, BOT_NAME);
        let resources = LocalResources::new(store.clone(), queues);
        let mut vars = environment(&url, &sandbox.url());
        vars.extend(
            routing_variables(&options.routing)
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value)),
        );
        vars.insert(
            "X_MENTIONS".into(),
            format!("{:?}", options.x_mentions).to_ascii_lowercase(),
        );
        vars.insert(
            "DELIVERY_MAX_RECEIVES".into(),
            options.max_receives.to_string(),
        );
        if options.send_transcripts {
            vars.insert("TRANSCRIPTS".into(), "send".into());
        }
        vars.extend(resources.variables());
        // Short backoffs keep tests quick; the behaviour (honouring Retry-After) is the same.
        let retry = RetryPolicy {
            first_backoff: Duration::from_millis(50),
            ..RetryPolicy::default()
        };
        let mut handlers = Handlers::from_env(Env::from_map(vars), &resources)?.with_retry(retry);
        if let Some((limit, window)) = options.discord_invalid_requests {
            handlers = handlers.with_discord_invalid_request_limit(limit, window);
        }
        let handlers = Arc::new(handlers);

        tokio::spawn(server::serve(listener, handlers.clone(), console.router()));
        // The queue consumers, as their event source mappings would invoke them.
        match (&aws, memory_queues) {
            (Some(aws), _) => {
                let h = handlers.clone();
                tokio::spawn(aws::consume(
                    aws.sqs.clone(),
                    aws.queue_url.clone(),
                    move |batch| {
                        let h = h.clone();
                        async move { h.delivery.handle_batch(batch).await }
                    },
                ));
                let h = handlers.clone();
                tokio::spawn(aws::consume(
                    aws.sqs.clone(),
                    aws.discord_queue_url.clone(),
                    move |batch| {
                        let h = h.clone();
                        async move { discord_worker(&h).handle_batch(batch).await }
                    },
                ));
                tokio::spawn(aws::consume(
                    aws.sqs.clone(),
                    aws.x_queue_url.clone(),
                    move |batch| {
                        let h = handlers.clone();
                        async move { x_worker(&h).handle_batch(batch).await }
                    },
                ));
            }
            (None, Some(queues)) => queues.consume(handlers),
            _ => unreachable!("one back end is always chosen"),
        }
        Ok(Self {
            url,
            sandbox,
            store,
            aws,
            console,
            transcripts: resources.transcripts.clone(),
        })
    }
}

/// A queue consumer's event source mapping, for the in-memory queues.
async fn consume_memory<F, Fut>(queue: Arc<MemoryQueue>, handle: F)
where
    F: Fn(Vec<QueueRecord>) -> Fut,
    Fut: std::future::Future<Output = Vec<flex_bridge::queue::Failure>>,
{
    loop {
        let batch = queue.receive(10).await;
        let failed = handle(batch.clone()).await;
        queue.settle(batch, &failed);
    }
}

/// Polls `check` until it yields a value or `timeout` passes (queues and webhooks are async).
pub async fn wait_for<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
