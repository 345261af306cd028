//! The Twilio Conversations emulation, driven over HTTP as the bridge drives it.

use crate::common::{send, Receiver, Twilio};
use sandbox::{SandboxError, Service};
use serde_json::json;

const FLEX_OUTBOUND: &str = "/twilio/flex-outbound";
const CHANNEL_UPDATED: &str = "/twilio/channel-updated";
const FLOW_SID: &str = "FW0123456789abcdef0123456789abcdef";

/// A conversation set up as the bridge sets one up: the conversation with its customer
/// participant in one call, then the two webhooks and a Studio webhook.
async fn bridge_conversation(twilio: &Twilio, receiver: &Receiver) -> String {
    let (status, conversation) = twilio
        .form(
            "/v1/ConversationWithParticipants",
            &[
                ("FriendlyName", "X @jordan_cust"),
                ("Attributes", r#"{"flex_bridge":true}"#),
                ("Timers.Closed", "PT24H"),
                (
                    "Participant",
                    r#"{"identity":"x-2900000001","attributes":"{}"}"#,
                ),
            ],
        )
        .await;
    assert_eq!(status, 201, "{conversation}");
    let sid = conversation["sid"].as_str().unwrap().to_owned();
    let base = format!("/v1/Conversations/{sid}");
    let outbound = format!("{}{FLEX_OUTBOUND}", receiver.url);
    let updated = format!("{}{CHANNEL_UPDATED}", receiver.url);
    for form in [
        vec![
            ("Target", "webhook"),
            ("Configuration.Url", outbound.as_str()),
            ("Configuration.Method", "post"),
            ("Configuration.Filters", "onMessageAdded"),
            ("Configuration.Filters", "onParticipantAdded"),
        ],
        vec![
            ("Target", "webhook"),
            ("Configuration.Url", updated.as_str()),
            ("Configuration.Method", "POST"),
            ("Configuration.Filters", "onConversationStateUpdated"),
        ],
        vec![
            ("Target", "studio"),
            ("Configuration.FlowSid", FLOW_SID),
            ("Configuration.Filters", "onMessageAdded"),
        ],
    ] {
        let (status, body) = twilio.form(&format!("{base}/Webhooks"), &form).await;
        assert_eq!(status, 201, "{body}");
    }
    sid
}

fn assert_signed(
    sandbox: &sandbox::Sandbox,
    receiver: &Receiver,
    request: &crate::common::Captured,
) {
    let url = format!("{}{}", receiver.url, request.uri);
    assert!(
        flex_bridge::twilio::signature::verify(
            &sandbox.config().twilio_auth_token,
            &url,
            &request.body,
            request.header("x-twilio-signature"),
        ),
        "bad signature on {url}"
    );
}

#[tokio::test]
async fn refuses_bad_auth() {
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
    let url = format!("{}/v1/Conversations", sandbox.url());
    let http = flex_bridge::http::http_client();
    let (status, body) = send(http.post(&url).form(&[("FriendlyName", "a")])).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401})
    );
    let wrong = http
        .post(&url)
        .basic_auth(&sandbox.config().twilio_account_sid, Some("wrong"))
        .form(&[("FriendlyName", "a")]);
    assert_eq!(send(wrong).await.0, 401);
    assert!(sandbox.conversations().is_empty());
}

#[tokio::test]
async fn refuses_what_the_spec_refuses() {
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
    let twilio = Twilio::new(&sandbox);

    let (status, body) = twilio
        .form(
            "/v1/Conversations",
            &[("FriendlyName", "a"), ("Colour", "red")],
        )
        .await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(20001)));
    assert!(
        body["message"].as_str().unwrap().contains("Colour"),
        "{body}"
    );

    let (status, body) = twilio.form("/v1/Conversations", &[("State", "open")]).await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = twilio
        .form("/v1/Conversations", &[("Timers.Closed", "24 hours")])
        .await;
    assert_eq!(status, 400);

    let (_, conversation) = twilio.form("/v1/Conversations", &[]).await;
    let sid = conversation["sid"].as_str().unwrap();
    assert_eq!(conversation["state"], "active");
    let hooks = format!("/v1/Conversations/{sid}/Webhooks");
    let (status, body) = twilio
        .form(&hooks, &[("Configuration.Url", "http://127.0.0.1:1/x")])
        .await;
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("Target"),
        "{body}"
    );
    let (status, _) = twilio.form(&hooks, &[("Target", "email")]).await;
    assert_eq!(status, 400);
    let (status, _) = twilio
        .form(
            &hooks,
            &[
                ("Target", "webhook"),
                ("Configuration.Url", "http://127.0.0.1:1/x"),
                ("Configuration.Method", "put"),
            ],
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = twilio
        .form(
            &hooks,
            &[
                ("Target", "webhook"),
                ("Configuration.Url", "http://127.0.0.1:1/x"),
                ("Configuration.Filters", "onMessageAddded"),
            ],
        )
        .await;
    assert_eq!(status, 400);

    let (status, body) = twilio
        .form(
            "/v1/Conversations/CH00000000000000000000000000000000/Messages",
            &[("Body", "hi")],
        )
        .await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(20404)));

    // JSON is not what Twilio takes.
    let (status, _) = send(
        twilio
            .post("/v1/Conversations")
            .json(&json!({"FriendlyName": "a"})),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn messages_fire_signed_webhooks_only_when_enabled() {
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
    let twilio = Twilio::new(&sandbox);
    let sid = bridge_conversation(&twilio, &receiver).await;
    let messages = format!("/v1/Conversations/{sid}/Messages");

    // A customer message, as the bridge posts it: webhooks on.
    let request = twilio
        .post(&messages)
        .header("X-Twilio-Webhook-Enabled", "true")
        .form(&[
            ("Author", "x-2900000001"),
            ("Body", "Where is my order?"),
            ("Attributes", r#"{"platform":"x"}"#),
        ]);
    let (status, message) = send(request).await;
    assert_eq!(status, 201, "{message}");
    assert!(message["sid"].as_str().unwrap().starts_with("IM"));
    assert_eq!(message["index"], 0);
    assert!(message["participant_sid"]
        .as_str()
        .unwrap()
        .starts_with("MB"));

    let requests = receiver.requests();
    assert_eq!(
        requests.len(),
        1,
        "only the onMessageAdded webhook: {requests:?}"
    );
    let hook = &requests[0];
    assert_eq!(hook.uri, FLEX_OUTBOUND);
    assert_signed(&sandbox, &receiver, hook);
    assert_eq!(hook.param("EventType").as_deref(), Some("onMessageAdded"));
    assert_eq!(hook.param("Source").as_deref(), Some("API"));
    assert_eq!(hook.param("Body").as_deref(), Some("Where is my order?"));
    assert_eq!(
        hook.param("MessageSid"),
        message["sid"].as_str().map(String::from)
    );
    assert_eq!(hook.param("ConversationSid").as_deref(), Some(sid.as_str()));
    assert_eq!(hook.param("ClientIdentity"), None);
    assert_eq!(sandbox.studio_executions(&sid), 1);

    // A silent note: no header, no webhook, no Studio.
    let (status, _) = twilio
        .form(&messages, &[("Author", "flex-bridge"), ("Body", "note")])
        .await;
    assert_eq!(status, 201);
    assert_eq!(receiver.requests().len(), 1);
    let view = sandbox.conversation(&sid).unwrap();
    assert_eq!(view.studio_executions, 1);
    assert_eq!(view.timers_closed.as_deref(), Some("PT24H"));
    assert_eq!(
        view.messages
            .iter()
            .map(|m| (m.body.as_str(), m.webhook_enabled))
            .collect::<Vec<_>>(),
        [("Where is my order?", true), ("note", false)]
    );
    assert_eq!(sandbox.webhook_deliveries().len(), 1);
    assert_eq!(sandbox.webhook_deliveries()[0].status, Some(200));

    let (status, list) = send(twilio.get(&messages)).await;
    assert_eq!(status, 200);
    assert_eq!(list["messages"].as_array().unwrap().len(), 2);
    assert_eq!(list["meta"]["key"], "messages");
}

#[tokio::test]
async fn flex_side_fires_agent_events_and_close() {
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
    let twilio = Twilio::new(&sandbox);
    let sid = bridge_conversation(&twilio, &receiver).await;

    sandbox
        .agent_joins(&sid, "agent@acme.com", "Sam Rivera")
        .await
        .unwrap();
    let joined = receiver.requests().pop().unwrap();
    assert_eq!(joined.uri, FLEX_OUTBOUND);
    assert_signed(&sandbox, &receiver, &joined);
    assert_eq!(
        joined.param("EventType").as_deref(),
        Some("onParticipantAdded")
    );
    assert_eq!(joined.param("Identity").as_deref(), Some("agent@acme.com"));
    let attributes: serde_json::Value =
        serde_json::from_str(&joined.param("Attributes").unwrap()).unwrap();
    assert_eq!(attributes["friendly_name"], "Sam Rivera");
    assert!(matches!(
        sandbox.agent_joins(&sid, "agent@acme.com", "Sam").await,
        Err(SandboxError::ParticipantExists { .. })
    ));

    let message_sid = sandbox
        .agent_message(&sid, "agent@acme.com", "Hi, Sam here")
        .await
        .unwrap();
    let added = receiver.requests().pop().unwrap();
    assert_signed(&sandbox, &receiver, &added);
    assert_eq!(added.param("EventType").as_deref(), Some("onMessageAdded"));
    assert_eq!(added.param("Source").as_deref(), Some("SDK"));
    assert_eq!(
        added.param("ClientIdentity").as_deref(),
        Some("agent@acme.com")
    );
    assert_eq!(added.param("MessageSid"), Some(message_sid));

    sandbox.close(&sid).await.unwrap();
    let closed = receiver.requests().pop().unwrap();
    assert_eq!(closed.uri, CHANNEL_UPDATED);
    assert_signed(&sandbox, &receiver, &closed);
    assert_eq!(
        closed.param("EventType").as_deref(),
        Some("onConversationStateUpdated")
    );
    assert_eq!(closed.param("StateFrom").as_deref(), Some("active"));
    assert_eq!(closed.param("StateTo").as_deref(), Some("closed"));
    assert_eq!(sandbox.conversation(&sid).unwrap().state, "closed");

    // Closed is final.
    let (status, body) = twilio
        .form(
            &format!("/v1/Conversations/{sid}/Messages"),
            &[("Body", "late")],
        )
        .await;
    assert_eq!((status, body["code"].as_u64()), (409, Some(50377)));
    assert!(matches!(
        sandbox.agent_message(&sid, "agent@acme.com", "late").await,
        Err(SandboxError::ConversationClosed(_))
    ));
    assert!(matches!(
        sandbox.close(&sid).await,
        Err(SandboxError::ConversationClosed(_))
    ));
    assert!(matches!(
        sandbox.close("CH00000000000000000000000000000000").await,
        Err(SandboxError::ConversationNotFound(_))
    ));
}

#[tokio::test]
async fn rest_state_update_fires_only_with_the_header() {
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
    let twilio = Twilio::new(&sandbox);
    let first = bridge_conversation(&twilio, &receiver).await;
    let second = bridge_conversation(&twilio, &receiver).await;

    let (status, body) = twilio
        .form(
            &format!("/v1/Conversations/{first}"),
            &[("State", "closed")],
        )
        .await;
    assert_eq!((status, body["state"].as_str()), (200, Some("closed")));
    assert!(receiver.requests().is_empty());

    let request = twilio
        .post(&format!("/v1/Conversations/{second}"))
        .header("X-Twilio-Webhook-Enabled", "true")
        .form(&[("State", "closed")]);
    assert_eq!(send(request).await.0, 200);
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].param("StateTo").as_deref(), Some("closed"));

    let (status, _) = twilio
        .form(
            &format!("/v1/Conversations/{first}"),
            &[("State", "active")],
        )
        .await;
    assert_eq!(status, 409, "a closed conversation stays closed");
}

#[tokio::test]
async fn participants_and_participant_conversations() {
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
    let twilio = Twilio::new(&sandbox);
    let sid = bridge_conversation(&twilio, &receiver).await;

    let (status, body) = twilio
        .form(
            &format!("/v1/Conversations/{sid}/Participants"),
            &[("Identity", "x-2900000001")],
        )
        .await;
    assert_eq!((status, body["code"].as_u64()), (409, Some(50433)));

    let (status, page) = send(
        twilio
            .get("/v1/ParticipantConversations")
            .query(&[("Identity", "x-2900000001"), ("PageSize", "50")]),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let found = page["conversations"].as_array().unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["conversation_sid"], sid.as_str());
    assert_eq!(found[0]["conversation_state"], "active");
    assert_eq!(found[0]["participant_identity"], "x-2900000001");
    assert_eq!(
        found[0]["conversation_attributes"],
        r#"{"flex_bridge":true}"#
    );
    assert_eq!(page["meta"]["key"], "conversations");

    let (_, page) = send(
        twilio
            .get("/v1/ParticipantConversations")
            .query(&[("Identity", "x-1")]),
    )
    .await;
    assert_eq!(page["conversations"], json!([]));
    let (status, _) = send(twilio.get("/v1/ParticipantConversations")).await;
    assert_eq!(status, 400);

    let (status, list) = send(twilio.get(&format!("/v1/Conversations/{sid}/Webhooks"))).await;
    assert_eq!(status, 200);
    assert_eq!(list["webhooks"].as_array().unwrap().len(), 3);
    assert_eq!(list["webhooks"][0]["configuration"]["method"], "post");
    assert_eq!(list["webhooks"][2]["configuration"]["flow_sid"], FLOW_SID);
}

/// ConversationWithParticipants: the conversation and its participants in one request, all or
/// nothing; each participant a JSON object of snake-case participant fields.
#[tokio::test]
async fn conversations_with_participants_are_created_whole() {
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
    let twilio = Twilio::new(&sandbox);
    let path = "/v1/ConversationWithParticipants";
    let (status, c) = twilio
        .form(
            path,
            &[
                ("FriendlyName", "Discord jordan"),
                ("Timers.Closed", "PT24H"),
                (
                    "Participant",
                    r#"{"identity":"discord-1","attributes":"{\"a\":1}"}"#,
                ),
                (
                    "Participant",
                    r#"{"messaging_binding":{"address":"+15550100","proxy_address":"+15550199"}}"#,
                ),
            ],
        )
        .await;
    assert_eq!(status, 201, "{c}");
    let sid = c["sid"].as_str().unwrap();
    assert!(c["timers"]["date_closed"].as_str().is_some(), "{c}");
    let stored = sandbox.conversation(sid).unwrap();
    assert_eq!(stored.participants.len(), 2);
    assert_eq!(stored.participants[0].identity, "discord-1");
    assert_eq!(stored.participants[0].attributes, r#"{"a":1}"#);
    let (status, page) = send(
        twilio
            .get("/v1/ParticipantConversations")
            .query(&[("Identity", "discord-1")]),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(page["conversations"][0]["conversation_sid"], sid);

    for bad in [
        r#"{"identity":"discord-2","colour":"red"}"#,
        r#"{"identity":"discord-2","attributes":"not json"}"#,
        r#"{"attributes":"{}"}"#,
        r#"["discord-2"]"#,
        "discord-2",
    ] {
        let before = sandbox.conversations().len();
        let (status, body) = twilio
            .form(path, &[("FriendlyName", "x"), ("Participant", bad)])
            .await;
        assert_eq!(
            (status, body["code"].as_u64()),
            (400, Some(20001)),
            "{bad}: {body}"
        );
        assert_eq!(
            sandbox.conversations().len(),
            before,
            "{bad}: nothing created"
        );
    }
    let twice = r#"{"identity":"discord-3"}"#;
    let before = sandbox.conversations().len();
    let (status, _) = twilio
        .form(path, &[("Participant", twice), ("Participant", twice)])
        .await;
    assert_eq!(status, 409);
    assert_eq!(sandbox.conversations().len(), before, "all or nothing");
}

#[tokio::test]
async fn injected_faults_come_before_auth_and_are_counted() {
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
    let twilio = Twilio::new(&sandbox);
    sandbox.inject_fault(Service::Twilio, 429, 2, 3);
    for _ in 0..2 {
        let response = twilio.post("/v1/Conversations").send().await.unwrap();
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()["retry-after"], "3");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["code"], 20429);
    }
    let (status, _) = twilio.form("/v1/Conversations", &[]).await;
    assert_eq!(status, 201);
    assert_eq!(sandbox.request_count(Service::Twilio), 3);
    assert_eq!(sandbox.request_count(Service::X), 0);
    sandbox.reset_counts();
    assert_eq!(sandbox.request_count(Service::Twilio), 0);
}

/// The bridge's own Twilio client, unchanged, against the sandbox.
#[tokio::test]
async fn the_bridge_client_is_accepted() {
    use flex_bridge::twilio::{
        NewConversation, NewMessage, ScopedWebhook, TwilioClient, TwilioConfig,
    };
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
    let client = TwilioClient::new(
        flex_bridge::http::http_client(),
        TwilioConfig {
            account_sid: sandbox.config().twilio_account_sid.clone(),
            auth_token: flex_bridge::config::Secret::new(
                sandbox.config().twilio_auth_token.clone(),
            ),
            conversations_url: sandbox.url(),
            flex_url: sandbox.url(),
            taskrouter_url: sandbox.url(),
        },
    );
    let attributes = json!({"flex_bridge": true});
    let conversation = client
        .create_conversation(&NewConversation {
            friendly_name: "X @jordan_cust",
            attributes: &attributes,
            identity: "x-2900000001",
            participant_attributes: &json!({"platform": "x"}),
            close_after: "PT24H",
        })
        .await
        .unwrap();
    let sid = conversation.sid;
    let participant = &sandbox.conversation(&sid).unwrap().participants[0];
    assert_eq!(participant.identity, "x-2900000001");
    assert_eq!(participant.attributes, r#"{"platform":"x"}"#);
    let url = format!("{}{FLEX_OUTBOUND}", receiver.url);
    client
        .add_webhook(
            &sid,
            &ScopedWebhook::Url {
                url: &url,
                filters: &["onMessageAdded", "onParticipantAdded"],
            },
        )
        .await
        .unwrap();
    client
        .add_webhook(&sid, &ScopedWebhook::Studio { flow_sid: FLOW_SID })
        .await
        .unwrap();
    client
        .post_message(
            &sid,
            &NewMessage {
                author: "x-2900000001",
                body: "hello",
                attributes: None,
                webhooks: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(receiver.requests().len(), 1);
    assert_eq!(sandbox.studio_executions(&sid), 1);
    let found = client
        .participant_conversations("x-2900000001")
        .await
        .unwrap();
    assert_eq!(found[0].conversation_sid, sid);
    client.set_state(&sid, "closed").await.unwrap();
    assert_eq!(sandbox.conversation(&sid).unwrap().state, "closed");
}

#[tokio::test]
async fn responses_follow_the_spec_schemas() {
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
    let twilio = Twilio::new(&sandbox);
    let (status, c) = twilio
        .form(
            "/v1/Conversations",
            &[
                ("FriendlyName", "a"),
                ("Timers.Closed", "PT24H"),
                ("UniqueName", "u1"),
            ],
        )
        .await;
    assert_eq!(status, 201);
    let sid = c["sid"].as_str().unwrap();
    assert_eq!(sid.len(), 34);
    assert_eq!(
        c["account_sid"],
        sandbox.config().twilio_account_sid.as_str()
    );
    assert!(c["chat_service_sid"].as_str().unwrap().starts_with("IS"));
    assert_eq!(c["attributes"], "{}");
    assert_eq!(c["unique_name"], "u1");
    assert!(c["timers"]["date_closed"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        c["url"],
        format!("{}/v1/Conversations/{sid}", sandbox.url())
    );
    assert!(c["links"]["messages"]
        .as_str()
        .unwrap()
        .ends_with("/Messages"));
    let (status, fetched) = send(twilio.get(&format!("/v1/Conversations/{sid}"))).await;
    assert_eq!((status, &fetched), (200, &c));
    let (status, body) = twilio
        .form("/v1/Conversations", &[("UniqueName", "u1")])
        .await;
    assert_eq!((status, body["code"].as_u64()), (409, Some(50353)));
}

#[tokio::test]
async fn get_webhooks_carry_signed_query_parameters() {
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
    let twilio = Twilio::new(&sandbox);
    let (_, c) = twilio.form("/v1/Conversations", &[]).await;
    let sid = c["sid"].as_str().unwrap();
    let url = format!("{}/hook?tenant=1", receiver.url);
    let (status, _) = twilio
        .form(
            &format!("/v1/Conversations/{sid}/Webhooks"),
            &[
                ("Target", "webhook"),
                ("Configuration.Url", &url),
                ("Configuration.Method", "GET"),
                ("Configuration.Filters", "onMessageAdded"),
            ],
        )
        .await;
    assert_eq!(status, 201);
    sandbox.agent_message(sid, "agent", "hi").await.unwrap();
    let hook = &receiver.requests()[0];
    assert_eq!(hook.method, "GET");
    assert!(hook.uri.starts_with("/hook?tenant=1&"), "{}", hook.uri);
    assert!(hook.uri.contains("EventType=onMessageAdded"));
    assert_signed(&sandbox, &receiver, hook);
}

#[tokio::test]
async fn control_routes_drive_the_agent() {
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
    let twilio = Twilio::new(&sandbox);
    let sid = bridge_conversation(&twilio, &receiver).await;
    let http = flex_bridge::http::http_client();
    let base = format!("{}/sandbox/conversations/{sid}", sandbox.url());

    let join = json!({"identity": "agent@acme.com", "friendly_name": "Sam Rivera"});
    let (status, _) = send(http.post(format!("{base}/agent-join")).json(&join)).await;
    assert_eq!(status, 200);
    let (status, _) = send(http.post(format!("{base}/agent-join")).json(&join)).await;
    assert_eq!(status, 409);
    let reply = json!({"author": "agent@acme.com", "body": "Hello!"});
    let (status, body) = send(http.post(format!("{base}/agent-messages")).json(&reply)).await;
    assert_eq!(status, 201);
    assert!(body["sid"].as_str().unwrap().starts_with("IM"));
    let (status, _) = send(http.post(format!("{base}/close"))).await;
    assert_eq!(status, 200);

    let (status, view) = send(http.get(&base)).await;
    assert_eq!(status, 200);
    assert_eq!(view["state"], "closed");
    assert_eq!(view["messages"][0]["source"], "SDK");
    assert_eq!(view["participants"].as_array().unwrap().len(), 2);
    let events: Vec<String> = receiver
        .requests()
        .iter()
        .map(|r| r.param("EventType").unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "onParticipantAdded",
            "onMessageAdded",
            "onConversationStateUpdated"
        ]
    );
    let (_, deliveries) =
        send(http.get(format!("{}/sandbox/webhook-deliveries", sandbox.url()))).await;
    assert_eq!(deliveries.as_array().unwrap().len(), 3);
}

/// A long conversation is read page by page (100 a page, Twilio's maximum), oldest first, with
/// each message's files, and a next page off the API's host is refused before any request.
#[tokio::test]
async fn a_long_conversation_is_listed_page_by_page() {
    use flex_bridge::twilio::{NewConversation, NewMessage, TwilioClient, TwilioConfig};
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
    let client = TwilioClient::new(
        flex_bridge::http::http_client(),
        TwilioConfig::at(
            &sandbox.url(),
            &sandbox.config().twilio_account_sid,
            flex_bridge::config::Secret::new(sandbox.config().twilio_auth_token.clone()),
        ),
    );
    let sid = client
        .create_conversation(&NewConversation {
            friendly_name: "X @jordan_cust",
            attributes: &json!({"flex_bridge": true}),
            identity: "x-2900000001",
            participant_attributes: &json!({}),
            close_after: "PT24H",
        })
        .await
        .unwrap()
        .sid;
    for n in 0..205 {
        let body = format!("message {n}");
        let message = NewMessage {
            author: "x-2900000001",
            body: &body,
            attributes: None,
            webhooks: false,
        };
        client.post_message(&sid, &message).await.unwrap();
    }
    sandbox
        .agent_media_message(
            &sid,
            "sam",
            Some("the fix"),
            &[("fix.png", "image/png", bytes::Bytes::from_static(b"png"))],
        )
        .await
        .unwrap();
    let (mut bodies, mut pages, mut next) = (Vec::new(), 0, None);
    loop {
        let page = client.message_page(&sid, next.as_deref()).await.unwrap();
        pages += 1;
        assert!(page.messages.len() <= 100);
        bodies.extend(
            page.messages
                .iter()
                .map(|m| m.body.clone().unwrap_or_default()),
        );
        if let Some(last) = page
            .messages
            .last()
            .filter(|m| m.body.as_deref() == Some("the fix"))
        {
            let files: Vec<_> = last
                .media
                .iter()
                .flatten()
                .map(|m| m.filename.clone())
                .collect();
            assert_eq!(files, [Some("fix.png".to_owned())]);
        }
        next = page.meta.next_page_url;
        if next.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(bodies.len(), 206);
    assert_eq!(bodies[0], "message 0");
    assert_eq!(bodies[204], "message 204");
    let before = sandbox.request_count(Service::Twilio);
    let elsewhere = client
        .message_page(
            &sid,
            Some("https://example.com/v1/Conversations/CH1/Messages"),
        )
        .await;
    assert!(elsewhere.is_err());
    assert_eq!(sandbox.request_count(Service::Twilio), before);
}
