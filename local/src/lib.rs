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

use flex_bridge::bot::Chatbot;
use flex_bridge::config::{PublicUrl, Secret};
use flex_bridge::conversations::{ConversationSettings, Conversations};
use flex_bridge::delivery::Delivery;
use flex_bridge::discord::webhook::DiscordInteractions;
use flex_bridge::discord::worker::DiscordWorker;
use flex_bridge::discord::{
    DiscordApiConfig, DiscordAppConfig, DiscordClient, DiscordInteractionsConfig,
};
use flex_bridge::flex::FlexWebhooks;
use flex_bridge::queue::{MemoryQueue, Queue, QueueRecord};
use flex_bridge::retry::RetryPolicy;
use flex_bridge::routing::{FlexTaskRouting, Routing};
use flex_bridge::store::{MemoryStore, Store};
use flex_bridge::twilio::{TwilioClient, TwilioConfig};
use flex_bridge::x::webhook::{CrcConfig, XInbound};
use flex_bridge::x::worker::XWorker;
use flex_bridge::x::{XApiConfig, XClient, XWebhookConfig};
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
    queue: Arc<dyn Queue>,
    discord_queue: Arc<dyn Queue>,
    /// The X intake queue: `twitter-inbound` puts DMs on it, `x-worker` consumes it.
    x_queue: Arc<dyn Queue>,
    aws: Option<AwsResources>,
    /// The delivery, Discord and X intake queues, when in memory (their consumers are ours to
    /// run).
    memory_queues: Option<MemoryQueues>,
}

/// The in-process queues, whose consumers the local bridge runs.
struct MemoryQueues {
    delivery: Arc<MemoryQueue>,
    discord: Arc<MemoryQueue>,
    x: Arc<MemoryQueue>,
}

impl Backend {
    async fn create(self, options: &Options) -> Result<Parts, Box<dyn std::error::Error>> {
        Ok(match self {
            Backend::Memory => {
                let memory =
                    || Arc::new(MemoryQueue::new(options.max_receives, options.retry_delay));
                let (delivery, discord, x) = (memory(), memory(), memory());
                Parts {
                    store: Arc::new(MemoryStore::new()),
                    queue: delivery.clone(),
                    discord_queue: discord.clone(),
                    x_queue: x.clone(),
                    aws: None,
                    memory_queues: Some(MemoryQueues {
                        delivery,
                        discord,
                        x,
                    }),
                }
            }
            Backend::Aws { prefix } => {
                let aws = AwsResources::create(&prefix, options.max_receives, options.retry_delay)
                    .await?;
                Parts {
                    store: Arc::new(aws.store()),
                    queue: Arc::new(aws.queue()),
                    discord_queue: Arc::new(aws.discord_queue()),
                    x_queue: Arc::new(aws.x_queue()),
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
}

/// The environment a deployed function would see, for this local deployment.
pub fn environment(bridge_url: &str, sandbox_url: &str) -> HashMap<String, String> {
    use test_secrets::*;
    [
        ("PUBLIC_BASE_URL", bridge_url),
        ("TWILIO_ACCOUNT_SID", TWILIO_ACCOUNT_SID),
        ("TWILIO_AUTH_TOKEN", TWILIO_AUTH_TOKEN),
        ("TWILIO_CONVERSATIONS_URL", sandbox_url),
        ("TWILIO_FLEX_URL", sandbox_url),
        ("TWILIO_TASKROUTER_URL", sandbox_url),
        ("FLEX_WORKSPACE_SID", "WS00000000000000000000000000000001"),
        ("FLEX_WORKFLOW_SID", "WW00000000000000000000000000000001"),
        ("X_CONSUMER_KEY", X_CONSUMER_KEY),
        ("X_CONSUMER_SECRET", X_CONSUMER_SECRET),
        ("X_ACCESS_TOKEN", X_ACCESS_TOKEN),
        ("X_ACCESS_TOKEN_SECRET", X_ACCESS_TOKEN_SECRET),
        ("X_ACCOUNT_ID", X_ACCOUNT_ID),
        ("X_API_URL", sandbox_url),
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

/// The handlers of every function, wired to one store, queue and sandbox.
pub struct Functions {
    pub crc: CrcConfig,
    pub x_inbound: XInbound,
    pub x_worker: XWorker,
    pub flex: FlexWebhooks,
    pub chatbot: Chatbot,
    pub delivery: Delivery,
    pub discord_interactions: DiscordInteractions,
    pub discord_worker: DiscordWorker,
}

impl Functions {
    async fn deliver(self: Arc<Self>, batch: Vec<QueueRecord>) -> Vec<flex_bridge::queue::Failure> {
        self.delivery.handle_batch(batch).await
    }

    async fn work_discord(
        self: Arc<Self>,
        batch: Vec<QueueRecord>,
    ) -> Vec<flex_bridge::queue::Failure> {
        self.discord_worker.handle_batch(batch).await
    }

    async fn work_x(self: Arc<Self>, batch: Vec<QueueRecord>) -> Vec<flex_bridge::queue::Failure> {
        self.x_worker.handle_batch(batch).await
    }
}

impl LocalBridge {
    pub async fn start(
        backend: Backend,
        options: Options,
    ) -> Result<Self, Box<dyn std::error::Error>> {
        use test_secrets::*;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port)).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let sandbox = Sandbox::start(sandbox_config(format!("{url}/twitter/webhook"))).await?;

        let Parts {
            store,
            queue,
            discord_queue,
            x_queue,
            aws,
            memory_queues,
        } = backend.create(&options).await?;

        let console = Console::new(sandbox.clone(), store.clone(), queue.clone(), BOT_NAME);
        let http = flex_bridge::http::http_client();
        // Short backoffs keep tests quick; the behaviour (honouring Retry-After) is the same.
        let retry = RetryPolicy {
            first_backoff: Duration::from_millis(50),
            ..RetryPolicy::default()
        };
        let twilio = TwilioClient::new(
            http.clone(),
            TwilioConfig::at(
                &sandbox.url(),
                TWILIO_ACCOUNT_SID,
                Secret::new(TWILIO_AUTH_TOKEN),
            ),
        )
        .with_retry(retry);
        let x = XClient::new(
            http.clone(),
            XApiConfig {
                consumer_key: X_CONSUMER_KEY.into(),
                consumer_secret: Secret::new(X_CONSUMER_SECRET),
                access_token: X_ACCESS_TOKEN.into(),
                access_token_secret: Secret::new(X_ACCESS_TOKEN_SECRET),
                api_url: sandbox.url(),
            },
        )
        .with_retry(retry);
        let mut discord = DiscordClient::new(
            http,
            DiscordApiConfig {
                bot_token: Secret::new(DISCORD_BOT_TOKEN),
                api_url: sandbox.discord_api_url(),
            },
        )
        .with_retry(retry);
        if let Some((limit, window)) = options.discord_invalid_requests {
            discord = discord.with_invalid_request_limit(limit, window);
        }
        let conversations = Conversations {
            store: store.clone(),
            twilio: twilio.clone(),
            settings: ConversationSettings {
                public_url: PublicUrl::new(url.clone()),
                routing: options.routing.clone(),
                close_after: "PT24H".into(),
                set_up_deadline: Duration::from_secs(20),
            },
        };
        let functions = Arc::new(Functions {
            crc: CrcConfig {
                consumer_secret: Secret::new(X_CONSUMER_SECRET),
            },
            x_inbound: XInbound {
                config: XWebhookConfig {
                    consumer_secret: Secret::new(X_CONSUMER_SECRET),
                    account_id: X_ACCOUNT_ID.into(),
                },
                intake: x_queue,
                mentions: options.x_mentions,
            },
            x_worker: XWorker {
                conversations: conversations.clone(),
                queue: queue.clone(),
                mentions: flex_bridge::x::mentions::Invitations::new(options.x_mentions, x.clone()),
            },
            chatbot: Chatbot {
                store: store.clone(),
                queue: queue.clone(),
                auth_token: Secret::new(TWILIO_AUTH_TOKEN),
                public_url: PublicUrl::new(url.clone()),
                routing: options.routing.clone(),
                bot_name: BOT_NAME.into(),
                index: kb::Index::builtin(),
            },
            flex: FlexWebhooks {
                store: store.clone(),
                queue,
                auth_token: Secret::new(TWILIO_AUTH_TOKEN),
                public_url: PublicUrl::new(url.clone()),
            },
            delivery: Delivery {
                store: store.clone(),
                twilio,
                x: Some(x),
                discord: Some(discord.clone()),
                max_receives: options.max_receives,
            },
            discord_interactions: DiscordInteractions {
                config: DiscordInteractionsConfig::new(sandbox.discord_public_key_hex()),
                queue: discord_queue,
            },
            discord_worker: DiscordWorker {
                conversations,
                discord,
                app: DiscordAppConfig {
                    application_id: DISCORD_APPLICATION_ID.into(),
                    bug_channel_id: DISCORD_BUG_CHANNEL_ID.into(),
                    feature_channel_id: DISCORD_FEATURE_CHANNEL_ID.into(),
                },
            },
        });

        tokio::spawn(server::serve(listener, functions.clone(), console.router()));
        // The queue consumers, as their event source mappings would invoke them.
        let (f, g, h) = (functions.clone(), functions.clone(), functions);
        let delivery = move |batch| f.clone().deliver(batch);
        let worker = move |batch| g.clone().work_discord(batch);
        let x_worker = move |batch| h.clone().work_x(batch);
        match (&aws, memory_queues) {
            (Some(aws), _) => {
                tokio::spawn(aws::consume(
                    aws.sqs.clone(),
                    aws.queue_url.clone(),
                    delivery,
                ));
                tokio::spawn(aws::consume(
                    aws.sqs.clone(),
                    aws.discord_queue_url.clone(),
                    worker,
                ));
                tokio::spawn(aws::consume(
                    aws.sqs.clone(),
                    aws.x_queue_url.clone(),
                    x_worker,
                ));
            }
            (None, Some(queues)) => {
                tokio::spawn(consume_memory(queues.delivery, delivery));
                tokio::spawn(consume_memory(queues.discord, worker));
                tokio::spawn(consume_memory(queues.x, x_worker));
            }
            _ => unreachable!("one back end is always chosen"),
        }
        Ok(Self {
            url,
            sandbox,
            store,
            aws,
            console,
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
