//! `GET /twitter/webhook`: answers X's CRC challenge.

use flex_bridge::x::webhook::{crc, CrcConfig};
use flex_bridge_lambda::{environment, run_http, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    flex_bridge_lambda::telemetry::init_json();
    let config = CrcConfig::from_env(environment().await?)?;
    run_http(|request| {
        let response = crc(&config, &request);
        async move { response }
    })
    .await
}
