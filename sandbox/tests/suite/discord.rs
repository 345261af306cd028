//! The Discord emulation: signed interactions to a stand-in bridge, and the bridge's own
//! `DiscordClient` against the sandbox's REST API.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use flex_bridge::config::Secret;
use flex_bridge::discord::interactions::{self, Action, Interaction, InteractionContext};
use flex_bridge::discord::messages::{agent_message, OutgoingMessage};
use flex_bridge::discord::{is_dms_closed, DiscordApiConfig, DiscordClient};
use flex_bridge::retry::RetryPolicy;
use sandbox::discord::{BUG_CHANNEL_ID, GUILD_ID, SUPPORT_CHANNEL_ID};
use sandbox::{DiscordUser, Sandbox, SandboxConfig, Service};
use serde_json::{json, Value};

/// A stand-in for the bridge's interactions endpoint: checks the signature like the bridge,
/// records what it accepted, answers PONG or a deferred ephemeral reply.
struct Bridge {
    url: String,
    accepted: Arc<Mutex<Vec<Bytes>>>,
}

#[derive(Clone)]
struct BridgeState {
    public_key: Arc<Mutex<String>>,
    accepted: Arc<Mutex<Vec<Bytes>>>,
}

async fn interactions_endpoint(
    State(state): State<BridgeState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let key = state.public_key.lock().unwrap().clone();
    if !flex_bridge::discord::signature::verify(
        &key,
        header("x-signature-ed25519"),
        header("x-signature-timestamp"),
        &body,
    ) {
        return (StatusCode::UNAUTHORIZED, "invalid request signature").into_response();
    }
    state.accepted.lock().unwrap().push(body.clone());
    match interactions::parse(&body) {
        Ok(Interaction::Ping) => Json(json!({"type": 1})).into_response(),
        Ok(_) => Json(json!({"type": 5, "data": {"flags": 64}})).into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

async fn start() -> (Sandbox, Bridge) {
    let state = BridgeState {
        public_key: Arc::default(),
        accepted: Arc::default(),
    };
    let app = axum::Router::new()
        .route(
            "/discord/interactions",
            axum::routing::post(interactions_endpoint),
        )
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let sandbox = Sandbox::start(SandboxConfig::for_tests(format!("{url}/twitter/webhook")))
        .await
        .unwrap();
    *state.public_key.lock().unwrap() = sandbox.discord_public_key_hex();
    assert_eq!(
        sandbox.discord_interactions_url(),
        format!("{url}/discord/interactions")
    );
    (
        sandbox,
        Bridge {
            url,
            accepted: state.accepted,
        },
    )
}

impl Bridge {
    fn accepted(&self) -> Vec<Bytes> {
        self.accepted.lock().unwrap().clone()
    }

    fn last(&self) -> (InteractionContext, Action) {
        let body = self.accepted().pop().expect("nothing accepted");
        match interactions::parse(&body).unwrap() {
            Interaction::FromUser { context, action } => (context, action),
            Interaction::Ping => panic!("a ping"),
        }
    }
}

fn dana() -> DiscordUser {
    DiscordUser::new("812345678901234567", "dana.customer")
}

fn client(sandbox: &Sandbox) -> DiscordClient {
    client_with_token(sandbox, &sandbox.config().discord_bot_token)
}

fn client_with_token(sandbox: &Sandbox, token: &str) -> DiscordClient {
    DiscordClient::new(
        flex_bridge::http::http_client(),
        DiscordApiConfig {
            bot_token: Secret::new(token),
            api_url: sandbox.discord_api_url(),
        },
    )
    .with_retry(RetryPolicy {
        attempts: 3,
        first_backoff: Duration::from_millis(10),
        max_wait: Duration::from_secs(3),
    })
}

fn app_id(sandbox: &Sandbox) -> String {
    sandbox.config().discord_application_id.clone()
}

/// A raw REST call with the bot token: status and JSON body.
async fn rest(sandbox: &Sandbox, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
    let response = flex_bridge::http::http_client()
        .request(method, format!("{}{path}", sandbox.discord_api_url()))
        .header(
            "authorization",
            format!("Bot {}", sandbox.config().discord_bot_token),
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn commands_arrive_signed_from_a_guild_or_the_bot_dm() {
    let (sandbox, bridge) = start().await;
    let user = dana();

    let reply = sandbox
        .discord_command(&user, true, "helpme", &[("question", "Where is my order?")])
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, json!({"type": 5, "data": {"flags": 64}}));
    let (context, action) = bridge.last();
    assert_eq!(
        action,
        Action::HelpMe {
            question: "Where is my order?".into()
        }
    );
    assert_eq!(context.interaction_id, reply.interaction_id);
    assert_eq!(context.token, reply.token);
    assert_eq!(context.application_id, app_id(&sandbox));
    assert_eq!(context.user_id, user.id);
    assert_eq!(context.username, user.username);
    assert_eq!(context.guild_id.as_deref(), Some(GUILD_ID));
    assert_eq!(context.channel_id.as_deref(), Some(SUPPORT_CHANNEL_ID));
    assert_eq!(context.context, Some(interactions::CONTEXT_GUILD));
    let raw: Value = serde_json::from_slice(&bridge.accepted()[0]).unwrap();
    assert_eq!(raw["member"]["user"]["id"], user.id.as_str());
    assert!(raw.get("user").is_none());
    assert_eq!(raw["version"], 1);
    assert_eq!(raw["data"]["options"][0]["type"], 3);
    for key in [
        "app_permissions",
        "locale",
        "authorizing_integration_owners",
        "channel",
    ] {
        assert!(raw.get(key).is_some(), "{key}");
    }

    let second = sandbox
        .discord_command(&user, false, "reply", &[("message", "Thanks")])
        .await;
    assert_ne!(second.interaction_id, reply.interaction_id);
    assert_ne!(second.token, reply.token);
    let (context, action) = bridge.last();
    assert_eq!(
        action,
        Action::Reply {
            message: "Thanks".into()
        }
    );
    assert_eq!(context.guild_id, None);
    assert_eq!(context.context, Some(interactions::CONTEXT_BOT_DM));
    let dm = sandbox.discord_dm_channel(&user.id).unwrap();
    assert_eq!(context.channel_id.as_deref(), Some(dm.as_str()));
    let raw: Value = serde_json::from_slice(&sandbox.last_discord_interaction().unwrap()).unwrap();
    assert_eq!(raw["user"]["username"], "dana.customer");
    assert_eq!(raw["channel"]["type"], 1);
    assert!(raw.get("member").is_none() && raw.get("guild_id").is_none());

    sandbox.discord_command(&user, false, "bug", &[]).await;
    assert_eq!(bridge.last().1, Action::Bug);
    assert_eq!(sandbox.discord_replies().len(), 3);
}

#[tokio::test]
async fn clicks_and_modals_in_both_shapes() {
    let (sandbox, bridge) = start().await;
    let user = dana();
    let discord = client(&sandbox);
    let channel = discord.open_dm(&user.id).await.unwrap();
    let messages = agent_message("Which one? Options: Track order, Cancel");
    let message_id = discord
        .send_message(&channel, messages.last().unwrap())
        .await
        .unwrap();

    let reply = sandbox
        .discord_click(&user, &message_id, "qr:Track order")
        .await;
    assert_eq!(reply.status, 200);
    let (context, action) = bridge.last();
    assert_eq!(
        action,
        Action::QuickReply {
            label: "Track order".into()
        }
    );
    assert_eq!(context.channel_id.as_deref(), Some(channel.as_str()));
    let raw: Value = serde_json::from_slice(&bridge.accepted()[0]).unwrap();
    assert_eq!(raw["type"], 3);
    assert_eq!(raw["data"]["component_type"], 2);
    assert_eq!(raw["message"]["id"], message_id.as_str());
    assert_eq!(raw["message"]["author"]["bot"], true);

    sandbox.discord_click(&user, &message_id, "reply").await;
    assert_eq!(bridge.last().1, Action::ReplyButton);
    sandbox.discord_click(&user, &message_id, "agent").await;
    assert_eq!(bridge.last().1, Action::TalkToAgent);

    for label_shape in [true, false] {
        sandbox
            .discord_modal_submit(
                &user,
                "reply_modal",
                &[("message", "New address: 12 Harbour St")],
                label_shape,
            )
            .await;
        let (context, action) = bridge.last();
        assert_eq!(
            action,
            Action::Reply {
                message: "New address: 12 Harbour St".into()
            }
        );
        assert_eq!(context.channel_id.as_deref(), Some(channel.as_str()));
        let raw: Value =
            serde_json::from_slice(&sandbox.last_discord_interaction().unwrap()).unwrap();
        assert_eq!(raw["type"], 5);
        assert_eq!(
            raw["data"]["components"][0]["type"],
            if label_shape { 18 } else { 1 }
        );
    }

    // A modal opened from a guild command is submitted in the guild.
    sandbox.discord_command(&user, true, "bug", &[]).await;
    sandbox
        .discord_modal_submit(
            &user,
            "bug_modal",
            &[("title", "Crash"), ("details", "On login"), ("steps", "")],
            false,
        )
        .await;
    let (context, action) = bridge.last();
    assert_eq!(
        action,
        Action::BugReport {
            title: "Crash".into(),
            details: "On login".into(),
            steps: None
        }
    );
    assert_eq!(context.guild_id.as_deref(), Some(GUILD_ID));
}

#[tokio::test]
async fn replays_pings_and_the_endpoint_check() {
    let (sandbox, bridge) = start().await;
    assert!(sandbox.last_discord_interaction().is_none());
    let ping = sandbox.discord_ping().await;
    assert_eq!((ping.status, ping.body), (200, json!({"type": 1})));
    assert!(sandbox.discord_endpoint_check().await.unwrap());

    sandbox
        .discord_command(&dana(), false, "helpme", &[("question", "hi")])
        .await;
    let body = sandbox.last_discord_interaction().unwrap();
    let before = bridge.accepted().len();
    assert_eq!(
        sandbox.deliver_discord_interaction(&body, 2).await,
        [200, 200]
    );
    let accepted = bridge.accepted();
    assert_eq!(accepted.len(), before + 2);
    assert_eq!(accepted[accepted.len() - 1], body);

    // A forged body (not what was signed) is refused by the bridge.
    let response = flex_bridge::http::http_client()
        .post(sandbox.discord_interactions_url())
        .header("x-signature-ed25519", "00".repeat(64))
        .header("x-signature-timestamp", "1")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    sandbox.set_discord_interactions_url(format!("{}/nowhere", bridge.url));
    let reply = sandbox.discord_command(&dana(), true, "bug", &[]).await;
    assert_eq!((reply.status, reply.body), (404, Value::Null));
    sandbox.set_discord_interactions_url("http://127.0.0.1:9/closed");
    assert_eq!(
        sandbox
            .discord_command(&dana(), true, "bug", &[])
            .await
            .status,
        0
    );
}

#[tokio::test]
async fn the_bridges_client_works_against_the_sandbox() {
    let (sandbox, _bridge) = start().await;
    let discord = client(&sandbox);
    let user = dana();

    let channel = discord.open_dm(&user.id).await.unwrap();
    assert_eq!(discord.open_dm(&user.id).await.unwrap(), channel);
    assert_eq!(sandbox.discord_dm_channel(&user.id), Some(channel.clone()));
    assert_eq!(sandbox.discord_dm_channel("999"), None);

    let messages = agent_message("Hi @everyone, how can I help?");
    let id = discord.send_message(&channel, &messages[0]).await.unwrap();
    let sent = sandbox.discord_messages(&channel);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].id, id);
    assert_eq!(sent[0].channel_id, channel);
    assert_eq!(sent[0].content, messages[0].content);
    assert_eq!(sent[0].allowed_mentions, json!({"parse": []}));
    assert_eq!(sent[0].components, json!(messages[0].components));
    assert_eq!(sent[0].embeds, json!([]));
    assert_eq!(sandbox.discord_dms_to(&user.id), sent);

    // Cases go to the guild's channels.
    discord
        .send_message(BUG_CHANNEL_ID, &OutgoingMessage::text("Bug: crash"))
        .await
        .unwrap();
    assert_eq!(
        sandbox.discord_messages(BUG_CHANNEL_ID)[0].content,
        "Bug: crash"
    );

    // An idempotent send is not posted twice.
    let once = OutgoingMessage::text("Only once").with_nonce("job-42");
    let first = discord.send_message(&channel, &once).await.unwrap();
    let again = discord.send_message(&channel, &once).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(sandbox.discord_messages(&channel).len(), 2);

    // Editing a deferred reply needs only the interaction's token.
    let reply = sandbox
        .discord_command(&user, false, "helpme", &[("question", "hi")])
        .await;
    assert_eq!(sandbox.discord_original(&reply.token), None);
    discord
        .edit_original(&app_id(&sandbox), &reply.token, "Sent to support ✓")
        .await
        .unwrap();
    assert_eq!(
        sandbox.discord_original(&reply.token).as_deref(),
        Some("Sent to support ✓")
    );
    let err = discord
        .edit_original(&app_id(&sandbox), "unknown-token", "x")
        .await
        .unwrap_err();
    assert!(err.is_status(404) && err.detail.contains("10015"), "{err}");
    let err = discord
        .edit_original("1", &reply.token, "x")
        .await
        .unwrap_err();
    assert!(err.is_status(404), "{err}");

    let definitions = flex_bridge::discord::commands::definitions();
    let registered = discord
        .register_commands(&app_id(&sandbox), &definitions)
        .await
        .unwrap();
    let names: Vec<&str> = registered.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["helpme", "reply", "bug", "new_feature", "cases"]);
    assert_eq!(sandbox.discord_commands(), definitions);
    let again = discord
        .register_commands(&app_id(&sandbox), &definitions)
        .await
        .unwrap();
    assert_eq!(again, registered, "ids are stable across overwrites");
    let err = discord
        .register_commands("1100000000000000999", &definitions)
        .await
        .unwrap_err();
    assert!(err.is_status(403), "{err}");

    // A command the bridge registered arrives with the registered id.
    sandbox.discord_command(&user, false, "bug", &[]).await;
    let raw: Value = serde_json::from_slice(&sandbox.last_discord_interaction().unwrap()).unwrap();
    let bug = registered.iter().find(|c| c.name == "bug").unwrap();
    assert_eq!(raw["data"]["id"], bug.id.as_str());
}

#[tokio::test]
async fn refusals_look_like_discords() {
    let (sandbox, _bridge) = start().await;
    let user = dana();

    let err = client_with_token(&sandbox, "wrong")
        .open_dm(&user.id)
        .await
        .unwrap_err();
    assert!(err.is_status(401), "{err}");
    let response = flex_bridge::http::http_client()
        .post(format!("{}/users/@me/channels", sandbox.discord_api_url()))
        .json(&json!({"recipient_id": user.id}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"message": "401: Unauthorized", "code": 0})
    );

    let discord = client(&sandbox);
    let channel = discord.open_dm(&user.id).await.unwrap();
    sandbox.set_discord_dms_closed(&user.id, true);
    let err = discord
        .send_message(&channel, &OutgoingMessage::text("hi"))
        .await
        .unwrap_err();
    assert!(is_dms_closed(&err), "{err}");
    sandbox.set_discord_dms_closed(&user.id, false);
    discord
        .send_message(&channel, &OutgoingMessage::text("hi"))
        .await
        .unwrap();

    let path = format!("/channels/{channel}/messages");
    let (status, body) = rest(
        &sandbox,
        reqwest::Method::POST,
        &path,
        json!({"content": "hi", "text": "hi"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], 50035);
    assert_eq!(
        body["errors"]["text"]["_errors"][0]["code"],
        "UNKNOWN_FIELD"
    );

    let too_long = OutgoingMessage::text(&"x".repeat(2001));
    let err = discord.send_message(&channel, &too_long).await.unwrap_err();
    assert!(err.is_status(400) && err.detail.contains("50035"), "{err}");
    assert_eq!(
        flex_bridge::discord::error_code(&err),
        Some(50035),
        "{}",
        err.detail
    );

    let (status, body) = rest(&sandbox, reqwest::Method::POST, &path, json!({})).await;
    assert_eq!((status, body["code"].clone()), (400, json!(50006)));
    let (status, body) = rest(
        &sandbox,
        reqwest::Method::POST,
        "/channels/1234/messages",
        json!({"content": "hi"}),
    )
    .await;
    assert_eq!((status, body["code"].clone()), (404, json!(10003)));
    let (status, body) = rest(
        &sandbox,
        reqwest::Method::POST,
        "/users/@me/channels",
        json!({"recipient": "1"}),
    )
    .await;
    assert_eq!((status, body["code"].clone()), (400, json!(50035)));
    let (status, body) = rest(&sandbox, reqwest::Method::GET, "/gateway/bot", json!({})).await;
    assert_eq!((status, body["code"].clone()), (404, json!(0)));
    assert_eq!(sandbox.discord_messages(&channel).len(), 1);
}

#[tokio::test]
async fn faults_are_counted_and_rate_limits_waited_out() {
    let (sandbox, _bridge) = start().await;
    let discord = client(&sandbox);
    let channel = discord.open_dm("812345678901234567").await.unwrap();
    sandbox.reset_counts();

    sandbox.inject_fault(Service::Discord, 429, 1, 1);
    let started = Instant::now();
    discord
        .send_message(&channel, &OutgoingMessage::text("after the limit"))
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(950));
    assert_eq!(sandbox.request_count(Service::Discord), 2);
    assert_eq!(sandbox.request_count(Service::Twilio), 0);

    sandbox.inject_discord_rate_limit(1, Duration::from_millis(200), false);
    sandbox.inject_fault(Service::Discord, 503, 1, 0);
    let started = Instant::now();
    discord
        .send_message(&channel, &OutgoingMessage::text("after two faults"))
        .await
        .unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(190) && waited < Duration::from_millis(900),
        "{waited:?}"
    );
    assert_eq!(sandbox.request_count(Service::Discord), 5);
    assert_eq!(sandbox.discord_messages(&channel).len(), 2);

    // The raw shape.
    sandbox.inject_fault(Service::Discord, 429, 1, 2);
    let response = flex_bridge::http::http_client()
        .post(format!("{}/users/@me/channels", sandbox.discord_api_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "2");
    assert!(response.headers().contains_key("x-ratelimit-reset-after"));
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"message": "You are being rate limited.", "retry_after": 2.0, "global": false})
    );
    sandbox.inject_fault(Service::Discord, 500, 1, 0);
    let (status, body) = rest(
        &sandbox,
        reqwest::Method::POST,
        "/users/@me/channels",
        json!({}),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            500,
            json!({"message": "500: Internal Server Error", "code": 0})
        )
    );
}

#[tokio::test]
async fn control_routes_drive_discord() {
    let (sandbox, bridge) = start().await;
    let http = flex_bridge::http::http_client();
    let base = sandbox.url();
    let post = |path: &str, body: Value| {
        http.post(format!("{base}/sandbox/discord/{path}"))
            .json(&body)
            .send()
    };
    let reply: Value = post(
        "command",
        json!({"user_id": "812345678901234567", "username": "dana", "in_guild": false,
               "name": "helpme", "options": {"question": "Hello?"}}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(reply["status"], 200);
    assert_eq!(
        bridge.last().1,
        Action::HelpMe {
            question: "Hello?".into()
        }
    );
    let reply: Value = post(
        "modal",
        json!({"user_id": "812345678901234567", "username": "dana", "custom_id": "feature_modal",
               "fields": {"title": "Dark mode", "details": "Please"}, "label_shape": false}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(reply["status"], 200);
    assert_eq!(
        bridge.last().1,
        Action::FeatureRequest {
            title: "Dark mode".into(),
            details: "Please".into()
        }
    );

    let discord = client(&sandbox);
    let channel = discord.open_dm("812345678901234567").await.unwrap();
    let id = discord
        .send_message(&channel, &OutgoingMessage::text("Agent here"))
        .await
        .unwrap();
    let dms: Value = http
        .get(format!("{base}/sandbox/discord/dms/812345678901234567"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(dms[0]["content"], "Agent here");
    post(
        "click",
        json!({"user_id": "812345678901234567", "username": "dana", "message_id": id, "custom_id": "agent"}),
    )
    .await
    .unwrap();
    assert_eq!(bridge.last().1, Action::TalkToAgent);

    let token = reply["token"].as_str().unwrap();
    let original = http
        .get(format!("{base}/sandbox/discord/originals/{token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(original.status(), 404);
    discord
        .edit_original(&app_id(&sandbox), token, "Thanks!")
        .await
        .unwrap();
    let original: Value = http
        .get(format!("{base}/sandbox/discord/originals/{token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(original, json!({"content": "Thanks!"}));

    let counts: Value = http
        .get(format!("{base}/sandbox/counts"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counts["discord"], 3);
    let info: Value = http
        .get(format!("{base}/sandbox/discord"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        info["public_key"],
        sandbox.discord_public_key_hex().as_str()
    );
}
