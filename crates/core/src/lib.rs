//! Flex Bridge's core, which every other crate builds on: typed configuration (`Env`, `Secret`,
//! the public URL), the web request and response types with their error answers, retries, the one
//! HTTP/TLS client, the UTC calendar, metrics, the routes the bridge serves, the routing modes,
//! and the words every layer shares (suggestions, case kinds, quick replies).

pub mod calendar;
pub mod config;
pub mod http;
pub mod ids;
pub mod metrics;
pub mod quick_replies;
pub mod retry;
pub mod routes;
pub mod routing;
pub mod vocabulary;
pub mod web;

pub use config::{ConfigError, Env};
pub use web::{ApiError, WebRequest, WebResponse};

/// Milliseconds since the Unix epoch: when a report was observed, a metric's timestamp.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// Seconds since the Unix epoch: the unit of every expiry and lease in the store.
pub fn now_epoch() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
