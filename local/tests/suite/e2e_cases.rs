//! Cases end to end: a support case from the hand-off to its resolution and the customer's
//! satisfaction score, on X and on Discord; customers listing their own cases; an operator
//! resolving a bug and the reporter told through an outage. Real handlers over HTTP, DynamoDB
//! and SQS on moto server, the sandbox playing X, Discord, Twilio and Flex.

use std::time::Duration;

use crate::common::*;
use flex_bridge::cases::{self, CaseKind, CaseStatus, NewCase};
use local::{wait_for, LocalBridge, Options};
use sandbox::{DiscordUser, Service, TaskView};

async fn bot(name: &str) -> LocalBridge {
    start_with(name, Options::default()).await
}

async fn task(bridge: &LocalBridge) -> TaskView {
    tasks(bridge, 1).await.remove(0)
}

async fn case_with(bridge: &LocalBridge, id: &str, status: CaseStatus) -> cases::Case {
    let store = bridge.store.clone();
    for _ in 0..200 {
        if let Some(case) = store.case(&id.parse().unwrap()).await.unwrap() {
            if case.status == status {
                return case;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "{id} never became {status:?}: {:?}",
        store.case(&id.parse().unwrap()).await.unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_x_a_support_case_goes_from_handoff_to_resolved_with_a_score() {
    let bridge = bot("case-x").await;
    let sandbox = &bridge.sandbox;
    let task = handed_off_on_x(&bridge, "my account is locked").await;
    let open = case_with(&bridge, "CS-1001", CaseStatus::Open).await;
    assert_eq!(open.kind, CaseKind::Support);
    assert_eq!(open.title, "my account is locked");
    assert_eq!(open.reporter, format!("x-{CUSTOMER}"));
    assert_eq!(
        open.conversations,
        std::slice::from_ref(&task.conversation_sid)
    );
    assert!(
        open.details.contains("Customer: agent please"),
        "{}",
        open.details
    );

    sandbox
        .accept_task(&task.sid, "sam@acme.example", "Sam Rivera")
        .await
        .unwrap();
    let started = case_with(&bridge, "CS-1001", CaseStatus::InProgress).await;
    assert_eq!(started.timeline.last().unwrap().by, "Sam");
    sandbox.task_reply(&task.sid, "Unlocked!").await.unwrap();
    sandbox.complete_task(&task.sid).await.unwrap();
    case_with(&bridge, "CS-1001", CaseStatus::Resolved).await;
    let sent = dms(&bridge, CUSTOMER, 5).await;
    assert!(sent[4].starts_with("This chat has ended."), "{sent:?}");
    assert!(
        sent[4].ends_with("Reply with a number from 1 (poor) to 5 (great)."),
        "{sent:?}"
    );

    // The answer is stored on the case; a second one is thanked and changes nothing; neither
    // opens a conversation.
    sandbox.customer_dm(CUSTOMER, "jordan_cust", "4").await;
    let sent = dms(&bridge, CUSTOMER, 6).await;
    assert_eq!(sent[5], "Thanks for your feedback on CS-1001!");
    sandbox.customer_dm(CUSTOMER, "jordan_cust", "1").await;
    let sent = dms(&bridge, CUSTOMER, 7).await;
    assert_eq!(sent[6], "Thanks! We already have your rating for CS-1001.");
    let rated = bridge
        .store
        .case(&flex_bridge::cases::CaseId::new(1001))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rated.satisfaction.map(|s| s.score), Some(4));
    assert_eq!(
        sandbox.conversations().len(),
        1,
        "a rating opens no conversation"
    );

    // `cases` lists the customer's own cases, from the bridge.
    sandbox
        .customer_dm(CUSTOMER, "jordan_cust", "my cases")
        .await;
    let sent = dms(&bridge, CUSTOMER, 8).await;
    assert!(sent[7].starts_with("Your cases, newest first:\n• CS-1001 · Support request · my account is locked · resolved"), "{}", sent[7]);
    sandbox
        .customer_dm(CUSTOMER, "jordan_cust", "cs-1001")
        .await;
    let sent = dms(&bridge, CUSTOMER, 9).await;
    assert!(
        sent[8].contains("Sam joined the chat") && sent[8].contains("satisfaction 4/5"),
        "{}",
        sent[8]
    );
    assert_eq!(
        sandbox.conversations().len(),
        1,
        "asking about cases opens no conversation"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_digit_after_the_question_lapsed_is_an_ordinary_message() {
    let bridge = bot("case-lapse").await;
    let identity = format!("x-{CUSTOMER}");
    flex_bridge::store::contract::asked_to_rate(
        bridge.store.as_ref(),
        &identity,
        "CS-1001",
        flex_bridge::now_epoch() - 1,
    )
    .await;
    bridge
        .sandbox
        .customer_dm(CUSTOMER, "jordan_cust", "3")
        .await;
    let conversation = conversation_with(&bridge, 1).await;
    assert_eq!(conversation.messages[0].body, "3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_digit_in_a_new_chat_answers_the_chat_not_the_last_survey() {
    let bridge = bot("case-new-chat").await;
    let identity = format!("x-{CUSTOMER}");
    flex_bridge::store::contract::asked_to_rate(
        bridge.store.as_ref(),
        &identity,
        "CS-1001",
        flex_bridge::now_epoch() + 3600,
    )
    .await;
    let sandbox = &bridge.sandbox;
    sandbox
        .customer_dm(CUSTOMER, "jordan_cust", "hello again")
        .await;
    conversation_with(&bridge, 1).await;
    // Within the survey's 24 hours, but the customer is chatting again: "2" is for the chat
    // (a quick reply, an answer to the bot), and no survey answer is sent.
    sandbox.customer_dm(CUSTOMER, "jordan_cust", "2").await;
    let posted = wait_for(WAIT, || {
        sandbox
            .conversations()
            .into_iter()
            .find(|c| c.messages.iter().any(|m| m.body == "2"))
    })
    .await;
    assert!(posted.is_some(), "{:#?}", sandbox.conversations());
    assert_eq!(sandbox.conversations().len(), 1);
    let case = bridge
        .store
        .case(&flex_bridge::cases::CaseId::new(1001))
        .await
        .unwrap();
    assert!(case.is_none_or(|c| c.satisfaction.is_none()));
}

fn river() -> DiscordUser {
    DiscordUser {
        id: "800000000000000003".into(),
        username: "river".into(),
    }
}

async fn slash(
    bridge: &LocalBridge,
    user: &DiscordUser,
    name: &str,
    options: &[(&str, &str)],
) -> String {
    let reply = bridge
        .sandbox
        .discord_command(user, true, name, options)
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    wait_for(WAIT, || bridge.sandbox.discord_original(&reply.token))
        .await
        .expect("the deferred reply was edited")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_discord_the_case_is_rated_with_buttons_and_only_its_reporter_sees_it() {
    let bridge = bot("case-discord").await;
    let sandbox = &bridge.sandbox;
    let user = river();
    slash(
        &bridge,
        &user,
        "helpme",
        &[("question", "i was double charged")],
    )
    .await;
    let dm = wait_for(WAIT, || sandbox.discord_dm_channel(&user.id))
        .await
        .unwrap();
    let answer = wait_for(WAIT, || {
        sandbox
            .discord_messages(&dm)
            .into_iter()
            .find(|m| button_ids(&m.components).contains(&"agent".to_owned()))
    })
    .await
    .expect("the bot's answer");
    sandbox.discord_click(&user, &answer.id, "agent").await;
    let task = task(&bridge).await;
    sandbox
        .accept_task(&task.sid, "ana@acme.example", "Ana Lopez")
        .await
        .unwrap();
    case_with(&bridge, "CS-1001", CaseStatus::InProgress).await;
    sandbox.complete_task(&task.sid).await.unwrap();
    case_with(&bridge, "CS-1001", CaseStatus::Resolved).await;
    let survey = wait_for(WAIT, || {
        sandbox
            .discord_messages(&dm)
            .into_iter()
            .find(|m| button_ids(&m.components).contains(&"csat:4".to_owned()))
    })
    .await
    .expect("the satisfaction buttons");
    assert_eq!(
        button_ids(&survey.components),
        ["csat:1", "csat:2", "csat:3", "csat:4", "csat:5"]
    );
    let first = sandbox.discord_click(&user, &survey.id, "csat:4").await;
    let thanks = wait_for(WAIT, || sandbox.discord_original(&first.token))
        .await
        .unwrap();
    assert_eq!(thanks, "Thanks for your feedback on CS-1001!");
    let second = sandbox.discord_click(&user, &survey.id, "csat:2").await;
    let again = wait_for(WAIT, || sandbox.discord_original(&second.token))
        .await
        .unwrap();
    assert_eq!(again, "Thanks! We already have your rating for CS-1001.");
    let rated = bridge
        .store
        .case(&flex_bridge::cases::CaseId::new(1001))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rated.satisfaction.map(|s| s.score), Some(4));

    // /cases lists river's own cases; another customer's case is "not found".
    let listed = slash(&bridge, &user, "cases", &[]).await;
    assert!(
        listed.starts_with("Your cases, newest first:\n• CS-1001 · Support request"),
        "{listed}"
    );
    let history = slash(&bridge, &user, "cases", &[("id", "CS-1001")]).await;
    assert!(history.contains("Ana joined the chat"), "{history}");
    let other = DiscordUser {
        id: "800000000000000004".into(),
        username: "sky".into(),
    };
    assert_eq!(
        slash(&bridge, &other, "cases", &[("id", "CS-1001")]).await,
        "Case CS-1001 not found."
    );
    assert_eq!(
        slash(&bridge, &other, "cases", &[("id", "CS-4242")]).await,
        "Case CS-4242 not found."
    );
    assert_eq!(
        slash(&bridge, &other, "cases", &[]).await,
        "You have no cases with us."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_resolved_bug_reaches_its_reporter_through_a_discord_outage() {
    let bridge = bot("case-bug").await;
    let sandbox = &bridge.sandbox;
    let aws = bridge.aws.as_ref().expect("AWS back end");
    let bug = cases::file(
        &aws.store(),
        "discord#bug-1",
        NewCase {
            kind: CaseKind::Bug,
            title: "Crash in the guild hall".into(),
            details: "Every time".into(),
            steps: None,
            reporter: format!("discord-{}", river().id),
            conversation: None,
        },
    )
    .await
    .unwrap();
    let resolved = cases::resolve(&aws.store(), &bug.id, "operator", "fixed in 1.2")
        .await
        .unwrap();
    sandbox.inject_fault(Service::Discord, 500, 4, 0);
    let job = flex_bridge::queue::case_update_job(
        &resolved,
        "resolved",
        format!("Your bug report {} is resolved: fixed in 1.2", bug.id),
    )
    .unwrap();
    job.enqueue(&aws.queue()).await.unwrap();
    let told = wait_for(Duration::from_secs(30), || {
        sandbox
            .discord_dms_to(&river().id)
            .into_iter()
            .find(|m| m.content.contains("is resolved"))
    })
    .await
    .expect("the reporter was told");
    assert_eq!(
        told.content,
        "Your bug report CS-1001 is resolved: fixed in 1.2"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let copies = sandbox
        .discord_dms_to(&river().id)
        .into_iter()
        .filter(|m| m.content.contains("is resolved"))
        .count();
    assert_eq!(copies, 1, "told once");
}

/// When the chat of a support case ends, its transcript is kept once: the customer's lines,
/// the virtual agent's and the agent's, in order, with times; the CLI's page and text read it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_closed_support_chat_leaves_its_transcript_once() {
    use flex_bridge::transcripts::{Speaker, TranscriptStore};
    let bridge = bot("case-transcript").await;
    let sandbox = &bridge.sandbox;
    let task = handed_off_on_x(&bridge, "my account is locked").await;
    sandbox
        .accept_task(&task.sid, "sam@acme.example", "Sam Rivera")
        .await
        .unwrap();
    sandbox.task_reply(&task.sid, "Unlocked!").await.unwrap();
    sandbox.complete_task(&task.sid).await.unwrap();
    case_with(&bridge, "CS-1001", CaseStatus::Resolved).await;
    let id = flex_bridge::cases::CaseId::new(1001);
    let transcripts = bridge.transcripts.clone();
    let mut transcript = None;
    for _ in 0..200 {
        transcript = transcripts.transcript(&id).await.unwrap();
        if transcript.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let transcript = transcript.expect("a transcript for CS-1001");
    assert_eq!(transcript.conversation_sid, task.conversation_sid);
    assert_eq!(transcript.customer, format!("x-{CUSTOMER}"));
    let said = |speaker: Speaker| -> Vec<&str> {
        transcript
            .lines
            .iter()
            .filter(|l| l.speaker == speaker)
            .map(|l| l.text.as_str())
            .collect()
    };
    assert_eq!(said(Speaker::Customer)[0], "my account is locked");
    assert!(
        said(Speaker::Customer).contains(&"agent please"),
        "{transcript:#?}"
    );
    assert!(
        said(Speaker::Bot)
            .iter()
            .any(|t| t.starts_with("Case CS-1001 opened")),
        "{transcript:#?}"
    );
    assert_eq!(said(Speaker::Agent), ["Unlocked!"]);
    assert!(transcript.lines.iter().all(|l| !l.at.is_empty()));
    let messages = sandbox
        .conversation(&task.conversation_sid)
        .unwrap()
        .messages;
    assert_eq!(
        transcript.lines.len(),
        messages.len(),
        "every message, once"
    );
    assert!(transcript.text().contains("(agent): Unlocked!"));
}

/// With `TRANSCRIPTS=send`, a Discord customer gets the transcript of their ended chat as a
/// text file in their DM, once, after the chat-ended notice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_discord_the_transcript_can_be_sent_to_the_customer() {
    use flex_bridge::transcripts::TranscriptStore;
    let bridge = start_with(
        "case-transcript-send",
        Options {
            send_transcripts: true,
            ..Options::default()
        },
    )
    .await;
    let sandbox = &bridge.sandbox;
    let user = river();
    slash(
        &bridge,
        &user,
        "helpme",
        &[("question", "i was double charged")],
    )
    .await;
    let dm = wait_for(WAIT, || sandbox.discord_dm_channel(&user.id))
        .await
        .unwrap();
    let answer = wait_for(WAIT, || {
        sandbox
            .discord_messages(&dm)
            .into_iter()
            .find(|m| button_ids(&m.components).contains(&"agent".to_owned()))
    })
    .await
    .expect("the bot's answer");
    sandbox.discord_click(&user, &answer.id, "agent").await;
    let task = task(&bridge).await;
    sandbox
        .accept_task(&task.sid, "ana@acme.example", "Ana Lopez")
        .await
        .unwrap();
    sandbox.task_reply(&task.sid, "Refunded.").await.unwrap();
    sandbox.complete_task(&task.sid).await.unwrap();
    let with_file = wait_for(WAIT, || {
        sandbox
            .discord_messages(&dm)
            .into_iter()
            .find(|m| !m.attachments.is_empty())
    })
    .await
    .expect("the transcript in the DM");
    assert_eq!(with_file.attachments.len(), 1);
    let file = &with_file.attachments[0];
    assert_eq!(file.filename, "CS-1001-transcript.txt");
    let kept = bridge
        .transcripts
        .transcript(&flex_bridge::cases::CaseId::new(1001))
        .await
        .unwrap()
        .expect("kept too");
    assert_eq!(file.bytes, kept.text().as_bytes());
    assert!(
        kept.text().contains("(agent): Refunded."),
        "{}",
        kept.text()
    );
    // After the notice, and once, however long the queue is watched.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let messages = sandbox.discord_messages(&dm);
    let files = messages
        .iter()
        .filter(|m| !m.attachments.is_empty())
        .count();
    assert_eq!(files, 1);
    let ended = messages
        .iter()
        .position(|m| m.content.contains("chat has ended"))
        .expect("the chat-ended notice");
    let sent = messages
        .iter()
        .position(|m| !m.attachments.is_empty())
        .unwrap();
    assert!(ended < sent, "{messages:#?}");
}
