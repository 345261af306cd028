//! `POST /twitter/webhook`: verify, then put customer DMs on the X intake queue for `x-worker`.

use shared::lambda::{run_http, Aws, Error};
use shared::x::webhook::XInbound;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json();
    let aws = Aws::load().await;
    let inbound = &XInbound::from_env(aws.environment().await?, &aws)?;
    run_http(move |request| async move { inbound.handle(&request).await }).await
}
