//! The brand's X DM budget, end to end: the sandbox's X reports its windows on every DM as X does
//! (`x-rate-limit-*`, `x-user-limit-24hour-*`), the bridge keeps the last report in DynamoDB
//! (moto) and weighs every DM against it.

use std::time::Duration;

use crate::common::*;
use local::{wait_for, LocalBridge, Options};
use sandbox::Service;

fn bridge_notes(bridge: &LocalBridge, sid: &str) -> Vec<String> {
    notes(&bridge.sandbox.conversation(sid).expect("the conversation"))
}

/// X's 24-hour window is spent: X refuses the first DM (429), and the agent's messages wait on
/// their queue for the reset X named, in order; then each arrives once. The agent is told once,
/// with the time; X is asked once before the reset (no retry storm); nothing reaches the DLQ.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_spent_budget_holds_agent_messages_until_the_reset_then_each_arrives_once() {
    let bridge = start("x-budget-spent").await;
    let sandbox = &bridge.sandbox;
    sandbox
        .customer_dm(CUSTOMER, "jordan_cust", "Where is my order?")
        .await;
    let sid = conversation_with(&bridge, 1).await.sid;
    sandbox.set_x_dm_day(1000, 0, 8);
    sandbox.reset_counts();
    for text in ["Hi, I'm Sam", "Let me check", "It ships today"] {
        sandbox
            .agent_message(&sid, "sam@acme.example", text)
            .await
            .unwrap();
    }
    let note = wait_for(WAIT, || bridge_notes(&bridge, &sid).into_iter().next())
        .await
        .expect("the agent is told");
    assert!(
        note.contains("X's DM limit") && note.contains("UTC"),
        "{note}"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        sandbox.dms_to(CUSTOMER).is_empty(),
        "nothing before the reset"
    );
    assert_eq!(sandbox.request_count(Service::X), 1, "X is asked once");

    let sent = dms(&bridge, CUSTOMER, 4).await;
    assert_eq!(
        sent,
        [
            "An agent joined the chat.",
            "Hi, I'm Sam",
            "Let me check",
            "It ships today"
        ]
    );
    assert_eq!(
        drained_delivery_queue(&bridge).await,
        0,
        "nothing in the DLQ"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sandbox.dms_to(CUSTOMER).len(), 4, "each once");
    assert_eq!(
        sandbox.request_count(Service::X),
        5,
        "one refusal, four DMs"
    );
    assert_eq!(bridge_notes(&bridge, &sid).len(), 1, "one note");
}

/// Nearly spent (80 of 1,000 left): agents' messages and the notices the customer needs still
/// go; a transfer's second "joined" and the thanks for a rating are dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_low_budget_drops_what_the_customer_can_do_without() {
    let bridge = start_with("x-budget-low", Options::default()).await;
    let sandbox = &bridge.sandbox;
    sandbox.set_x_dm_day(1000, 80, 3600);
    let task = handed_off_on_x(&bridge, "my account is locked").await;
    sandbox
        .accept_task(&task.sid, "sam@acme.example", "Sam Rivera")
        .await
        .unwrap();
    sandbox.task_reply(&task.sid, "Hi, I'm Sam.").await.unwrap();
    dms(&bridge, CUSTOMER, 4).await;
    sandbox
        .agent_joins(&task.conversation_sid, "alex@acme.example", "Alex Kim")
        .await
        .unwrap();
    sandbox
        .agent_message(
            &task.conversation_sid,
            "alex@acme.example",
            "Alex here, taking over.",
        )
        .await
        .unwrap();
    dms(&bridge, CUSTOMER, 5).await;
    sandbox.complete_task(&task.sid).await.unwrap();
    let sent = dms(&bridge, CUSTOMER, 6).await;
    assert!(sent[5].starts_with("This chat has ended."), "{sent:?}");
    sandbox.customer_dm(CUSTOMER, "jordan_cust", "5").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    let rated = loop {
        let case = bridge
            .store
            .case(&flex_bridge::cases::CaseId::new(1001))
            .await
            .unwrap();
        if let Some(case) = case.filter(|c| c.satisfaction.is_some()) {
            break case;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the rating is stored"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(rated.satisfaction.map(|s| s.score), Some(5));
    assert_eq!(drained_delivery_queue(&bridge).await, 0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent = sandbox.dms_to(CUSTOMER);
    assert_eq!(sent.len(), 6, "{sent:#?}");
    assert_eq!(
        sent[2..5],
        [
            "Sam joined the chat.",
            "Hi, I'm Sam.",
            "Alex here, taking over."
        ],
        "no second joined"
    );
    assert!(
        !sent.iter().any(|dm| dm.starts_with("Thanks")),
        "no thanks for the rating: {sent:#?}"
    );
    let budget = bridge.store.dm_budget().await.unwrap().expect("kept");
    assert_eq!(budget.user_day.map(|w| w.remaining), Some(74));
}

/// Nearly spent (2 left today): the agent's first two messages go, and the third waits for the
/// reset without X being asked: the bridge knows from X's last report that nothing is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_nearly_spent_budget_holds_what_x_would_refuse_without_asking_x() {
    let bridge = start("x-budget-nearly").await;
    let sandbox = &bridge.sandbox;
    sandbox
        .customer_dm(CUSTOMER, "jordan_cust", "Where is my order?")
        .await;
    let sid = conversation_with(&bridge, 1).await.sid;
    sandbox
        .agent_joins(&sid, "sam@acme.example", "Sam Rivera")
        .await
        .unwrap();
    dms(&bridge, CUSTOMER, 1).await;
    sandbox.set_x_dm_day(1000, 2, 8);
    sandbox.reset_counts();
    for text in ["Hi, I'm Sam", "Let me check", "It ships today"] {
        sandbox
            .agent_message(&sid, "sam@acme.example", text)
            .await
            .unwrap();
    }
    let note = wait_for(WAIT, || bridge_notes(&bridge, &sid).into_iter().next())
        .await
        .expect("the agent is told");
    assert!(note.contains("It ships today"), "{note}");
    assert_eq!(
        sandbox.dms_to(CUSTOMER)[1..],
        ["Hi, I'm Sam", "Let me check"]
    );
    assert_eq!(
        sandbox.request_count(Service::X),
        2,
        "X is not asked a third time"
    );
    let sent = dms(&bridge, CUSTOMER, 4).await;
    assert_eq!(sent[3], "It ships today", "after the reset");
    assert_eq!(
        drained_delivery_queue(&bridge).await,
        0,
        "nothing in the DLQ"
    );
    assert_eq!(sandbox.request_count(Service::X), 3, "no refusal at all");
    assert_eq!(bridge_notes(&bridge, &sid).len(), 1);
}
