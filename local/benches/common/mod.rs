//! Shared by the benchmarks: counting DynamoDB operations.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_types::config_bag::ConfigBag;
use flex_bridge::store::DynamoStore;

/// An AWS SDK interceptor that counts the operations a client sends.
#[derive(Debug, Clone, Default)]
pub struct CountOperations(pub Arc<AtomicU64>);

impl CountOperations {
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Intercept for CountOperations {
    fn name(&self) -> &'static str {
        "CountOperations"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// A DynamoDB store on `table` whose operations `counter` counts.
pub async fn counted_store(table: &str, counter: &CountOperations) -> DynamoStore {
    let sdk = flex_bridge::sdk_http::aws_config().await;
    let config = aws_sdk_dynamodb::config::Builder::from(&sdk)
        .interceptor(counter.clone())
        .build();
    DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), table)
}
