//! Shared set-up for the end-to-end tests: a bridge on DynamoDB + SQS (moto server at
//! `AWS_ENDPOINT_URL`, started by `make test`) with the sandbox playing Twilio and X.
#![allow(dead_code)]

use std::time::Duration;

use flex_bridge::routing::Routing;
use local::{wait_for, Backend, LocalBridge, Options};
use sandbox::ConversationView;

pub const CUSTOMER: &str = "2900000001";
pub const WAIT: Duration = Duration::from_secs(20);

/// A bridge routing through a Studio flow (`ROUTING=studio`): no bot, the behaviour these
/// tests were written for. The bot's own tests start with [`Options::default`].
pub async fn start(name: &str) -> LocalBridge {
    start_with(name, studio()).await
}

pub fn studio() -> Options {
    Options {
        routing: Routing::Studio {
            flow_sid: "FW00000000000000000000000000000001".into(),
        },
        ..Options::default()
    }
}

pub async fn start_with(name: &str, options: Options) -> LocalBridge {
    let _ = tracing_subscriber_init();
    let prefix = format!("{name}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    LocalBridge::start(Backend::Aws { prefix }, options)
        .await
        .unwrap_or_else(|e| panic!("could not start the bridge: {e}"))
}

fn tracing_subscriber_init() -> Option<()> {
    if std::env::var("RUST_LOG").is_ok() {
        flex_bridge_lambda::telemetry::init_text();
    }
    Some(())
}

/// The one conversation the sandbox holds, once it has `messages` messages.
pub async fn conversation_with(bridge: &LocalBridge, messages: usize) -> ConversationView {
    wait_for(WAIT, || {
        bridge
            .sandbox
            .conversations()
            .into_iter()
            .find(|c| c.messages.len() >= messages)
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "no conversation with {messages} messages: {:#?}",
            bridge.sandbox.conversations()
        )
    })
}

/// The customer's X DMs, once there are `count` of them.
pub async fn dms(bridge: &LocalBridge, user: &str, count: usize) -> Vec<String> {
    wait_for(WAIT, || {
        Some(bridge.sandbox.dms_to(user)).filter(|d| d.len() >= count)
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "expected {count} DMs, got {:?}",
            bridge.sandbox.dms_to(user)
        )
    })
}

pub fn bodies(conversation: &ConversationView) -> Vec<String> {
    conversation
        .messages
        .iter()
        .map(|m| m.body.clone())
        .collect()
}

/// The custom ids of a message's buttons, row by row.
pub fn button_ids(components: &serde_json::Value) -> Vec<String> {
    let mut ids = Vec::new();
    for row in components.as_array().into_iter().flatten() {
        for button in row["components"].as_array().into_iter().flatten() {
            ids.extend(button["custom_id"].as_str().map(str::to_owned));
        }
    }
    ids
}

/// The sandbox's Flex tasks, once there are `count`.
pub async fn tasks(bridge: &LocalBridge, count: usize) -> Vec<sandbox::TaskView> {
    wait_for(WAIT, || {
        Some(bridge.sandbox.tasks()).filter(|t| t.len() >= count)
    })
    .await
    .unwrap_or_else(|| panic!("expected {count} task(s): {:#?}", bridge.sandbox.tasks()))
}

/// The X customer asks the bot `question`, gets its answer, then asks for an agent: the Flex
/// task of the hand-off.
pub async fn handed_off_on_x(bridge: &LocalBridge, question: &str) -> sandbox::TaskView {
    let sandbox = &bridge.sandbox;
    sandbox.customer_dm(CUSTOMER, "jordan_cust", question).await;
    dms(bridge, CUSTOMER, 1).await;
    sandbox
        .customer_dm(CUSTOMER, "jordan_cust", "agent please")
        .await;
    tasks(bridge, 1).await.remove(0)
}

/// Waits until the delivery queue holds nothing (in flight or waiting), then returns what its
/// dead-letter queue holds.
pub async fn drained_delivery_queue(bridge: &LocalBridge) -> usize {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let aws = bridge.aws.as_ref().expect("on moto");
    let count = |url: String| async move {
        let attributes = aws
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap_or_default();
        [
            A::ApproximateNumberOfMessages,
            A::ApproximateNumberOfMessagesNotVisible,
        ]
        .iter()
        .filter_map(|a| attributes.get(a)?.parse::<usize>().ok())
        .sum::<usize>()
    };
    let deadline = tokio::time::Instant::now() + WAIT;
    while count(aws.queue_url.clone()).await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the delivery queue never drained"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    count(aws.queue_url.replace(".fifo", "-dlq.fifo")).await
}

/// The bridge's notes for the agent in a conversation.
pub fn notes(conversation: &ConversationView) -> Vec<String> {
    conversation
        .messages
        .iter()
        .filter(|m| m.author == "Flex Bridge")
        .map(|m| m.body.clone())
        .collect()
}
