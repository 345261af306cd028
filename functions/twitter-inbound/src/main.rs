//! `POST /twitter/webhook`: verify, then put customer DMs on the X intake queue for `x-worker`.

use flex_bridge::x::webhook::XInbound;
use flex_bridge_lambda::{run_http, Aws, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    flex_bridge_lambda::telemetry::init_json();
    let aws = Aws::load().await;
    let inbound = &XInbound::from_env(aws.environment().await?, &aws)?;
    run_http(move |request| async move { inbound.handle(&request).await }).await
}
