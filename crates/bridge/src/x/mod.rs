//! X: the `flex-bridge-x` API crate (client, signatures, payloads, the DM budget), and the
//! bridge's X handlers: the webhook, the intake worker and public mentions.

pub use flex_bridge_x::*;

pub mod mentions;
pub mod webhook;
pub mod worker;
