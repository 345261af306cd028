//! Flex Bridge's state and durable work: the records and their ports (`Store`, `CaseStore`), the
//! idempotency helper (`Once`, every `Key`), the queue port and its jobs, cases, and what building
//! a handler asks of its platform (`Resources`). DynamoDB and SQS adapters; the in-memory ones
//! and the contract suites behind the `testing` feature.

pub mod cases;
pub mod idempotency;
pub mod queue;
pub mod resources;
pub mod sdk_http;
pub mod store;
pub mod store_error;

pub use resources::Resources;

use flex_bridge_core::{calendar, http, now_epoch, routing, vocabulary};
use flex_bridge_x as x;
