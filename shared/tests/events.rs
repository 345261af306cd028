//! The sample events under `events/` (for `cargo lambda invoke --data-file`) stay usable: each
//! deserializes as the Lambda runtime would, every signature verifies with the documented
//! TEST-ONLY secrets (and fails once a single byte of the body changes), and each drives its
//! handler to the intended outcome. Re-sign after editing an event: `python3 events/sign.py`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::sqs::SqsEvent;
use serde_json::Value;
use shared::config::{Env, PublicUrl, Secret};
use shared::flex::FlexWebhooks;
use shared::queue::{MemoryQueue, OutboundJob, OutboundKind, QueueRecord};
use shared::store::{Customer, MemoryStore, Platform, Store};
use shared::twilio::events::Event;
use shared::web::WebRequest;
use shared::x::webhook::{crc, CrcConfig};

// TEST-ONLY values, documented in events/README.md and used by events/sign.py.
const X_CONSUMER_SECRET: &str = "TEST_ONLY_consumer_secret_0123456789abcdefghijklmnopqrstuv";
const TWILIO_AUTH_TOKEN: &str = "TEST_ONLY_twilio_auth_token_0123456789";
const PUBLIC_BASE_URL: &str = "https://abc123.execute-api.us-east-1.amazonaws.com";
/// The brand account in fixtures/x (`for_user_id`).
const X_ACCOUNT_ID: &str = "1514100000000000001";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `events/*.json`, by file name.
fn events() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(repo_root().join("events"))
        .expect("events/ exists")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no sample events found");
    files
}

fn http_events() -> Vec<(String, Value, WebRequest)> {
    events()
        .into_iter()
        .filter_map(|(name, text)| {
            let json: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            json.get("routeKey")?;
            // Exactly what lambda_http does with the invocation payload, then what run_http does.
            let request = lambda_http::request::from_str(&text)
                .unwrap_or_else(|e| panic!("{name}: not an API Gateway v2 event: {e}"));
            Some((name, json, shared::lambda::to_web_request(request)))
        })
        .collect()
}

fn route_of(json: &Value) -> (&str, &str) {
    let method = json["requestContext"]["http"]["method"].as_str().unwrap();
    let path = json["rawPath"].as_str().unwrap();
    (method, path)
}

fn flip_each_byte(body: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    (0..body.len()).map(move |i| {
        let mut tampered = body.to_vec();
        tampered[i] ^= 0x01;
        tampered
    })
}

/// The signed URL of a Twilio webhook, as `FlexWebhooks` rebuilds it.
fn twilio_url(json: &Value) -> String {
    let mut url = format!("{PUBLIC_BASE_URL}{}", json["rawPath"].as_str().unwrap());
    let query = json["rawQueryString"].as_str().unwrap_or_default();
    if !query.is_empty() {
        url = format!("{url}?{query}");
    }
    url
}

#[test]
fn every_event_is_a_known_kind_and_matches_its_route() {
    let mut kinds = HashMap::new();
    for (name, text) in events() {
        let json: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let kind = if json.get("Records").is_some() {
            "sqs".to_owned()
        } else {
            let (method, path) = route_of(&json);
            assert_eq!(json["version"], "2.0", "{name}: payload format 2.0");
            assert_eq!(
                json["routeKey"],
                format!("{method} {path}"),
                "{name}: routeKey"
            );
            assert_eq!(
                json["requestContext"]["routeKey"], json["routeKey"],
                "{name}"
            );
            assert_eq!(json["requestContext"]["http"]["path"], path, "{name}");
            assert_eq!(json["requestContext"]["stage"], "$default", "{name}");
            match (method, path) {
                ("GET", "/twitter/webhook")
                | ("POST", "/twitter/webhook")
                | ("POST", "/twilio/flex-outbound")
                | ("POST", "/twilio/channel-updated") => {}
                other => {
                    panic!("{name}: {other:?} has no check in shared/tests/events.rs; add one")
                }
            }
            format!("{method} {path}")
        };
        *kinds.entry(kind).or_insert(0) += 1;
    }
    for kind in [
        "GET /twitter/webhook",
        "POST /twitter/webhook",
        "POST /twilio/flex-outbound",
        "POST /twilio/channel-updated",
        "sqs",
    ] {
        assert!(kinds.contains_key(kind), "no sample event for {kind}");
    }
}

#[test]
fn http_events_become_the_requests_the_handlers_see() {
    for (name, json, request) in http_events() {
        let (method, _) = route_of(&json);
        assert_eq!(request.method, method, "{name}");
        assert_eq!(
            request.query,
            json["rawQueryString"].as_str().unwrap(),
            "{name}: raw query kept"
        );
        request
            .check_size()
            .unwrap_or_else(|_| panic!("{name}: body over the size limit"));
        if let Some(length) = json["headers"]["content-length"].as_str() {
            assert_eq!(
                length,
                request.body.len().to_string(),
                "{name}: content-length"
            );
        }
        for (header, _) in json["headers"].as_object().unwrap() {
            assert_eq!(
                header,
                &header.to_lowercase(),
                "{name}: API Gateway lower-cases header names"
            );
        }
    }
}

#[test]
fn crc_event_carries_a_token_and_gets_the_documented_answer() {
    let vector: Value = serde_json::from_str(
        &std::fs::read_to_string(
            repo_root().join("fixtures/x/webhook-crc-and-signature-test-vector.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let config = CrcConfig::from_env(Env::from_map(HashMap::from([(
        "X_CONSUMER_SECRET".to_owned(),
        X_CONSUMER_SECRET.to_owned(),
    )])))
    .unwrap();
    let mut seen = 0;
    for (name, json, request) in http_events() {
        if route_of(&json) != ("GET", "/twitter/webhook") {
            continue;
        }
        seen += 1;
        let token = request
            .query_param("crc_token")
            .unwrap_or_else(|| panic!("{name}: no crc_token"));
        assert!(!token.is_empty(), "{name}: empty crc_token");
        assert_eq!(json["queryStringParameters"]["crc_token"], token, "{name}");
        let response = crc(&config, &request).unwrap();
        assert_eq!(response.status, 200, "{name}");
        let body: Value = serde_json::from_str(&response.body).unwrap();
        let expected = shared::x::signature::crc_response_token(X_CONSUMER_SECRET, &token);
        assert_eq!(body["response_token"], expected, "{name}");
        if token == vector["crc"]["crc_token"] {
            assert_eq!(
                body, vector["crc"]["expected_body"],
                "{name}: the fixture's test vector"
            );
        }
    }
    assert!(seen > 0);
}

#[test]
fn x_webhook_events_are_signed_and_carry_a_customer_dm() {
    let fixture =
        std::fs::read(repo_root().join("fixtures/x/aaa-v2-dm-inbound-text.json")).unwrap();
    let mut seen = 0;
    for (name, json, request) in http_events() {
        if route_of(&json) != ("POST", "/twitter/webhook") {
            continue;
        }
        seen += 1;
        let header = request.header(shared::x::signature::HEADER);
        assert!(
            header.is_some(),
            "{name}: no {} header",
            shared::x::signature::HEADER
        );
        assert!(
            shared::x::signature::verify(X_CONSUMER_SECRET, &request.body, header),
            "{name}: signature does not verify; run `python3 events/sign.py`"
        );
        for tampered in flip_each_byte(&request.body) {
            assert!(
                !shared::x::signature::verify(X_CONSUMER_SECRET, &tampered, header),
                "{name}: tampered body verified"
            );
        }
        assert!(
            !shared::x::signature::verify("another secret", &request.body, header),
            "{name}"
        );
        if request.body.as_ref() == fixture.as_slice() {
            assert_eq!(
                header,
                Some("sha256=SJ8Z7BgY1dFCySSIGrlH9YkO0h2Ku7sDlTy3dUHRdWI="),
                "{name}: the fixture's test vector"
            );
        }
        let parsed = shared::x::events::parse(&request.body, X_ACCOUNT_ID)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            !parsed.messages.is_empty(),
            "{name}: no customer DM in the payload"
        );
    }
    assert!(seen > 0);
}

#[test]
fn twilio_events_are_signed_for_the_public_url() {
    let mut seen = 0;
    for (name, json, request) in http_events() {
        if !json["rawPath"].as_str().unwrap().starts_with("/twilio/") {
            continue;
        }
        seen += 1;
        let url = twilio_url(&json);
        let header = request.header(shared::twilio::signature::HEADER);
        assert!(
            header.is_some(),
            "{name}: no {} header",
            shared::twilio::signature::HEADER
        );
        assert!(
            shared::twilio::signature::verify(TWILIO_AUTH_TOKEN, &url, &request.body, header),
            "{name}: signature does not verify for {url}; run `python3 events/sign.py`"
        );
        for tampered in flip_each_byte(&request.body) {
            assert!(
                !shared::twilio::signature::verify(TWILIO_AUTH_TOKEN, &url, &tampered, header),
                "{name}: tampered body verified: {}",
                String::from_utf8_lossy(&tampered)
            );
        }
        assert!(
            !shared::twilio::signature::verify("another token", &url, &request.body, header),
            "{name}"
        );
        let elsewhere = url.replace("abc123", "abc124");
        assert!(
            !shared::twilio::signature::verify(
                TWILIO_AUTH_TOKEN,
                &elsewhere,
                &request.body,
                header
            ),
            "{name}"
        );
        assert!(
            request
                .header("content-type")
                .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded")),
            "{name}: Twilio posts forms"
        );
        Event::from_form(&request.body).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert!(seen > 0);
}

#[test]
fn base64_bodies_decode_to_the_same_request() {
    let http = http_events();
    let mut seen = 0;
    for (name, json, request) in &http {
        if json["isBase64Encoded"] != true {
            continue;
        }
        seen += 1;
        // `x-base64.json` is `x.json` with its body base64-encoded.
        let twin_name = name.replace("-base64", "");
        let (_, twin_json, plain) = http
            .iter()
            .find(|(other, _, _)| *other == twin_name)
            .unwrap_or_else(|| panic!("{name}: no plain twin {twin_name}"));
        assert_eq!(twin_json["isBase64Encoded"], false, "{twin_name}");
        assert_eq!(
            request.headers, plain.headers,
            "{name}: same headers as {twin_name}"
        );
        assert_eq!(
            request.body, plain.body,
            "{name}: decodes to its plain twin's body"
        );
    }
    assert!(seen > 0, "no isBase64Encoded sample");
}

fn sqs_events() -> Vec<(String, SqsEvent)> {
    events()
        .into_iter()
        .filter(|(_, text)| {
            serde_json::from_str::<Value>(text)
                .unwrap()
                .get("Records")
                .is_some()
        })
        .map(|(name, text)| {
            let event: SqsEvent =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, event)
        })
        .collect()
}

fn sqs_jobs() -> Vec<(String, QueueRecord, OutboundJob)> {
    let mut jobs = Vec::new();
    for (name, event) in sqs_events() {
        assert!(!event.records.is_empty(), "{name}: no records");
        assert!(
            event.records.len() <= 10,
            "{name}: more than the batch size"
        );
        for message in event.records {
            let attributes = message.attributes.clone();
            assert_eq!(message.event_source.as_deref(), Some("aws:sqs"), "{name}");
            assert!(
                message
                    .event_source_arn
                    .as_deref()
                    .is_some_and(|arn| arn.ends_with(".fifo")),
                "{name}: from the FIFO delivery queue"
            );
            let record = QueueRecord::from_sqs(message);
            assert!(!record.message_id.is_empty(), "{name}: messageId");
            assert!(record.receive_count >= 1, "{name}: ApproximateReceiveCount");
            let job: OutboundJob = serde_json::from_str(&record.body)
                .unwrap_or_else(|e| panic!("{name}: body is not an OutboundJob: {e}"));
            assert_eq!(
                record.group.as_deref(),
                Some(job.customer.conversation_sid.as_str()),
                "{name}: MessageGroupId"
            );
            assert_eq!(
                attributes.get("MessageDeduplicationId"),
                Some(&job.id),
                "{name}: MessageDeduplicationId"
            );
            assert_eq!(
                job.customer.identity,
                job.customer.platform.identity(user_id(&job.customer)),
                "{name}: identity is <platform>-<user id>"
            );
            jobs.push((name.clone(), record, job));
        }
    }
    assert!(!jobs.is_empty(), "no SQS sample");
    jobs
}

/// The platform user id inside an identity such as `x-2900000001`.
fn user_id(customer: &Customer) -> &str {
    customer.identity.split_once('-').map_or("", |(_, id)| id)
}

#[test]
fn sqs_records_carry_outbound_jobs() {
    for (name, record, job) in sqs_jobs() {
        assert_eq!(record.receive_count, 1, "{name}: a first delivery");
        if job.customer.platform == Platform::X {
            assert_eq!(
                job.customer.address,
                user_id(&job.customer),
                "{name}: X DMs go to the user id"
            );
        }
    }
}

/// The customer the samples talk about: the sender of the inbound DM fixture, in the
/// conversation the Twilio samples name.
async fn flex_webhooks_with_open_conversation(
) -> (FlexWebhooks, Arc<MemoryStore>, Arc<MemoryQueue>, Customer) {
    let (_, _, job) = sqs_jobs().into_iter().next().unwrap();
    let customer = job.customer.clone();
    let store = Arc::new(MemoryStore::new());
    assert!(store
        .lease_customer(&customer.identity, "events-test", 60)
        .await
        .unwrap());
    store
        .open_conversation(&customer, "events-test")
        .await
        .unwrap();
    let queue = Arc::new(MemoryQueue::new(5, Duration::from_millis(10)));
    let webhooks = FlexWebhooks {
        store: store.clone(),
        queue: queue.clone(),
        auth_token: Secret::new(TWILIO_AUTH_TOKEN),
        public_url: PublicUrl::new(PUBLIC_BASE_URL),
    };
    (webhooks, store, queue, customer)
}

async fn queued(queue: &MemoryQueue) -> Vec<OutboundJob> {
    let records = tokio::time::timeout(Duration::from_secs(2), queue.receive(10))
        .await
        .unwrap_or_default();
    records
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect()
}

#[tokio::test]
async fn twilio_events_drive_the_flex_handlers_and_feed_the_delivery_sample() {
    let sample_jobs: Vec<OutboundJob> = sqs_jobs().into_iter().map(|(_, _, job)| job).collect();
    for (name, json, request) in http_events() {
        let path = json["rawPath"].as_str().unwrap();
        if !path.starts_with("/twilio/") {
            continue;
        }
        let (webhooks, store, queue, customer) = flex_webhooks_with_open_conversation().await;
        let response = match path {
            "/twilio/flex-outbound" => webhooks.outbound(&request).await,
            "/twilio/channel-updated" => webhooks.state_updated(&request).await,
            _ => unreachable!(),
        }
        .unwrap_or_else(|e| panic!("{name}: refused: {e}"));
        assert_eq!(response.status, 200, "{name}");
        assert_eq!(
            response.body, r#"{"ok":true}"#,
            "{name}: handled, not ignored"
        );
        let jobs = queued(&queue).await;
        assert_eq!(jobs.len(), 1, "{name}: one job queued");
        let job = &jobs[0];
        assert_eq!(job.customer, customer, "{name}");
        match (Event::from_form(&request.body).unwrap(), &job.kind) {
            (
                Event::MessageAdded {
                    message_sid,
                    source,
                    ..
                },
                OutboundKind::AgentMessage { .. },
            ) => {
                assert_eq!(source, "SDK", "{name}: an agent's message");
                assert_eq!(job.id, message_sid, "{name}");
                // events/outbound-delivery.json is exactly what this webhook queues.
                assert!(
                    sample_jobs.contains(job),
                    "{name}: queued {job:?}, not the SQS sample's job"
                );
            }
            (Event::ParticipantAdded { .. }, OutboundKind::AgentJoined { name: agent }) => {
                assert_ne!(agent, "An agent", "{name}: the sample names the agent");
            }
            (Event::StateUpdated { state_to, .. }, OutboundKind::ChatEnded) => {
                assert_eq!(state_to, "closed", "{name}");
                assert_eq!(
                    store
                        .conversation(&customer.conversation_sid)
                        .await
                        .unwrap(),
                    None,
                    "{name}: mapping ended"
                );
            }
            (event, kind) => panic!("{name}: {event:?} queued {kind:?}"),
        }
    }
}

#[test]
fn the_x_sample_dm_comes_from_the_customer_of_the_delivery_sample() {
    let (_, _, job) = sqs_jobs().into_iter().next().unwrap();
    for (name, json, request) in http_events() {
        if route_of(&json) != ("POST", "/twitter/webhook") {
            continue;
        }
        let dm = shared::x::events::parse(&request.body, X_ACCOUNT_ID)
            .unwrap()
            .messages
            .remove(0);
        assert_eq!(
            Platform::X.identity(&dm.sender_id),
            job.customer.identity,
            "{name}"
        );
        assert_eq!(dm.sender_id, job.customer.address, "{name}");
        assert_eq!(dm.handle, job.customer.handle, "{name}");
    }
}

#[test]
fn the_readme_documents_the_test_secrets() {
    let readme = std::fs::read_to_string(repo_root().join("events/README.md")).unwrap();
    for value in [
        X_CONSUMER_SECRET,
        TWILIO_AUTH_TOKEN,
        PUBLIC_BASE_URL,
        X_ACCOUNT_ID,
    ] {
        assert!(
            readme.contains(value),
            "events/README.md does not mention {value}"
        );
    }
}
