//! Flex Bridge's state and durable work: the records and their ports (`Store`, `CaseStore`), the
//! idempotency helper (`Once`, every `Key`), the queue port and its jobs, cases, and what building
//! a handler asks of its platform (`Resources`). The DynamoDB and SQS adapters and the SDK's HTTP
//! connector (`sdk_http`) are behind the `aws` feature; the in-memory ones and the contract
//! suites behind `testing`.

pub mod cases;
pub mod idempotency;
pub mod queue;
pub mod resources;
#[cfg(feature = "aws")]
pub mod sdk_http;
pub mod store;
pub mod store_error;
pub mod transcripts;

pub use resources::Resources;

#[cfg(feature = "aws")]
use flex_bridge_core::http;
use flex_bridge_core::{calendar, now_epoch, routing, vocabulary};
use flex_bridge_x as x;
