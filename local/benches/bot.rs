//! The virtual agent's cost per turn: the `chatbot` handler in-process against DynamoDB (moto
//! server), then its jobs run by the `outbound-delivery` handler against the sandbox's Twilio,
//! Flex and X. Counts DynamoDB operations (an SDK interceptor), SQS sends, and Twilio and X
//! calls (the sandbox) for a confident answer, an unconfident one, and a hand-off; times the
//! chatbot handler. Run with `make bench` (starts moto server). Printed, never asserted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use async_trait::async_trait;
use common::{counted_store, CountOperations};
use flex_bridge::bot::Chatbot;
use flex_bridge::config::{Env, PublicUrl, Secret};
use flex_bridge::delivery::Delivery;
use flex_bridge::queue::{Lane, MemoryQueue, Queue, QueueError};
use flex_bridge::routing::Routing;
use flex_bridge::web::WebRequest;
use local::{environment, test_flex_routing, test_secrets, Backend, LocalBridge, Options};
use sandbox::Service;

/// The delivery queue, counting sends.
struct CountingQueue {
    inner: Arc<MemoryQueue>,
    sends: AtomicU64,
}

#[async_trait]
impl Queue for CountingQueue {
    async fn send(&self, lane: &Lane, dedupe_id: &str, body: &str) -> Result<(), QueueError> {
        self.sends.fetch_add(1, Ordering::Relaxed);
        self.inner.send(lane, dedupe_id, body).await
    }
}

struct Bench {
    bridge: LocalBridge,
    chatbot: Chatbot,
    delivery: Delivery,
    queue: Arc<CountingQueue>,
    memory: Arc<MemoryQueue>,
    dynamodb_ops: CountOperations,
    next_message: u64,
}

#[derive(Default)]
struct Sample {
    turns: u64,
    bot_dynamodb: u64,
    bot_sqs: u64,
    bot_twilio: u64,
    lane_dynamodb: u64,
    lane_twilio: u64,
    lane_x: u64,
    time: Vec<Duration>,
}

impl Bench {
    /// One customer message through the chatbot, then its jobs through the lane.
    async fn turn(
        &mut self,
        conversation_sid: &str,
        customer: &str,
        text: &str,
        sample: &mut Sample,
    ) {
        self.next_message += 1;
        let url = format!("{}/twilio/chatbot", self.bridge.url);
        let params: Vec<(String, String)> = [
            ("EventType", "onMessageAdded".to_owned()),
            ("ConversationSid", conversation_sid.to_owned()),
            ("MessageSid", format!("IM{:032}", self.next_message)),
            ("Author", format!("x-{customer}")),
            ("Body", text.to_owned()),
            ("Attributes", "{}".to_owned()),
            ("Source", "API".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let signature =
            flex_bridge::twilio::signature::sign(test_secrets::TWILIO_AUTH_TOKEN, &url, &params);
        let request = WebRequest::post(serde_urlencoded::to_string(&params).unwrap())
            .with_header(flex_bridge::twilio::signature::HEADER, &signature);
        let counts = |b: &Bench| {
            (
                b.dynamodb_ops.count(),
                b.queue.sends.load(Ordering::Relaxed),
                b.bridge.sandbox.request_count(Service::Twilio),
                b.bridge.sandbox.request_count(Service::X),
            )
        };
        let before = counts(self);
        let started = Instant::now();
        let response = self.chatbot.handle(&request).await.expect("handled");
        sample.time.push(started.elapsed());
        assert_eq!(response.status, 200);
        let bot = counts(self);
        while !self.memory.is_idle() {
            let batch = self.memory.receive(10).await;
            let failed = self.delivery.handle_batch(batch.clone()).await;
            assert!(failed.is_empty(), "jobs failed: {failed:?}");
            self.memory.settle(batch, &failed);
        }
        let lane = counts(self);
        sample.turns += 1;
        sample.bot_dynamodb += bot.0 - before.0;
        sample.bot_sqs += bot.1 - before.1;
        sample.bot_twilio += bot.2 - before.2;
        sample.lane_dynamodb += lane.0 - bot.0;
        sample.lane_twilio += lane.2 - bot.2;
        sample.lane_x += lane.3 - bot.3;
    }
}

fn report(label: &str, sample: &mut Sample) {
    let n = sample.turns.max(1) as f64;
    sample.time.sort();
    let pct = |p: f64| sample.time[((sample.time.len() - 1) as f64 * p) as usize];
    println!(
        "| {label} | {} | {:.2} | {:.2} | {:.2} | {:.1} ms | {:.1} ms | {:.2} | {:.2} | {:.2} |",
        sample.turns,
        sample.bot_dynamodb as f64 / n,
        sample.bot_sqs as f64 / n,
        sample.bot_twilio as f64 / n,
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.95).as_secs_f64() * 1e3,
        sample.lane_dynamodb as f64 / n,
        sample.lane_twilio as f64 / n,
        sample.lane_x as f64 / n,
    );
}

#[tokio::main]
async fn main() {
    // The customers' conversations are opened by a Studio-routed bridge, so only the chatbot
    // under test answers them.
    let studio = Options {
        routing: Routing::Studio {
            flow_sid: "FW00000000000000000000000000000001".into(),
        },
        ..Options::default()
    };
    let prefix = format!(
        "bench-bot-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let bridge = LocalBridge::start(Backend::Aws { prefix }, studio)
        .await
        .expect("bridge");
    let table = bridge.aws.as_ref().expect("AWS back end").table.clone();
    let dynamodb_ops = CountOperations::default();
    let store: Arc<dyn flex_bridge::store::Store> =
        Arc::new(counted_store(&table, &dynamodb_ops).await);
    let memory = Arc::new(MemoryQueue::new(5, Duration::from_millis(100)));
    let queue = Arc::new(CountingQueue {
        inner: memory.clone(),
        sends: AtomicU64::new(0),
    });
    let chatbot = Chatbot {
        store: store.clone(),
        queue: queue.clone(),
        auth_token: Secret::new(test_secrets::TWILIO_AUTH_TOKEN),
        public_url: PublicUrl::new(bridge.url.clone()),
        routing: Routing::Bot(test_flex_routing()),
        bot_name: local::BOT_NAME.into(),
        index: kb::Index::builtin(),
    };
    let mut vars = environment(&bridge.url, &bridge.sandbox.url());
    vars.insert("TABLE_NAME".into(), table.clone());
    let mut delivery =
        Delivery::from_env(Env::from_map(vars), &flex_bridge_lambda::Aws::load().await)
            .expect("configured");
    delivery.store = store;
    let mut bench = Bench {
        bridge,
        chatbot,
        delivery,
        queue,
        memory,
        dynamodb_ops,
        next_message: 0,
    };

    const CUSTOMERS: u64 = 30;
    let mut conversations = Vec::new();
    for user in 1..=CUSTOMERS {
        let id = (2_900_000_100 + user).to_string();
        bench
            .bridge
            .sandbox
            .customer_dm(&id, &format!("c{user}"), "hello")
            .await;
        let sid = local::wait_for(Duration::from_secs(10), || {
            bench
                .bridge
                .sandbox
                .conversations()
                .into_iter()
                .find(|c| {
                    c.participants
                        .iter()
                        .any(|p| p.identity == format!("x-{id}"))
                })
                .map(|c| c.sid)
        })
        .await
        .expect("conversation opened");
        conversations.push((sid, id));
    }

    println!("## chatbot, per customer message (DynamoDB on moto server; Twilio, Flex and X on the sandbox)\n");
    println!("| turn | turns | chatbot DynamoDB ops | chatbot SQS sends | chatbot Twilio calls | chatbot p50 | chatbot p95 | lane DynamoDB ops | lane Twilio calls | lane X calls |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let (mut confident, mut unsure, mut handoff) =
        (Sample::default(), Sample::default(), Sample::default());
    for (sid, id) in &conversations {
        bench
            .turn(sid, id, "how do i reset my password", &mut confident)
            .await;
        bench
            .turn(sid, id, "whats the best pizza in naples", &mut unsure)
            .await;
        bench
            .turn(sid, id, "can i talk to a human", &mut handoff)
            .await;
    }
    report("confident answer", &mut confident);
    report("not sure (first miss)", &mut unsure);
    report("hand-off (case + Flex task)", &mut handoff);
}
