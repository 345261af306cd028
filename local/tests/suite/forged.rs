//! Forged webhooks: every one is refused with 401 before anything is read, stored or sent.

use std::time::Duration;

use crate::common::*;
use flex_bridge::store::CustomerSlot;
use local::test_secrets::{TWILIO_AUTH_TOKEN, X_CONSUMER_SECRET};
use sandbox::Service;

fn flip_last_char(signature: &str) -> String {
    let mut s = signature.to_owned();
    let last = s.pop().unwrap();
    s.push(if last == 'A' { 'B' } else { 'A' });
    s
}

fn form(params: &[(&str, &str)]) -> (String, Vec<(String, String)>) {
    let owned: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (serde_urlencoded::to_string(&owned).unwrap(), owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forged_requests_are_refused_and_change_nothing() {
    let bridge = start("forged").await;
    let sandbox = &bridge.sandbox;
    sandbox.customer_dm(CUSTOMER, "jordan_cust", "hello").await;
    let sid = conversation_with(&bridge, 1).await.sid;
    sandbox.reset_counts();
    let client = flex_bridge::http::http_client();

    // X: the customer's DM, signed, then tampered with in transit.
    let x_url = format!("{}/twitter/webhook", bridge.url);
    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/x/aaa-v2-dm-inbound-text.json"
    ))
    .unwrap();
    let good = flex_bridge::x::signature::sign(X_CONSUMER_SECRET, &body);
    let reserialised =
        serde_json::to_vec(&serde_json::from_slice::<serde_json::Value>(&body).unwrap()).unwrap();
    let x_cases: Vec<(&str, Vec<u8>, Option<String>)> = vec![
        (
            "flipped signature byte",
            body.clone(),
            Some(flip_last_char(&good)),
        ),
        ("re-serialised body", reserialised, Some(good.clone())),
        ("missing signature", body.clone(), None),
        (
            "wrong secret",
            body.clone(),
            Some(flex_bridge::x::signature::sign("not-the-secret", &body)),
        ),
        (
            "signature of another body",
            body.clone(),
            Some(flex_bridge::x::signature::sign(X_CONSUMER_SECRET, b"{}")),
        ),
    ];
    for (case, payload, signature) in x_cases {
        let mut request = client
            .post(&x_url)
            .header("content-type", "application/json")
            .body(payload);
        if let Some(signature) = signature {
            request = request.header(flex_bridge::x::signature::HEADER, signature);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "X: {case}");
        assert_eq!(
            response.text().await.unwrap(),
            r#"{"error":"invalid signature"}"#,
            "X: {case}"
        );
    }

    // Twilio: an agent message and a close, each signed for the right URL, then tampered with.
    let outbound_url = format!("{}/twilio/flex-outbound", bridge.url);
    let updated_url = format!("{}/twilio/channel-updated", bridge.url);
    let (agent_body, agent_params) = form(&[
        ("EventType", "onMessageAdded"),
        ("ConversationSid", &sid),
        ("MessageSid", "IM00000000000000000000000000000001"),
        ("Author", "mallory"),
        ("Body", "Click this link"),
        ("Source", "SDK"),
    ]);
    let (close_body, close_params) = form(&[
        ("EventType", "onConversationStateUpdated"),
        ("ConversationSid", &sid),
        ("StateFrom", "active"),
        ("StateTo", "closed"),
    ]);
    let sign = |url: &str, params: &[(String, String)]| {
        flex_bridge::twilio::signature::sign(TWILIO_AUTH_TOKEN, url, params)
    };
    let twilio_cases: Vec<(&str, &str, String, Option<String>)> = vec![
        (
            "wrong URL",
            &outbound_url,
            agent_body.clone(),
            Some(sign(
                "https://evil.example/twilio/flex-outbound",
                &agent_params,
            )),
        ),
        (
            "flipped signature byte",
            &outbound_url,
            agent_body.clone(),
            Some(flip_last_char(&sign(&outbound_url, &agent_params))),
        ),
        (
            "parameter added after signing",
            &outbound_url,
            format!("{agent_body}&Extra=1"),
            Some(sign(&outbound_url, &agent_params)),
        ),
        (
            "body changed after signing",
            &outbound_url,
            agent_body.replace("Click", "Kick"),
            Some(sign(&outbound_url, &agent_params)),
        ),
        ("missing signature", &outbound_url, agent_body.clone(), None),
        (
            "wrong auth token",
            &outbound_url,
            agent_body.clone(),
            Some(flex_bridge::twilio::signature::sign(
                "other",
                &outbound_url,
                &agent_params,
            )),
        ),
        (
            "close signed for the other route",
            &updated_url,
            close_body.clone(),
            Some(sign(&outbound_url, &close_params)),
        ),
        (
            "close with flipped byte",
            &updated_url,
            close_body.clone(),
            Some(flip_last_char(&sign(&updated_url, &close_params))),
        ),
    ];
    for (case, url, payload, signature) in twilio_cases {
        let mut request = client
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(payload);
        if let Some(signature) = signature {
            request = request.header(flex_bridge::twilio::signature::HEADER, signature);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "Twilio: {case}");
        assert_eq!(
            response.text().await.unwrap(),
            r#"{"error":"invalid signature"}"#,
            "Twilio: {case}"
        );
    }

    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        sandbox.request_count(Service::Twilio),
        0,
        "nothing reached Twilio"
    );
    assert_eq!(sandbox.request_count(Service::X), 0, "nothing reached X");
    assert!(sandbox.dms_to(CUSTOMER).is_empty());
    assert!(
        matches!(
            bridge.store.customer("x-2900000001").await.unwrap(),
            CustomerSlot::Open(_)
        ),
        "still open"
    );

    // The same requests, correctly signed, do work: the refusals above were the signatures.
    let ok = client
        .post(&updated_url)
        .header(
            flex_bridge::twilio::signature::HEADER,
            sign(&updated_url, &close_params),
        )
        .body(close_body)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(
        bridge.store.customer("x-2900000001").await.unwrap(),
        CustomerSlot::Returning {
            asked_to_rate: None
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_input_gets_a_short_json_4xx() {
    let bridge = start("badinput").await;
    let client = flex_bridge::http::http_client();
    let x_url = format!("{}/twitter/webhook", bridge.url);
    let signed = |body: &[u8]| flex_bridge::x::signature::sign(X_CONSUMER_SECRET, body);
    for body in [
        &b"not json"[..],
        b"[]",
        br#"{"direct_message_events":[{"type":"message_create"}]}"#,
    ] {
        let response = client
            .post(&x_url)
            .header(flex_bridge::x::signature::HEADER, signed(body))
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{}", String::from_utf8_lossy(body));
        let json: serde_json::Value = response.json().await.unwrap();
        assert!(json["error"].is_string());
    }
    let huge = vec![b' '; flex_bridge::web::MAX_BODY_BYTES + 1];
    let response = client
        .post(&x_url)
        .header(flex_bridge::x::signature::HEADER, signed(&huge))
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);

    let url = format!("{}/twilio/flex-outbound", bridge.url);
    let (body, params) = form(&[("EventType", "onMessageAdded"), ("ConversationSid", "CH1")]);
    let signature = flex_bridge::twilio::signature::sign(TWILIO_AUTH_TOKEN, &url, &params);
    let response = client
        .post(&url)
        .header(flex_bridge::twilio::signature::HEADER, signature)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"error":"missing form field MessageSid"}"#
    );

    let (body, params) = form(&[("EventType", "onUserAdded")]);
    let signature = flex_bridge::twilio::signature::sign(TWILIO_AUTH_TOKEN, &url, &params);
    let response = client
        .post(&url)
        .header(flex_bridge::twilio::signature::HEADER, signature)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "unknown event types are acknowledged and ignored"
    );
}
