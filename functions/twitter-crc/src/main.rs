//! `GET /twitter/webhook`: answers X's CRC challenge.

use shared::lambda::{environment, run_http, Error};
use shared::x::webhook::{crc, CrcConfig};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json();
    let config = CrcConfig::from_env(environment().await?)?;
    run_http(|request| {
        let response = crc(&config, &request);
        async move { response }
    })
    .await
}
