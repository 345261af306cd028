//! Retries that must not repeat what the customer or agent already saw: a `/helpme` whose
//! confirmation DM failed, and an agent message split into several X DMs whose later part
//! failed. Each step is recorded once done (`flex_bridge::idempotency::STEP`).

use std::time::Duration;

use crate::common::*;
use flex_bridge::x::MAX_DM_CHARS;
use local::{wait_for, Options};
use sandbox::{DiscordUser, Fault, Service};

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

/// Discord's invalid request limit, made small (2 refusals per 6 s): two customers whose DMs
/// closed spend it, and the agent's answer to a third customer, whose DMs are open, is not sent
/// until the window has passed; then it arrives once, with no note and nothing in the DLQ.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_spent_invalid_request_budget_holds_discord_deliveries_on_the_queue() {
    const WINDOW: Duration = Duration::from_secs(6);
    let bridge = start_with(
        "discord-invalid",
        Options {
            discord_invalid_requests: Some((2, WINDOW)),
            ..studio()
        },
    )
    .await;
    let sandbox = &bridge.sandbox;
    let user = |n: u8| DiscordUser {
        id: format!("80000000000000010{n}"),
        username: format!("player{n}"),
    };
    let mut chats = Vec::new();
    for n in 1..=3 {
        let reply = sandbox
            .discord_command(&user(n), true, "helpme", &[("question", "hello")])
            .await;
        assert_eq!(reply.status, 200);
        wait_for(WAIT, || sandbox.discord_original(&reply.token))
            .await
            .expect("worker done");
        let dm = sandbox.discord_dm_channel(&user(n).id).unwrap();
        let identity = format!("discord-{}", user(n).id);
        let sid = wait_for(WAIT, || {
            sandbox
                .conversations()
                .into_iter()
                .find(|c| c.participants.iter().any(|p| p.identity == identity))
        })
        .await
        .expect("conversation")
        .sid;
        chats.push((sid, dm));
    }
    for n in 1..=2 {
        sandbox.set_discord_dms_closed(&user(n).id, true);
    }
    let start = std::time::Instant::now();
    for (sid, _) in &chats[..2] {
        sandbox
            .agent_message(sid, "sam@acme.example", "Hi")
            .await
            .unwrap();
    }
    for (sid, _) in &chats[..2] {
        wait_for(WAIT, || {
            sandbox
                .conversation(sid)
                .filter(|c| c.messages.iter().any(|m| m.author == "Flex Bridge"))
        })
        .await
        .expect("the refusal noted");
    }
    let (sid, dm) = &chats[2];
    sandbox
        .agent_message(sid, "sam@acme.example", "For you")
        .await
        .unwrap();
    let delivered = wait_for(WAIT, || {
        Some(sandbox.discord_messages(dm)).filter(|m| m.iter().any(|m| m.content == "For you"))
    })
    .await
    .expect("delivered once the window passed");
    assert!(
        start.elapsed() >= WINDOW,
        "sent {:?} after the first refusal, inside the window",
        start.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let contents: Vec<String> = sandbox
        .discord_messages(dm)
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(contents.len(), delivered.len());
    assert_eq!(contents[1..], ["An agent joined the chat.", "For you"]);
    let conversation = sandbox.conversation(sid).unwrap();
    assert!(
        conversation
            .messages
            .iter()
            .all(|m| m.author != "Flex Bridge"),
        "no note: {:#?}",
        bodies(&conversation)
    );
}

fn lens(dms: &[String]) -> Vec<usize> {
    dms.iter().map(|d| d.chars().count()).collect()
}
