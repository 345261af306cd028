//! `POST /twitter/webhook`: verify, then put customer DMs on the X intake queue for `x-worker`.

use shared::lambda::{environment, run_http, Error};
use shared::x::webhook::XInbound;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json();
    let inbound = &XInbound::from_env(environment().await?).await?;
    run_http(move |request| async move { inbound.handle(&request).await }).await
}
