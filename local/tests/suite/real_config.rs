//! Real accounts from this machine (`local::real`): `.env.example` parses and lists every
//! variable; filled with dummy but well-formed values it validates and the handlers are built
//! and served from it; a missing or malformed variable is named; the printed URLs are right and
//! no `.env` value is ever printed. Nothing here reaches a real service: the only requests go to
//! the bridge on loopback, to handlers that answer them without calling out.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use local::real::{self, Mode, RealBridge, RealConfig};

const EXAMPLE: &str = include_str!("../../../.env.example");

/// The Discord app's TEST-ONLY signing seed: `DISCORD_PUBLIC_KEY` is its public half.
const SEED: [u8; 32] = *b"TEST_ONLY_real_config_seed_0000!";

/// Every variable `.env.example` sets (uncommented), each with a well-formed dummy value.
fn filled() -> HashMap<String, String> {
    let public_key = flex_bridge::discord::signature::public_key_hex(&SEED);
    [
        ("PUBLIC_BASE_URL", "https://bridge-test.ngrok-free.app/"),
        ("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"),
        ("TWILIO_AUTH_TOKEN", "dummytwilioauthtoken0123456789ab"),
        ("FLEX_WORKSPACE_SID", "WS0123456789abcdef0123456789abcdef"),
        ("FLEX_WORKFLOW_SID", "WW0123456789abcdef0123456789abcdef"),
        ("X_CONSUMER_KEY", "dummyXconsumerKey42"),
        (
            "X_CONSUMER_SECRET",
            "dummyXconsumerSecret0123456789abcdefghijklmn",
        ),
        ("X_ACCESS_TOKEN", "1514100000000000099-dummyXaccessToken"),
        ("X_ACCESS_TOKEN_SECRET", "dummyXaccessTokenSecret0123456789"),
        ("X_ACCOUNT_ID", "1514100000000000099"),
        ("DISCORD_PUBLIC_KEY", public_key.as_str()),
        ("DISCORD_APPLICATION_ID", "1200000000000000042"),
        ("DISCORD_BOT_TOKEN", "dummy.discord.bottoken0123456789"),
        ("DISCORD_BUG_CHANNEL_ID", "1200000000000000043"),
        ("DISCORD_FEATURE_CHANNEL_ID", "1200000000000000044"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn with(overrides: &[(&str, &str)]) -> HashMap<String, String> {
    let mut vars = filled();
    for (name, value) in overrides {
        if value.is_empty() {
            vars.remove(*name);
        } else {
            vars.insert(name.to_string(), value.to_string());
        }
    }
    vars
}

fn config(vars: HashMap<String, String>) -> RealConfig {
    RealConfig::from_map(vars).unwrap_or_else(|err| panic!("valid configuration refused: {err}"))
}

fn banner(config: &RealConfig) -> String {
    config.banner(
        "http://127.0.0.1:3000",
        Path::new("/repo/.env"),
        Path::new("/tmp/flex-bridge-local-3000.log"),
    )
}

/// The value of `name` in the banner's line that starts with `label`.
fn url_after<'a>(banner: &'a str, label: &str) -> &'a str {
    let line = banner
        .lines()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("no {label:?} line in:\n{banner}"));
    line[line.find(':').unwrap() + 1..]
        .split_whitespace()
        .next()
        .unwrap()
}

#[test]
fn env_example_parses_and_lists_every_variable_empty() {
    let vars = real::parse_dotenv(EXAMPLE).expect(".env.example parses");
    let mut names: Vec<&str> = vars.keys().map(String::as_str).collect();
    names.sort();
    let mut expected: Vec<String> = filled().into_keys().collect();
    expected.sort();
    assert_eq!(names, expected, "the variables .env.example sets");
    assert!(
        vars.values().all(|v| v.is_empty()),
        ".env.example must hold no values: {vars:?}"
    );
    // Every variable (or group of variables) has a comment above it saying what it is.
    let lines: Vec<&str> = EXAMPLE.lines().collect();
    for name in &names {
        let at = lines.iter().position(|l| *l == format!("{name}=")).unwrap();
        let above = lines[..at]
            .iter()
            .rev()
            .find(|l| !l.ends_with('=') || l.starts_with('#'))
            .unwrap();
        assert!(above.starts_with("# "), "{name} has no comment");
    }
    // The optional ones are there too, commented out.
    for name in [
        "ROUTING",
        "STUDIO_FLOW_SID",
        "BOT_NAME",
        "X_BEARER_TOKEN",
        "DELIVERY_MAX_RECEIVES",
    ] {
        assert!(EXAMPLE.contains(&format!("# {name}=")), "{name}");
    }
    // As copied, it is refused with every required variable named at once.
    let err = RealConfig::from_map(vars).unwrap_err();
    for name in [
        "PUBLIC_BASE_URL",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "FLEX_WORKSPACE_SID",
        "FLEX_WORKFLOW_SID",
    ] {
        assert!(err.names(name), "{name} not named in: {err}");
    }
    assert!(err.to_string().contains("neither X nor Discord"), "{err}");
}

#[tokio::test]
async fn env_example_filled_in_validates_and_builds_the_handlers() {
    // The example's own text with each value filled in, parsed as `make run` parses `.env`.
    let values = filled();
    let text: String = EXAMPLE
        .lines()
        .map(|line| match line.strip_suffix('=') {
            Some(name) if values.contains_key(name) => format!("{name}='{}'\n", values[name]),
            _ => format!("{line}\n"),
        })
        .collect();
    let vars = real::parse_dotenv(&text).expect("parses");
    assert_eq!(vars, values);
    let config = config(vars);
    assert!(config.x.is_some() && config.discord.is_some());
    assert_eq!(config.base, "https://bridge-test.ngrok-free.app");
    assert_eq!(
        config.twilio.conversations_url,
        "https://conversations.twilio.com"
    );

    // Served on loopback: the handlers answer with the configured secrets.
    let bridge = RealBridge::start(&config, 0).await.expect("starts");
    let http = flex_bridge::http::http_client();
    let crc: serde_json::Value = http
        .get(format!(
            "{}/twitter/webhook?crc_token=abcdefghijklmnop123",
            bridge.url
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        crc["response_token"],
        flex_bridge::x::signature::crc_response_token(
            &values["X_CONSUMER_SECRET"],
            "abcdefghijklmnop123"
        )
    );

    // A Discord PING signed with the app's key is answered; a forged one is refused.
    use flex_bridge::discord::signature::{sign, SIGNATURE_HEADER, TIMESTAMP_HEADER};
    let body =
        r#"{"type":1,"id":"1","application_id":"1200000000000000042","token":"t","version":1}"#;
    let timestamp = flex_bridge::now_epoch().to_string();
    let ping = |seed: [u8; 32]| {
        http.post(format!("{}/discord/interactions", bridge.url))
            .header(SIGNATURE_HEADER, sign(&seed, &timestamp, body.as_bytes()))
            .header(TIMESTAMP_HEADER, &timestamp)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let pong = ping(SEED).await.unwrap();
    assert_eq!(pong.status(), 200);
    assert_eq!(pong.json::<serde_json::Value>().await.unwrap()["type"], 1);
    assert_eq!(ping([9; 32]).await.unwrap().status(), 401);

    // Twilio webhooks are checked against PUBLIC_BASE_URL + path with the auth token.
    let url = format!("{}/twilio/flex-outbound", config.base);
    let params = vec![
        (
            "EventType".to_owned(),
            "onConversationStateUpdated".to_owned(),
        ),
        (
            "ConversationSid".to_owned(),
            "CH00000000000000000000000000000000".to_owned(),
        ),
        ("StateTo".to_owned(), "active".to_owned()),
    ];
    let form = serde_urlencoded::to_string(&params).unwrap();
    let post = |signature: String| {
        http.post(format!("{}/twilio/flex-outbound", bridge.url))
            .header(flex_bridge::twilio::signature::HEADER, signature)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.clone())
            .send()
    };
    let signed = flex_bridge::twilio::signature::sign(&values["TWILIO_AUTH_TOKEN"], &url, &params);
    let accepted = post(signed).await.unwrap();
    assert_eq!(accepted.status(), 200, "{:?}", accepted.text().await);
    let local_url = format!("{}/twilio/flex-outbound", bridge.url);
    let wrong =
        flex_bridge::twilio::signature::sign(&values["TWILIO_AUTH_TOKEN"], &local_url, &params);
    assert_eq!(post(wrong).await.unwrap().status(), 401);
}

#[test]
fn each_missing_variable_is_named_in_one_error() {
    let err = RealConfig::from_map(with(&[
        ("TWILIO_AUTH_TOKEN", ""),
        ("FLEX_WORKFLOW_SID", ""),
        ("X_ACCOUNT_ID", ""),
        ("DISCORD_BOT_TOKEN", ""),
    ]))
    .unwrap_err();
    for name in [
        "TWILIO_AUTH_TOKEN",
        "FLEX_WORKFLOW_SID",
        "X_ACCOUNT_ID",
        "DISCORD_BOT_TOKEN",
    ] {
        assert!(err.names(name), "{name} not named in: {err}");
    }
    assert!(!err.names("TWILIO_ACCOUNT_SID"), "{err}");
    assert_eq!(
        err.problems.len(),
        1,
        "one line for the missing ones: {err}"
    );
}

#[test]
fn each_malformed_variable_is_named_with_the_missing_ones() {
    let err = RealConfig::from_map(with(&[
        ("DISCORD_PUBLIC_KEY", "not-a-key-SECRETISH"),
        ("PUBLIC_BASE_URL", "bridge-test.ngrok-free.app"),
        ("TWILIO_ACCOUNT_SID", "ACnope"),
        ("ROUTING", "robots"),
        ("TWILIO_AUTH_TOKEN", ""),
    ]))
    .unwrap_err();
    for name in [
        "DISCORD_PUBLIC_KEY",
        "PUBLIC_BASE_URL",
        "TWILIO_ACCOUNT_SID",
        "ROUTING",
        "TWILIO_AUTH_TOKEN",
    ] {
        assert!(err.names(name), "{name} not named in: {err}");
    }
    let text = err.to_string();
    for value in ["not-a-key-SECRETISH", "ACnope", "robots", "ngrok-free"] {
        assert!(!text.contains(value), "{value} printed in: {text}");
    }
}

#[test]
fn public_base_url_must_be_the_tunnels_https_base() {
    for bad in [
        "http://bridge-test.ngrok-free.app",
        "https://localhost:3000",
        "http://127.0.0.1:3000",
        "https://[::1]",
        "https://bridge-test.ngrok-free.app/twitter/webhook",
        "https://bridge-test.ngrok-free.app/?x=1",
        "ftp://bridge-test.ngrok-free.app",
    ] {
        let err = RealConfig::from_map(with(&[("PUBLIC_BASE_URL", bad)])).unwrap_err();
        assert!(err.names("PUBLIC_BASE_URL"), "{bad}: {err}");
        assert_eq!(err.problems.len(), 1, "{bad}: {err}");
    }
    config(with(&[(
        "PUBLIC_BASE_URL",
        "https://abc.trycloudflare.com",
    )]));
    config(with(&[("PUBLIC_BASE_URL", "https://example.com/bridge/")]));
}

#[test]
fn half_a_platform_is_missing_the_rest_and_one_platform_is_enough() {
    let err =
        RealConfig::from_map(with(&[("X_CONSUMER_KEY", ""), ("X_ACCESS_TOKEN", "")])).unwrap_err();
    assert!(
        err.names("X_CONSUMER_KEY") && err.names("X_ACCESS_TOKEN"),
        "{err}"
    );

    let x_vars = [
        "X_CONSUMER_KEY",
        "X_CONSUMER_SECRET",
        "X_ACCESS_TOKEN",
        "X_ACCESS_TOKEN_SECRET",
        "X_ACCOUNT_ID",
    ];
    let discord_only = config(with(&x_vars.map(|n| (n, ""))));
    assert!(discord_only.x.is_none() && discord_only.discord.is_some());
    let out = banner(&discord_only);
    assert!(out.contains("X: not configured"), "{out}");
    assert!(!out.contains("/twitter/webhook"), "{out}");
}

#[tokio::test]
async fn an_unconfigured_platform_refuses_every_request() {
    let x_vars = [
        "X_CONSUMER_KEY",
        "X_CONSUMER_SECRET",
        "X_ACCESS_TOKEN",
        "X_ACCESS_TOKEN_SECRET",
        "X_ACCOUNT_ID",
    ];
    let config = config(with(&x_vars.map(|n| (n, ""))));
    let bridge = RealBridge::start(&config, 0).await.expect("starts");
    let body = r#"{"for_user_id":"0","direct_message_events":[]}"#;
    // Signed with an empty secret or any guess: refused.
    for secret in ["", "dummyXconsumerSecret0123456789abcdefghijklmn"] {
        let status = flex_bridge::http::http_client()
            .post(format!("{}/twitter/webhook", bridge.url))
            .header(
                flex_bridge::x::signature::HEADER,
                flex_bridge::x::signature::sign(secret, body.as_bytes()),
            )
            .body(body)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 401);
    }
}

#[test]
fn the_banner_gives_each_url_to_paste_and_the_services_called() {
    let out = banner(&config(filled()));
    println!("{out}");
    let base = "https://bridge-test.ngrok-free.app";
    assert_eq!(
        url_after(&out, "X webhook URL"),
        format!("{base}/twitter/webhook")
    );
    assert_eq!(
        url_after(&out, "Discord Interactions Endpoint"),
        format!("{base}/discord/interactions")
    );
    assert_eq!(
        url_after(&out, "flex-outbound"),
        format!("{base}/twilio/flex-outbound")
    );
    assert_eq!(
        url_after(&out, "channel-updated"),
        format!("{base}/twilio/channel-updated")
    );
    assert_eq!(url_after(&out, "chatbot"), format!("{base}/twilio/chatbot"));
    for needle in [
        "http://127.0.0.1:3000",
        "ngrok http 3000",
        "flex-bridge x webhook register",
        "flex-bridge x subscribe",
        "flex-bridge discord register-commands",
        "Conversations https://conversations.twilio.com",
        "Flex Interactions https://flex-api.twilio.com",
        "TaskRouter https://taskrouter.twilio.com",
        "X: https://api.x.com",
        "Discord: https://discord.com/api/v10",
        "in memory",
        "/tmp/flex-bridge-local-3000.log",
    ] {
        assert!(out.contains(needle), "{needle:?} not in:\n{out}");
    }

    let studio = banner(&config(with(&[
        ("ROUTING", "studio"),
        ("STUDIO_FLOW_SID", "FW0123456789abcdef0123456789abcdef"),
    ])));
    assert!(studio.contains("chatbot:         not used"), "{studio}");
}

#[test]
fn no_env_value_is_ever_printed() {
    let values = filled();
    let config = config(values.clone());
    let printed = banner(&config);
    for (name, value) in &values {
        if name == "PUBLIC_BASE_URL" {
            continue;
        }
        assert!(!printed.contains(value.as_str()), "{name}'s value printed");
    }
    // Nor in a refusal, with every value malformed.
    let bad: Vec<(String, String)> = values
        .keys()
        .map(|name| (name.clone(), format!("{name}-bad value-0xSECRET")))
        .collect();
    let err = RealConfig::from_map(bad.iter().cloned().collect()).unwrap_err();
    assert!(!err.to_string().contains("0xSECRET"), "{err}");
    // Nor a line that does not parse.
    let err = real::parse_dotenv("TWILIO_AUTH_TOKEN=ok\nX_CONSUMER_SECRET='hunter2\n").unwrap_err();
    assert!(err.contains("after TWILIO_AUTH_TOKEN"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn the_sandbox_stays_the_default() {
    let dir = std::env::temp_dir().join(format!("real-config-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let env_file = dir.join(".env");
    let candidates = vec![env_file.clone(), PathBuf::from("/nonexistent/.env")];
    assert_eq!(real::mode(None, false, &candidates), Mode::Sandbox);
    std::fs::write(
        &env_file,
        "PUBLIC_BASE_URL=https://x.example\nFLEX_BRIDGE_REAL_CONFIG_TEST=1\n",
    )
    .unwrap();
    assert_eq!(
        real::mode(None, false, &candidates),
        Mode::Real(env_file.clone())
    );
    assert_eq!(real::mode(Some("1"), false, &candidates), Mode::Sandbox);
    assert_eq!(real::mode(Some("true"), false, &candidates), Mode::Sandbox);
    assert_eq!(
        real::mode(Some("0"), false, &candidates),
        Mode::Real(env_file.clone())
    );
    assert_eq!(real::mode(None, true, &candidates), Mode::Sandbox);
    assert_eq!(
        real::read_dotenv(&env_file).unwrap()["PUBLIC_BASE_URL"],
        "https://x.example"
    );
    // Read into a map, not the process environment.
    assert!(std::env::var("FLEX_BRIDGE_REAL_CONFIG_TEST").is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
