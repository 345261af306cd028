//! Hello-world Lambda: returns the event it is given. The cold-start baseline of
//! `scripts/bench-cold.sh`; nothing but `lambda_runtime` and a tokio runtime.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
