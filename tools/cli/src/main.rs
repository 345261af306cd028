//! `flex-bridge`: see `flex-bridge --help` and README.md.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use flex_bridge_cli::Cli;
use flex_bridge_core::config::Env;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    init_logging();
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

/// Retries on rate limits are logged as text on stderr (RUST_LOG, default info), never on
/// stdout, which carries the output (`--json` included). The AWS SDK's warnings while it looks
/// for a region or credentials are left out by default: the error that follows says it.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,aws_config=error"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
