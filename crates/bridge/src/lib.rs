//! Flex Bridge: X (Twitter) DMs and Discord into Twilio Flex Conversations. This crate is the
//! bridge's flow: conversations, the Flex webhooks, the virtual agent and its hand-off, delivery,
//! and the X and Discord webhook handlers and workers.
//!
//! Each Lambda binary under `functions/` is a thin `main` around one handler here, run by the
//! `flex-bridge-lambda` glue. Handlers take their dependencies (store, queue, API clients) as
//! values built once per cold start, so the same code runs in Lambda, in the local all-in-one
//! server and in the end-to-end tests. The layers below are re-exported under the names the
//! bridge's modules use (`config`, `store`, `twilio`, …), so one path reaches each thing.

pub use flex_bridge_core::{
    calendar, config, http, ids, metrics, now_epoch, now_millis, quick_replies, retry, routes,
    routing, vocabulary, web, ApiError, ConfigError, Env, WebRequest, WebResponse,
};
#[cfg(feature = "aws")]
pub use flex_bridge_store::sdk_http;
pub use flex_bridge_store::{
    cases, idempotency, queue, resources, store, store_error, transcripts,
};
pub use flex_bridge_twilio as twilio;

pub mod app;
pub mod bot;
pub mod conversations;
pub mod delivery;
pub mod discord;
pub mod files;
pub mod flex;
pub mod x;
