//! `flex-bridge doctor` against the whole local bridge (in memory, with its sandbox): a correct
//! configuration passes every check; a wrong secret, a missing variable or a closed port is
//! reported on its check's line and fails the command.

use std::collections::HashMap;

use clap::Parser;
use flex_bridge_cli::Cli;
use flex_bridge_core::config::Env;
use local::test_secrets::*;
use local::{Backend, LocalBridge, Options};
use serde_json::json;

/// The local bridge, with nothing registered at X.
async fn bare_bridge() -> LocalBridge {
    LocalBridge::start(Backend::Memory, Options::default())
        .await
        .expect("local bridge starts")
}

/// The local bridge, with X's side set up as `flex-bridge x webhook register` and
/// `x subscribe` leave it: its webhook (returned) and the brand's dm.received subscription.
async fn bridge_and_webhook() -> (LocalBridge, String) {
    let bridge = bare_bridge().await;
    let webhook = bridge
        .sandbox
        .add_x_webhook(&format!("{}/twitter/webhook", bridge.url));
    bridge.sandbox.add_x_activity_subscription(
        "dm.received",
        json!({"user_id": X_ACCOUNT_ID, "direction": "inbound"}),
        Some(&webhook),
    );
    (bridge, webhook)
}

async fn bridge() -> LocalBridge {
    bridge_and_webhook().await.0
}

/// The configuration the local bridge runs with, X (with the app's bearer token) and Discord
/// both on, with `overrides` on top (an empty value removes the variable).
fn env(bridge: &LocalBridge, overrides: &[(&str, &str)]) -> Env {
    let mut vars: HashMap<String, String> = local::environment(&bridge.url, &bridge.sandbox.url());
    for (name, value) in [
        (
            "DISCORD_PUBLIC_KEY",
            bridge.sandbox.discord_public_key_hex(),
        ),
        ("X_BEARER_TOKEN", bridge.sandbox.x_bearer_token()),
        ("DISCORD_BOT_TOKEN", DISCORD_BOT_TOKEN.to_owned()),
        ("DISCORD_APPLICATION_ID", DISCORD_APPLICATION_ID.to_owned()),
        ("DISCORD_BUG_CHANNEL_ID", DISCORD_BUG_CHANNEL_ID.to_owned()),
        (
            "DISCORD_FEATURE_CHANNEL_ID",
            DISCORD_FEATURE_CHANNEL_ID.to_owned(),
        ),
    ] {
        vars.insert(name.to_owned(), value);
    }
    for (name, value) in overrides {
        if value.is_empty() {
            vars.remove(*name);
        } else {
            vars.insert(name.to_string(), value.to_string());
        }
    }
    Env::from_map(vars)
}

/// `flex-bridge <args>`: what it printed, and whether it succeeded.
async fn doctor(args: &[&str], env: Env) -> (String, Result<(), flex_bridge_cli::Error>) {
    let cli = Cli::try_parse_from(
        ["flex-bridge", "doctor"]
            .into_iter()
            .chain(args.iter().copied()),
    )
    .expect("valid arguments");
    let mut out = Vec::new();
    let result = flex_bridge_cli::run(cli, env, &mut std::io::empty(), &mut out).await;
    let out = String::from_utf8(out).unwrap();
    // Shown with --nocapture, and when a test fails.
    println!(
        "$ flex-bridge doctor {}\n{out}-> {result:?}\n",
        args.join(" ")
    );
    (out, result)
}

/// The line of `check` (`ok   check`, `FAIL check: …`, `skip check: …`).
fn line<'a>(out: &'a str, check: &str) -> &'a str {
    out.lines()
        .find(|l| l.get(5..).is_some_and(|rest| rest.starts_with(check)))
        .unwrap_or_else(|| panic!("no line for {check:?} in:\n{out}"))
}

#[tokio::test]
async fn a_correct_deployment_passes_every_check() {
    let bridge = bridge().await;
    let (out, result) = doctor(&[], env(&bridge, &[])).await;
    result.expect("doctor succeeds");
    let lines: Vec<&str> = out.lines().collect();
    let (summary, checks) = lines.split_last().unwrap();
    assert_eq!(*summary, "10 ok, 0 failed, 0 skipped", "{out}");
    for check in [
        "configuration",
        "public URL answers",
        "X CRC",
        "X signature",
        "X webhook",
        "X subscription dm.received",
        "Twilio signature /twilio/flex-outbound",
        "Twilio signature /twilio/channel-updated",
        "Twilio signature /twilio/chatbot",
        "Discord signature",
    ] {
        assert!(line(&out, check).starts_with("ok   "), "{out}");
    }
    assert!(checks.iter().all(|l| l.starts_with("ok   ")), "{out}");
    assert!(line(&out, "Discord signature").contains("only come from Discord"));
}

#[tokio::test]
async fn url_overrides_public_base_url() {
    let bridge = bridge().await;
    let env = env(&bridge, &[("PUBLIC_BASE_URL", "http://127.0.0.1:9")]);
    let url = format!("{}/", bridge.url);
    let (out, result) = doctor(&["--url", &url], env).await;
    result.expect("doctor succeeds");
    assert!(out.ends_with("10 ok, 0 failed, 0 skipped\n"), "{out}");
}

#[tokio::test]
async fn a_wrong_twilio_auth_token_fails_the_twilio_checks_with_the_hint() {
    let bridge = bridge().await;
    let env = env(&bridge, &[("TWILIO_AUTH_TOKEN", "not_the_deployed_token")]);
    let (out, result) = doctor(&[], env).await;
    let err = result.expect_err("doctor fails");
    assert_eq!(err.to_string(), "3 check(s) failed");
    for path in [
        "/twilio/flex-outbound",
        "/twilio/channel-updated",
        "/twilio/chatbot",
    ] {
        let failed = line(&out, &format!("Twilio signature {path}"));
        assert!(failed.starts_with("FAIL "), "{out}");
        assert!(failed.contains("got 401"), "{failed}");
        assert!(
            failed.contains("PUBLIC_BASE_URL is not exactly the URL Twilio calls"),
            "{failed}"
        );
        assert!(failed.contains("auth token is wrong"), "{failed}");
    }
    assert!(line(&out, "X CRC").starts_with("ok   "), "{out}");
    assert!(out.ends_with("7 ok, 3 failed, 0 skipped\n"), "{out}");
}

#[tokio::test]
async fn a_wrong_x_secret_fails_the_crc_and_the_signature() {
    let bridge = bridge().await;
    let env = env(&bridge, &[("X_CONSUMER_SECRET", "not_the_deployed_secret")]);
    let (out, result) = doctor(&[], env).await;
    assert!(result.is_err());
    let crc = line(&out, "X CRC");
    assert!(crc.starts_with("FAIL X CRC: "), "{out}");
    assert!(crc.contains("another response_token"), "{crc}");
    assert!(crc.contains("X_CONSUMER_SECRET"), "{crc}");
    assert!(line(&out, "X signature").starts_with("FAIL "), "{out}");
    assert!(line(&out, "Twilio signature /twilio/chatbot").starts_with("ok   "));
}

#[tokio::test]
async fn missing_and_malformed_variables_are_named() {
    let bridge = bridge().await;
    let env = env(
        &bridge,
        &[
            ("TWILIO_ACCOUNT_SID", ""),
            ("X_ACCOUNT_ID", ""),
            ("FLEX_WORKFLOW_SID", "WW123"),
            ("DISCORD_PUBLIC_KEY", "nothex"),
        ],
    );
    let (out, result) = doctor(&[], env).await;
    assert!(result.is_err());
    let config = line(&out, "configuration");
    assert!(config.starts_with("FAIL configuration: "), "{out}");
    assert!(config.contains("TWILIO_ACCOUNT_SID is missing"), "{config}");
    assert!(
        config.contains("X_ACCOUNT_ID is missing")
            && config.contains("X needs all of its variables, or none"),
        "{config}"
    );
    assert!(
        // Never the value: a secret pasted into the wrong variable must not be printed.
        config.contains("FLEX_WORKFLOW_SID is not WW followed by 32 hex digits")
            && !config.contains("WW123"),
        "{config}"
    );
    assert!(config.contains("DISCORD_PUBLIC_KEY"), "{config}");
    assert_eq!(
        out.lines().count(),
        11,
        "one line per check and a summary:\n{out}"
    );
    assert!(
        line(&out, "X subscription dm.received").starts_with("skip "),
        "{out}"
    );
}

#[tokio::test]
async fn studio_routing_needs_a_flow_and_skips_the_chatbot() {
    let bridge = bridge().await;
    let env = env(&bridge, &[("ROUTING", "studio")]);
    let (out, result) = doctor(&[], env).await;
    assert!(result.is_err());
    assert!(
        line(&out, "configuration").contains("STUDIO_FLOW_SID is missing"),
        "{out}"
    );
    assert!(!out.contains("/twilio/chatbot"), "{out}");
}

#[tokio::test]
async fn an_unconfigured_platform_is_skipped() {
    let bridge = bridge().await;
    let discord_off = [
        ("DISCORD_PUBLIC_KEY", ""),
        ("DISCORD_BOT_TOKEN", ""),
        ("DISCORD_APPLICATION_ID", ""),
        ("DISCORD_BUG_CHANNEL_ID", ""),
        ("DISCORD_FEATURE_CHANNEL_ID", ""),
    ];
    let (out, result) = doctor(&[], env(&bridge, &discord_off)).await;
    result.expect("an X-only deployment passes");
    assert!(
        line(&out, "Discord signature").starts_with("skip Discord signature: "),
        "{out}"
    );
    assert!(out.ends_with("9 ok, 0 failed, 1 skipped\n"), "{out}");
}

#[tokio::test]
async fn an_unreachable_url_is_named() {
    let bridge = bridge().await;
    // A port that was free a moment ago and is closed now.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{closed}");
    let (out, result) = doctor(&["--url", &url], env(&bridge, &[])).await;
    assert!(result.is_err());
    let failed = line(&out, "public URL answers");
    assert!(
        failed.starts_with(&format!(
            "FAIL public URL answers: GET {url}/twitter/webhook: "
        )),
        "{out}"
    );
    assert!(failed.contains("cannot connect"), "{failed}");
    assert!(line(&out, "X CRC").starts_with("skip "), "{out}");
    assert!(out.ends_with("1 ok, 1 failed, 8 skipped\n"), "{out}");
}

#[tokio::test]
async fn the_x_webhook_and_subscriptions_are_checked_at_x() {
    let bridge = bare_bridge().await;
    let hook = format!("{}/twitter/webhook", bridge.url);

    // Nothing registered at X yet.
    let (out, result) = doctor(&[], env(&bridge, &[])).await;
    assert!(result.is_err());
    let webhook = line(&out, "X webhook");
    assert!(webhook.starts_with("FAIL X webhook: "), "{out}");
    assert!(webhook.contains("none is registered"), "{webhook}");
    assert!(
        webhook.contains(&format!("`flex-bridge x webhook register {hook}`")),
        "{webhook}"
    );
    let dms = line(&out, "X subscription dm.received");
    assert!(dms.starts_with("FAIL "), "{out}");
    assert!(dms.contains("`flex-bridge x subscribe`"), "{dms}");
    assert!(dms.contains("2027-01-01"), "{dms}");
    assert!(!out.contains("post.mention.create"), "{out}");
    assert!(out.ends_with("8 ok, 2 failed, 0 skipped\n"), "{out}");

    // Registered, but the subscription delivers elsewhere; X_MENTIONS on and no mentions.
    let webhook_id = bridge.sandbox.add_x_webhook(&hook);
    let other = bridge
        .sandbox
        .add_x_webhook("https://old.example.com/twitter/webhook");
    let elsewhere = bridge.sandbox.add_x_activity_subscription(
        "dm.received",
        json!({"user_id": X_ACCOUNT_ID, "direction": "inbound"}),
        Some(&other),
    );
    let mentions_on = [("X_MENTIONS", "notify")];
    let (out, result) = doctor(&[], env(&bridge, &mentions_on)).await;
    assert!(result.is_err());
    assert_eq!(
        line(&out, "X webhook"),
        format!("ok   X webhook (webhook {webhook_id} for {hook} is valid)")
    );
    let dms = line(&out, "X subscription dm.received");
    assert!(dms.starts_with("FAIL "), "{out}");
    assert!(
        dms.contains(&format!(
            "to webhook {webhook_id} (subscription {elsewhere} delivers to webhook {other})"
        )),
        "{dms}"
    );
    let mentions = line(&out, "X subscription post.mention.create");
    assert!(mentions.starts_with("FAIL "), "{out}");
    assert!(
        mentions.contains("`flex-bridge x subscribe --mentions`"),
        "{mentions}"
    );

    // Both subscribed (an outbound-only DM subscription does not count): every check passes.
    bridge.sandbox.add_x_activity_subscription(
        "dm.received",
        json!({"user_id": X_ACCOUNT_ID, "direction": "outbound"}),
        Some(&webhook_id),
    );
    let (out, _) = doctor(&[], env(&bridge, &mentions_on)).await;
    assert!(
        line(&out, "X subscription dm.received").starts_with("FAIL "),
        "{out}"
    );
    let dm_id = bridge.sandbox.add_x_activity_subscription(
        "dm.received",
        json!({"user_id": X_ACCOUNT_ID, "direction": "inbound"}),
        Some(&webhook_id),
    );
    let mention_id = bridge.sandbox.add_x_activity_subscription(
        "post.mention.create",
        json!({"user_id": X_ACCOUNT_ID, "keyword": "help"}),
        Some(&webhook_id),
    );
    let (out, result) = doctor(&[], env(&bridge, &mentions_on)).await;
    result.expect("doctor succeeds");
    assert_eq!(
        line(&out, "X subscription dm.received"),
        format!(
            "ok   X subscription dm.received (subscription {dm_id} \
             (user_id={X_ACCOUNT_ID},direction=inbound) to webhook {webhook_id})"
        )
    );
    assert_eq!(
        line(&out, "X subscription post.mention.create"),
        format!(
            "ok   X subscription post.mention.create (subscription {mention_id} \
             (user_id={X_ACCOUNT_ID},keyword=\"help\") to webhook {webhook_id})"
        )
    );
    assert!(out.ends_with("11 ok, 0 failed, 0 skipped\n"), "{out}");

    // X found the webhook invalid (its last CRC check failed).
    assert!(bridge.sandbox.set_x_webhook_valid(&webhook_id, false));
    let (out, result) = doctor(&[], env(&bridge, &[])).await;
    assert!(result.is_err());
    let webhook = line(&out, "X webhook");
    assert!(webhook.starts_with("FAIL X webhook: "), "{out}");
    assert!(webhook.contains("is not valid"), "{webhook}");
    assert!(
        webhook.contains(&format!("PUT /2/webhooks/{webhook_id}")),
        "{webhook}"
    );
}

#[tokio::test]
async fn without_the_bearer_token_the_webhook_is_skipped_and_the_subscription_still_checked() {
    let (bridge, webhook_id) = bridge_and_webhook().await;
    let (out, result) = doctor(&[], env(&bridge, &[("X_BEARER_TOKEN", "")])).await;
    result.expect("a skipped check does not fail doctor");
    let webhook = line(&out, "X webhook");
    assert!(
        webhook.starts_with("skip X webhook: X_BEARER_TOKEN is not set"),
        "{out}"
    );
    let dms = line(&out, "X subscription dm.received");
    assert!(dms.starts_with("ok   "), "{out}");
    assert!(dms.contains(&format!("to webhook {webhook_id}")), "{dms}");
    assert!(dms.contains("not checked without X_BEARER_TOKEN"), "{dms}");

    // X refusing the listing is the subscription check's failure, with X's hint on one line.
    bridge.sandbox.set_x_product_access(false);
    let (out, result) = doctor(&[], env(&bridge, &[("X_BEARER_TOKEN", "")])).await;
    assert!(result.is_err());
    let dms = line(&out, "X subscription dm.received");
    assert!(dms.starts_with("FAIL "), "{out}");
    assert!(dms.contains("answered 403"), "{dms}");
    assert!(dms.contains("permissions and product access"), "{dms}");
}
