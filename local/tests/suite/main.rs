//! The integration tests of `local`, in one binary: they share their set-up (a bridge on moto
//! and the sandbox, `common`), and one binary links the AWS SDK once instead of once per file.
//! The browser test (headless Chromium) and the log test (it installs the process's one tracing
//! subscriber) stay binaries of their own.

mod common;
mod dependencies;
mod e2e_bot;
mod e2e_cases;
mod e2e_discord;
mod e2e_media;
mod e2e_x;
mod forged;
mod opening;
mod queue_sqs;
mod real_config;
mod retries;
mod secrets;
mod store_dynamodb;
mod x_budget;
