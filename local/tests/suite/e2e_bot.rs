//! The virtual agent and the hand-off to a live agent, end to end: the real handlers over HTTP,
//! DynamoDB and SQS on moto server, and the sandbox playing X, Discord, Twilio Conversations
//! and Flex (Interactions API, TaskRouter, the agent).

use std::time::Duration;

use crate::common::*;
use flex_bridge::routing::Routing;
use local::test_secrets::TWILIO_AUTH_TOKEN;
use local::{test_flex_routing, wait_for, LocalBridge, Options, BOT_NAME};
use sandbox::{DiscordUser, Fault, Service};

async fn bot(name: &str) -> LocalBridge {
    start_with(name, Options::default()).await
}

/// The messages the bot recorded in the conversation, once there are `count`.
async fn bot_lines(bridge: &LocalBridge, count: usize) -> Vec<String> {
    wait_for(WAIT, || {
        let lines: Vec<String> = bridge
            .sandbox
            .conversations()
            .into_iter()
            .flat_map(|c| c.messages)
            .filter(|m| m.author == BOT_NAME)
            .inspect(|m| assert!(!m.webhook_enabled, "bot lines fire no webhooks"))
            .map(|m| m.body)
            .collect();
        Some(lines).filter(|l| l.len() >= count)
    })
    .await
    .unwrap_or_else(|| panic!("expected {count} bot line(s)"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_x_the_bot_answers_then_hands_off_and_the_agent_takes_over() {
    let bridge = bot("bot-x").await;
    let sandbox = &bridge.sandbox;
    sandbox
        .customer_dm(
            CUSTOMER,
            "jordan_cust",
            "i forgot my password how do i reset it",
        )
        .await;
    let answer = &dms(&bridge, CUSTOMER, 1).await[0];
    assert!(
        answer.starts_with("Here's what I found:\n1. Reset a forgotten password — "),
        "{answer}"
    );
    assert!(
        answer.contains("https://help.emberfall.example/articles/reset-password"),
        "{answer}"
    );
    assert!(answer.contains(". Talk to an agent\n"), "{answer}");
    assert_eq!(
        &bot_lines(&bridge, 1).await[0],
        answer,
        "the agent will see what the bot said"
    );

    // The last number of the list is "Talk to an agent".
    let number = answer
        .lines()
        .find_map(|l| l.strip_suffix(". Talk to an agent"))
        .unwrap();
    sandbox.customer_dm(CUSTOMER, "jordan_cust", number).await;
    let sent = dms(&bridge, CUSTOMER, 2).await;
    assert_eq!(sent[1], "Case CS-1001 opened — connecting you to an agent.");
    let task = &tasks(&bridge, 1).await[0];
    let conversation = conversation_with(&bridge, 4).await;
    assert_eq!(task.conversation_sid, conversation.sid);
    assert_eq!(task.workspace_sid, test_flex_routing().workspace_sid);
    assert_eq!(task.workflow_sid, test_flex_routing().workflow_sid);
    assert_eq!(task.task_channel_unique_name, "chat");
    let identity = format!("x-{CUSTOMER}");
    for (key, value) in [
        ("from", identity.as_str()),
        ("customerName", "@jordan_cust"),
        ("customerAddress", identity.as_str()),
        ("channelType", "chat"),
        ("customChannelType", "x"),
        ("conversationSid", conversation.sid.as_str()),
        ("caseId", "CS-1001"),
    ] {
        assert_eq!(
            task.attributes[key], value,
            "{key} in {:#}",
            task.attributes
        );
    }
    let conversation = wait_for(WAIT, || {
        sandbox
            .conversations()
            .into_iter()
            .find(|c| c.attributes.contains("\"caseId\":\"CS-1001\""))
    })
    .await
    .expect("the conversation carries the case id");
    assert!(conversation.attributes.contains("\"flex_bridge\":true"));

    // Once with a person, the bot is silent, and asking again makes no second task.
    sandbox
        .customer_dm(CUSTOMER, "jordan_cust", "agent please")
        .await;
    conversation_with(&bridge, 5).await;
    sandbox
        .accept_task(&task.sid, "sam@acme.example", "Sam Rivera")
        .await
        .unwrap();
    sandbox
        .task_reply(&task.sid, "Hi, I'm Sam. Let's get you back in.")
        .await
        .unwrap();
    let sent = dms(&bridge, CUSTOMER, 4).await;
    assert_eq!(
        sent[2..],
        [
            "Sam joined the chat.",
            "Hi, I'm Sam. Let's get you back in."
        ]
    );
    sandbox.complete_task(&task.sid).await.unwrap();
    let sent = dms(&bridge, CUSTOMER, 5).await;
    assert!(sent[4].starts_with("This chat has ended."), "{sent:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sandbox.tasks().len(), 1, "one task");
    assert_eq!(
        sandbox.dms_to(CUSTOMER).len(),
        5,
        "nothing more from the bot"
    );
    assert_eq!(
        bot_lines(&bridge, 2).await.len(),
        2,
        "the answer and the case notice"
    );
}

fn discord_customer() -> DiscordUser {
    DiscordUser {
        id: "800000000000000002".into(),
        username: "river".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_discord_the_bot_answers_with_an_embed_and_the_button_hands_off() {
    let bridge = bot("bot-discord").await;
    let sandbox = &bridge.sandbox;
    let user = discord_customer();
    sandbox
        .discord_command(
            &user,
            true,
            "helpme",
            &[("question", "the game crashes on launch")],
        )
        .await;
    let dm = wait_for(WAIT, || sandbox.discord_dm_channel(&user.id))
        .await
        .unwrap();
    let answer = wait_for(WAIT, || {
        sandbox
            .discord_messages(&dm)
            .into_iter()
            .find(|m| m.embeds.as_array().is_some_and(|e| !e.is_empty()))
    })
    .await
    .expect("the bot's answer");
    let embed = &answer.embeds[0];
    assert_eq!(embed["title"], "Here's what I found");
    let first = &embed["fields"][0];
    assert!(
        first["name"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("crash"),
        "{embed:#}"
    );
    assert!(first["value"]
        .as_str()
        .unwrap()
        .contains("https://help.emberfall.example/"));
    assert_eq!(button_ids(&answer.components), ["helped", "agent", "reply"]);

    // That helped: thanked at once, nothing queued, no task.
    let thanks = sandbox.discord_click(&user, &answer.id, "helped").await;
    assert_eq!(thanks.body["type"], 4, "{:?}", thanks.body);
    assert_eq!(thanks.body["data"]["flags"], 64);

    // Talk to an agent: a case and one task, for Discord.
    sandbox.discord_click(&user, &answer.id, "agent").await;
    let task = &tasks(&bridge, 1).await[0];
    assert_eq!(task.attributes["customChannelType"], "discord");
    assert_eq!(task.attributes["caseId"], "CS-1001");
    let notice = wait_for(WAIT, || {
        sandbox
            .discord_messages(&dm)
            .into_iter()
            .find(|m| m.content.starts_with("Case CS-1001 opened"))
    })
    .await;
    assert!(notice.is_some(), "{:#?}", sandbox.discord_messages(&dm));
    sandbox
        .accept_task(&task.sid, "sam@acme.example", "Sam Rivera")
        .await
        .unwrap();
    sandbox
        .task_reply(&task.sid, "Which graphics card do you have?")
        .await
        .unwrap();
    let reply = wait_for(WAIT, || {
        sandbox
            .discord_messages(&dm)
            .into_iter()
            .find(|m| m.content == "Which graphics card do you have?")
    })
    .await;
    assert!(reply.is_some(), "{:#?}", sandbox.discord_messages(&dm));
    assert_eq!(sandbox.tasks().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_unconfident_answers_in_a_row_hand_off() {
    let bridge = bot("bot-misses").await;
    let sandbox = &bridge.sandbox;
    sandbox
        .customer_dm(CUSTOMER, "jordan_cust", "whats the best pizza in naples")
        .await;
    let first = &dms(&bridge, CUSTOMER, 1).await[0];
    assert!(first.starts_with("I'm not sure"), "{first}");
    assert!(sandbox.tasks().is_empty());
    sandbox
        .customer_dm(CUSTOMER, "jordan_cust", "what about the weather on mars")
        .await;
    let sent = dms(&bridge, CUSTOMER, 2).await;
    assert_eq!(sent[1], "Case CS-1001 opened — connecting you to an agent.");
    let task = &tasks(&bridge, 1).await[0];
    assert_eq!(task.attributes["caseId"], "CS-1001");
}

/// The chatbot webhook as Twilio would send it, signed (or not).
async fn chatbot_webhook(
    bridge: &LocalBridge,
    sid: &str,
    message_sid: &str,
    body: &str,
    sign: bool,
) -> u16 {
    let url = format!("{}/twilio/chatbot", bridge.url);
    let params: Vec<(String, String)> = [
        ("EventType", "onMessageAdded"),
        ("ConversationSid", sid),
        ("MessageSid", message_sid),
        ("Author", &format!("x-{CUSTOMER}")),
        ("Body", body),
        ("Attributes", "{}"),
        ("Source", "API"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let secret = if sign {
        TWILIO_AUTH_TOKEN
    } else {
        "not-the-token"
    };
    let signature = flex_bridge::twilio::signature::sign(secret, &url, &params);
    flex_bridge::http::http_client()
        .post(&url)
        .header(flex_bridge::twilio::signature::HEADER, signature)
        .form(&params)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_webhook_delivered_three_times_answers_once_and_forged_ones_do_nothing() {
    let bridge = bot("bot-dedupe").await;
    let sandbox = &bridge.sandbox;
    sandbox
        .customer_dm(CUSTOMER, "jordan_cust", "how do i reset my password")
        .await;
    dms(&bridge, CUSTOMER, 1).await;
    let sid = conversation_with(&bridge, 2).await.sid;
    for _ in 0..3 {
        assert_eq!(
            chatbot_webhook(
                &bridge,
                &sid,
                "IM00000000000000000000000000000042",
                "how do i get a refund",
                true
            )
            .await,
            200
        );
    }
    for forged in ["agent", "how do i get a refund"] {
        assert_eq!(
            chatbot_webhook(
                &bridge,
                &sid,
                "IM00000000000000000000000000000043",
                forged,
                false
            )
            .await,
            401
        );
    }
    let sent = dms(&bridge, CUSTOMER, 2).await;
    assert!(sent[1].contains("Refund"), "{sent:?}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        sandbox.dms_to(CUSTOMER).len(),
        2,
        "one answer per message, none for forgeries"
    );
    assert!(
        sandbox.tasks().is_empty(),
        "a forged \"agent\" hands nothing off"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_interactions_500_after_twilio_accepted_still_makes_one_task() {
    let bridge = bot("bot-ambiguous").await;
    let sandbox = &bridge.sandbox;
    sandbox.inject(
        Fault::new(Service::Twilio, 500)
            .times(1)
            .path_prefix("/v1/Interactions")
            .after_processing(),
    );
    sandbox
        .customer_dm(CUSTOMER, "jordan_cust", "talk to a human")
        .await;
    let task = &tasks(&bridge, 1).await[0];
    assert_eq!(task.attributes["caseId"], "CS-1001");
    // The retry found the task through TaskRouter and went on to the case id.
    wait_for(WAIT, || {
        sandbox
            .conversations()
            .into_iter()
            .find(|c| c.attributes.contains("CS-1001"))
    })
    .await
    .expect("the hand-off finished");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(sandbox.tasks().len(), 1, "no second task");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_interactions_outage_delays_the_task_and_a_failed_answer_arrives_once() {
    let bridge = bot("bot-outage").await;
    let sandbox = &bridge.sandbox;
    sandbox.inject_fault(Service::X, 500, 5, 0);
    sandbox
        .customer_dm(CUSTOMER, "jordan_cust", "how do i reset my password")
        .await;
    let answer = &dms(&bridge, CUSTOMER, 1).await[0];
    assert!(answer.starts_with("Here's what I found"), "{answer}");
    sandbox.inject(
        Fault::new(Service::Twilio, 500)
            .times(2)
            .path_prefix("/v1/Interactions"),
    );
    sandbox.customer_dm(CUSTOMER, "jordan_cust", "agent").await;
    let task = &tasks(&bridge, 1).await[0];
    assert_eq!(task.attributes["caseId"], "CS-1001");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(sandbox.tasks().len(), 1);
    assert_eq!(
        sandbox.dms_to(CUSTOMER).len(),
        2,
        "answer and case notice, once each"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn routing_agent_creates_the_task_at_the_first_message_without_the_bot() {
    let options = Options {
        routing: Routing::Agent(test_flex_routing()),
        ..Options::default()
    };
    let bridge = start_with("agent-routing", options).await;
    let sandbox = &bridge.sandbox;
    sandbox
        .customer_dm(CUSTOMER, "jordan_cust", "how do i reset my password")
        .await;
    let task = &tasks(&bridge, 1).await[0];
    assert!(
        task.attributes.get("caseId").is_none(),
        "no case unless the customer filed one"
    );
    assert_eq!(task.attributes["customChannelType"], "x");
    sandbox.customer_dm(CUSTOMER, "jordan_cust", "hello?").await;
    conversation_with(&bridge, 2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(sandbox.dms_to(CUSTOMER).is_empty(), "no bot answer");
    assert_eq!(sandbox.tasks().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn routing_studio_adds_the_flow_and_no_chatbot() {
    let bridge = start("studio-routing").await;
    bridge
        .sandbox
        .customer_dm(CUSTOMER, "jordan_cust", "how do i reset my password")
        .await;
    let conversation = conversation_with(&bridge, 1).await;
    let targets: Vec<String> = conversation
        .webhooks
        .iter()
        .map(|w| format!("{w:?}"))
        .collect();
    assert!(targets.iter().any(|w| w.contains("studio")), "{targets:#?}");
    assert!(
        !targets.iter().any(|w| w.contains("/twilio/chatbot")),
        "{targets:#?}"
    );
    assert_eq!(conversation.studio_executions, 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(bridge.sandbox.dms_to(CUSTOMER).is_empty(), "no bot");
    assert!(
        bridge.sandbox.tasks().is_empty(),
        "Studio routes, not the bridge"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_handoff_is_retried_not_dropped() {
    let bridge = bot("bot-refused").await;
    let sandbox = &bridge.sandbox;
    // Flex refuses for a while (as with a wrong workflow SID, fixed meanwhile).
    sandbox.inject(
        Fault::new(Service::Twilio, 400)
            .times(2)
            .path_prefix("/v1/Interactions"),
    );
    sandbox
        .customer_dm(CUSTOMER, "jordan_cust", "talk to a human")
        .await;
    let task = &tasks(&bridge, 1).await[0];
    assert_eq!(task.attributes["caseId"], "CS-1001");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(sandbox.tasks().len(), 1);
}
