//! `cargo run -p register-commands [-- --dry-run]`: registers the Discord slash commands.
//! See the crate documentation (src/lib.rs) and README.md's Discord section.

use std::process::ExitCode;

use shared::config::Env;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    // Retries on Discord rate limits are logged as text on stderr (RUST_LOG, default info).
    shared::telemetry::init_text();
    match register_commands::run(std::env::args().skip(1), Env::from_process()).await {
        Ok(output) => {
            print!("{output}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("register-commands: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
