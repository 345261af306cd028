//! Flex Bridge on one machine: every function's handler served on the paths API Gateway uses,
//! the delivery queue consumed as the Lambda event source mapping would, and the sandbox playing
//! Twilio and X. The local runner (`flex-bridge-local`) and the end-to-end tests both start it.
//!
//! Two back ends: in-memory (no account, no emulator) for the local run, and DynamoDB + SQS at
//! `AWS_ENDPOINT_URL` (moto server in tests) for the real parts.

mod aws;
mod server;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sandbox::{Sandbox, SandboxConfig};
use shared::config::{PublicUrl, Secret};
use shared::conversations::{ConversationSettings, Conversations};
use shared::delivery::Delivery;
use shared::flex::FlexWebhooks;
use shared::queue::{MemoryQueue, Queue};
use shared::retry::RetryPolicy;
use shared::store::{MemoryStore, Store};
use shared::twilio::{TwilioClient, TwilioConfig};
use shared::x::webhook::{CrcConfig, XInbound};
use shared::x::{XApiConfig, XClient, XWebhookConfig};

pub use aws::AwsResources;

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
}

/// Where state and queued work live.
pub enum Backend {
    Memory,
    /// DynamoDB and SQS at `AWS_ENDPOINT_URL`, in fresh resources named after `prefix`.
    Aws {
        prefix: String,
    },
}

/// Options the tests vary.
#[derive(Clone, Debug)]
pub struct Options {
    pub studio_flow_sid: Option<String>,
    /// `maxReceiveCount` of the delivery queue.
    pub max_receives: u32,
    /// SQS visibility timeout: how long a failed delivery waits before its retry.
    pub retry_delay: Duration,
    pub port: u16,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            studio_flow_sid: None,
            max_receives: 5,
            retry_delay: Duration::from_secs(1),
            port: 0,
        }
    }
}

/// A running bridge and its sandbox.
pub struct LocalBridge {
    pub url: String,
    pub sandbox: Sandbox,
    pub store: Arc<dyn Store>,
    pub aws: Option<AwsResources>,
    pub memory_queue: Option<Arc<MemoryQueue>>,
}

/// The environment a deployed function would see, for this local deployment.
pub fn environment(bridge_url: &str, sandbox_url: &str) -> HashMap<String, String> {
    use test_secrets::*;
    [
        ("PUBLIC_BASE_URL", bridge_url),
        ("TWILIO_ACCOUNT_SID", TWILIO_ACCOUNT_SID),
        ("TWILIO_AUTH_TOKEN", TWILIO_AUTH_TOKEN),
        ("TWILIO_CONVERSATIONS_URL", sandbox_url),
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
        x_webhook_url,
    }
}

/// The handlers of every function, wired to one store, queue and sandbox.
pub struct Functions {
    pub crc: CrcConfig,
    pub x_inbound: XInbound,
    pub flex: FlexWebhooks,
    pub delivery: Delivery,
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

        let (store, queue, aws, memory_queue): (Arc<dyn Store>, Arc<dyn Queue>, _, _) =
            match backend {
                Backend::Memory => {
                    let queue =
                        Arc::new(MemoryQueue::new(options.max_receives, options.retry_delay));
                    (
                        Arc::new(MemoryStore::new()),
                        queue.clone(),
                        None,
                        Some(queue),
                    )
                }
                Backend::Aws { prefix } => {
                    let aws =
                        AwsResources::create(&prefix, options.max_receives, options.retry_delay)
                            .await?;
                    (
                        Arc::new(aws.store()),
                        Arc::new(aws.queue()),
                        Some(aws),
                        None,
                    )
                }
            };

        let http = shared::lambda::http_client();
        // Short backoffs keep tests quick; the behaviour (honouring Retry-After) is the same.
        let retry = RetryPolicy {
            first_backoff: Duration::from_millis(50),
            ..RetryPolicy::default()
        };
        let twilio = TwilioClient::new(
            http.clone(),
            TwilioConfig {
                account_sid: TWILIO_ACCOUNT_SID.into(),
                auth_token: Secret::new(TWILIO_AUTH_TOKEN),
                conversations_url: sandbox.url(),
            },
        )
        .with_retry(retry);
        let x = XClient::new(
            http,
            XApiConfig {
                consumer_key: X_CONSUMER_KEY.into(),
                consumer_secret: Secret::new(X_CONSUMER_SECRET),
                access_token: X_ACCESS_TOKEN.into(),
                access_token_secret: Secret::new(X_ACCESS_TOKEN_SECRET),
                api_url: sandbox.url(),
            },
        )
        .with_retry(retry);
        let functions = Arc::new(Functions {
            crc: CrcConfig {
                consumer_secret: Secret::new(X_CONSUMER_SECRET),
            },
            x_inbound: XInbound {
                config: XWebhookConfig {
                    consumer_secret: Secret::new(X_CONSUMER_SECRET),
                    account_id: X_ACCOUNT_ID.into(),
                },
                conversations: Conversations {
                    store: store.clone(),
                    twilio: twilio.clone(),
                    settings: ConversationSettings {
                        public_url: PublicUrl::new(url.clone()),
                        studio_flow_sid: options.studio_flow_sid.clone(),
                        close_after: "PT24H".into(),
                    },
                },
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
                discord: None,
                max_receives: options.max_receives,
            },
        });

        tokio::spawn(server::serve(listener, functions.clone()));
        match (&aws, &memory_queue) {
            (Some(aws), _) => {
                tokio::spawn(aws::consume(aws.clone(), functions.clone()));
            }
            (None, Some(queue)) => {
                tokio::spawn(consume_memory(queue.clone(), functions.clone()));
            }
            _ => unreachable!("one back end is always chosen"),
        }
        Ok(Self {
            url,
            sandbox,
            store,
            aws,
            memory_queue,
        })
    }
}

/// The delivery function's event source mapping, for the in-memory queue.
async fn consume_memory(queue: Arc<MemoryQueue>, functions: Arc<Functions>) {
    loop {
        let batch = queue.receive(10).await;
        let failed = functions.delivery.handle_batch(batch.clone()).await;
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
