//! Discord: the `flex-bridge-discord` API crate (client, signatures, interactions, messages), and
//! the bridge's Discord handlers: the interactions endpoint and the worker.

pub use flex_bridge_discord::*;

pub mod webhook;
pub mod worker;
