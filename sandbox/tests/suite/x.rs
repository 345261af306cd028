//! The X emulation: DM sends with real OAuth 1.0a, and the customer's signed webhooks.

use std::time::Duration;

use crate::common::{send, Receiver};
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
        flex_bridge::http::http_client()
            .post(url)
            .header("authorization", auth)
            .json(&body),
    )
    .await
}

#[tokio::test]
async fn dm_send_checks_oauth_and_records_the_text() {
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
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
        flex_bridge::http::http_client()
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
    let sandbox = crate::common::sandbox_for(&receiver).await;
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
    // Only media X holds can be attached (see media.rs for the upload itself).
    let auth = authorization(&sandbox, &url, &secret);
    let unknown = json!({"attachments": [{"media_id": "1146654567674912769"}]});
    assert_eq!(post_dm(&url, &auth, unknown).await.0, 400);
    let c = sandbox.config();
    let uploaded = flex_bridge::x::media::XMediaClient::new(
        flex_bridge::http::http_client(),
        flex_bridge::x::XApiConfig {
            consumer_key: c.x_consumer_key.clone(),
            consumer_secret: flex_bridge::config::Secret::new(c.x_consumer_secret.clone()),
            access_token: c.x_access_token.clone(),
            access_token_secret: flex_bridge::config::Secret::new(c.x_access_token_secret.clone()),
            api_url: sandbox.url(),
        },
    )
    .upload_dm_media(
        "image/png",
        3,
        &mut flex_bridge::x::media::InMemory::new(bytes::Bytes::from_static(b"png")),
    )
    .await
    .unwrap();
    let auth = authorization(&sandbox, &url, &secret);
    let (status, _) = post_dm(
        &url,
        &auth,
        json!({"attachments": [{"media_id": uploaded.media_id}]}),
    )
    .await;
    assert_eq!(status, 201);
    assert!(
        sandbox.dms_to(CUSTOMER).is_empty(),
        "attachment-only DMs have no text"
    );
    assert_eq!(sandbox.sent_dms()[0].media_ids, [uploaded.media_id]);
}

/// The bridge's own X client, unchanged, against the sandbox.
#[tokio::test]
async fn the_bridge_client_is_accepted() {
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
    let c = sandbox.config();
    let client = flex_bridge::x::XClient::new(
        flex_bridge::http::http_client(),
        flex_bridge::x::XApiConfig {
            consumer_key: c.x_consumer_key.clone(),
            consumer_secret: flex_bridge::config::Secret::new(c.x_consumer_secret.clone()),
            access_token: c.x_access_token.clone(),
            access_token_secret: flex_bridge::config::Secret::new(c.x_access_token_secret.clone()),
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
    let sandbox = crate::common::sandbox_for(&receiver).await;
    let url = dm_url(&sandbox, CUSTOMER);
    let secret = sandbox.config().x_consumer_secret.clone();
    sandbox.inject_fault(Service::X, 429, 2, 7);
    for _ in 0..2 {
        let response = flex_bridge::http::http_client()
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
    let sandbox = crate::common::sandbox_for(&receiver).await;
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
    assert!(flex_bridge::x::signature::verify(
        secret,
        &hook.body,
        hook.header("x-twitter-webhooks-signature")
    ));
    let brand = &sandbox.config().x_brand_account_id;
    let parsed = flex_bridge::x::events::parse(&hook.body, brand).unwrap();
    let dms: Vec<_> = parsed
        .messages
        .iter()
        .map(|m| {
            (
                m.event_id.as_str(),
                m.sender_id.as_str(),
                m.handle.as_deref(),
                m.text.as_str(),
            )
        })
        .collect();
    assert_eq!(
        dms,
        [(
            delivery.event_id.as_str(),
            CUSTOMER,
            Some("@jordan_cust"),
            "Order A-1042? https://track.example.com/A-1042",
        )]
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
    assert!(flex_bridge::x::events::parse(body, brand)
        .unwrap()
        .messages
        .is_empty());
}

#[tokio::test]
async fn x_retries_failed_deliveries() {
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
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
    let sandbox = crate::common::sandbox_for(&receiver).await;
    let (event_id, body) = sandbox.customer_dm_body(CUSTOMER, "jordan_cust", "dup");
    assert_eq!(sandbox.deliver_x_webhook(&body, 2).await, [200, 200]);
    let requests = receiver.requests();
    assert_eq!(requests.len(), 2);
    for request in requests {
        assert_eq!(request.body, body);
        let brand = &sandbox.config().x_brand_account_id;
        let parsed = flex_bridge::x::events::parse(&request.body, brand).unwrap();
        assert_eq!(parsed.messages[0].event_id, event_id);
    }
}

#[tokio::test]
async fn crc_check_verifies_the_response_token() {
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
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
    let sandbox = crate::common::sandbox_for(&receiver).await;
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
    let parsed = flex_bridge::x::events::parse(&echo.body, brand).unwrap();
    assert!(parsed.messages.is_empty());
    assert_eq!(parsed.ignored, 1);
}

#[tokio::test]
async fn control_routes_wrap_the_methods() {
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
    let http = flex_bridge::http::http_client();
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

// --- Set-up endpoints: webhook configs, subscriptions, replay jobs -------------------------

fn user_auth(sandbox: &Sandbox, method: &str, url: &str) -> String {
    let c = sandbox.config();
    let token = oauth1_request::Token::from_parts(
        c.x_consumer_key.as_str(),
        c.x_consumer_secret.as_str(),
        c.x_access_token.as_str(),
        c.x_access_token_secret.as_str(),
    );
    oauth1_request::authorize(method, url, &(), &token, oauth1_request::HMAC_SHA1)
}

/// A signed (OAuth 1.0a) or bearer (`Some(token)`) request with an optional JSON body.
async fn call(
    sandbox: &Sandbox,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let url = format!("{}{path}", sandbox.url());
    let auth = match bearer {
        Some(token) => format!("Bearer {token}"),
        None => user_auth(sandbox, method, url.split('?').next().unwrap()),
    };
    let mut request = flex_bridge::http::http_client()
        .request(method.parse().unwrap(), &url)
        .header("authorization", auth);
    if let Some(body) = body {
        request = request.json(&body);
    }
    send(request).await
}

#[tokio::test]
async fn webhooks_are_crc_checked_listed_with_the_bearer_token_and_deleted() {
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
    let bearer = sandbox.x_bearer_token();
    let hook = format!("{}/twitter/webhook", receiver.url);

    let (status, body) = call(
        &sandbox,
        "POST",
        "/2/webhooks",
        None,
        Some(json!({"url": hook})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let id = body["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(body["data"]["url"], hook.as_str());
    assert_eq!(body["data"]["valid"], true);
    assert!(receiver.requests()[0].uri.contains("crc_token="));
    assert_eq!(sandbox.x_webhooks().len(), 1);

    // Same URL again; a URL that fails the CRC; a body off the spec; no auth.
    let (status, _) = call(
        &sandbox,
        "POST",
        "/2/webhooks",
        Some(&bearer),
        Some(json!({"url": hook})),
    )
    .await;
    assert_eq!(status, 400);
    receiver.set_crc_secret("wrong");
    let other = format!("{}/other", receiver.url);
    let (status, body) = call(
        &sandbox,
        "POST",
        "/2/webhooks",
        None,
        Some(json!({"url": other})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["detail"].as_str().unwrap().contains("CRC"), "{body}");
    let (status, _) = call(
        &sandbox,
        "POST",
        "/2/webhooks",
        None,
        Some(json!({"uri": other})),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = send(
        flex_bridge::http::http_client()
            .post(format!("{}/2/webhooks", sandbox.url()))
            .json(&json!({"url": other})),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(sandbox.x_webhooks().len(), 1);

    // GET /2/webhooks is BearerToken only.
    let (status, body) = call(&sandbox, "GET", "/2/webhooks", None, None).await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = call(&sandbox, "GET", "/2/webhooks", Some("wrong"), None).await;
    assert_eq!(status, 401);
    let (status, body) = call(&sandbox, "GET", "/2/webhooks", Some(&bearer), None).await;
    assert_eq!(status, 200);
    assert_eq!(body["meta"]["result_count"], 1);
    assert_eq!(body["data"][0]["id"], id.as_str());
    assert_eq!(body["data"][0]["valid"], true);
    let (status, body) = call(
        &sandbox,
        "GET",
        "/2/webhooks?webhook_config.fields=url",
        Some(&bearer),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"][0], json!({"id": id, "url": hook}));
    for bad in [
        "webhook_config.fields=nope",
        "webhook_config.fields=url,url",
        "max_results=5",
    ] {
        let (status, _) = call(
            &sandbox,
            "GET",
            &format!("/2/webhooks?{bad}"),
            Some(&bearer),
            None,
        )
        .await;
        assert_eq!(status, 400, "{bad}");
    }

    // Deleting takes its subscriptions along.
    let (status, _) = call(
        &sandbox,
        "POST",
        &format!("/2/account_activity/webhooks/{id}/subscriptions/all"),
        None,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(&sandbox, "DELETE", "/2/webhooks/abc", None, None).await;
    assert_eq!(status, 400);
    let (status, body) = call(
        &sandbox,
        "DELETE",
        &format!("/2/webhooks/{id}"),
        Some(&bearer),
        None,
    )
    .await;
    assert_eq!((status, body), (200, json!({"data": {"deleted": true}})));
    assert!(sandbox.x_webhooks().is_empty());
    assert!(sandbox.x_account_activity_subscriptions().is_empty());
    let (status, body) = call(&sandbox, "DELETE", &format!("/2/webhooks/{id}"), None, None).await;
    assert_eq!(status, 404);
    assert_eq!(
        body["type"],
        "https://api.x.com/2/problems/resource-not-found"
    );
}

#[tokio::test]
async fn activity_subscriptions_follow_the_spec_and_keep_dms_private() {
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
    let webhook_id = sandbox.add_x_webhook("https://bridge.example/twitter/webhook");
    let brand = sandbox.config().x_brand_account_id.clone();
    let request = json!({"event_type": "dm.received", "filter": {"user_id": brand}, "webhook_id": webhook_id});

    let (status, _) = call(
        &sandbox,
        "POST",
        "/2/activity/subscriptions",
        Some(&sandbox.x_bearer_token()),
        Some(request.clone()),
    )
    .await;
    assert_eq!(status, 403, "DMs need the user's context");
    let (status, _) = call(
        &sandbox,
        "POST",
        "/2/activity/subscriptions",
        None,
        Some(json!({"event_type": "dm.received", "filter": {"user_id": "42"}})),
    )
    .await;
    assert_eq!(status, 403, "someone else's DMs");
    for bad in [
        json!({"event_type": "dm.received"}),
        json!({"event_type": "dm.nope", "filter": {"user_id": brand}}),
        json!({"event_type": "dm.received", "filter": {"user_id": brand}, "extra": true}),
    ] {
        let (status, _) = call(
            &sandbox,
            "POST",
            "/2/activity/subscriptions",
            None,
            Some(bad.clone()),
        )
        .await;
        assert_eq!(status, 400, "{bad}");
    }
    let (status, _) = call(
        &sandbox,
        "POST",
        "/2/activity/subscriptions",
        None,
        Some(json!({"event_type": "dm.received", "filter": {"user_id": brand}, "webhook_id": "1"})),
    )
    .await;
    assert_eq!(status, 404);

    let (status, body) = call(
        &sandbox,
        "POST",
        "/2/activity/subscriptions",
        None,
        Some(request.clone()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let subscription = &body["data"]["subscription"];
    assert_eq!(subscription["event_type"], "dm.received");
    assert_eq!(subscription["filter"], json!({"user_id": brand}));
    assert_eq!(subscription["webhook_id"], webhook_id.as_str());
    let recorded = sandbox.x_activity_subscriptions();
    assert_eq!(recorded.len(), 1);
    assert_eq!(
        subscription["subscription_id"],
        recorded[0].subscription_id.as_str()
    );
    let (status, _) = call(
        &sandbox,
        "POST",
        "/2/activity/subscriptions",
        None,
        Some(request),
    )
    .await;
    assert_eq!(status, 409);

    // Public events may use the app's bearer token.
    let (status, _) = call(
        &sandbox,
        "POST",
        "/2/activity/subscriptions",
        Some(&sandbox.x_bearer_token()),
        Some(json!({"event_type": "profile.update.bio", "filter": {"user_id": "42"}})),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn activity_subscriptions_are_listed_a_page_at_a_time_and_deleted_with_the_bearer_token() {
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
    let bearer = sandbox.x_bearer_token();
    let webhook_id = sandbox.add_x_webhook("https://bridge.example/twitter/webhook");
    let brand = sandbox.config().x_brand_account_id.clone();

    // None yet: no `data` (its minimum is one item), a count of 0.
    let (status, body) = call(&sandbox, "GET", "/2/activity/subscriptions", None, None).await;
    assert_eq!((status, body), (200, json!({"meta": {"result_count": 0}})));

    let mut ids = Vec::new();
    for (event_type, filter) in [
        (
            "dm.received",
            json!({"user_id": brand, "direction": "inbound"}),
        ),
        (
            "post.mention.create",
            json!({"user_id": brand, "keyword": "help"}),
        ),
        ("profile.update.bio", json!({"user_id": "42"})),
    ] {
        let (status, body) = call(
            &sandbox,
            "POST",
            "/2/activity/subscriptions",
            None,
            Some(json!({"event_type": event_type, "filter": filter, "webhook_id": webhook_id, "tag": "t"})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        ids.push(
            body["data"]["subscription"]["subscription_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }

    // User context and the app's bearer token both list them, oldest first, as created.
    for bearer in [None, Some(bearer.as_str())] {
        let (status, body) = call(&sandbox, "GET", "/2/activity/subscriptions", bearer, None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["meta"], json!({"result_count": 3}));
        let data = body["data"].as_array().unwrap();
        assert_eq!(data.len(), 3);
        assert_eq!(data[0]["subscription_id"], ids[0].as_str());
        assert_eq!(data[0]["event_type"], "dm.received");
        assert_eq!(
            data[0]["filter"],
            json!({"user_id": brand, "direction": "inbound"})
        );
        assert_eq!(data[0]["webhook_id"], webhook_id.as_str());
        assert_eq!(data[0]["tag"], "t");
        assert!(data[0]["created_at"].as_str().unwrap().ends_with(".000Z"));
        assert_eq!(data[1]["filter"]["keyword"], "help");
    }
    let (status, _) = call(
        &sandbox,
        "GET",
        "/2/activity/subscriptions",
        Some("wrong"),
        None,
    )
    .await;
    assert_eq!(status, 401);

    // Pages of two: a next_token, then the rest and none. (This file's OAuth 1.0a helper signs
    // no query parameters, so the queries go with the bearer token.)
    let (status, body) = call(
        &sandbox,
        "GET",
        "/2/activity/subscriptions?max_results=2",
        Some(&bearer),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["meta"]["result_count"], 2);
    let token = body["meta"]["next_token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 16, "{token}");
    let (status, body) = call(
        &sandbox,
        "GET",
        &format!("/2/activity/subscriptions?max_results=2&pagination_token={token}"),
        Some(&bearer),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["meta"], json!({"result_count": 1}));
    assert_eq!(body["data"][0]["subscription_id"], ids[2].as_str());
    for bad in [
        "max_results=0",
        "max_results=1001",
        "max_results=two",
        "pagination_token=short",
        "pagination_token=ZZZZZZZZZZZZZZZZZZ",
        "max_results=1&max_results=2",
        "ids=1",
    ] {
        let (status, body) = call(
            &sandbox,
            "GET",
            &format!("/2/activity/subscriptions?{bad}"),
            Some(&bearer),
            None,
        )
        .await;
        assert_eq!(status, 400, "{bad}: {body}");
    }

    // DELETE by id takes the app's bearer token only.
    let path = format!("/2/activity/subscriptions/{}", ids[1]);
    let (status, body) = call(&sandbox, "DELETE", &path, None, None).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["type"],
        "https://api.x.com/2/problems/unsupported-authentication"
    );
    assert_eq!(sandbox.x_activity_subscriptions().len(), 3);
    let (status, _) = call(&sandbox, "DELETE", &path, Some("wrong"), None).await;
    assert_eq!(status, 401);
    let (status, _) = call(
        &sandbox,
        "DELETE",
        "/2/activity/subscriptions/abc",
        Some(&bearer),
        None,
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = call(
        &sandbox,
        "DELETE",
        &format!("{path}?force=true"),
        Some(&bearer),
        None,
    )
    .await;
    assert_eq!(status, 400);
    let (status, body) = call(&sandbox, "DELETE", &path, Some(&bearer), None).await;
    assert_eq!((status, body), (200, json!({"data": {"deleted": true}})));
    let left: Vec<String> = sandbox
        .x_activity_subscriptions()
        .into_iter()
        .map(|s| s.subscription_id)
        .collect();
    assert_eq!(left, [ids[0].clone(), ids[2].clone()]);
    let (status, body) = call(&sandbox, "DELETE", &path, Some(&bearer), None).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        body["type"],
        "https://api.x.com/2/problems/resource-not-found"
    );

    // Without the product, 403 client-forbidden.
    sandbox.set_x_product_access(false);
    let (status, body) = call(&sandbox, "GET", "/2/activity/subscriptions", None, None).await;
    assert_eq!(status, 403);
    assert_eq!(
        body["type"],
        "https://api.x.com/2/problems/client-forbidden"
    );
}

#[tokio::test]
async fn account_activity_subscriptions_are_user_context_only() {
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
    let webhook_id = sandbox.add_x_webhook("https://bridge.example/twitter/webhook");
    let path = format!("/2/account_activity/webhooks/{webhook_id}/subscriptions/all");
    let (status, _) = call(
        &sandbox,
        "POST",
        &path,
        Some(&sandbox.x_bearer_token()),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call(&sandbox, "POST", &path, None, None).await;
    assert_eq!(status, 400, "the body is required");
    let (status, _) = call(
        &sandbox,
        "POST",
        "/2/account_activity/webhooks/1/subscriptions/all",
        None,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 404);
    let (status, body) = call(&sandbox, "POST", &path, None, Some(json!({}))).await;
    assert_eq!((status, body), (200, json!({"data": {"subscribed": true}})));
    let recorded = sandbox.x_account_activity_subscriptions();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].user_id, sandbox.config().x_brand_account_id);
    let (status, _) = call(&sandbox, "POST", &path, None, Some(json!({}))).await;
    assert_eq!(status, 409);

    sandbox.set_x_product_access(false);
    let (status, body) = call(&sandbox, "POST", &path, None, Some(json!({}))).await;
    assert_eq!(status, 403);
    assert_eq!(
        body["type"],
        "https://api.x.com/2/problems/client-forbidden"
    );
}

#[tokio::test]
async fn replay_jobs_take_the_bearer_token_and_a_recent_window() {
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
    let webhook_id = sandbox.add_x_webhook("https://bridge.example/twitter/webhook");
    let bearer = sandbox.x_bearer_token();
    let minute = |secs_ago: i64| x_minute(flex_bridge::now_epoch() - secs_ago);
    let request =
        json!({"webhook_id": webhook_id, "from_date": minute(3600), "to_date": minute(0)});

    let (status, _) = call(
        &sandbox,
        "POST",
        "/2/webhooks/replay",
        None,
        Some(request.clone()),
    )
    .await;
    assert_eq!(status, 403, "BearerToken only");
    for bad in [
        json!({"webhook_id": webhook_id, "from_date": minute(3600)}),
        json!({"webhook_id": webhook_id, "from_date": "2025-06-01T12:00:00Z", "to_date": minute(0)}),
        json!({"webhook_id": webhook_id, "from_date": minute(0), "to_date": minute(3600)}),
        json!({"webhook_id": webhook_id, "from_date": minute(26 * 3600), "to_date": minute(0)}),
    ] {
        let (status, _) = call(
            &sandbox,
            "POST",
            "/2/webhooks/replay",
            Some(&bearer),
            Some(bad.clone()),
        )
        .await;
        assert_eq!(status, 400, "{bad}");
    }
    let (status, _) = call(
        &sandbox,
        "POST",
        "/2/webhooks/replay",
        Some(&bearer),
        Some(json!({"webhook_id": "1", "from_date": minute(60), "to_date": minute(0)})),
    )
    .await;
    assert_eq!(status, 404);

    let (status, body) = call(
        &sandbox,
        "POST",
        "/2/webhooks/replay",
        Some(&bearer),
        Some(request.clone()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let jobs = sandbox.x_replay_jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(body["data"]["job_id"], jobs[0].job_id.as_str());
    assert_eq!(body["data"]["created_at"], jobs[0].created_at.as_str());
    assert_eq!(jobs[0].from_date, request["from_date"].as_str().unwrap());
    assert_eq!(jobs[0].webhook_id, webhook_id);
}

/// `yyyymmddhhmm` for Unix seconds (UTC).
fn x_minute(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}{:02}{:02}", rem / 3600, rem % 3600 / 60)
}

fn posts_url(sandbox: &Sandbox) -> String {
    format!("{}/2/tweets", sandbox.url())
}

#[tokio::test]
async fn replies_are_posted_with_user_context_and_follow_the_spec() {
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
    let url = posts_url(&sandbox);
    let secret = sandbox.config().x_consumer_secret.clone();
    let reply =
        json!({"text": "Please DM us", "reply": {"in_reply_to_tweet_id": "1960000000000000001"}});

    let (status, body) =
        post_dm(&url, &authorization(&sandbox, &url, &secret), reply.clone()).await;
    assert_eq!(status, 201, "{body}");
    let id = body["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(body["data"]["text"], "Please DM us");
    assert_eq!(body["data"]["edit_history_post_ids"], json!([id]));
    let replies = sandbox.x_replies_to("1960000000000000001");
    assert_eq!(replies.len(), 1);
    assert_eq!(
        (replies[0].id.as_str(), replies[0].text.as_str()),
        (id.as_str(), "Please DM us")
    );

    let wrong = authorization(&sandbox, &url, "not-the-secret");
    assert_eq!(post_dm(&url, &wrong, reply.clone()).await.0, 401);
    for bad in [
        json!({"text": "x", "reply": {"in_reply_to_tweet_id": "not-a-number"}}),
        json!({"text": "x", "reply": {"in_reply_to_tweet_id": "1", "extra": true}}),
        json!({"text": "", "reply": {"in_reply_to_tweet_id": "1"}}),
        json!({"text": "x", "unknown": 1}),
        json!({"text": "a".repeat(281)}),
    ] {
        let (status, body) =
            post_dm(&url, &authorization(&sandbox, &url, &secret), bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    assert_eq!(sandbox.x_posts().len(), 1, "nothing refused was recorded");
}

#[tokio::test]
async fn dms_to_a_user_whose_dms_are_closed_are_refused_with_403() {
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
    let url = dm_url(&sandbox, CUSTOMER);
    let secret = sandbox.config().x_consumer_secret.clone();
    sandbox.set_x_dms_closed(CUSTOMER, true);

    let (status, body) = post_dm(
        &url,
        &authorization(&sandbox, &url, &secret),
        json!({"text": "hi"}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["title"], "Forbidden");
    // Authentication comes first, as on X.
    let wrong = authorization(&sandbox, &url, "not-the-secret");
    assert_eq!(post_dm(&url, &wrong, json!({"text": "hi"})).await.0, 401);
    assert_eq!(sandbox.x_refused_dms(CUSTOMER), 1);
    assert!(sandbox.dms_to(CUSTOMER).is_empty());
    // Others are not affected; and opened again, the DM goes.
    let other = dm_url(&sandbox, "2900000002");
    assert_eq!(
        post_dm(
            &other,
            &authorization(&sandbox, &other, &secret),
            json!({"text": "hi"})
        )
        .await
        .0,
        201
    );
    sandbox.set_x_dms_closed(CUSTOMER, false);
    assert_eq!(
        post_dm(
            &url,
            &authorization(&sandbox, &url, &secret),
            json!({"text": "hi"})
        )
        .await
        .0,
        201
    );
    assert_eq!(sandbox.dms_to(CUSTOMER), ["hi"]);
}

#[tokio::test]
async fn a_mention_event_is_a_v2_post_with_its_author_included() {
    let receiver = Receiver::start().await;
    let sandbox = crate::common::sandbox_for(&receiver).await;
    let (post_id, event) = sandbox.x_activity_mention(
        CUSTOMER,
        "jordan_cust",
        "@SandboxBrand help, see https://acme.example/a",
    );
    assert_eq!(event["event_type"], "post.mention.create");
    assert_eq!(
        event["filter"]["user_id"],
        sandbox.config().x_brand_account_id.as_str()
    );
    let post = &event["payload"];
    assert_eq!(
        (post["id"].as_str(), post["author_id"].as_str()),
        (Some(post_id.as_str()), Some(CUSTOMER))
    );
    assert!(post["text"].as_str().unwrap().contains("https://t.co/"));
    assert_eq!(
        post["entities"]["urls"][0]["expanded_url"],
        "https://acme.example/a"
    );
    assert_eq!(post["entities"]["mentions"][0]["start"], 0);
    assert_eq!(event["includes"]["users"][0]["username"], "jordan_cust");
    // What the bridge reads of it.
    let parsed = flex_bridge::x::events::parse(
        json!({"data": event}).to_string().as_bytes(),
        &sandbox.config().x_brand_account_id,
    )
    .unwrap();
    assert_eq!(parsed.mentions.len(), 1);
    assert_eq!(
        parsed.mentions[0].text,
        "@SandboxBrand help, see https://acme.example/a"
    );
    assert_eq!(parsed.mentions[0].handle.as_deref(), Some("@jordan_cust"));
}
