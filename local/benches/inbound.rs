//! Inbound X DM benchmark: the `twitter-inbound` handler (verify, queue) and then the `x-worker`
//! handler (claim, post to Flex, confirm) in-process, against DynamoDB (moto server) and the
//! sandbox's Twilio; the intake queue between them is the in-process one. Counts Twilio calls
//! (sandbox) and DynamoDB operations (an SDK interceptor) per message, webhook and worker
//! together, for a new conversation and a warm one, with 1 and 1,000 conversations already
//! open, and for the DMs the bridge answers itself (`cases`, a 1–5), and times both handlers
//! and their cold-start set-up.
//! Run with `make bench` (starts moto server). Figures are printed, never asserted.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{counted_store, CountOperations};
use flex_bridge::cases::{self, CaseKind, NewCase};
use flex_bridge::config::schema::X_INTAKE_QUEUE_URL;
use flex_bridge::config::Env;
use flex_bridge::queue::MemoryQueue;
use flex_bridge::store::CustomerSlot;
use flex_bridge::web::WebRequest;
use flex_bridge::x::webhook::XInbound;
use flex_bridge::x::worker::XWorker;
use flex_bridge_lambda::Aws;
use local::{environment, test_secrets, Backend, LocalBridge, Options};
use sandbox::Service;

struct Bench {
    bridge: LocalBridge,
    webhook: XInbound,
    intake: Arc<MemoryQueue>,
    worker: XWorker,
    dynamodb_ops: CountOperations,
    next_event: u64,
}

#[derive(Default)]
struct Sample {
    twilio: Vec<u64>,
    dynamodb: Vec<u64>,
    webhook: Vec<Duration>,
    worker: Vec<Duration>,
}

impl Bench {
    async fn dm(&mut self, user: u64, sample: &mut Sample) {
        self.dm_saying(user, "Where is my order?", sample).await;
    }

    async fn dm_saying(&mut self, user: u64, text: &str, sample: &mut Sample) {
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
                    "message_data": {"text": text, "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []}}
                }
            }],
            "users": {user.to_string(): {"id": user.to_string(), "screen_name": format!("customer{user}")}}
        })
        .to_string();
        let signature =
            flex_bridge::x::signature::sign(test_secrets::X_CONSUMER_SECRET, body.as_bytes());
        let request =
            WebRequest::post(body).with_header(flex_bridge::x::signature::HEADER, &signature);
        let twilio_before = self.bridge.sandbox.request_count(Service::Twilio);
        let dynamodb_before = self.dynamodb_ops.count();
        let started = Instant::now();
        let response = self.webhook.handle(&request).await.expect("handled");
        sample.webhook.push(started.elapsed());
        assert_eq!(response.status, 200);
        // As SQS would: a failed DM is received again (the intake queue's retry delay is
        // short here), and its retries' calls and operations count towards its cost.
        let started = Instant::now();
        for attempt in 1.. {
            let batch = self.intake.receive(10).await;
            let failed = self.worker.handle_batch(batch.clone()).await;
            self.intake.settle(batch, &failed);
            if failed.is_empty() {
                break;
            }
            eprintln!("x-worker failed {failed:?} (try {attempt}); retried as SQS would");
            assert!(attempt < 5, "the worker kept failing {failed:?}");
        }
        sample.worker.push(started.elapsed());
        sample
            .twilio
            .push(self.bridge.sandbox.request_count(Service::Twilio) - twilio_before);
        sample
            .dynamodb
            .push(self.dynamodb_ops.count() - dynamodb_before);
    }
}

impl Bench {
    /// Ends the conversations of customers 1..=`count` in Flex, and waits until the bridge
    /// knows each of them as a returning customer; their SIDs, in order.
    async fn close_conversations(&self, count: u64) -> Vec<String> {
        let mut closed = Vec::new();
        for user in 1..=count {
            let identity = format!("x-{user}");
            let CustomerSlot::Open(customer) = self.bridge.store.customer(&identity).await.unwrap()
            else {
                panic!("{identity} has no open conversation");
            };
            self.bridge
                .sandbox
                .close(&customer.conversation_sid)
                .await
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(20);
            while !matches!(
                self.bridge.store.customer(&identity).await.unwrap(),
                CustomerSlot::Returning { .. }
            ) {
                assert!(
                    Instant::now() < deadline,
                    "{identity} never became returning"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            closed.push(customer.conversation_sid.to_string());
        }
        closed
    }
}

impl Bench {
    /// Files a support case for customer `user` and asks them to rate it, as closing their
    /// conversation `ended` does.
    async fn ask_to_rate(&self, user: u64, ended: &str) {
        let identity = format!("x-{user}");
        let store = self.bridge.store.as_ref();
        let new = NewCase {
            kind: CaseKind::Support,
            title: "Where is my order?".into(),
            details: String::new(),
            steps: None,
            reporter: identity.clone(),
            conversation: None,
        };
        let case = cases::file(store, &format!("bench#{user}#{}", self.next_event), new)
            .await
            .unwrap();
        assert!(store
            .ask_rating(&identity, ended, &case.id, flex_bridge::now_epoch() + 3600)
            .await
            .unwrap());
    }
}

fn percentile(times: &mut [Duration], p: f64) -> f64 {
    times.sort();
    times[((times.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e3
}

fn report(label: &str, sample: &mut Sample) {
    let n = sample.webhook.len().max(1) as f64;
    println!(
        "| {label} | {} | {:.2} | {:.2} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms |",
        sample.webhook.len(),
        sample.twilio.iter().sum::<u64>() as f64 / n,
        sample.dynamodb.iter().sum::<u64>() as f64 / n,
        percentile(&mut sample.webhook, 0.5),
        percentile(&mut sample.webhook, 0.95),
        percentile(&mut sample.worker, 0.5),
        percentile(&mut sample.worker, 0.95),
    );
}

/// The webhook on an in-process intake queue, and the worker on a counted DynamoDB store.
async fn handlers_for(
    bridge: &LocalBridge,
) -> (XInbound, Arc<MemoryQueue>, XWorker, CountOperations) {
    let aws = bridge.aws.as_ref().expect("AWS back end");
    let mut vars = environment(&bridge.url, &bridge.sandbox.url());
    vars.insert("TABLE_NAME".into(), aws.table.clone());
    vars.insert("DELIVERY_QUEUE_URL".into(), aws.queue_url.clone());
    vars.insert(X_INTAKE_QUEUE_URL.name.into(), aws.x_queue_url.clone());
    let mut webhook =
        XInbound::from_env(Env::from_map(vars.clone()), &Aws::load().await).expect("configured");
    let intake = Arc::new(MemoryQueue::new(5, Duration::from_millis(10)));
    webhook.intake = intake.clone();
    let mut worker =
        XWorker::from_env(Env::from_map(vars), &Aws::load().await).expect("configured");
    let counter = CountOperations::default();
    worker.conversations.store = Arc::new(counted_store(&aws.table, &counter).await);
    (webhook, intake, worker, counter)
}

#[tokio::main]
async fn main() {
    if std::env::var("RUST_LOG").is_ok() {
        flex_bridge_lambda::telemetry::init_text();
    }
    println!(
        "## twitter-inbound + x-worker, per message (DynamoDB on moto server, Twilio on the sandbox)\n"
    );
    println!("| case | messages | Twilio calls | DynamoDB ops | webhook p50 | webhook p95 | worker p50 | worker p95 |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for existing in [1u64, 1000] {
        let prefix = format!(
            "bench-{existing}-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        // Studio routing: the bot's own costs are measured by the `bot` benchmark.
        let studio = Options {
            routing: flex_bridge::routing::Routing::Studio {
                flow_sid: "FW00000000000000000000000000000001".into(),
            },
            ..Options::default()
        };
        let bridge = LocalBridge::start(Backend::Aws { prefix }, studio)
            .await
            .expect("bridge");
        let (webhook, intake, worker, dynamodb_ops) = handlers_for(&bridge).await;
        let mut bench = Bench {
            bridge,
            webhook,
            intake,
            worker,
            dynamodb_ops,
            next_event: existing * 1_000_000,
        };
        let mut new = Sample::default();
        for user in 1..=existing {
            bench.dm(user, &mut new).await;
        }
        report(
            &format!("first-time customer, new conversation ({existing} open)"),
            &mut new,
        );
        let mut warm = Sample::default();
        for i in 0..200u64 {
            bench.dm(1 + (i * 7919) % existing, &mut warm).await;
        }
        report(&format!("warm conversation ({existing} open)"), &mut warm);
        let closed = existing.min(50);
        bench.close_conversations(closed).await;
        let mut returning = Sample::default();
        for user in 1..=closed {
            bench.dm(user, &mut returning).await;
        }
        report(
            &format!("returning customer, new conversation ({existing} open)"),
            &mut returning,
        );
        // Answered by the bridge, no conversation: a question about cases, and a 1–5 after a
        // chat (each customer filed a case and was asked to rate it, as closing a chat does).
        let mut cases_dm = Sample::default();
        for user in 1..=closed {
            bench.dm_saying(user, "my cases", &mut cases_dm).await;
        }
        report(&format!("`cases` DM ({existing} open)"), &mut cases_dm);
        let ended = bench.close_conversations(closed).await;
        for (user, sid) in (1..=closed).zip(&ended) {
            bench.ask_to_rate(user, sid).await;
        }
        let mut rating = Sample::default();
        for user in 1..=closed {
            bench.dm_saying(user, "4", &mut rating).await;
        }
        report(&format!("1–5 rating DM ({existing} open)"), &mut rating);
    }

    println!(
        "\n## cold start: building the twitter-inbound and x-worker handlers (config, AWS config, clients)\n"
    );
    let bridge = LocalBridge::start(Backend::Memory, Options::default())
        .await
        .expect("bridge");
    let (mut webhook_times, mut worker_times) = (Vec::new(), Vec::new());
    for _ in 0..20 {
        let mut vars = environment(&bridge.url, &bridge.sandbox.url());
        vars.insert("TABLE_NAME".into(), "cold".into());
        vars.insert(
            "DELIVERY_QUEUE_URL".into(),
            "https://sqs.us-east-1.amazonaws.com/000000000000/cold.fifo".into(),
        );
        vars.insert(
            X_INTAKE_QUEUE_URL.name.into(),
            "https://sqs.us-east-1.amazonaws.com/000000000000/cold-x-intake.fifo".into(),
        );
        let started = Instant::now();
        let webhook = XInbound::from_env(Env::from_map(vars.clone()), &Aws::load().await)
            .expect("configured");
        webhook_times.push(started.elapsed());
        drop(webhook);
        let started = Instant::now();
        let worker =
            XWorker::from_env(Env::from_map(vars), &Aws::load().await).expect("configured");
        worker_times.push(started.elapsed());
        drop(worker);
    }
    for (name, times) in [
        ("twitter-inbound", &mut webhook_times),
        ("x-worker", &mut worker_times),
    ] {
        println!(
            "{name}: median {:.2} ms, max {:.2} ms over {} builds",
            percentile(times, 0.5),
            percentile(times, 1.0),
            times.len()
        );
    }
}
