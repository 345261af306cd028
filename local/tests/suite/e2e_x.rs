//! X DMs ↔ Flex, end to end: the real handlers over HTTP, DynamoDB and SQS on moto server, and
//! the sandbox playing Twilio Conversations and X. A DM goes `twitter-inbound` → the X intake
//! queue → `x-worker` → Flex, so the tests wait for the worker.

use std::time::Duration;

use crate::common::*;
use flex_bridge::config::Env;
use flex_bridge::queue::QueueRecord;
use flex_bridge::store::CustomerSlot;
use flex_bridge::x::mentions::MentionMode;
use flex_bridge::x::webhook::XJob;
use flex_bridge::x::worker::XWorker;
use flex_bridge_lambda::Aws;
use local::{environment, test_secrets, wait_for, LocalBridge};
use sandbox::{ConversationView, Fault, Service};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dm_to_flex_agent_reply_close_and_a_new_conversation() {
    let bridge = start("lifecycle").await;
    let sandbox = &bridge.sandbox;

    let first = sandbox
        .customer_dm(
            CUSTOMER,
            "jordan_cust",
            "Hi, my order A-1042 hasn't arrived",
        )
        .await;
    assert_eq!(first.status, 200);
    let conversation = conversation_with(&bridge, 1).await;
    let sid = conversation.sid.clone();
    let customer = "x-2900000001";
    assert_eq!(conversation.participants.len(), 1);
    assert_eq!(conversation.participants[0].identity, customer);
    assert!(
        conversation.attributes.contains("\"platform\":\"x\""),
        "{}",
        conversation.attributes
    );
    assert!(conversation.attributes.contains("@jordan_cust"));
    assert_eq!(conversation.timers_closed.as_deref(), Some("PT24H"));
    let outbound = format!("{}/twilio/flex-outbound", bridge.url);
    let updated = format!("{}/twilio/channel-updated", bridge.url);
    let hook = |url: &str| {
        conversation
            .webhooks
            .iter()
            .find(|w| w.url.as_deref() == Some(url))
            .cloned()
    };
    assert_eq!(
        hook(&outbound).expect("flex-outbound webhook").filters,
        ["onMessageAdded", "onParticipantAdded"]
    );
    assert_eq!(
        hook(&updated).expect("channel-updated webhook").filters,
        ["onConversationStateUpdated"]
    );
    let message = &conversation.messages[0];
    assert_eq!(
        (message.author.as_str(), message.body.as_str()),
        (customer, "Hi, my order A-1042 hasn't arrived")
    );
    assert!(message.webhook_enabled, "customer messages must run Studio");

    sandbox
        .agent_joins(&sid, "sam@acme.example", "Sam Rivera")
        .await
        .unwrap();
    sandbox
        .agent_message(
            &sid,
            "sam@acme.example",
            "Sorry about that! Options: Resend - ship a replacement, Refund - money back",
        )
        .await
        .unwrap();
    let sent = dms(&bridge, CUSTOMER, 2).await;
    assert_eq!(sent[0], "Sam joined the chat.");
    assert_eq!(
        sent[1],
        "Sorry about that!\n\n1. Resend — ship a replacement\n2. Refund — money back\nReply with a number to choose."
    );

    sandbox.customer_dm(CUSTOMER, "jordan_cust", "2").await;
    let conversation = conversation_with(&bridge, 3).await;
    assert_eq!(
        conversation.messages[2].body, "Refund",
        "a numbered answer reaches Flex as the label"
    );

    sandbox.close(&sid).await.unwrap();
    let sent = dms(&bridge, CUSTOMER, 3).await;
    assert!(sent[2].starts_with("This chat has ended"), "{sent:?}");
    assert_eq!(
        bridge.store.customer(customer).await.unwrap(),
        CustomerSlot::Returning {
            asked_to_rate: None
        }
    );

    sandbox
        .customer_dm(CUSTOMER, "jordan_cust", "One more thing")
        .await;
    let next = wait_for(WAIT, || {
        sandbox.conversations().into_iter().find(|c| c.sid != sid)
    })
    .await
    .expect("a new conversation");
    assert_eq!(next.state, "active");
    assert_eq!(sandbox.conversation(&sid).unwrap().state, "closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_first_dms_open_one_conversation() {
    let bridge = start("race").await;
    let sends = (0..20).map(|i| {
        let sandbox = bridge.sandbox.clone();
        async move {
            sandbox
                .customer_dm(CUSTOMER, "jordan_cust", &format!("message {i}"))
                .await
        }
    });
    let results = spawn_all(sends).await;
    assert!(results.iter().all(|d| d.status == 200), "{results:?}");
    let conversation = conversation_with(&bridge, 20).await;
    assert_eq!(
        bridge.sandbox.conversations().len(),
        1,
        "one conversation for one customer"
    );
    assert_eq!(conversation.participants.len(), 1);
    let mut bodies = bodies(&conversation);
    bodies.sort();
    let mut expected: Vec<String> = (0..20).map(|i| format!("message {i}")).collect();
    expected.sort();
    assert_eq!(bodies, expected, "every message once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_x_event_three_times_posts_once() {
    let bridge = start("dedupe").await;
    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/x/aaa-v2-dm-inbound-text.json"
    ))
    .unwrap();
    let statuses = bridge.sandbox.deliver_x_webhook(&body, 3).await;
    assert_eq!(statuses, [200, 200, 200]);
    let conversation = conversation_with(&bridge, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        bridge
            .sandbox
            .conversation(&conversation.sid)
            .unwrap()
            .messages
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn echoes_typing_and_read_events_cost_nothing() {
    let bridge = start("ignored").await;
    for name in [
        "aaa-v2-dm-outbound-echo.json",
        "aaa-v2-dm-typing.json",
        "aaa-v2-dm-read.json",
    ] {
        let body = std::fs::read(format!(
            "{}/../fixtures/x/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        assert_eq!(
            bridge.sandbox.deliver_x_webhook(&body, 1).await,
            [200],
            "{name}"
        );
    }
    assert_eq!(bridge.sandbox.customer_typing(CUSTOMER).await.status, 200);
    assert_eq!(bridge.sandbox.request_count(Service::Twilio), 0);
    assert!(bridge.sandbox.conversations().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_warm_message_costs_one_twilio_call() {
    let bridge = start("warm").await;
    bridge
        .sandbox
        .customer_dm(CUSTOMER, "jordan_cust", "first")
        .await;
    conversation_with(&bridge, 1).await;
    bridge.sandbox.reset_counts();
    bridge
        .sandbox
        .customer_dm(CUSTOMER, "jordan_cust", "second")
        .await;
    conversation_with(&bridge, 2).await;
    assert_eq!(bridge.sandbox.request_count(Service::Twilio), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twilio_and_x_outages_lose_nothing_and_keep_order() {
    outages_lose_nothing_and_keep_order(start("outage").await).await;
}

/// The same with the in-process queue, whose batches hold several messages of one conversation:
/// a failure must fail the rest of its group in the batch so SQS FIFO retries them in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outages_keep_order_with_multi_message_batches() {
    let bridge = local::LocalBridge::start(local::Backend::Memory, crate::common::studio())
        .await
        .unwrap();
    outages_lose_nothing_and_keep_order(bridge).await;
}

async fn outages_lose_nothing_and_keep_order(bridge: local::LocalBridge) {
    let sandbox = &bridge.sandbox;
    // Twilio throttles, then fails, while the customer writes.
    sandbox.inject_fault(Service::Twilio, 429, 2, 1);
    sandbox.inject_fault(Service::Twilio, 500, 2, 0);
    for i in 1..=5 {
        let delivery = sandbox
            .customer_dm(CUSTOMER, "jordan_cust", &format!("customer {i}"))
            .await;
        assert_eq!(
            delivery.status, 200,
            "X's retries must get through: {delivery:?}"
        );
    }
    let conversation = conversation_with(&bridge, 5).await;
    let expected: Vec<String> = (1..=5).map(|i| format!("customer {i}")).collect();
    assert_eq!(bodies(&conversation), expected);

    // X fails for longer than one invocation's retries: SQS redelivers, in order.
    sandbox.inject_fault(Service::X, 500, 6, 0);
    sandbox.inject_fault(Service::X, 429, 2, 1);
    for i in 1..=4 {
        sandbox
            .agent_message(&conversation.sid, "sam@acme.example", &format!("agent {i}"))
            .await
            .unwrap();
    }
    // No onParticipantAdded came for this agent: their first message says who joined.
    let sent = dms(&bridge, CUSTOMER, 5).await;
    let expected: Vec<String> = std::iter::once("An agent joined the chat.".to_owned())
        .chain((1..=4).map(|i| format!("agent {i}")))
        .collect();
    assert_eq!(sent, expected);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sandbox.dms_to(CUSTOMER).len(), 5, "nothing sent twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_undeliverable_message_leaves_a_note_for_the_agent() {
    let bridge = start("refused").await;
    let sandbox = &bridge.sandbox;
    sandbox.customer_dm(CUSTOMER, "jordan_cust", "hello").await;
    let conversation = conversation_with(&bridge, 1).await;
    sandbox.inject_fault(Service::X, 403, 1, 0);
    sandbox
        .agent_message(&conversation.sid, "sam@acme.example", "Are you there?")
        .await
        .unwrap();
    let conversation = conversation_with(&bridge, 3).await;
    let note = &conversation.messages[2];
    assert_eq!(note.author, "Flex Bridge");
    assert!(
        note.body.contains("Not delivered") && note.body.contains("403"),
        "{}",
        note.body
    );
    assert!(
        !note.webhook_enabled,
        "notes must not loop back into delivery"
    );
    assert!(sandbox.dms_to(CUSTOMER).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crc_challenge_is_answered() {
    const TOKEN: &str = "NjI4ZmM0ZjEtM2Q2Ni00ZjI1LTg0YjYtYzQxMmQzZDFjMDcx";
    let bridge = start("crc").await;
    let client = flex_bridge::http::http_client();
    let ok = client
        .get(format!("{}/twitter/webhook?crc_token={TOKEN}", bridge.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let body: serde_json::Value = ok.json().await.unwrap();
    assert_eq!(
        body["response_token"],
        flex_bridge::x::signature::crc_response_token(
            local::test_secrets::X_CONSUMER_SECRET,
            TOKEN
        )
    );
    let missing = client
        .get(format!("{}/twitter/webhook", bridge.url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    assert_eq!(
        missing.text().await.unwrap(),
        r#"{"error":"missing crc_token"}"#
    );
}

/// Runs the futures as concurrent tasks (truly in parallel on the multi-thread runtime).
async fn spawn_all<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.expect("task"));
    }
    out
}

/// The conversation whose participant is `identity`, once it has `messages` messages.
async fn conversation_of(
    bridge: &LocalBridge,
    identity: &str,
    messages: usize,
) -> ConversationView {
    wait_for(WAIT, || {
        bridge.sandbox.conversations().into_iter().find(|c| {
            c.participants.iter().any(|p| p.identity == identity) && c.messages.len() >= messages
        })
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "no conversation of {identity} with {messages} messages: {:#?}",
            bridge.sandbox.conversations()
        )
    })
}

/// A second `x-worker` on the bridge's table and Twilio, to hand records to directly (as SQS
/// would redeliver them).
async fn worker_for(bridge: &LocalBridge) -> XWorker {
    let aws = bridge.aws.as_ref().expect("AWS back end");
    let mut vars = environment(&bridge.url, &bridge.sandbox.url());
    vars.insert("TABLE_NAME".into(), aws.table.clone());
    vars.insert("DELIVERY_QUEUE_URL".into(), aws.queue_url.clone());
    vars.insert("ROUTING".into(), "studio".into());
    vars.insert(
        "STUDIO_FLOW_SID".into(),
        "FW00000000000000000000000000000001".into(),
    );
    XWorker::from_env(Env::from_map(vars), &Aws::load().await).expect("configured")
}

/// The intake queue's record of the DM in an X webhook body.
fn record_of(body: &[u8], message_id: &str) -> (XJob, QueueRecord) {
    let parsed = flex_bridge::x::events::parse(body, test_secrets::X_ACCOUNT_ID).expect("parsed");
    let job = XJob::from(parsed.messages[0].clone());
    let record = QueueRecord {
        message_id: message_id.into(),
        body: serde_json::to_string(&job).unwrap(),
        receive_count: 1,
        group: Some(job.sender_id.clone()),
    };
    (job, record)
}

/// Twilio fails for longer than X keeps retrying (4 attempts of 4 calls each would have been
/// 16 failures inside the webhook, then a 503 and a lost DM): X gets its 200 at once, the DM
/// waits on the intake queue and reaches Flex once Twilio is back, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dm_outlasts_a_twilio_outage_longer_than_x_retries() {
    let bridge = start_with(
        "twilio-outage",
        local::Options {
            max_receives: 10,
            ..studio()
        },
    )
    .await;
    let sandbox = &bridge.sandbox;
    sandbox.inject(Fault::new(Service::Twilio, 500).times(20));
    let delivery = sandbox
        .customer_dm(CUSTOMER, "jordan_cust", "Is anyone there?")
        .await;
    assert_eq!(
        (delivery.status, delivery.attempts),
        (200, 1),
        "X is answered at once"
    );
    let conversation = conversation_of(&bridge, "x-2900000001", 1).await;
    assert!(
        sandbox.request_count(Service::Twilio) > 20,
        "delivered only after the outage"
    );
    assert_eq!(bodies(&conversation), ["Is anyone there?"]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let conversation = sandbox.conversation(&conversation.sid).unwrap();
    assert_eq!(
        bodies(&conversation),
        ["Is anyone there?"],
        "delivered once"
    );
    assert_eq!(sandbox.conversations().len(), 1);
}

/// The webhook never calls Twilio: with Twilio down, X still gets 200 on its first attempt,
/// and the DM arrives once Twilio answers again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_webhook_answers_x_without_waiting_on_twilio() {
    let bridge = start("no-twilio").await;
    let sandbox = &bridge.sandbox;
    sandbox.customer_dm(CUSTOMER, "jordan_cust", "first").await;
    conversation_of(&bridge, "x-2900000001", 1).await;
    sandbox.inject(Fault::new(Service::Twilio, 503).times(6));
    let started = std::time::Instant::now();
    let delivery = sandbox.customer_dm(CUSTOMER, "jordan_cust", "second").await;
    assert_eq!((delivery.status, delivery.attempts), (200, 1));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered without Twilio's retries: {:?}",
        started.elapsed()
    );
    let conversation = conversation_of(&bridge, "x-2900000001", 2).await;
    assert_eq!(bodies(&conversation), ["first", "second"]);
}

/// X redelivers an event after SQS's five-minute deduplication window (a new queue message):
/// the worker's claim drops it. And a worker killed mid-post leaves a claim that lapses before
/// SQS retries the message, so the retry posts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn x_redelivery_later_posts_once_and_a_killed_worker_is_retried() {
    let bridge = start("redelivery").await;
    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/x/aaa-v2-dm-inbound-text.json"
    ))
    .unwrap();
    assert_eq!(bridge.sandbox.deliver_x_webhook(&body, 2).await, [200, 200]);
    let conversation = conversation_with(&bridge, 1).await;
    let worker = worker_for(&bridge).await;
    let (_, redelivered) = record_of(&body, "redelivered-after-the-window");
    assert!(worker.handle_batch(vec![redelivered]).await.is_empty());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        bridge
            .sandbox
            .conversation(&conversation.sid)
            .unwrap()
            .messages
            .len(),
        1,
        "a redelivered event is not posted twice"
    );

    let sender = &conversation.participants[0].identity["x-".len()..];
    let (_, next) = bridge
        .sandbox
        .customer_dm_body(sender, "jordan_cust", "Still waiting");
    let (job, record) = record_of(&next, "killed-mid-post");
    // The killed invocation's claim, lapsed by the time SQS makes the message visible again.
    assert!(bridge
        .store
        .claim_event(&format!("x#{}", job.event_id), -1)
        .await
        .unwrap());
    assert!(worker.handle_batch(vec![record]).await.is_empty());
    let conversation = sandbox_conversation(&bridge, &conversation.sid);
    assert_eq!(conversation.messages.len(), 2);
    assert_eq!(conversation.messages[1].body, "Still waiting");
}

fn sandbox_conversation(bridge: &LocalBridge, sid: &str) -> ConversationView {
    bridge.sandbox.conversation(sid).expect("conversation")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dms_in_a_row_keep_their_order_per_customer() {
    dms_in_a_row_keep_order(start("order").await).await;
}

/// The same with the in-process queue, whose batches hold several DMs of one customer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dms_in_a_row_keep_their_order_with_multi_message_batches() {
    let bridge = LocalBridge::start(local::Backend::Memory, studio())
        .await
        .unwrap();
    dms_in_a_row_keep_order(bridge).await;
}

/// Two customers write in turns, six DMs each, without waiting, while Twilio fails for a while.
async fn dms_in_a_row_keep_order(bridge: LocalBridge) {
    let sandbox = &bridge.sandbox;
    let customers = [CUSTOMER, "2900000002"];
    sandbox.inject(Fault::new(Service::Twilio, 500).times(6));
    for i in 1..=6 {
        for customer in customers {
            let delivery = sandbox
                .customer_dm(customer, "cust", &format!("{customer} says {i}"))
                .await;
            assert_eq!((delivery.status, delivery.attempts), (200, 1));
        }
    }
    for customer in customers {
        let identity = format!("x-{customer}");
        let conversation = conversation_of(&bridge, &identity, 6).await;
        let expected: Vec<String> = (1..=6).map(|i| format!("{customer} says {i}")).collect();
        assert_eq!(bodies(&conversation), expected, "{identity}");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sandbox.conversations().len(), 2);
    for conversation in sandbox.conversations() {
        assert_eq!(conversation.messages.len(), 6, "nothing posted twice");
    }
}

/// The X Activity API, which alone delivers DMs after 2027-01-01: one event; a batch from two
/// customers with a malformed item, an echo, another account's event and XChat among them
/// (every DM posted, each customer's in order, nothing else); the batch again (nothing twice).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn x_activity_deliveries_post_every_dm_once_and_in_order() {
    let bridge = start("xaa").await;
    let sandbox = &bridge.sandbox;
    let other = "2900000002";

    let (_, single) = sandbox.x_activity_dm(CUSTOMER, "jordan_cust", "one event");
    assert_eq!(sandbox.deliver_x_activity(single).await, (200, 1));
    let first = conversation_of(&bridge, "x-2900000001", 1).await;
    assert!(
        first.attributes.contains("@jordan_cust"),
        "{}",
        first.attributes
    );

    let brand = sandbox.config().x_brand_account_id.clone();
    let (_, echo) = sandbox.x_activity_dm(&brand, "SandboxBrand", "Thanks for waiting!");
    let (_, mut foreign) = sandbox.x_activity_dm("2900000009", "elsewhere", "not ours");
    foreign["filter"]["user_id"] = "1514100000000000999".into();
    let xchat = sandbox.x_activity_event(
        "chat.received",
        serde_json::json!({"conversation_id": "XChat:1", "encoded_event": "AAEC"}),
    );
    let mut malformed = sandbox.x_activity_dm(other, "sam_other", "lost?").1;
    malformed["payload"]["direct_message_events"][0]["message_create"] = 7.into();
    let batch = serde_json::Value::Array(vec![
        sandbox.x_activity_dm(CUSTOMER, "jordan_cust", "second").1,
        echo,
        sandbox.x_activity_dm(other, "sam_other", "hello from B").1,
        malformed,
        foreign,
        xchat,
        sandbox.x_activity_dm(CUSTOMER, "jordan_cust", "third").1,
        sandbox.x_activity_dm(other, "sam_other", "B again").1,
    ]);
    assert_eq!(sandbox.deliver_x_activity(batch.clone()).await, (200, 1));
    let a = conversation_of(&bridge, "x-2900000001", 3).await;
    let b = conversation_of(&bridge, "x-2900000002", 2).await;
    assert_eq!(a.sid, first.sid);
    assert_eq!(bodies(&a), ["one event", "second", "third"]);
    assert_eq!(bodies(&b), ["hello from B", "B again"]);

    assert_eq!(sandbox.deliver_x_activity(batch).await, (200, 1));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        sandbox.conversations().len(),
        2,
        "no conversation for the others"
    );
    assert_eq!(bodies(&sandbox_conversation(&bridge, &a.sid)).len(), 3);
    assert_eq!(bodies(&sandbox_conversation(&bridge, &b.sid)).len(), 2);
    assert!(sandbox.dms_to("2900000009").is_empty());
}

/// XChat alone: acknowledged, counted, and nothing reaches Twilio.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn xchat_events_are_acknowledged_and_never_reach_flex() {
    let bridge = start("xchat").await;
    let sandbox = &bridge.sandbox;
    let chat =
        |kind: &str| sandbox.x_activity_event(kind, serde_json::json!({"encoded_event": "AAEC"}));
    let data = serde_json::json!([chat("chat.received"), chat("chat.conversation.join")]);
    assert_eq!(sandbox.deliver_x_activity(data).await, (200, 1));
    assert_eq!(
        sandbox.deliver_x_activity(chat("chat.received")).await,
        (200, 1)
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sandbox.request_count(Service::Twilio), 0);
    assert!(sandbox.conversations().is_empty());
}

/// The CRC endpoint signs only tokens of X's form: a DM body, an empty or an over-long token
/// is refused with 400, so it cannot be used to sign a forged delivery.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_crc_endpoint_is_not_a_signing_oracle() {
    let bridge = start("crc-oracle").await;
    let client = flex_bridge::http::http_client();
    let url = format!("{}/twitter/webhook", bridge.url);
    let (_, dm_body) = bridge
        .sandbox
        .customer_dm_body(CUSTOMER, "jordan_cust", "forged");
    let dm_body = String::from_utf8(dm_body).unwrap();
    for token in [dm_body.as_str(), "", &"A".repeat(129), "short"] {
        let answer = client
            .get(&url)
            .query(&[("crc_token", token)])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 400, "{token:?}");
        let body: serde_json::Value = answer.json().await.unwrap();
        assert!(body.get("response_token").is_none(), "{body}");
    }
    // What a forger would then post: the DM body under a signature made some other way fails.
    let forged = client
        .post(&url)
        .header(flex_bridge::x::signature::HEADER, "sha256=AAAA")
        .body(dm_body)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(bridge.sandbox.conversations().is_empty());
}

/// A bridge with public mentions on (`X_MENTIONS`).
async fn with_mentions(name: &str, mode: MentionMode) -> LocalBridge {
    start_with(
        name,
        local::Options {
            x_mentions: mode,
            ..studio()
        },
    )
    .await
}

fn public_post(post_id: &str, text: &str) -> String {
    format!("[Public post on X: https://x.com/i/web/status/{post_id}] {text}")
}

/// `notify`: each mention joins the author's conversation with its link, the same mention twice
/// is posted once, and the author gets one DM inviting them however many mentions they post;
/// the agent's answer goes by DM, never publicly.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn notify_posts_mentions_to_the_authors_conversation_and_invites_by_dm_once() {
    let bridge = with_mentions("mentions-notify", MentionMode::Notify).await;
    let sandbox = &bridge.sandbox;
    let (first, mention) =
        sandbox.x_activity_mention(CUSTOMER, "jordan_cust", "@SandboxBrand my order never came");
    assert_eq!(sandbox.deliver_x_activity(mention.clone()).await, (200, 1));
    assert_eq!(
        sandbox.deliver_x_activity(mention).await,
        (200, 1),
        "X redelivers it"
    );
    let conversation = conversation_of(&bridge, "x-2900000001", 1).await;
    assert!(
        conversation.attributes.contains("@jordan_cust"),
        "{}",
        conversation.attributes
    );
    assert_eq!(
        conversation.messages[0].author, "x-2900000001",
        "the customer's own message"
    );
    assert!(conversation.messages[0].webhook_enabled);
    assert_eq!(
        dms(&bridge, CUSTOMER, 1).await,
        [flex_bridge::x::mentions::DEFAULT_DM_TEXT]
    );

    let (second, mention) =
        sandbox.x_activity_mention(CUSTOMER, "jordan_cust", "@SandboxBrand still nothing?");
    assert_eq!(sandbox.deliver_x_activity(mention).await, (200, 1));
    let conversation = conversation_of(&bridge, "x-2900000001", 2).await;
    assert_eq!(
        bodies(&conversation),
        [
            public_post(&first, "@SandboxBrand my order never came"),
            public_post(&second, "@SandboxBrand still nothing?"),
        ]
    );
    sandbox
        .agent_message(
            &conversation.sid,
            "sam@acme.example",
            "Sorry! Let me check.",
        )
        .await
        .unwrap();
    let sent = dms(&bridge, CUSTOMER, 3).await;
    assert_eq!(sent[0], flex_bridge::x::mentions::DEFAULT_DM_TEXT);
    assert_eq!(sent[2], "Sorry! Let me check.", "{sent:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        sandbox
            .dms_to(CUSTOMER)
            .iter()
            .filter(|t| *t == flex_bridge::x::mentions::DEFAULT_DM_TEXT)
            .count(),
        1,
        "one invitation per author per 24 h"
    );
    assert!(sandbox.x_posts().is_empty(), "nothing is posted publicly");
    assert_eq!(sandbox.conversations().len(), 1);
    assert_eq!(
        sandbox_conversation(&bridge, &conversation.sid)
            .messages
            .len(),
        3
    );
}

/// `reply`: one public reply per author per 24 h, with the configured text (no URL), to the
/// first post; each author gets their own; no DM.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reply_invites_each_author_with_one_public_reply_without_a_url() {
    let bridge = with_mentions("mentions-reply", MentionMode::Reply).await;
    let sandbox = &bridge.sandbox;
    let other = "2900000002";
    let (first, mention) =
        sandbox.x_activity_mention(CUSTOMER, "jordan_cust", "@SandboxBrand help");
    let (_, again) = sandbox.x_activity_mention(CUSTOMER, "jordan_cust", "@SandboxBrand hello??");
    let (theirs, other_mention) =
        sandbox.x_activity_mention(other, "sam_other", "@SandboxBrand hi");
    assert_eq!(
        sandbox
            .deliver_x_activity(serde_json::json!([mention.clone(), other_mention]))
            .await,
        (200, 1)
    );
    assert_eq!(sandbox.deliver_x_activity(again).await, (200, 1));
    assert_eq!(sandbox.deliver_x_activity(mention).await, (200, 1));
    let a = conversation_of(&bridge, "x-2900000001", 2).await;
    let b = conversation_of(&bridge, "x-2900000002", 1).await;
    assert_eq!(bodies(&a)[0], public_post(&first, "@SandboxBrand help"));
    assert_eq!(bodies(&b), [public_post(&theirs, "@SandboxBrand hi")]);
    let replies = wait_for(WAIT, || Some(sandbox.x_posts()).filter(|p| p.len() >= 2))
        .await
        .expect("two replies");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let posts = sandbox.x_posts();
    assert_eq!(posts.len(), 2, "one per author: {posts:?}");
    assert_eq!(sandbox.x_replies_to(&first).len(), 1);
    assert_eq!(sandbox.x_replies_to(&theirs).len(), 1);
    for reply in &replies {
        assert_eq!(reply.text, flex_bridge::x::mentions::DEFAULT_REPLY_TEXT);
        assert!(!flex_bridge::x::mentions::has_url(&reply.text));
    }
    assert!(sandbox.dms_to(CUSTOMER).is_empty() && sandbox.dms_to(other).is_empty());
    assert_eq!(
        bodies(&sandbox_conversation(&bridge, &a.sid)).len(),
        2,
        "the duplicate once"
    );
}

/// The brand's own post and a repost are not mentions; and with `X_MENTIONS` off (the
/// default) a mention costs nothing either.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_brands_own_posts_reposts_and_mentions_when_off_cost_nothing() {
    let bridge = with_mentions("mentions-ignored", MentionMode::Notify).await;
    let sandbox = &bridge.sandbox;
    let brand = sandbox.config().x_brand_account_id.clone();
    let (_, own) = sandbox.x_activity_mention(&brand, "SandboxBrand", "@SandboxBrand news");
    let (original, _) = sandbox.x_activity_mention(&brand, "SandboxBrand", "news");
    let (_, mut repost) =
        sandbox.x_activity_mention(CUSTOMER, "jordan_cust", "RT @SandboxBrand: news");
    repost["payload"]["referenced_posts"] =
        serde_json::json!([{"type": "retweeted", "id": original}]);
    assert_eq!(
        sandbox
            .deliver_x_activity(serde_json::json!([own, repost]))
            .await,
        (200, 1)
    );

    let off = start("mentions-off").await;
    let (_, mention) = off
        .sandbox
        .x_activity_mention(CUSTOMER, "jordan_cust", "@SandboxBrand hi");
    assert_eq!(off.sandbox.deliver_x_activity(mention).await, (200, 1));

    tokio::time::sleep(Duration::from_millis(800)).await;
    for bridge in [&bridge, &off] {
        assert!(bridge.sandbox.conversations().is_empty());
        assert_eq!(bridge.sandbox.request_count(Service::Twilio), 0);
        assert!(bridge.sandbox.dms_to(CUSTOMER).is_empty());
        assert!(bridge.sandbox.x_posts().is_empty());
    }
}

/// The author's DMs are closed: X refuses the invitation (403) once, the agent gets one note
/// in the conversation, nothing is retried, and the author's next mention is posted without
/// another attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn closed_dms_leave_one_note_for_the_agent_and_no_retries() {
    let bridge = with_mentions("mentions-closed", MentionMode::Notify).await;
    let sandbox = &bridge.sandbox;
    sandbox.set_x_dms_closed(CUSTOMER, true);
    let (first, mention) =
        sandbox.x_activity_mention(CUSTOMER, "jordan_cust", "@SandboxBrand help");
    assert_eq!(sandbox.deliver_x_activity(mention).await, (200, 1));
    let conversation = conversation_of(&bridge, "x-2900000001", 2).await;
    assert_eq!(
        bodies(&conversation)[0],
        public_post(&first, "@SandboxBrand help")
    );
    let note = &conversation.messages[1];
    assert_eq!(note.author, "Flex Bridge");
    assert!(
        note.body.contains("DMs are closed")
            && note.body.contains("403")
            && note.body.contains(&first),
        "{}",
        note.body
    );
    assert!(
        !note.webhook_enabled,
        "notes must not loop back into delivery"
    );

    let (second, mention) =
        sandbox.x_activity_mention(CUSTOMER, "jordan_cust", "@SandboxBrand anyone?");
    assert_eq!(sandbox.deliver_x_activity(mention).await, (200, 1));
    let conversation = conversation_of(&bridge, "x-2900000001", 3).await;
    assert_eq!(
        bodies(&conversation)[2],
        public_post(&second, "@SandboxBrand anyone?")
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        sandbox.x_refused_dms(CUSTOMER),
        1,
        "one attempt, no retry storm"
    );
    assert_eq!(
        sandbox_conversation(&bridge, &conversation.sid)
            .messages
            .len(),
        3,
        "one note"
    );
    assert!(sandbox.dms_to(CUSTOMER).is_empty());
}

/// With the virtual agent in front (`ROUTING=bot`, the default), a public mention is for the
/// agent, not the bot: it reaches Flex, its author gets the one invitation, and no bot answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_bot_does_not_answer_public_mentions() {
    let bridge = start_with(
        "mentions-bot",
        local::Options {
            x_mentions: MentionMode::Notify,
            ..local::Options::default()
        },
    )
    .await;
    let sandbox = &bridge.sandbox;
    let (post, mention) = sandbox.x_activity_mention(
        CUSTOMER,
        "jordan_cust",
        "@SandboxBrand how do i reset my password",
    );
    assert_eq!(sandbox.deliver_x_activity(mention).await, (200, 1));
    let conversation = conversation_of(&bridge, "x-2900000001", 1).await;
    assert_eq!(
        bodies(&conversation),
        [public_post(
            &post,
            "@SandboxBrand how do i reset my password"
        )]
    );
    assert_eq!(
        dms(&bridge, CUSTOMER, 1).await,
        [flex_bridge::x::mentions::DEFAULT_DM_TEXT]
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(sandbox.dms_to(CUSTOMER).len(), 1, "no bot answer by DM");
    assert_eq!(
        sandbox_conversation(&bridge, &conversation.sid)
            .messages
            .len(),
        1,
        "no bot line either"
    );
}
