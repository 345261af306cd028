//! Inbound X DM benchmark: the `twitter-inbound` handler in-process against DynamoDB (moto server)
//! and the sandbox's Twilio. Counts Twilio calls (sandbox) and DynamoDB operations (an SDK
//! interceptor) per message, for a new conversation and a warm one, with 1 and 1,000
//! conversations already open, and times the handler and the cold-start set-up.
//! Run with `make bench` (starts moto server). Figures are printed, never asserted.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{counted_store, CountOperations};
use local::{environment, test_secrets, Backend, LocalBridge, Options};
use sandbox::Service;
use shared::config::Env;
use shared::web::WebRequest;
use shared::x::webhook::XInbound;

struct Bench {
    bridge: LocalBridge,
    handler: XInbound,
    dynamodb_ops: CountOperations,
    next_event: u64,
}

#[derive(Default)]
struct Sample {
    twilio: Vec<u64>,
    dynamodb: Vec<u64>,
    time: Vec<Duration>,
}

impl Bench {
    async fn dm(&mut self, user: u64, sample: &mut Sample) {
        self.next_event += 1;
        let body = serde_json::json!({
            "for_user_id": test_secrets::X_ACCOUNT_ID,
            "direct_message_events": [{
                "type": "message_create",
                "id": format!("19{:017}", self.next_event),
                "created_timestamp": "1786012345678",
                "message_create": {
                    "target": {"recipient_id": test_secrets::X_ACCOUNT_ID},
                    "sender_id": user.to_string(),
                    "message_data": {"text": "Where is my order?", "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []}}
                }
            }],
            "users": {user.to_string(): {"id": user.to_string(), "screen_name": format!("customer{user}")}}
        })
        .to_string();
        let signature =
            shared::x::signature::sign(test_secrets::X_CONSUMER_SECRET, body.as_bytes());
        let request = WebRequest::post(body).with_header(shared::x::signature::HEADER, &signature);
        let twilio_before = self.bridge.sandbox.request_count(Service::Twilio);
        let dynamodb_before = self.dynamodb_ops.count();
        let started = Instant::now();
        let response = self.handler.handle(&request).await.expect("handled");
        sample.time.push(started.elapsed());
        assert_eq!(response.status, 200);
        sample
            .twilio
            .push(self.bridge.sandbox.request_count(Service::Twilio) - twilio_before);
        sample
            .dynamodb
            .push(self.dynamodb_ops.count() - dynamodb_before);
    }
}

fn report(label: &str, sample: &mut Sample) {
    let n = sample.time.len().max(1) as f64;
    sample.time.sort();
    let pct = |p: f64| sample.time[((sample.time.len() - 1) as f64 * p) as usize];
    println!(
        "| {label} | {} | {:.2} | {:.2} | {:.1} ms | {:.1} ms |",
        sample.time.len(),
        sample.twilio.iter().sum::<u64>() as f64 / n,
        sample.dynamodb.iter().sum::<u64>() as f64 / n,
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.95).as_secs_f64() * 1e3,
    );
}

async fn handler_for(bridge: &LocalBridge) -> (XInbound, CountOperations) {
    let aws = bridge.aws.as_ref().expect("AWS back end");
    let mut vars = environment(&bridge.url, &bridge.sandbox.url());
    vars.insert("TABLE_NAME".into(), aws.table.clone());
    vars.insert("DELIVERY_QUEUE_URL".into(), aws.queue_url.clone());
    let mut handler = XInbound::from_env(Env::from_map(vars))
        .await
        .expect("configured");
    let counter = CountOperations::default();
    handler.conversations.store = Arc::new(counted_store(&aws.table, &counter).await);
    (handler, counter)
}

#[tokio::main]
async fn main() {
    println!("## twitter-inbound, per message (DynamoDB on moto server, Twilio on the sandbox)\n");
    println!("| case | messages | Twilio calls | DynamoDB ops | handler p50 | handler p95 |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for existing in [1u64, 1000] {
        let prefix = format!(
            "bench-{existing}-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        // Studio routing: the bot's own costs are measured by the `bot` benchmark.
        let studio = Options {
            routing: shared::routing::Routing::Studio {
                flow_sid: "FW00000000000000000000000000000001".into(),
            },
            ..Options::default()
        };
        let bridge = LocalBridge::start(Backend::Aws { prefix }, studio)
            .await
            .expect("bridge");
        let (handler, dynamodb_ops) = handler_for(&bridge).await;
        let mut bench = Bench {
            bridge,
            handler,
            dynamodb_ops,
            next_event: existing * 1_000_000,
        };
        let mut new = Sample::default();
        for user in 1..=existing {
            bench.dm(user, &mut new).await;
        }
        report(&format!("new conversation ({existing} open)"), &mut new);
        let mut warm = Sample::default();
        for i in 0..200u64 {
            bench.dm(1 + (i * 7919) % existing, &mut warm).await;
        }
        report(&format!("warm conversation ({existing} open)"), &mut warm);
    }

    println!(
        "\n## cold start: building the twitter-inbound handler (config, AWS config, clients)\n"
    );
    let bridge = LocalBridge::start(Backend::Memory, Options::default())
        .await
        .expect("bridge");
    let mut times = Vec::new();
    for _ in 0..20 {
        let mut vars = environment(&bridge.url, &bridge.sandbox.url());
        vars.insert("TABLE_NAME".into(), "cold".into());
        vars.insert(
            "DELIVERY_QUEUE_URL".into(),
            "https://sqs.us-east-1.amazonaws.com/000000000000/cold.fifo".into(),
        );
        let started = Instant::now();
        let handler = XInbound::from_env(Env::from_map(vars))
            .await
            .expect("configured");
        times.push(started.elapsed());
        drop(handler);
    }
    times.sort();
    println!(
        "median {:.2} ms, max {:.2} ms over {} builds",
        times[10].as_secs_f64() * 1e3,
        times[19].as_secs_f64() * 1e3,
        times.len()
    );
}
