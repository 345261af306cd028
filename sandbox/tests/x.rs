//! The X emulation: DM sends with real OAuth 1.0a, and the customer's signed webhooks.

mod common;

use std::time::Duration;

use common::{send, Receiver};
use sandbox::{Sandbox, Service};
use serde_json::json;

const CUSTOMER: &str = "2900000001";

fn dm_url(sandbox: &Sandbox, participant: &str) -> String {
    format!(
        "{}/2/dm_conversations/with/{participant}/messages",
        sandbox.url()
    )
}

fn authorization(sandbox: &Sandbox, url: &str, consumer_secret: &str) -> String {
    let c = sandbox.config();
    let token = oauth1_request::Token::from_parts(
        c.x_consumer_key.as_str(),
        consumer_secret,
        c.x_access_token.as_str(),
        c.x_access_token_secret.as_str(),
    );
    oauth1_request::post(url, &(), &token, oauth1_request::HMAC_SHA1)
}

async fn post_dm(url: &str, auth: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    send(
        reqwest::Client::new()
            .post(url)
            .header("authorization", auth)
            .json(&body),
    )
    .await
}

#[tokio::test]
async fn dm_send_checks_oauth_and_records_the_text() {
    let receiver = Receiver::start().await;
    let sandbox = common::sandbox_for(&receiver).await;
    let url = dm_url(&sandbox, CUSTOMER);
    let secret = sandbox.config().x_consumer_secret.clone();

    let auth = authorization(&sandbox, &url, &secret);
    let (status, body) = post_dm(&url, &auth, json!({"text": "Hi from Sam"})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["data"]["dm_conversation_id"],
        format!("{CUSTOMER}-{}", sandbox.config().x_brand_account_id)
    );
    assert!(body["data"]["dm_event_id"]
        .as_str()
        .unwrap()
        .parse::<u64>()
        .is_ok());
    assert_eq!(sandbox.dms_to(CUSTOMER), ["Hi from Sam"]);

    // The same header again is a replayed nonce.
    let (status, _) = post_dm(&url, &auth, json!({"text": "again"})).await;
    assert_eq!(status, 401);

    let wrong = authorization(&sandbox, &url, "not-the-secret");
    let (status, body) = post_dm(&url, &wrong, json!({"text": "x"})).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"})
    );
    let (status, _) = send(
        reqwest::Client::new()
            .post(&url)
            .json(&json!({"text": "x"})),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(sandbox.dms_to(CUSTOMER).len(), 1);
}

#[tokio::test]
async fn dm_send_refuses_what_the_spec_refuses() {
    let receiver = Receiver::start().await;
    let sandbox = common::sandbox_for(&receiver).await;
    let secret = sandbox.config().x_consumer_secret.clone();
    let url = dm_url(&sandbox, CUSTOMER);
    for body in [
        json!({"text": ""}),
        json!({}),
        json!({"text": "hi", "quick_reply": {"type": "options"}}),
        json!({"text": "x".repeat(10_001)}),
    ] {
        let auth = authorization(&sandbox, &url, &secret);
        let (status, problem) = post_dm(&url, &auth, body).await;
        assert_eq!(status, 400);
        assert_eq!(
            problem["type"],
            "https://api.x.com/2/problems/invalid-request"
        );
        assert_eq!(problem["title"], "Invalid Request");
    }
    let bad_id = dm_url(&sandbox, "jordan");
    let auth = authorization(&sandbox, &bad_id, &secret);
    assert_eq!(post_dm(&bad_id, &auth, json!({"text": "hi"})).await.0, 400);
    let auth = authorization(&sandbox, &url, &secret);
    let (status, _) = post_dm(
        &url,
        &auth,
        json!({"attachments": [{"media_id": "1146654567674912769"}]}),
    )
    .await;
    assert_eq!(status, 201);
    assert!(
        sandbox.dms_to(CUSTOMER).is_empty(),
        "attachment-only DMs have no text"
    );
    assert_eq!(sandbox.sent_dms()[0].media_ids, ["1146654567674912769"]);
}

/// The bridge's own X client, unchanged, against the sandbox.
#[tokio::test]
async fn the_bridge_client_is_accepted() {
    let receiver = Receiver::start().await;
    let sandbox = common::sandbox_for(&receiver).await;
    let c = sandbox.config();
    let client = shared::x::XClient::new(
        reqwest::Client::new(),
        shared::x::XApiConfig {
            consumer_key: c.x_consumer_key.clone(),
            consumer_secret: shared::config::Secret::new(c.x_consumer_secret.clone()),
            access_token: c.x_access_token.clone(),
            access_token_secret: shared::config::Secret::new(c.x_access_token_secret.clone()),
            api_url: sandbox.url(),
        },
    );
    client.send_dm(CUSTOMER, "one").await.unwrap();
    client.send_dm(CUSTOMER, "two").await.unwrap();
    assert_eq!(sandbox.dms_to(CUSTOMER), ["one", "two"]);
}

#[tokio::test]
async fn faults_answer_in_x_shape_then_clear() {
    let receiver = Receiver::start().await;
    let sandbox = common::sandbox_for(&receiver).await;
    let url = dm_url(&sandbox, CUSTOMER);
    let secret = sandbox.config().x_consumer_secret.clone();
    sandbox.inject_fault(Service::X, 429, 2, 7);
    for _ in 0..2 {
        let response = reqwest::Client::new()
            .post(&url)
            .header("authorization", authorization(&sandbox, &url, &secret))
            .json(&json!({"text": "hi"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()["retry-after"], "7");
        assert!(response.headers().contains_key("x-rate-limit-reset"));
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["title"], "Too Many Requests");
    }
    let auth = authorization(&sandbox, &url, &secret);
    assert_eq!(post_dm(&url, &auth, json!({"text": "hi"})).await.0, 201);
    assert_eq!(sandbox.request_count(Service::X), 3);
    assert_eq!(sandbox.dms_to(CUSTOMER), ["hi"]);
}

#[tokio::test]
async fn customer_dm_is_a_signed_account_activity_payload() {
    let receiver = Receiver::start().await;
    let sandbox = common::sandbox_for(&receiver).await;
    let delivery = sandbox
        .customer_dm(
            CUSTOMER,
            "jordan_cust",
            "Order A-1042? https://track.example.com/A-1042",
        )
        .await;
    assert_eq!((delivery.status, delivery.attempts), (200, 1));

    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    let hook = &requests[0];
    assert_eq!(hook.uri, "/twitter/webhook");
    let secret = &sandbox.config().x_consumer_secret;
    assert!(shared::x::signature::verify(
        secret,
        &hook.body,
        hook.header("x-twitter-webhooks-signature")
    ));
    let brand = &sandbox.config().x_brand_account_id;
    let parsed = shared::x::events::parse(&hook.body, brand).unwrap();
    assert_eq!(
        parsed.messages,
        [shared::x::events::InboundDm {
            event_id: delivery.event_id.clone(),
            sender_id: CUSTOMER.into(),
            handle: Some("@jordan_cust".into()),
            text: "Order A-1042? https://track.example.com/A-1042".into(),
        }]
    );
    let payload: serde_json::Value = serde_json::from_slice(&hook.body).unwrap();
    assert_eq!(payload["for_user_id"], brand.as_str());
    let text = payload["direct_message_events"][0]["message_create"]["message_data"]["text"]
        .as_str()
        .unwrap();
    assert!(
        text.contains("https://t.co/"),
        "links arrive shortened: {text}"
    );

    let typing = sandbox.customer_typing(CUSTOMER).await;
    assert_eq!(typing.status, 200);
    let body = &receiver.requests()[1].body;
    assert!(shared::x::events::parse(body, brand)
        .unwrap()
        .messages
        .is_empty());
}

#[tokio::test]
async fn x_retries_failed_deliveries() {
    let receiver = Receiver::start().await;
    let sandbox = common::sandbox_for(&receiver).await;
    receiver.respond_with(&[503, 500]);
    let delivery = sandbox.customer_dm(CUSTOMER, "jordan_cust", "hello?").await;
    assert_eq!((delivery.status, delivery.attempts), (200, 3));
    let bodies: Vec<_> = receiver.requests().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies.len(), 3);
    assert!(
        bodies.iter().all(|b| *b == bodies[0]),
        "a retry resends the same event"
    );

    receiver.respond_with(&[500, 500, 500, 500]);
    let delivery = sandbox
        .customer_dm(CUSTOMER, "jordan_cust", "anyone?")
        .await;
    assert_eq!((delivery.status, delivery.attempts), (500, 4));

    // Nobody listening: status 0 after every attempt.
    sandbox.set_x_webhook_url("http://127.0.0.1:9/twitter/webhook");
    sandbox.set_x_retry_backoff(&[Duration::from_millis(1)]);
    let delivery = sandbox.customer_dm(CUSTOMER, "jordan_cust", "hello").await;
    assert_eq!((delivery.status, delivery.attempts), (0, 2));
}

#[tokio::test]
async fn exact_bodies_can_be_delivered_repeatedly() {
    let receiver = Receiver::start().await;
    let sandbox = common::sandbox_for(&receiver).await;
    let (event_id, body) = sandbox.customer_dm_body(CUSTOMER, "jordan_cust", "dup");
    assert_eq!(sandbox.deliver_x_webhook(&body, 2).await, [200, 200]);
    let requests = receiver.requests();
    assert_eq!(requests.len(), 2);
    for request in requests {
        assert_eq!(request.body, body);
        let parsed = shared::x::events::parse(&request.body, "1").unwrap();
        assert_eq!(parsed.messages[0].event_id, event_id);
    }
}

#[tokio::test]
async fn crc_check_verifies_the_response_token() {
    let receiver = Receiver::start().await;
    let sandbox = common::sandbox_for(&receiver).await;
    assert!(sandbox.crc_check().await.unwrap());
    let crc = &receiver.requests()[0];
    assert_eq!(crc.method, "GET");
    assert!(crc.uri.starts_with("/twitter/webhook?crc_token="));
    receiver.set_crc_secret("wrong");
    assert!(!sandbox.crc_check().await.unwrap());
    sandbox.set_x_webhook_url("http://127.0.0.1:9/twitter/webhook");
    assert!(sandbox.crc_check().await.is_err());
}

#[tokio::test]
async fn echoes_come_back_from_the_brand_when_enabled() {
    let receiver = Receiver::start().await;
    let sandbox = common::sandbox_for(&receiver).await;
    sandbox.set_x_echoes(true);
    let url = dm_url(&sandbox, CUSTOMER);
    let auth = authorization(&sandbox, &url, &sandbox.config().x_consumer_secret.clone());
    assert_eq!(
        post_dm(&url, &auth, json!({"text": "echo me"})).await.0,
        201
    );
    for _ in 0..100 {
        if !receiver.requests().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let echo = &receiver.requests()[0];
    let brand = &sandbox.config().x_brand_account_id;
    let parsed = shared::x::events::parse(&echo.body, brand).unwrap();
    assert!(parsed.messages.is_empty());
    assert_eq!(parsed.ignored, 1);
}

#[tokio::test]
async fn control_routes_wrap_the_methods() {
    let receiver = Receiver::start().await;
    let sandbox = common::sandbox_for(&receiver).await;
    let http = reqwest::Client::new();
    let base = sandbox.url();

    let (status, delivery) = send(http.post(format!("{base}/sandbox/x/dm")).json(
        &json!({"sender_id": CUSTOMER, "screen_name": "jordan_cust", "text": "via console"}),
    ))
    .await;
    assert_eq!((status, delivery["status"].as_u64()), (200, Some(200)));
    assert_eq!(receiver.requests().len(), 1);

    let (status, _) = send(
        http.post(format!("{base}/sandbox/faults"))
            .json(&json!({"service": "x", "status": 503, "count": 1, "retry_after": 0})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = send(http.post(dm_url(&sandbox, CUSTOMER))).await;
    assert_eq!(status, 503);

    let (status, list) = send(http.get(format!("{base}/sandbox/conversations"))).await;
    assert_eq!((status, list), (200, json!([])));
    let (status, dms) = send(http.get(format!("{base}/sandbox/x/dms/{CUSTOMER}"))).await;
    assert_eq!((status, dms), (200, json!([])));
    let (status, _) = send(http.post(format!(
        "{base}/sandbox/conversations/CH00000000000000000000000000000000/close"
    )))
    .await;
    assert_eq!(status, 404);
    let (_, counts) = send(http.get(format!("{base}/sandbox/counts"))).await;
    assert_eq!(counts, json!({"twilio": 0, "x": 1, "discord": 0}));
}
