//! X DMs per conversation: how many DMs the brand account spends on one standard journey, and
//! how many of them are the bridge's own beyond what the agent wrote. The journey: a question
//! the bot answers, the customer asks for a person, an agent accepts and writes three messages,
//! the chat ends, the customer rates it. Run once with X's DM budget plentiful and once with it
//! low (80 of 1,000 left for the day), on the whole bridge (real handlers, DynamoDB and SQS on
//! moto, the sandbox playing Twilio, Flex and X). Run with `make bench`; printed, never asserted.

use std::time::Duration;

use local::{wait_for, Backend, LocalBridge, Options};

const CUSTOMER: &str = "2900000001";
const AGENT_MESSAGES: [&str; 3] = [
    "Hi, I'm Sam. Let's get you back in.",
    "I've sent a reset link to your email.",
    "You're all set. Anything else?",
];
const WAIT: Duration = Duration::from_secs(30);

async fn dms(bridge: &LocalBridge, count: usize) -> Vec<String> {
    wait_for(WAIT, || {
        Some(bridge.sandbox.dms_to(CUSTOMER)).filter(|d| d.len() >= count)
    })
    .await
    .unwrap_or_else(|| panic!("{count} DMs: {:#?}", bridge.sandbox.dms_to(CUSTOMER)))
}

/// One journey; returns every DM the customer received, in order.
async fn journey(day_left: Option<u32>) -> Vec<String> {
    let prefix = format!(
        "bench-journey-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let bridge = LocalBridge::start(Backend::Aws { prefix }, Options::default())
        .await
        .expect("bridge");
    let sandbox = &bridge.sandbox;
    if let Some(left) = day_left {
        sandbox.set_x_dm_day(1000, left, 3600);
    }
    sandbox
        .customer_dm(
            CUSTOMER,
            "jordan_cust",
            "i forgot my password how do i reset it",
        )
        .await;
    dms(&bridge, 1).await;
    sandbox
        .customer_dm(CUSTOMER, "jordan_cust", "agent please")
        .await;
    let task = wait_for(WAIT, || sandbox.tasks().into_iter().next())
        .await
        .expect("a task");
    sandbox
        .accept_task(&task.sid, "sam@acme.example", "Sam Rivera")
        .await
        .expect("accepted");
    for text in AGENT_MESSAGES {
        sandbox.task_reply(&task.sid, text).await.expect("sent");
    }
    wait_for(WAIT, || {
        let sent = sandbox.dms_to(CUSTOMER);
        sent.iter().any(|dm| dm == AGENT_MESSAGES[2]).then_some(())
    })
    .await
    .expect("the agent's messages");
    sandbox.complete_task(&task.sid).await.expect("completed");
    wait_for(WAIT, || {
        let sent = sandbox.dms_to(CUSTOMER);
        sent.iter()
            .any(|dm| dm.starts_with("This chat has ended"))
            .then_some(())
    })
    .await
    .expect("the chat ended");
    sandbox.customer_dm(CUSTOMER, "jordan_cust", "5").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let case = bridge
            .store
            .case(&flex_bridge::cases::CaseId::new(1001))
            .await
            .expect("store");
        if case.is_some_and(|c| c.satisfaction.is_some()) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the rating is stored"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Whatever the rating makes the bridge send, and anything late.
    tokio::time::sleep(Duration::from_secs(2)).await;
    sandbox.dms_to(CUSTOMER)
}

#[tokio::main]
async fn main() {
    println!("X DMs per conversation (question, bot answer, ask for a person, 3 agent messages, close, rating)\n");
    println!("| X's DM budget | DMs to the customer | the agent's | the bridge's own (overhead) |");
    println!("| --- | --- | --- | --- |");
    let mut journeys = Vec::new();
    for (label, day_left) in [("plentiful", None), ("low (80 of 1,000 left)", Some(80))] {
        let sent = journey(day_left).await;
        let agent = sent
            .iter()
            .filter(|dm| AGENT_MESSAGES.contains(&dm.as_str()))
            .count();
        println!(
            "| {label} | {} | {agent} | {} |",
            sent.len(),
            sent.len() - agent
        );
        journeys.push((label, sent));
    }
    for (label, sent) in journeys {
        println!("\n{label}:");
        for dm in sent {
            println!("  - {}", dm.lines().next().unwrap_or_default());
        }
    }
}
