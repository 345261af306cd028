//! `flex-bridge`: see `flex-bridge --help` and README.md.

use std::process::ExitCode;

use clap::Parser;
use flex_bridge_cli::Cli;
use shared::config::Env;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    // Retries on rate limits are logged as text on stderr (RUST_LOG, default info).
    shared::telemetry::init_text();
    let cli = Cli::parse();
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    match flex_bridge_cli::run(cli, Env::from_process(), &mut stdin.lock(), &mut stdout).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("flex-bridge: {err}");
            ExitCode::FAILURE
        }
    }
}
