//! `flex-bridge discord register-commands` against a tiny local stand-in for Discord's
//! `PUT /applications/{id}/commands`: what it sends, and what it makes of the answers.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::put;
use axum::{Json, Router};
use clap::Parser;
use flex_bridge_cli::Cli;
use flex_bridge_core::config::Env;
use serde_json::{json, Value};

const APPLICATION_ID: &str = "1395501276284469329";
const BOT_TOKEN: &str = "TEST_ONLY_bot_token";

#[derive(Default)]
struct Seen {
    requests: Vec<(String, Option<String>, Value)>,
}

type Shared = Arc<Mutex<Seen>>;

/// Answers as Discord does: the stored commands, each with an id.
async fn overwrite(
    State(seen): State<Shared>,
    Path(application_id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    seen.lock().unwrap().requests.push((
        application_id.clone(),
        authorization.clone(),
        body.clone(),
    ));
    if authorization.as_deref() != Some(&format!("Bot {BOT_TOKEN}")) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "401: Unauthorized", "code": 0})),
        );
    }
    let stored: Vec<Value> = body
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, command)| {
            let mut command = command.clone();
            command["id"] = json!(format!("14000000000000000{i:02}"));
            command["application_id"] = json!(application_id);
            command["version"] = json!("1400000000000000100");
            command
        })
        .collect();
    (StatusCode::OK, Json(Value::Array(stored)))
}

async fn discord() -> (String, Shared) {
    let seen = Shared::default();
    let app = Router::new()
        .route("/api/v10/applications/{id}/commands", put(overwrite))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/v10", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

/// The program as the shell runs it, with `args` after `flex-bridge`: what it prints.
async fn run(args: &[&str], env: Env) -> Result<String, flex_bridge_cli::Error> {
    let cli = Cli::try_parse_from(std::iter::once("flex-bridge").chain(args.iter().copied()))
        .expect("valid arguments");
    let mut out = Vec::new();
    flex_bridge_cli::run(cli, env, &mut std::io::empty(), &mut out).await?;
    Ok(String::from_utf8(out).unwrap())
}

const REGISTER: &[&str] = &["discord", "register-commands"];

#[tokio::test]
async fn registers_the_command_list_with_one_bulk_overwrite() {
    let (url, seen) = discord().await;
    let output = run(
        REGISTER,
        Env::from_pairs(&[
            ("DISCORD_APPLICATION_ID", APPLICATION_ID),
            ("DISCORD_BOT_TOKEN", BOT_TOKEN),
            ("DISCORD_API_URL", &format!("{url}/")),
        ]),
    )
    .await
    .unwrap();
    let requests = &seen.lock().unwrap().requests;
    assert_eq!(requests.len(), 1, "one PUT");
    let (application_id, _, body) = &requests[0];
    assert_eq!(application_id, APPLICATION_ID);
    assert_eq!(body, &flex_bridge_discord::commands::definitions());
    assert_eq!(
        output,
        format!(
            "Registered 5 global command(s) for application {APPLICATION_ID}:\n\
             \x20 /helpme       1400000000000000000\n\
             \x20 /reply        1400000000000000001\n\
             \x20 /bug          1400000000000000002\n\
             \x20 /new_feature  1400000000000000003\n\
             \x20 /cases        1400000000000000004\n"
        )
    );
    assert!(!output.contains(BOT_TOKEN));
}

#[tokio::test]
async fn a_wrong_token_is_explained_without_printing_it() {
    let (url, seen) = discord().await;
    let err = run(
        REGISTER,
        Env::from_pairs(&[
            ("DISCORD_APPLICATION_ID", APPLICATION_ID),
            ("DISCORD_BOT_TOKEN", "not-the-token"),
            ("DISCORD_API_URL", &url),
        ]),
    )
    .await
    .unwrap_err();
    assert_eq!(seen.lock().unwrap().requests.len(), 1, "not retried");
    let message = err.to_string();
    assert!(message.contains("answered 401"), "{message}");
    assert!(message.contains("Check DISCORD_BOT_TOKEN"), "{message}");
    assert!(!message.contains("not-the-token"), "{message}");
}

#[tokio::test]
async fn dry_run_sends_nothing_and_needs_no_variables() {
    let output = run(
        &["discord", "register-commands", "--dry-run"],
        Env::from_pairs(&[]),
    )
    .await
    .unwrap();
    let printed: Value = serde_json::from_str(&output).unwrap();
    assert_eq!(printed, flex_bridge_discord::commands::definitions());
}

#[test]
fn unknown_arguments_are_a_usage_error() {
    let err = Cli::try_parse_from(["flex-bridge", "discord", "register-commands", "--force"])
        .unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("--force"), "{err}");
}
