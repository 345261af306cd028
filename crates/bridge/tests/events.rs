//! The sample events under `events/` (for `cargo lambda invoke --data-file`) stay usable: each
//! deserializes as the Lambda runtime would, every signature verifies with the documented
//! TEST-ONLY secrets (and fails once a single byte of the body changes), and each drives its
//! handler to the intended outcome. Re-sign after editing an event: `python3 events/sign.py`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::sqs::SqsEvent;
use flex_bridge::bot::Chatbot;
use flex_bridge::config::{Env, PublicUrl, Secret};
use flex_bridge::discord::interactions::{self, Action, Interaction};
use flex_bridge::discord::webhook::{DiscordInteractions, DiscordJob};
use flex_bridge::discord::{responses, signature, DiscordInteractionsConfig};
use flex_bridge::flex::{is_customer_identity, verify_webhook, FlexWebhooks};
use flex_bridge::queue::{MemoryQueue, OutboundJob, OutboundKind, QueueRecord};
use flex_bridge::routes::CHATBOT_PATH;
use flex_bridge::routing::{FlexTaskRouting, Routing};
use flex_bridge::store::{Conversations, Customer, Customers, MemoryStore, Platform};
use flex_bridge::twilio::events::Event;
use flex_bridge::web::{ApiError, WebRequest};
use flex_bridge::x::webhook::{crc, CrcConfig, XInbound, XJob};
use flex_bridge::x::XWebhookConfig;
use serde_json::Value;

// TEST-ONLY values, documented in events/README.md and used by events/sign.py.
const X_CONSUMER_SECRET: &str = "TEST_ONLY_consumer_secret_0123456789abcdefghijklmnopqrstuv";
const TWILIO_AUTH_TOKEN: &str = "TEST_ONLY_twilio_auth_token_0123456789";
const PUBLIC_BASE_URL: &str = "https://abc123.execute-api.us-east-1.amazonaws.com";
/// The brand account in fixtures/x (`for_user_id`).
const X_ACCOUNT_ID: &str = "1514100000000000001";
/// The Ed25519 seed of fixtures/discord/signature-test-vector.json (Discord keeps a real app's
/// private key), and its public key: what `DISCORD_PUBLIC_KEY` is for these events.
const DISCORD_SEED_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const DISCORD_PUBLIC_KEY: &str = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";
/// The queues' names in template.yaml (stack `flex-bridge`).
const DELIVERY_QUEUE_SUFFIX: &str = "-delivery.fifo";
const DISCORD_QUEUE_SUFFIX: &str = "-discord.fifo";
const X_INTAKE_QUEUE_SUFFIX: &str = "-x-intake.fifo";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
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
            Some((name, json, flex_bridge_lambda::to_web_request(request)))
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
        let kind = if let Some(records) = json.get("Records") {
            let arn = records[0]["eventSourceARN"].as_str().unwrap_or_default();
            if arn.ends_with(DELIVERY_QUEUE_SUFFIX) {
                "sqs delivery".to_owned()
            } else if arn.ends_with(DISCORD_QUEUE_SUFFIX) {
                "sqs discord".to_owned()
            } else if arn.ends_with(X_INTAKE_QUEUE_SUFFIX) {
                "sqs x intake".to_owned()
            } else {
                panic!("{name}: from an unknown queue {arn}")
            }
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
                | ("POST", "/twilio/channel-updated")
                | ("POST", "/twilio/chatbot")
                | ("POST", "/discord/interactions") => {}
                other => {
                    panic!(
                        "{name}: {other:?} has no check in crates/bridge/tests/events.rs; add one"
                    )
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
        "POST /twilio/chatbot",
        "POST /discord/interactions",
        "sqs delivery",
        "sqs discord",
        "sqs x intake",
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
    let config =
        CrcConfig::from_env(Env::from_pairs(&[("X_CONSUMER_SECRET", X_CONSUMER_SECRET)])).unwrap();
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
        let expected = flex_bridge::x::signature::crc_response_token(X_CONSUMER_SECRET, &token);
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
        let header = request.header(flex_bridge::x::signature::HEADER);
        assert!(
            header.is_some(),
            "{name}: no {} header",
            flex_bridge::x::signature::HEADER
        );
        assert!(
            flex_bridge::x::signature::verify(X_CONSUMER_SECRET, &request.body, header),
            "{name}: signature does not verify; run `python3 events/sign.py`"
        );
        for tampered in flip_each_byte(&request.body) {
            assert!(
                !flex_bridge::x::signature::verify(X_CONSUMER_SECRET, &tampered, header),
                "{name}: tampered body verified"
            );
        }
        assert!(
            !flex_bridge::x::signature::verify("another secret", &request.body, header),
            "{name}"
        );
        if request.body.as_ref() == fixture.as_slice() {
            assert_eq!(
                header,
                Some("sha256=SJ8Z7BgY1dFCySSIGrlH9YkO0h2Ku7sDlTy3dUHRdWI="),
                "{name}: the fixture's test vector"
            );
        }
        let parsed = flex_bridge::x::events::parse(&request.body, X_ACCOUNT_ID)
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
        let header = request.header(flex_bridge::twilio::signature::HEADER);
        assert!(
            header.is_some(),
            "{name}: no {} header",
            flex_bridge::twilio::signature::HEADER
        );
        assert!(
            flex_bridge::twilio::signature::verify(TWILIO_AUTH_TOKEN, &url, &request.body, header),
            "{name}: signature does not verify for {url}; run `python3 events/sign.py`"
        );
        for tampered in flip_each_byte(&request.body) {
            assert!(
                !flex_bridge::twilio::signature::verify(TWILIO_AUTH_TOKEN, &url, &tampered, header),
                "{name}: tampered body verified: {}",
                String::from_utf8_lossy(&tampered)
            );
        }
        assert!(
            !flex_bridge::twilio::signature::verify("another token", &url, &request.body, header),
            "{name}"
        );
        let elsewhere = url.replace("abc123", "abc124");
        assert!(
            !flex_bridge::twilio::signature::verify(
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

/// The SQS samples of the queue whose name ends in `queue_suffix`.
fn sqs_events(queue_suffix: &str) -> Vec<(String, SqsEvent)> {
    events()
        .into_iter()
        .filter(|(_, text)| {
            serde_json::from_str::<Value>(text).unwrap()["Records"][0]["eventSourceARN"]
                .as_str()
                .is_some_and(|arn| arn.ends_with(queue_suffix))
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
    for (name, event) in sqs_events(DELIVERY_QUEUE_SUFFIX) {
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
fn sample_customer() -> Customer {
    let (_, _, job) = sqs_jobs().into_iter().next().unwrap();
    job.customer
}

/// Records the customer's open conversation in `store`, as opening it does.
async fn open_conversation(store: &MemoryStore, customer: &Customer) {
    assert!(store
        .lease_customer(&customer.identity, "events-test", 60)
        .await
        .unwrap());
    store
        .open_conversation(customer, "events-test")
        .await
        .unwrap();
}

async fn flex_webhooks_with_open_conversation(
) -> (FlexWebhooks, Arc<MemoryStore>, Arc<MemoryQueue>, Customer) {
    let customer = sample_customer();
    let store = Arc::new(MemoryStore::new());
    open_conversation(&store, &customer).await;
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
        // The chatbot's samples have their own tests below.
        if !path.starts_with("/twilio/") || path == CHATBOT_PATH {
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
            (Event::ParticipantAdded { .. }, OutboundKind::AgentJoined { name: agent, .. }) => {
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

// ---------------------------------------------------------------------------------------------
// The virtual agent: events/chatbot.json
// ---------------------------------------------------------------------------------------------

/// `BOT_NAME`'s default.
const BOT_NAME: &str = "Virtual agent";
/// Fake TaskRouter SIDs (`FLEX_WORKSPACE_SID`, `FLEX_WORKFLOW_SID`) for `ROUTING=bot`.
const FLEX_WORKSPACE_SID: &str = "WS00000000000000000000000000000001";
const FLEX_WORKFLOW_SID: &str = "WW00000000000000000000000000000001";

fn chatbot_events() -> Vec<(String, Value, WebRequest)> {
    let events: Vec<_> = http_events()
        .into_iter()
        .filter(|(_, json, _)| route_of(json) == ("POST", CHATBOT_PATH))
        .collect();
    assert!(!events.is_empty(), "no chatbot sample");
    events
}

/// The chatbot as `Chatbot::from_env` builds it from the TEST-ONLY values with `ROUTING=bot`,
/// over an in-memory store and queue. With `open`, the store first records the samples'
/// conversation, as opening it does; without, the store is empty.
async fn chatbot(open: bool) -> (Chatbot, Arc<MemoryStore>, Arc<MemoryQueue>, Customer) {
    let customer = sample_customer();
    let store = Arc::new(MemoryStore::new());
    if open {
        open_conversation(&store, &customer).await;
    }
    let queue = Arc::new(MemoryQueue::new(5, Duration::from_millis(10)));
    let chatbot = Chatbot {
        store: store.clone(),
        queue: queue.clone(),
        auth_token: Secret::new(TWILIO_AUTH_TOKEN),
        public_url: PublicUrl::new(PUBLIC_BASE_URL),
        routing: Routing::Bot(FlexTaskRouting {
            workspace_sid: FLEX_WORKSPACE_SID.into(),
            workflow_sid: FLEX_WORKFLOW_SID.into(),
        }),
        bot_name: BOT_NAME.into(),
        index: kb::Index::builtin(),
    };
    (chatbot, store, queue, customer)
}

fn body_json(response: &flex_bridge::web::WebResponse) -> Value {
    serde_json::from_str(&response.body).expect("a JSON answer")
}

#[test]
fn the_chatbot_sample_is_a_customer_question_signed_for_its_route() {
    let customer = sample_customer();
    let auth_token = Secret::new(TWILIO_AUTH_TOKEN);
    let public_url = PublicUrl::new(PUBLIC_BASE_URL);
    for (name, json, request) in chatbot_events() {
        assert_eq!(json["isBase64Encoded"], false, "{name}");
        let event = verify_webhook(&request, CHATBOT_PATH, &auth_token, &public_url)
            .unwrap_or_else(|e| panic!("{name}: refused: {e}; run `python3 events/sign.py`"));
        let Event::MessageAdded {
            conversation_sid,
            author,
            body,
            source,
            ..
        } = event
        else {
            panic!("{name}: not an onMessageAdded")
        };
        assert!(
            is_customer_identity(&author),
            "{name}: the chatbot answers the customer, not {author}"
        );
        assert_eq!(author, customer.identity, "{name}: the samples' customer");
        assert_eq!(
            conversation_sid, customer.conversation_sid,
            "{name}: the samples' conversation"
        );
        assert_eq!(
            source, "API",
            "{name}: the bridge posts customer messages over REST"
        );
        assert!(!body.trim().is_empty(), "{name}: a question");
        // Signed for /twilio/chatbot: the other Twilio routes refuse it.
        for other in ["/twilio/flex-outbound", "/twilio/channel-updated"] {
            assert!(
                matches!(
                    verify_webhook(&request, other, &auth_token, &public_url),
                    Err(ApiError::Unauthorized)
                ),
                "{name}: verified for {other}"
            );
        }
    }
}

#[tokio::test]
async fn the_chatbot_sample_answers_an_open_conversation_with_two_jobs() {
    for (name, _, request) in chatbot_events() {
        let (chatbot, store, queue, customer) = chatbot(true).await;
        let response = chatbot
            .handle(&request)
            .await
            .unwrap_or_else(|e| panic!("{name}: refused: {e}"));
        assert_eq!(response.status, 200, "{name}");
        assert_eq!(
            body_json(&response),
            serde_json::json!({"ok": true}),
            "{name}: answered, not ignored"
        );
        let Event::MessageAdded {
            message_sid, body, ..
        } = Event::from_form(&request.body).unwrap()
        else {
            panic!("{name}: not an onMessageAdded")
        };
        let records = tokio::time::timeout(Duration::from_secs(2), queue.receive(10))
            .await
            .unwrap_or_else(|_| panic!("{name}: nothing queued"));
        for record in &records {
            assert_eq!(
                record.group.as_deref(),
                Some(customer.conversation_sid.as_str()),
                "{name}: on the conversation's FIFO lane"
            );
        }
        let jobs: Vec<OutboundJob> = records
            .iter()
            .map(|r| serde_json::from_str(&r.body).expect("an OutboundJob"))
            .collect();
        assert_eq!(
            jobs.len(),
            2,
            "{name}: the answer and its transcript line: {jobs:?}"
        );
        for job in &jobs {
            assert_eq!(job.customer, customer, "{name}");
        }
        // 1. The answer for the customer's platform: the knowledge base's articles.
        assert_eq!(jobs[0].id, format!("bot-{message_sid}"), "{name}");
        let OutboundKind::BotAnswer { suggestions } = &jobs[0].kind else {
            panic!("{name}: first job {:?}, not a BotAnswer", jobs[0].kind)
        };
        assert!(
            suggestions.iter().any(|s| s
                .url
                .as_deref()
                .is_some_and(|u| u.ends_with("/reset-password"))),
            "{name}: {body:?} is answered with the reset-password article: {suggestions:?}"
        );
        // 2. The same answer recorded in the conversation for the agent's transcript.
        assert_eq!(jobs[1].id, format!("bot-record-{message_sid}"), "{name}");
        let OutboundKind::Transcript { author, body: line } = &jobs[1].kind else {
            panic!("{name}: second job {:?}, not a Transcript", jobs[1].kind)
        };
        assert_eq!(author, BOT_NAME, "{name}");
        assert_eq!(
            line,
            &flex_bridge::bot::replies::answer_text(suggestions),
            "{name}"
        );
        queue.settle(records, &[]);
        // The bot state: one turn, answered, no hand-off.
        let (_, state) = store
            .bot_turn(&customer.conversation_sid)
            .await
            .unwrap()
            .expect("the conversation is still open");
        assert_eq!(state.version, 1, "{name}");
        assert!(!state.handed_off, "{name}: no hand-off");
        assert_eq!(state.misses, 0, "{name}: a confident answer");
        assert_eq!(
            state.transcript.first(),
            Some(&format!("Customer: {body}")),
            "{name}"
        );
        // A second delivery of the same webhook (same MessageSid) queues nothing more.
        let again = chatbot.handle(&request).await.unwrap();
        assert_eq!(
            body_json(&again),
            serde_json::json!({"ok": true, "ignored": "duplicate"}),
            "{name}"
        );
        assert!(queue.is_idle(), "{name}: deduplicated");
    }
}

#[tokio::test]
async fn the_chatbot_sample_is_ignored_without_an_open_conversation() {
    for (name, _, request) in chatbot_events() {
        let (chatbot, store, queue, customer) = chatbot(false).await;
        let response = chatbot
            .handle(&request)
            .await
            .unwrap_or_else(|e| panic!("{name}: refused: {e}"));
        assert_eq!(response.status, 200, "{name}");
        assert_eq!(
            body_json(&response),
            serde_json::json!({"ok": true, "ignored": "no open conversation"}),
            "{name}"
        );
        assert!(queue.is_idle(), "{name}: nothing queued");
        assert!(
            store
                .bot_turn(&customer.conversation_sid)
                .await
                .unwrap()
                .is_none(),
            "{name}: no state saved"
        );
    }
}

#[tokio::test]
async fn tampered_chatbot_events_are_refused_and_queue_nothing() {
    for (name, _, request) in chatbot_events() {
        let (chatbot, _, queue, _) = chatbot(true).await;
        let text = String::from_utf8(request.body.to_vec()).unwrap();
        let mut tampered = request.clone();
        tampered.body = text.replacen("Body=", "Body=URGENT+", 1).into();
        assert_ne!(tampered.body, request.body, "{name}: the body has a Body");
        let mut flipped = request.clone();
        let mut bytes = request.body.to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        flipped.body = bytes.into();
        let mut unsigned = request.clone();
        unsigned
            .headers
            .remove(flex_bridge::twilio::signature::HEADER);
        let mut queried = request.clone();
        queried.query = "x=1".into();
        for forged in [tampered, flipped, unsigned, queried] {
            assert!(
                matches!(chatbot.handle(&forged).await, Err(ApiError::Unauthorized)),
                "{name}: forged request accepted"
            );
        }
        assert!(queue.is_idle(), "{name}: nothing queued");
        // The forgeries claimed nothing: the genuine webhook is still answered.
        let response = chatbot.handle(&request).await.unwrap();
        assert_eq!(
            body_json(&response),
            serde_json::json!({"ok": true}),
            "{name}"
        );
    }
}

#[test]
fn the_x_sample_dm_comes_from_the_customer_of_the_delivery_sample() {
    let (_, _, job) = sqs_jobs().into_iter().next().unwrap();
    for (name, json, request) in http_events() {
        if route_of(&json) != ("POST", "/twitter/webhook") {
            continue;
        }
        let dm = flex_bridge::x::events::parse(&request.body, X_ACCOUNT_ID)
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

/// events/x-worker.json is exactly what twitter-inbound queues for events/twitter-inbound.json:
/// the DM as an `XJob`, grouped by the customer, deduplicated by X's event id; X's retry of the
/// same delivery queues nothing more.
#[tokio::test]
async fn the_x_webhook_sample_queues_the_x_worker_sample() {
    let mut samples = Vec::new();
    for (name, event) in sqs_events(X_INTAKE_QUEUE_SUFFIX) {
        assert!(!event.records.is_empty(), "{name}: no records");
        for message in event.records {
            let attributes = message.attributes.clone();
            assert_eq!(message.event_source.as_deref(), Some("aws:sqs"), "{name}");
            let record = QueueRecord::from_sqs(message);
            assert_eq!(record.receive_count, 1, "{name}: a first delivery");
            let job: XJob = serde_json::from_str(&record.body)
                .unwrap_or_else(|e| panic!("{name}: body is not an XJob: {e}"));
            assert_eq!(
                record.group.as_deref(),
                Some(job.sender_id.as_str()),
                "{name}: MessageGroupId is the customer's X user id"
            );
            assert_eq!(
                attributes.get("MessageDeduplicationId"),
                Some(&job.event_id),
                "{name}: MessageDeduplicationId is X's event id"
            );
            samples.push(record.body);
        }
    }
    assert!(!samples.is_empty(), "no x-worker sample");
    let mut seen = 0;
    for (name, json, request) in http_events() {
        if route_of(&json) != ("POST", "/twitter/webhook") {
            continue;
        }
        seen += 1;
        let queue = Arc::new(MemoryQueue::new(5, Duration::from_millis(10)));
        let inbound = XInbound {
            config: XWebhookConfig {
                consumer_secret: Secret::new(X_CONSUMER_SECRET),
                account_id: X_ACCOUNT_ID.into(),
            },
            intake: queue.clone(),
            mentions: flex_bridge::x::mentions::MentionMode::Off,
        };
        for _ in 0..2 {
            let response = inbound
                .handle(&request)
                .await
                .unwrap_or_else(|e| panic!("{name}: refused: {e}"));
            assert_eq!(response.status, 200, "{name}");
        }
        let queued = queue.receive(10).await;
        assert_eq!(queued.len(), 1, "{name}: one DM, queued once");
        assert!(
            samples.contains(&queued[0].body),
            "{name}: queued {}, not the x-worker sample's job",
            queued[0].body
        );
    }
    assert!(seen > 0);
}

#[test]
fn the_readme_documents_the_test_secrets() {
    let readme = std::fs::read_to_string(repo_root().join("events/README.md")).unwrap();
    for value in [
        X_CONSUMER_SECRET,
        TWILIO_AUTH_TOKEN,
        PUBLIC_BASE_URL,
        X_ACCOUNT_ID,
        DISCORD_SEED_HEX,
        DISCORD_PUBLIC_KEY,
    ] {
        assert!(
            readme.contains(value),
            "events/README.md does not mention {value}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Discord: events/discord-interactions-*.json and events/discord-worker.json
// ---------------------------------------------------------------------------------------------

fn discord_events() -> Vec<(String, Value, WebRequest)> {
    let events: Vec<_> = http_events()
        .into_iter()
        .filter(|(_, json, _)| route_of(json) == ("POST", "/discord/interactions"))
        .collect();
    assert!(!events.is_empty(), "no Discord interactions sample");
    events
}

fn discord_signature_holds(request: &WebRequest, body: &[u8], timestamp: Option<&str>) -> bool {
    signature::verify(
        DISCORD_PUBLIC_KEY,
        request.header(signature::SIGNATURE_HEADER),
        timestamp,
        body,
    )
}

/// A spread of single-byte flips over the body (every byte would be thousands of Ed25519
/// checks in an unoptimised build): the first, the last, and about 64 in between.
fn flip_some_bytes(body: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    let step = (body.len() / 64).max(1);
    flip_each_byte(body)
        .enumerate()
        .filter(move |(i, _)| i % step == 0 || *i + 1 == body.len())
        .map(|(_, tampered)| tampered)
}

#[test]
fn the_discord_test_key_is_the_documented_one() {
    let seed = signature::seed_from_hex(DISCORD_SEED_HEX).unwrap();
    assert_eq!(signature::public_key_hex(&seed), DISCORD_PUBLIC_KEY);
    let vector: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("fixtures/discord/signature-test-vector.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(vector["private_key_seed_hex_TEST_ONLY"], DISCORD_SEED_HEX);
    assert_eq!(vector["public_key_hex"], DISCORD_PUBLIC_KEY);
    assert!(DiscordInteractionsConfig::new(DISCORD_PUBLIC_KEY)
        .validate()
        .is_ok());
}

#[test]
fn discord_events_are_signed_with_the_test_key() {
    let seed = signature::seed_from_hex(DISCORD_SEED_HEX).unwrap();
    let other_key = signature::public_key_hex(&[7; 32]);
    for (name, json, request) in discord_events() {
        let timestamp = request.header(signature::TIMESTAMP_HEADER);
        let header = request.header(signature::SIGNATURE_HEADER);
        assert!(
            timestamp.is_some_and(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())),
            "{name}: {} is Unix seconds",
            signature::TIMESTAMP_HEADER
        );
        assert!(
            discord_signature_holds(&request, &request.body, timestamp),
            "{name}: signature does not verify with DISCORD_PUBLIC_KEY; run `python3 events/sign.py`"
        );
        // Ed25519 signing is deterministic: sign.py and flex_bridge::discord::signature agree.
        assert_eq!(
            header,
            Some(signature::sign(&seed, timestamp.unwrap(), &request.body).as_str()),
            "{name}"
        );
        for tampered in flip_some_bytes(&request.body) {
            assert!(
                !discord_signature_holds(&request, &tampered, timestamp),
                "{name}: tampered body verified: {}",
                String::from_utf8_lossy(&tampered)
            );
        }
        let later = (timestamp.unwrap().parse::<u64>().unwrap() + 1).to_string();
        assert!(
            !discord_signature_holds(&request, &request.body, Some(&later)),
            "{name}: the timestamp is signed too"
        );
        assert!(
            !signature::verify(&other_key, header, timestamp, &request.body),
            "{name}: verified with another key"
        );
        assert!(
            request
                .header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "{name}: Discord posts JSON"
        );
        assert_eq!(json["isBase64Encoded"], false, "{name}");
        interactions::parse(&request.body).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn the_discord_ping_sample_is_the_signature_test_vector() {
    let vector: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("fixtures/discord/signature-test-vector.json"))
            .unwrap(),
    )
    .unwrap();
    let ping = std::fs::read(repo_root().join("fixtures/discord/ping.json")).unwrap();
    let mut seen = 0;
    for (name, _, request) in discord_events() {
        if interactions::parse(&request.body).unwrap() != Interaction::Ping {
            continue;
        }
        seen += 1;
        assert_eq!(
            request.body, ping,
            "{name}: fixtures/discord/ping.json byte for byte"
        );
        assert_eq!(
            request.header(signature::SIGNATURE_HEADER),
            vector["headers"]["X-Signature-Ed25519"].as_str(),
            "{name}"
        );
        assert_eq!(
            request.header(signature::TIMESTAMP_HEADER),
            vector["headers"]["X-Signature-Timestamp"].as_str(),
            "{name}"
        );
    }
    assert_eq!(seen, 1, "one PING sample");
}

fn discord_interactions() -> (DiscordInteractions, Arc<MemoryQueue>) {
    let queue = Arc::new(MemoryQueue::new(5, Duration::from_millis(10)));
    let handler = DiscordInteractions {
        // The samples are signed at a fixed time (re-sign with events/sign.py to invoke them):
        // no replay window for them here; `stale_samples_are_refused_as_replays` checks it.
        config: DiscordInteractionsConfig {
            max_clock_skew_secs: i64::MAX,
            ..DiscordInteractionsConfig::new(DISCORD_PUBLIC_KEY)
        },
        queue: queue.clone(),
    };
    (handler, queue)
}

/// Takes everything off the queue (and settles it, as the worker would): (group, job).
async fn discord_jobs(queue: &MemoryQueue) -> Vec<(Option<String>, DiscordJob)> {
    if queue.is_idle() {
        return Vec::new();
    }
    let records = tokio::time::timeout(Duration::from_secs(2), queue.receive(10))
        .await
        .expect("the queued job is visible at once");
    let jobs = records
        .iter()
        .map(|r| {
            let job = serde_json::from_str(&r.body).expect("a DiscordJob");
            (r.group.clone(), job)
        })
        .collect();
    queue.settle(records, &[]);
    assert!(queue.is_idle(), "one receive takes everything");
    jobs
}

/// The `DiscordJob`s of events/discord-worker.json, with their records' SQS attributes.
fn discord_worker_jobs() -> Vec<(String, QueueRecord, HashMap<String, String>, DiscordJob)> {
    let mut jobs = Vec::new();
    for (name, event) in sqs_events(DISCORD_QUEUE_SUFFIX) {
        assert!(!event.records.is_empty(), "{name}: no records");
        assert!(
            event.records.len() <= 10,
            "{name}: more than the batch size"
        );
        for message in event.records {
            let attributes = message.attributes.clone();
            assert_eq!(message.event_source.as_deref(), Some("aws:sqs"), "{name}");
            let record = QueueRecord::from_sqs(message);
            assert!(!record.message_id.is_empty(), "{name}: messageId");
            let job: DiscordJob = serde_json::from_str(&record.body)
                .unwrap_or_else(|e| panic!("{name}: body is not a DiscordJob: {e}"));
            jobs.push((name.clone(), record, attributes, job));
        }
    }
    assert!(!jobs.is_empty(), "no discord-worker sample");
    jobs
}

#[tokio::test]
async fn stale_samples_are_refused_as_replays() {
    // Invoked as they are, the samples are days old: production refuses them (re-sign them
    // with events/sign.py first, as events/README.md says).
    let queue = Arc::new(MemoryQueue::new(5, std::time::Duration::from_millis(10)));
    let handler = DiscordInteractions {
        config: DiscordInteractionsConfig::new(DISCORD_PUBLIC_KEY),
        queue: queue.clone(),
    };
    for (name, _, request) in discord_events() {
        assert!(
            matches!(handler.handle(&request).await, Err(ApiError::Unauthorized)),
            "{name}"
        );
    }
    assert!(queue.is_idle());
}

#[tokio::test]
async fn discord_events_drive_the_interactions_handler() {
    let worker_jobs: Vec<DiscordJob> = discord_worker_jobs()
        .into_iter()
        .map(|(_, _, _, job)| job)
        .collect();
    let mut answered = HashMap::new();
    for (name, _, request) in discord_events() {
        let (handler, queue) = discord_interactions();
        let response = handler
            .handle(&request)
            .await
            .unwrap_or_else(|e| panic!("{name}: refused: {e}"));
        assert_eq!(response.status, 200, "{name}");
        assert_eq!(response.content_type, "application/json", "{name}");
        let body: Value = serde_json::from_str(&response.body).unwrap();
        let jobs = discord_jobs(&queue).await;
        match interactions::parse(&request.body).unwrap() {
            Interaction::Ping => {
                assert_eq!(body, serde_json::json!({"type": 1}), "{name}: PONG");
                assert!(jobs.is_empty(), "{name}: nothing queued");
                *answered.entry("ping").or_insert(0) += 1;
            }
            Interaction::FromUser { context, action } => {
                if let Some(modal) = responses::modal_for(&action) {
                    assert_eq!(body, serde_json::to_value(&modal).unwrap(), "{name}");
                    assert_eq!(body["type"], 9, "{name}: a modal");
                    assert!(jobs.is_empty(), "{name}: nothing queued");
                    *answered.entry("modal").or_insert(0) += 1;
                    continue;
                }
                assert_eq!(
                    body,
                    serde_json::json!({"type": 5, "data": {"flags": 64}}),
                    "{name}: a deferred ephemeral reply"
                );
                assert_eq!(jobs.len(), 1, "{name}: exactly one job queued");
                let (group, job) = &jobs[0];
                assert_eq!(
                    group.as_deref(),
                    Some(context.user_id.as_str()),
                    "{name}: grouped by user"
                );
                assert_eq!(job.context, context, "{name}");
                assert_eq!(job.action, action, "{name}");
                match &action {
                    Action::HelpMe { question } => {
                        assert!(!question.is_empty(), "{name}");
                        // events/discord-worker.json is exactly what this interaction queues.
                        assert!(
                            worker_jobs.contains(job),
                            "{name}: queued {job:?}, not the discord-worker sample's job"
                        );
                        *answered.entry("helpme").or_insert(0) += 1;
                    }
                    Action::BugReport { title, details, .. } => {
                        assert!(!title.is_empty() && !details.is_empty(), "{name}");
                        *answered.entry("bug report").or_insert(0) += 1;
                    }
                    other => panic!("{name}: no check for {other:?}; add one"),
                }
                // Discord's rare second delivery of the same interaction queues nothing more
                // (MessageDeduplicationId = interaction id).
                handler.handle(&request).await.unwrap();
                assert!(queue.is_idle(), "{name}: deduplicated");
            }
        }
    }
    for kind in ["ping", "helpme", "modal", "bug report"] {
        assert!(answered.contains_key(kind), "no Discord sample for {kind}");
    }
}

#[tokio::test]
async fn tampered_discord_events_are_refused_and_queue_nothing() {
    for (name, _, request) in discord_events() {
        let (handler, queue) = discord_interactions();
        let mut tampered = request.clone();
        let mut body = request.body.to_vec();
        let last = body.len() - 2;
        body[last] ^= 0x01;
        tampered.body = body.into();
        let retimed = request
            .clone()
            .with_header(signature::TIMESTAMP_HEADER, "1786010401");
        let unsigned = {
            let mut unsigned = request.clone();
            unsigned.headers.remove(signature::SIGNATURE_HEADER);
            unsigned
        };
        for forged in [tampered, retimed, unsigned] {
            assert!(
                matches!(handler.handle(&forged).await, Err(ApiError::Unauthorized)),
                "{name}: forged request accepted"
            );
        }
        assert!(queue.is_idle(), "{name}: nothing queued");
    }
}

#[test]
fn the_discord_worker_sample_carries_a_helpme_job() {
    let mut helpme = 0;
    for (name, record, attributes, job) in discord_worker_jobs() {
        assert_eq!(record.receive_count, 1, "{name}: a first delivery");
        assert_eq!(
            record.group.as_deref(),
            Some(job.context.user_id.as_str()),
            "{name}: MessageGroupId is the Discord user id"
        );
        assert_eq!(
            attributes.get("MessageDeduplicationId"),
            Some(&job.context.interaction_id),
            "{name}: MessageDeduplicationId is the interaction id"
        );
        assert_eq!(
            record.body,
            serde_json::to_string(&job).unwrap(),
            "{name}: the body as discord-interactions serialises it"
        );
        assert!(
            !job.context.token.is_empty(),
            "{name}: the interaction token"
        );
        if matches!(job.action, Action::HelpMe { .. }) {
            helpme += 1;
        }
    }
    assert!(helpme > 0, "no /helpme job in the discord-worker sample");
}
