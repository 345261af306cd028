//! Retries that must not repeat what the customer or agent already saw: a `/helpme` whose
//! confirmation DM failed, and an agent message split into several X DMs whose later part
//! failed. Each step is recorded once done (`shared::idempotency::STEP`).

mod common;

use common::*;
use local::wait_for;
use sandbox::{DiscordUser, Fault, Service};
use shared::x::MAX_DM_CHARS;

fn customer() -> DiscordUser {
    DiscordUser {
        id: "800000000000000077".into(),
        username: "river".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_helpme_retried_after_its_confirmation_failed_posts_the_question_once() {
    let bridge = start("helpme-retry").await;
    let sandbox = &bridge.sandbox;
    // Every try of the first job's confirmation DM fails (the client tries 4 times); the
    // queue's retry then succeeds.
    sandbox.inject(
        Fault::new(Service::Discord, 500)
            .path_prefix("/api/v10/channels")
            .times(4),
    );
    let reply = sandbox
        .discord_command(
            &customer(),
            true,
            "helpme",
            &[("question", "My sword vanished")],
        )
        .await;
    assert_eq!(reply.status, 200);
    let edited = wait_for(WAIT, || sandbox.discord_original(&reply.token))
        .await
        .expect("the deferred reply is edited once the retry succeeds");
    assert_eq!(edited, "Thanks! We'll answer in your DMs.");
    let dm = sandbox.discord_dm_channel(&customer().id).unwrap();
    let confirmations = sandbox.discord_messages(&dm);
    assert_eq!(confirmations.len(), 1, "{confirmations:?}");
    assert!(confirmations[0].content.contains("My sword vanished"));

    let conversation = conversation_with(&bridge, 1).await;
    assert_eq!(
        bodies(&conversation),
        ["My sword vanished"],
        "the retry did not post the question again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_long_agent_message_retried_after_a_later_part_failed_sends_each_part_once() {
    let bridge = start("split-retry").await;
    let sandbox = &bridge.sandbox;
    sandbox
        .customer_dm(CUSTOMER, "jordan_cust", "Tell me everything")
        .await;
    let sid = conversation_with(&bridge, 1).await.sid;
    sandbox
        .agent_joins(&sid, "sam@acme.example", "Sam Rivera")
        .await
        .unwrap();
    dms(&bridge, CUSTOMER, 1).await;

    // Two parts: the first goes through, every try of the second fails this round.
    let long = format!("{} {}", "a".repeat(MAX_DM_CHARS - 1), "b".repeat(50));
    sandbox.inject(
        Fault::new(Service::X, 500)
            .path_prefix("/2/dm_conversations")
            .after(1)
            .times(4),
    );
    sandbox
        .agent_message(&sid, "sam@acme.example", &long)
        .await
        .unwrap();
    let sent = dms(&bridge, CUSTOMER, 3).await;
    // Let any further (wrong) resend arrive before counting.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let sent_now = sandbox.dms_to(CUSTOMER);
    assert_eq!(
        sent_now.len(),
        3,
        "joined notice, part 1, part 2: {:?}",
        lens(&sent_now)
    );
    assert_eq!(sent[1].chars().count(), MAX_DM_CHARS);
    assert!(sent[1].starts_with("aaaa"));
    assert_eq!(sent[2], "b".repeat(50));
}

fn lens(dms: &[String]) -> Vec<usize> {
    dms.iter().map(|d| d.chars().count()).collect()
}
