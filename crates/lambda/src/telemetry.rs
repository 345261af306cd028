//! Logging: JSON lines in Lambda (CloudWatch Logs Insights reads the fields), readable text
//! locally. `RUST_LOG` picks the level; the default is `info`.

use tracing_subscriber::EnvFilter;

pub fn init_json() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter())
        .with_current_span(true)
        .with_span_list(false)
        .without_time() // Lambda stamps every line already
        .try_init();
}

pub fn init_text() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .try_init();
}

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))
}
