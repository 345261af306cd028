//! `flex-bridge x webhook register | list | delete`, `x subscribe`, `x subscriptions list |
//! delete` and `x replay` against the sandbox's X emulation (OAuth 1.0a and the app bearer token
//! checked, bodies checked against the spec), with a tiny stand-in for the bridge that answers
//! X's CRC challenge.

use axum::extract::Query;
use axum::routing::get;
use axum::{Json, Router};
use clap::Parser;
use flex_bridge_cli::Cli;
use flex_bridge_core::config::Env;
use local::test_secrets::*;
use sandbox::Sandbox;
use serde_json::json;

/// The bridge's `GET /twitter/webhook?crc_token=`: answers with `secret`. Returns its URL.
async fn crc_receiver(secret: &'static str) -> String {
    let app = Router::new().route(
        "/twitter/webhook",
        get(
            move |Query(params): Query<std::collections::HashMap<String, String>>| async move {
                let token = params.get("crc_token").cloned().unwrap_or_default();
                Json(json!({
                    "response_token": flex_bridge_x::signature::crc_response_token(secret, &token)
                }))
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/twitter/webhook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// A sandbox and the URL of a bridge that answers its CRC challenges.
async fn setup() -> (Sandbox, String) {
    let hook = crc_receiver(X_CONSUMER_SECRET).await;
    let sandbox = Sandbox::start(local::sandbox_config(hook.clone()))
        .await
        .unwrap();
    (sandbox, hook)
}

/// Every variable the X commands read, pointed at the sandbox, with `overrides` on top
/// (an empty value removes the variable).
fn env(sandbox: &Sandbox, overrides: &[(&str, &str)]) -> Env {
    let bearer = sandbox.x_bearer_token();
    let url = sandbox.url();
    let mut vars: Vec<(&str, &str)> = vec![
        ("X_CONSUMER_KEY", X_CONSUMER_KEY),
        ("X_CONSUMER_SECRET", X_CONSUMER_SECRET),
        ("X_ACCESS_TOKEN", X_ACCESS_TOKEN),
        ("X_ACCESS_TOKEN_SECRET", X_ACCESS_TOKEN_SECRET),
        ("X_ACCOUNT_ID", X_ACCOUNT_ID),
        ("X_BEARER_TOKEN", &bearer),
        ("X_API_URL", &url),
    ];
    for (name, value) in overrides {
        vars.retain(|(n, _)| n != name);
        if !value.is_empty() {
            vars.push((name, value));
        }
    }
    Env::from_pairs(&vars)
}

/// The program as the shell runs it, with `args` after `flex-bridge`: what it prints.
async fn run(args: &[&str], env: Env) -> Result<String, flex_bridge_cli::Error> {
    let cli = Cli::try_parse_from(std::iter::once("flex-bridge").chain(args.iter().copied()))
        .expect("valid arguments");
    let mut out = Vec::new();
    flex_bridge_cli::run(cli, env, &mut std::io::empty(), &mut out).await?;
    Ok(String::from_utf8(out).unwrap())
}

fn now() -> i64 {
    flex_bridge_core::now_epoch()
}

#[tokio::test]
async fn webhooks_are_registered_listed_and_deleted() {
    let (sandbox, hook) = setup().await;

    let output = run(&["x", "webhook", "list"], env(&sandbox, &[]))
        .await
        .unwrap();
    assert_eq!(
        output,
        "No webhooks registered. Register one with `flex-bridge x webhook register URL`.\n"
    );

    let output = run(&["x", "webhook", "register", &hook], env(&sandbox, &[]))
        .await
        .unwrap();
    let webhooks = sandbox.x_webhooks();
    assert_eq!(webhooks.len(), 1);
    let w = &webhooks[0];
    assert_eq!((w.url.as_str(), w.valid), (hook.as_str(), true));
    assert_eq!(
        output,
        format!(
            "Registered webhook {}\n  url         {hook}\n  valid       true\n  created_at  {}\n\
             Next: `flex-bridge x subscribe` to have the brand account's DMs delivered to it.\n",
            w.id, w.created_at
        )
    );

    let output = run(&["x", "webhook", "list"], env(&sandbox, &[]))
        .await
        .unwrap();
    let lines: Vec<&str> = output.lines().collect();
    assert_eq!(lines.len(), 2, "{output}");
    assert!(lines[0].starts_with("ID "), "{output}");
    assert!(lines[0].ends_with("VALID  CREATED_AT"), "{output}");
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        [w.id.as_str(), &hook, "true", &w.created_at]
    );
    // The listing needs only the app's bearer token.
    run(
        &["x", "webhook", "list"],
        Env::from_pairs(&[
            ("X_BEARER_TOKEN", &sandbox.x_bearer_token()),
            ("X_API_URL", &sandbox.url()),
        ]),
    )
    .await
    .unwrap();

    let output = run(&["x", "webhook", "delete", &w.id], env(&sandbox, &[]))
        .await
        .unwrap();
    assert_eq!(output, format!("Deleted webhook {}.\n", w.id));
    assert!(sandbox.x_webhooks().is_empty());

    let err = run(&["x", "webhook", "delete", &w.id], env(&sandbox, &[]))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("answered 404"), "{err}");
    assert!(err.contains("`flex-bridge x webhook list`"), "{err}");
}

#[tokio::test]
async fn a_url_that_fails_the_crc_check_is_not_registered() {
    let (sandbox, _) = setup().await;
    let wrong = crc_receiver("not-the-consumer-secret").await;
    let err = run(&["x", "webhook", "register", &wrong], env(&sandbox, &[]))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("X refused to register the webhook: x answered 400"),
        "{err}"
    );
    assert!(err.contains("CRC"), "{err}");
    assert!(sandbox.x_webhooks().is_empty());

    let err = run(
        &["x", "webhook", "register", "ftp://example.com/hook"],
        env(&sandbox, &[]),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("not a webhook URL"), "{err}");
}

#[tokio::test]
async fn subscribe_creates_an_activity_subscription_for_dms_to_the_brand() {
    let (sandbox, hook) = setup().await;
    let webhook_id = sandbox.add_x_webhook(&hook);

    let output = run(&["x", "subscribe"], env(&sandbox, &[])).await.unwrap();
    let subscriptions = sandbox.x_activity_subscriptions();
    assert_eq!(subscriptions.len(), 1);
    let s = &subscriptions[0];
    assert_eq!(s.event_type, "dm.received");
    assert_eq!(
        s.filter,
        json!({"user_id": X_ACCOUNT_ID, "direction": "inbound"})
    );
    assert_eq!(s.webhook_id.as_deref(), Some(webhook_id.as_str()));
    assert_eq!(s.tag.as_deref(), Some("flex-bridge"));
    assert_eq!(
        output,
        format!(
            "Subscribed with the X Activity API: subscription {}\n  event_type  dm.received\n  \
             filter      user_id={X_ACCOUNT_ID},direction=inbound\n  webhook_id  {webhook_id}\n  \
             created_at  {}\n\
             Public mentions of the brand: `flex-bridge x subscribe --mentions` (with X_MENTIONS=notify or reply).\n",
            s.subscription_id, s.created_at
        )
    );
    assert!(sandbox.x_account_activity_subscriptions().is_empty());

    // Again: the identical subscription is found and reported, nothing is created.
    let output = run(&["x", "subscribe"], env(&sandbox, &[])).await.unwrap();
    assert!(
        output.starts_with(&format!(
            "Already subscribed with the X Activity API: subscription {} (dm.received, \
             user_id={X_ACCOUNT_ID},direction=inbound, webhook {webhook_id}): not created again.\n",
            s.subscription_id
        )),
        "{output}"
    );
    assert_eq!(sandbox.x_activity_subscriptions(), subscriptions);
}

#[tokio::test]
async fn subscribe_with_mentions_adds_the_mention_subscription_once() {
    let (sandbox, hook) = setup().await;
    let webhook_id = sandbox.add_x_webhook(&hook);
    // One made earlier without direction (by an older version), and one for another webhook.
    let older = sandbox.add_x_activity_subscription(
        "dm.received",
        json!({"user_id": X_ACCOUNT_ID}),
        Some(&webhook_id),
    );
    let other_hook = sandbox.add_x_webhook("https://example.com/other");
    sandbox.add_x_activity_subscription(
        "dm.received",
        json!({"user_id": X_ACCOUNT_ID, "direction": "inbound"}),
        Some(&other_hook),
    );

    let args = [
        "x",
        "subscribe",
        "--mentions",
        "--keyword",
        "help",
        "--webhook-id",
        &webhook_id,
    ];
    let output = run(&args, env(&sandbox, &[])).await.unwrap();
    let created: Vec<_> = sandbox
        .x_activity_subscriptions()
        .into_iter()
        .skip(2)
        .collect();
    assert_eq!(created.len(), 2, "{output}");
    let (dm, mention) = (&created[0], &created[1]);
    assert_eq!(
        (dm.event_type.as_str(), &dm.filter, dm.webhook_id.as_deref()),
        (
            "dm.received",
            &json!({"user_id": X_ACCOUNT_ID, "direction": "inbound"}),
            Some(webhook_id.as_str())
        )
    );
    assert_eq!(
        (
            mention.event_type.as_str(),
            &mention.filter,
            mention.webhook_id.as_deref()
        ),
        (
            "post.mention.create",
            &json!({"user_id": X_ACCOUNT_ID, "keyword": "help"}),
            Some(webhook_id.as_str())
        )
    );
    assert!(
        output.contains(&format!(
            "Note: subscription {older} (dm.received, user_id={X_ACCOUNT_ID}) delivers to the same \
             webhook; the bridge drops what it gets twice, or remove it with \
             `flex-bridge x subscriptions delete {older}`.\n"
        )),
        "{output}"
    );
    assert!(
        output.contains(&format!(
            "Subscribed with the X Activity API: subscription {}\n  event_type  \
             post.mention.create\n  filter      user_id={X_ACCOUNT_ID},keyword=\"help\"\n",
            mention.subscription_id
        )),
        "{output}"
    );
    assert!(!output.contains("Public mentions of the brand"), "{output}");

    // Again: both are reported, none created; without the keyword it is another filter.
    let output = run(&args, env(&sandbox, &[])).await.unwrap();
    assert_eq!(output.matches("Already subscribed").count(), 2, "{output}");
    assert!(
        output.contains(&format!(
            "subscription {} (post.mention.create",
            mention.subscription_id
        )),
        "{output}"
    );
    assert_eq!(sandbox.x_activity_subscriptions().len(), 4);
    run(
        &["x", "subscribe", "--mentions", "--webhook-id", &webhook_id],
        env(&sandbox, &[]),
    )
    .await
    .unwrap();
    let all = sandbox.x_activity_subscriptions();
    assert_eq!(all.len(), 5);
    assert_eq!(all[4].filter, json!({"user_id": X_ACCOUNT_ID}));

    // A keyword X would refuse is refused before any call; --keyword needs --mentions.
    let long = "k".repeat(151);
    let err = run(
        &["x", "subscribe", "--mentions", "--keyword", &long],
        env(&sandbox, &[]),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("1 to 150 characters"), "{err}");
    assert!(Cli::try_parse_from(["flex-bridge", "x", "subscribe", "--keyword", "help"]).is_err());
    assert!(Cli::try_parse_from([
        "flex-bridge",
        "x",
        "subscribe",
        "--mentions",
        "--account-activity"
    ])
    .is_err());
    assert_eq!(sandbox.x_activity_subscriptions().len(), 5);
}

#[tokio::test]
async fn subscriptions_are_listed_and_deleted() {
    let (sandbox, hook) = setup().await;
    let webhook_id = sandbox.add_x_webhook(&hook);
    let output = run(&["x", "subscriptions", "list"], env(&sandbox, &[]))
        .await
        .unwrap();
    assert_eq!(
        output,
        "No X Activity subscriptions. Create the bridge's with `flex-bridge x subscribe`.\n"
    );

    run(
        &["x", "subscribe", "--mentions", "--keyword", "help"],
        env(&sandbox, &[]),
    )
    .await
    .unwrap();
    let subscriptions = sandbox.x_activity_subscriptions();
    assert_eq!(subscriptions.len(), 2);
    let (dm, mention) = (&subscriptions[0], &subscriptions[1]);

    // The listing needs only the brand's OAuth 1.0a credentials.
    let output = run(
        &["x", "subscriptions", "list"],
        env(&sandbox, &[("X_BEARER_TOKEN", ""), ("X_ACCOUNT_ID", "")]),
    )
    .await
    .unwrap();
    let lines: Vec<Vec<&str>> = output
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let brand_inbound = format!("user_id={X_ACCOUNT_ID},direction=inbound");
    let brand_help = format!("user_id={X_ACCOUNT_ID},keyword=\"help\"");
    assert_eq!(
        lines,
        [
            vec!["ID", "EVENT_TYPE", "FILTER", "WEBHOOK_ID", "TAG"],
            vec![
                dm.subscription_id.as_str(),
                "dm.received",
                &brand_inbound,
                &webhook_id,
                "flex-bridge"
            ],
            vec![
                mention.subscription_id.as_str(),
                "post.mention.create",
                &brand_help,
                &webhook_id,
                "flex-bridge"
            ],
        ],
        "{output}"
    );

    // More than one page (X's pages hold up to 1000): every one is listed.
    for n in 0..1001 {
        sandbox.add_x_activity_subscription(
            "profile.update.bio",
            json!({"user_id": format!("{}", 500 + n)}),
            None,
        );
    }
    let output = run(&["x", "subscriptions", "list"], env(&sandbox, &[]))
        .await
        .unwrap();
    assert_eq!(output.lines().count(), 1 + 2 + 1001);
    assert!(
        output.lines().last().unwrap().contains("user_id=1500"),
        "{output}"
    );

    // Delete takes the app's bearer token (the spec's only auth for it).
    let err = run(
        &["x", "subscriptions", "delete", &mention.subscription_id],
        env(&sandbox, &[("X_BEARER_TOKEN", "")]),
    )
    .await
    .unwrap_err()
    .to_string();
    assert_eq!(err, "missing environment variable(s): X_BEARER_TOKEN");
    let output = run(
        &["x", "subscriptions", "delete", &mention.subscription_id],
        env(&sandbox, &[]),
    )
    .await
    .unwrap();
    assert_eq!(
        output,
        format!("Deleted subscription {}.\n", mention.subscription_id)
    );
    let left = sandbox.x_activity_subscriptions();
    assert_eq!(left.len(), 1 + 1001);
    assert_eq!(left[0], *dm);
    assert!(!left.iter().any(|s| s.event_type == "post.mention.create"));

    let err = run(
        &["x", "subscriptions", "delete", &mention.subscription_id],
        env(&sandbox, &[]),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("answered 404"), "{err}");
    assert!(err.contains("`flex-bridge x subscriptions list`"), "{err}");
    let err = run(&["x", "subscriptions", "delete", "abc"], env(&sandbox, &[]))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("not a subscription id"), "{err}");
}

#[tokio::test]
async fn subscribe_with_account_activity_subscribes_the_brand_on_the_webhook() {
    let (sandbox, hook) = setup().await;
    let webhook_id = sandbox.add_x_webhook(&hook);
    // With --webhook-id, neither the bearer token nor X_ACCOUNT_ID is needed.
    let output = run(
        &[
            "x",
            "subscribe",
            "--account-activity",
            "--webhook-id",
            &webhook_id,
        ],
        env(&sandbox, &[("X_BEARER_TOKEN", ""), ("X_ACCOUNT_ID", "")]),
    )
    .await
    .unwrap();
    assert_eq!(
        output,
        format!(
            "Subscribed the brand account (the user of X_ACCESS_TOKEN) to webhook {webhook_id} with the Account Activity API.\n"
        )
    );
    let subscriptions = sandbox.x_account_activity_subscriptions();
    assert_eq!(subscriptions.len(), 1);
    assert_eq!(
        (
            subscriptions[0].webhook_id.as_str(),
            subscriptions[0].user_id.as_str()
        ),
        (webhook_id.as_str(), X_ACCOUNT_ID)
    );
    assert!(sandbox.x_activity_subscriptions().is_empty());
}

#[tokio::test]
async fn the_webhook_must_be_named_unless_there_is_exactly_one() {
    let (sandbox, hook) = setup().await;
    let err = run(&["x", "subscribe"], env(&sandbox, &[]))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("no webhook is registered"), "{err}");

    let first = sandbox.add_x_webhook(&hook);
    let second = sandbox.add_x_webhook("https://example.com/other");
    let err = run(
        &["x", "subscribe", "--account-activity"],
        env(&sandbox, &[]),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("2 webhooks are registered"), "{err}");
    assert!(err.contains(&first) && err.contains(&second), "{err}");
    assert!(err.contains("--webhook-id"), "{err}");

    let err = run(
        &["x", "subscribe", "--webhook-id", "12345"],
        env(&sandbox, &[]),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("answered 404"), "{err}");
    let err = run(
        &["x", "subscribe", "--webhook-id", "abc"],
        env(&sandbox, &[]),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("not a webhook id"), "{err}");
    assert!(sandbox.x_activity_subscriptions().is_empty());
}

#[tokio::test]
async fn replay_asks_for_the_window_in_minutes_utc() {
    let (sandbox, hook) = setup().await;
    let webhook_id = sandbox.add_x_webhook(&hook);
    let start = now();
    let from = start - 2 * 3600;
    // RFC 3339 with an offset; --to defaults to now.
    let from_rfc = format!(
        "{}+01:00",
        flex_bridge_cli::x::utc_minute(from + 3600)
            .trim_end_matches(" UTC")
            .replace(' ', "T")
    );
    let output = run(&["x", "replay", "--from", &from_rfc], env(&sandbox, &[]))
        .await
        .unwrap();
    let jobs = sandbox.x_replay_jobs();
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    assert_eq!(job.webhook_id, webhook_id);
    assert_eq!(job.from_date, flex_bridge_cli::x::x_minute(from));
    let to = flex_bridge_cli::x::parse_time(&job.to_date).unwrap();
    assert!(to <= now() && to > start - 120, "{}", job.to_date);
    assert!(
        output.starts_with(&format!(
            "Replay job {} created at {}\n  webhook_id  {webhook_id}\n  from        {} ({})\n",
            job.job_id,
            job.created_at,
            flex_bridge_cli::x::utc_minute(from - from.rem_euclid(60)),
            job.from_date
        )),
        "{output}"
    );

    // X's own format, both ends, and an explicit webhook.
    let (a, b) = (
        flex_bridge_cli::x::x_minute(start - 3 * 3600),
        flex_bridge_cli::x::x_minute(start - 3600),
    );
    run(
        &[
            "x",
            "replay",
            "--from",
            &a,
            "--to",
            &b,
            "--webhook-id",
            &webhook_id,
        ],
        env(&sandbox, &[]),
    )
    .await
    .unwrap();
    let job = &sandbox.x_replay_jobs()[1];
    assert_eq!(
        (job.from_date.as_str(), job.to_date.as_str()),
        (a.as_str(), b.as_str())
    );
}

#[tokio::test]
async fn replay_windows_are_checked_before_asking() {
    let (sandbox, hook) = setup().await;
    sandbox.add_x_webhook(&hook);
    let cases = [
        (
            flex_bridge_cli::x::x_minute(now() - 25 * 3600),
            None,
            "24 hours",
        ),
        (
            flex_bridge_cli::x::x_minute(now() - 3600),
            Some(flex_bridge_cli::x::x_minute(now() - 7200)),
            "is after --to",
        ),
        (
            flex_bridge_cli::x::x_minute(now() - 3600),
            Some(flex_bridge_cli::x::x_minute(now() + 7200)),
            "in the future",
        ),
        (
            "yesterday".to_owned(),
            None,
            "--from: \"yesterday\" is not a time",
        ),
    ];
    for (from, to, expected) in cases {
        let mut args = vec!["x", "replay", "--from", &from];
        if let Some(to) = &to {
            args.extend(["--to", to]);
        }
        let err = run(&args, env(&sandbox, &[]))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{err}");
    }
    assert!(sandbox.x_replay_jobs().is_empty());
}

#[tokio::test]
async fn bad_credentials_get_the_401_hint_without_the_secret() {
    let (sandbox, hook) = setup().await;
    let err = run(
        &["x", "webhook", "register", &hook],
        env(&sandbox, &[("X_CONSUMER_SECRET", "not-the-secret")]),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("answered 401"), "{err}");
    assert!(err.contains("Check the four X credentials"), "{err}");
    assert!(!err.contains("not-the-secret"), "{err}");
    assert!(sandbox.x_webhooks().is_empty());

    let err = run(
        &["x", "webhook", "list"],
        env(&sandbox, &[("X_BEARER_TOKEN", "not-the-bearer")]),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("answered 401"), "{err}");
    assert!(err.contains("Check X_BEARER_TOKEN"), "{err}");
    assert!(!err.contains("not-the-bearer"), "{err}");
}

#[tokio::test]
async fn no_product_access_gets_the_403_hint() {
    let (sandbox, hook) = setup().await;
    let webhook_id = sandbox.add_x_webhook(&hook);
    sandbox.set_x_product_access(false);
    let err = run(
        &["x", "subscribe", "--webhook-id", &webhook_id],
        env(&sandbox, &[]),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("answered 403"), "{err}");
    assert!(err.contains("permissions and product access"), "{err}");
    assert!(sandbox.x_activity_subscriptions().is_empty());
}

#[tokio::test]
async fn missing_variables_are_named_at_once() {
    let err = run(
        &[
            "x",
            "webhook",
            "register",
            "https://example.com/twitter/webhook",
        ],
        Env::from_pairs(&[]),
    )
    .await
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "missing environment variable(s): X_CONSUMER_KEY, X_CONSUMER_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET"
    );
    let err = run(&["x", "subscribe"], Env::from_pairs(&[]))
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "missing environment variable(s): X_ACCOUNT_ID, X_CONSUMER_KEY, X_CONSUMER_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET, X_BEARER_TOKEN"
    );
    let err = run(
        &[
            "x",
            "replay",
            "--from",
            &flex_bridge_cli::x::x_minute(now() - 60),
        ],
        Env::from_pairs(&[]),
    )
    .await
    .unwrap_err()
    .to_string();
    assert_eq!(err, "missing environment variable(s): X_BEARER_TOKEN");
}

#[test]
fn every_subcommand_explains_itself() {
    for (args, expected) in [
        (&["x"][..], "X_BEARER_TOKEN"),
        (&["x", "webhook"], "/2/webhooks"),
        (&["x", "webhook", "register"], "CRC challenge"),
        (&["x", "webhook", "list"], "X_BEARER_TOKEN"),
        (&["x", "webhook", "delete"], "DELETE /2/webhooks/{id}"),
        (&["x", "subscribe"], "direction: inbound"),
        (&["x", "subscriptions"], "List or delete"),
        (
            &["x", "subscriptions", "list"],
            "GET /2/activity/subscriptions",
        ),
        (
            &["x", "subscriptions", "delete"],
            "DELETE /2/activity/subscriptions/{subscription_id}",
        ),
        (&["x", "replay"], "YYYYMMDDHHmm"),
    ] {
        let argv: Vec<&str> = std::iter::once("flex-bridge")
            .chain(args.iter().copied())
            .chain(["--help"])
            .collect();
        let err = Cli::try_parse_from(argv).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::DisplayHelp, "{args:?}");
        assert!(err.to_string().contains(expected), "{args:?}: {err}");
    }
}

#[test]
fn errors_exit_with_1() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_flex-bridge"))
        .args(["x", "webhook", "list"])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("missing environment variable(s): X_BEARER_TOKEN"),
        "{stderr}"
    );
}
