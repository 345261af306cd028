//! Discord over HTTP interactions ↔ Flex, end to end: the real handlers over HTTP, DynamoDB and
//! SQS on moto server, and the sandbox playing Discord, Twilio Conversations and the customer.

use crate::common::*;
use local::wait_for;
use sandbox::{DiscordReply, DiscordUser, Service};

fn customer() -> DiscordUser {
    DiscordUser {
        id: "800000000000000001".into(),
        username: "river".into(),
    }
}

const IDENTITY: &str = "discord-800000000000000001";

fn assert_deferred(reply: &DiscordReply) {
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        reply.body,
        serde_json::json!({"type": 5, "data": {"flags": 64}}),
        "deferred ephemeral"
    );
}

async fn original(bridge: &local::LocalBridge, reply: &DiscordReply) -> String {
    wait_for(WAIT, || bridge.sandbox.discord_original(&reply.token))
        .await
        .unwrap_or_else(|| panic!("the deferred reply was never edited"))
}

/// `/helpme` in a server, and the DM channel the agent's answers go to.
async fn help_me(bridge: &local::LocalBridge, question: &str) -> (DiscordReply, String) {
    let reply = bridge
        .sandbox
        .discord_command(&customer(), true, "helpme", &[("question", question)])
        .await;
    assert_deferred(&reply);
    let dm = wait_for(WAIT, || bridge.sandbox.discord_dm_channel(&customer().id))
        .await
        .expect("DM channel opened");
    (reply, dm)
}

fn custom_ids(components: &serde_json::Value) -> Vec<String> {
    let mut ids = Vec::new();
    fn walk(value: &serde_json::Value, ids: &mut Vec<String>) {
        if let Some(id) = value.get("custom_id").and_then(|v| v.as_str()) {
            ids.push(id.to_owned());
        }
        if let Some(children) = value
            .as_array()
            .or_else(|| value.get("components").and_then(|c| c.as_array()))
        {
            for child in children {
                walk(child, ids);
            }
        }
    }
    walk(components, &mut ids);
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn helpme_agent_reply_buttons_modal_and_close() {
    let bridge = start("discord").await;
    let sandbox = &bridge.sandbox;
    let (reply, dm) = help_me(&bridge, "My order never arrived").await;
    assert_eq!(
        original(&bridge, &reply).await,
        "Thanks! We'll answer in your DMs."
    );

    let conversation = conversation_with(&bridge, 1).await;
    assert_eq!(conversation.participants[0].identity, IDENTITY);
    assert_eq!(conversation.messages[0].author, IDENTITY);
    assert_eq!(conversation.messages[0].body, "My order never arrived");
    assert!(conversation.attributes.contains("\"platform\":\"discord\""));
    let confirmation = &sandbox.discord_messages(&dm)[0];
    assert!(
        confirmation.content.contains("we've got your question"),
        "{}",
        confirmation.content
    );

    sandbox
        .agent_joins(&conversation.sid, "sam@acme.example", "Sam Rivera")
        .await
        .unwrap();
    sandbox
        .agent_message(
            &conversation.sid,
            "sam@acme.example",
            "Which one? Options: Replace - new parcel, Refund - money back",
        )
        .await
        .unwrap();
    let messages = wait_for(WAIT, || {
        Some(sandbox.discord_messages(&dm)).filter(|m| m.len() >= 3)
    })
    .await
    .expect("agent DMs");
    assert_eq!(messages[1].content, "Sam joined the chat.");
    let answer = &messages[2];
    assert!(
        answer.content.starts_with("Which one?"),
        "{}",
        answer.content
    );
    assert_eq!(answer.allowed_mentions, serde_json::json!({"parse": []}));
    let ids = custom_ids(&answer.components);
    for id in ["reply", "agent", "qr:Replace", "qr:Refund"] {
        assert!(ids.contains(&id.to_string()), "{id} in {ids:?}");
    }

    // A quick-reply button goes to Flex as its label.
    assert_deferred(
        &sandbox
            .discord_click(&customer(), &answer.id, "qr:Refund")
            .await,
    );
    conversation_with(&bridge, 3).await;
    // The Reply button opens a modal at once; its submission (both shapes) goes to Flex.
    let modal = sandbox
        .discord_click(&customer(), &answer.id, "reply")
        .await;
    assert_eq!(modal.body["type"], 9, "{:?}", modal.body);
    assert_deferred(
        &sandbox
            .discord_modal_submit(
                &customer(),
                "reply_modal",
                &[("message", "Label shape")],
                true,
            )
            .await,
    );
    conversation_with(&bridge, 4).await;
    assert_deferred(
        &sandbox
            .discord_modal_submit(
                &customer(),
                "reply_modal",
                &[("message", "Action row shape")],
                false,
            )
            .await,
    );
    // Talk to an agent: a request Studio and the bot can see.
    assert_deferred(
        &sandbox
            .discord_click(&customer(), &answer.id, "agent")
            .await,
    );
    let conversation = conversation_with(&bridge, 6).await;
    let bodies = bodies(&conversation);
    assert_eq!(
        bodies[2..],
        [
            "Refund",
            "Label shape",
            "Action row shape",
            "I'd like to talk to an agent."
        ]
    );
    assert!(
        conversation.messages[5]
            .attributes
            .contains("\"agent_requested\":true"),
        "{}",
        conversation.messages[5].attributes
    );

    sandbox.close(&conversation.sid).await.unwrap();
    let messages = wait_for(WAIT, || {
        Some(sandbox.discord_messages(&dm)).filter(|m| m.len() >= 4)
    })
    .await
    .expect("ended notice");
    assert!(
        messages[3].content.starts_with("This chat has ended"),
        "{}",
        messages[3].content
    );

    let reply = sandbox
        .discord_command(&customer(), false, "reply", &[("message", "hello?")])
        .await;
    assert_deferred(&reply);
    assert!(original(&bridge, &reply)
        .await
        .contains("no open conversation"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bug_modal_files_a_case_and_posts_it() {
    let bridge = start("discord-bug").await;
    let sandbox = &bridge.sandbox;
    let modal = sandbox.discord_command(&customer(), true, "bug", &[]).await;
    assert_eq!(modal.body["type"], 9);
    let reply = sandbox
        .discord_modal_submit(
            &customer(),
            "bug_modal",
            &[
                ("title", "App crashes"),
                ("details", "On launch"),
                ("steps", "1. open it"),
            ],
            true,
        )
        .await;
    assert_deferred(&reply);
    assert!(original(&bridge, &reply).await.contains("CS-1001"));
    let posts = wait_for(WAIT, || {
        Some(sandbox.discord_messages(local::test_secrets::DISCORD_BUG_CHANNEL_ID))
            .filter(|m| !m.is_empty())
    })
    .await
    .expect("bug posted");
    let embed = posts[0].embeds[0].to_string();
    assert!(
        embed.contains("CS-1001") && embed.contains("App crashes") && embed.contains("1. open it"),
        "{embed}"
    );

    let reply = sandbox
        .discord_modal_submit(
            &customer(),
            "feature_modal",
            &[("title", "Dark mode"), ("details", "Please")],
            false,
        )
        .await;
    assert!(original(&bridge, &reply).await.contains("CS-1002"));
    let posts = wait_for(WAIT, || {
        Some(sandbox.discord_messages(local::test_secrets::DISCORD_FEATURE_CHANNEL_ID))
            .filter(|m| !m.is_empty())
    })
    .await
    .expect("feature posted");
    assert!(posts[0].embeds[0].to_string().contains("Dark mode"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_interaction_twice_has_one_effect() {
    let bridge = start("discord-dupe").await;
    let sandbox = &bridge.sandbox;
    help_me(&bridge, "first question").await;
    let sid = conversation_with(&bridge, 1).await.sid;
    let reply = sandbox
        .discord_command(&customer(), false, "reply", &[("message", "only once")])
        .await;
    assert_deferred(&reply);
    let body = sandbox.last_discord_interaction().expect("raw interaction");
    assert_eq!(
        sandbox.deliver_discord_interaction(&body, 2).await,
        [200, 200]
    );
    conversation_with(&bridge, 2).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        bodies(&sandbox.conversation(&sid).unwrap()),
        ["first question", "only once"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn closed_dms_are_explained_to_the_customer_and_noted_for_the_agent() {
    let bridge = start("discord-closed").await;
    let sandbox = &bridge.sandbox;
    sandbox.set_discord_dms_closed(&customer().id, true);
    let (reply, _) = help_me(&bridge, "can you hear me?").await;
    assert!(original(&bridge, &reply)
        .await
        .contains("Allow direct messages"));
    let conversation = conversation_with(&bridge, 1).await;
    sandbox
        .agent_message(&conversation.sid, "sam@acme.example", "Hi there")
        .await
        .unwrap();
    let conversation = conversation_with(&bridge, 3).await;
    let note = &conversation.messages[2];
    assert_eq!(note.author, "Flex Bridge");
    assert!(note.body.contains("50007"), "{}", note.body);
}

/// The customer's DMs close after the chat opened: Discord refuses the first DM with 50007, and
/// that one refusal is all it is asked; the agent is told once; no job waits or goes to the DLQ.
/// Once the mark lapses (a day; here its record is made to lapse), DMs are tried again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn closed_dms_cost_one_refusal_and_one_note_however_many_agent_messages() {
    let bridge = start("discord-closed-once").await;
    let sandbox = &bridge.sandbox;
    let (reply, dm) = help_me(&bridge, "where is my order?").await;
    original(&bridge, &reply).await;
    let sid = conversation_with(&bridge, 1).await.sid;
    sandbox.set_discord_dms_closed(&customer().id, true);
    sandbox.reset_counts();
    for text in ["Hi", "Are you there?", "I'll close this for now"] {
        sandbox
            .agent_message(&sid, "sam@acme.example", text)
            .await
            .unwrap();
    }
    let conversation = conversation_with(&bridge, 5).await;
    assert_eq!(
        drained_delivery_queue(&bridge).await,
        0,
        "nothing in the DLQ"
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        sandbox.request_count(Service::Discord),
        1,
        "one refused DM (the agent's joined notice), then nothing"
    );
    let conversation = sandbox.conversation(&conversation.sid).unwrap();
    let notes = notes(&conversation);
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert!(
        notes[0].contains("50007") && notes[0].contains("UTC") && notes[0].contains("Hi"),
        "{}",
        notes[0]
    );
    assert_eq!(
        conversation.messages.len(),
        5,
        "{:#?}",
        bodies(&conversation)
    );

    // A day later the mark has lapsed, and the customer has opened their DMs.
    bridge
        .store
        .confirm_event(&flex_bridge::discord::worker::closed_dms::key(IDENTITY), -1)
        .await
        .unwrap();
    sandbox.set_discord_dms_closed(&customer().id, false);
    sandbox
        .agent_message(&sid, "sam@acme.example", "Back again")
        .await
        .unwrap();
    let messages = wait_for(WAIT, || {
        Some(sandbox.discord_messages(&dm)).filter(|m| m.iter().any(|m| m.content == "Back again"))
    })
    .await
    .expect("delivered once the mark lapsed");
    assert_eq!(
        messages
            .iter()
            .map(|m| m.content.as_str())
            .collect::<Vec<_>>()[1..],
        ["An agent joined the chat.", "Back again"]
    );
}

/// `/helpme` with DMs closed marks them; once the customer opens them, the next `/helpme`'s
/// confirmation DM gets through and lifts the mark, so the agent's answer is delivered at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_helpme_whose_confirmation_gets_through_lifts_the_mark() {
    let bridge = start("discord-reopened").await;
    let sandbox = &bridge.sandbox;
    sandbox.set_discord_dms_closed(&customer().id, true);
    let (reply, dm) = help_me(&bridge, "hello?").await;
    assert!(original(&bridge, &reply).await.contains("/helpme"));
    let mark = flex_bridge::discord::worker::closed_dms::until(bridge.store.as_ref(), IDENTITY);
    assert!(mark.await.unwrap().is_some(), "the refusal is remembered");
    sandbox.set_discord_dms_closed(&customer().id, false);
    let (reply, _) = help_me(&bridge, "DMs are on now").await;
    assert_eq!(
        original(&bridge, &reply).await,
        "Thanks! We'll answer in your DMs."
    );
    let mark = flex_bridge::discord::worker::closed_dms::until(bridge.store.as_ref(), IDENTITY);
    assert_eq!(mark.await.unwrap(), None);
    let sid = conversation_with(&bridge, 2).await.sid;
    sandbox
        .agent_message(&sid, "sam@acme.example", "Got it")
        .await
        .unwrap();
    wait_for(WAIT, || {
        Some(sandbox.discord_messages(&dm)).filter(|m| m.iter().any(|m| m.content == "Got it"))
    })
    .await
    .expect("delivered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forged_interactions_are_refused() {
    let bridge = start("discord-forged").await;
    let sandbox = &bridge.sandbox;
    let reply = sandbox
        .discord_command(&customer(), true, "helpme", &[("question", "hi")])
        .await;
    assert_deferred(&reply);
    original(&bridge, &reply).await; // the worker is done with it
    let body = sandbox.last_discord_interaction().unwrap();
    let seed = local::test_secrets::DISCORD_SIGNING_SEED;
    let url = format!("{}/discord/interactions", bridge.url);
    let timestamp = "1786012345";
    let good = flex_bridge::discord::signature::sign(&seed, timestamp, &body);
    let mut flipped = good.clone();
    let last = flipped.pop().unwrap();
    flipped.push(if last == '0' { '1' } else { '0' });
    let reserialised =
        serde_json::to_vec_pretty(&serde_json::from_slice::<serde_json::Value>(&body).unwrap())
            .unwrap();
    let cases: Vec<(&str, Vec<u8>, String, &str)> = vec![
        ("flipped signature byte", body.clone(), flipped, timestamp),
        (
            "changed timestamp",
            body.clone(),
            good.clone(),
            "1786012346",
        ),
        ("re-serialised body", reserialised, good.clone(), timestamp),
        ("garbage signature", body.clone(), "zz".into(), timestamp),
    ];
    sandbox.reset_counts();
    let client = flex_bridge::http::http_client();
    for (case, payload, signature, ts) in cases {
        let response = client
            .post(&url)
            .header("x-signature-ed25519", signature)
            .header("x-signature-timestamp", ts)
            .body(payload)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{case}");
    }
    let missing = client.post(&url).body(body).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(sandbox.request_count(Service::Discord), 0);
    assert_eq!(sandbox.request_count(Service::Twilio), 0);
}
