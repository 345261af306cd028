//! Flex Bridge: X (Twitter) DMs and Discord into Twilio Flex Conversations.
//!
//! Each Lambda binary under `functions/` is a thin `main` around one handler here. Handlers take
//! their dependencies (store, queue, API clients) as values built once per cold start, so the same
//! code runs in Lambda, in the local all-in-one server and in the end-to-end tests.

pub mod bot;
pub mod calendar;
pub mod cases;
pub mod config;
pub mod conversations;
pub mod delivery;
pub mod discord;
pub mod flex;
pub mod http;
pub mod idempotency;
pub mod lambda;
pub mod metrics;
pub mod queue;
pub mod quick_replies;
pub mod resources;
pub mod retry;
pub mod routes;
pub mod routing;
pub mod sdk_http;
pub mod secrets;
pub mod store;
pub mod store_error;
pub mod telemetry;
pub mod twilio;
pub mod vocabulary;
pub mod web;
pub mod x;

pub use config::{ConfigError, Env};
pub use web::{ApiError, WebRequest, WebResponse};

/// Seconds since the Unix epoch: the unit of every expiry and lease in the store.
pub fn now_epoch() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
