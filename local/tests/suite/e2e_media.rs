//! Files both ways, end to end (issue 16): the real handlers over HTTP, DynamoDB and SQS on moto
//! server, the sandbox playing Twilio (with its Media Content Service), X and Discord.

use bytes::Bytes;

use crate::common::*;
use local::{wait_for, LocalBridge};
use sandbox::{ConversationView, Fault, Service};

/// A JPEG's signature and bytes that are not UTF-8, so any re-encoding on the way would show.
fn image(len: usize) -> Bytes {
    let mut bytes = b"\xff\xd8\xff\xe0JFIF".to_vec();
    bytes.extend((0..len.saturating_sub(8)).map(|i| (i * 37 % 253) as u8));
    Bytes::from(bytes)
}

/// The conversation once its message `index` (counted from 0) is there.
async fn conversation_with_message(bridge: &LocalBridge, index: usize) -> ConversationView {
    conversation_with(bridge, index + 1).await
}

/// The file a message carries, as MCS holds it: its type and bytes.
fn media_of(bridge: &LocalBridge, message: &sandbox::MessageView) -> (String, Bytes) {
    assert_eq!(message.media.len(), 1, "{message:#?}");
    let stored = bridge
        .sandbox
        .twilio_media(&message.media[0].sid)
        .expect("in MCS");
    (stored.content_type, stored.bytes)
}

/// An X customer's photo reaches their conversation as a media message with their text, bytes
/// and type kept, in both of X's webhook forms; the link X noted is not in the text.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_x_customers_image_reaches_the_conversation_as_media() {
    let bridge = start("media-x-in").await;
    let sandbox = &bridge.sandbox;
    let photo = image(180_000);
    let delivery = sandbox
        .customer_dm_with_media(
            CUSTOMER,
            "jordan_cust",
            "The box arrived like this",
            ("box.jpg", "image/jpeg", photo.clone()),
        )
        .await;
    assert_eq!(delivery.status, 200);
    let conversation = conversation_with_message(&bridge, 0).await;
    let message = &conversation.messages[0];
    assert_eq!(message.author, "x-2900000001");
    assert_eq!(message.body, "The box arrived like this");
    assert!(message.webhook_enabled);
    assert_eq!(media_of(&bridge, message), ("image/jpeg".into(), photo));

    // The X Activity API form, a GIF without text.
    let gif = Bytes::from_static(b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff");
    let (_, event) = sandbox.x_activity_dm_with_media(
        CUSTOMER,
        "jordan_cust",
        "",
        ("clip.gif", "image/gif", gif.clone()),
    );
    let (status, _) = sandbox.deliver_x_activity(serde_json::json!([event])).await;
    assert_eq!(status, 200);
    let conversation = conversation_with_message(&bridge, 1).await;
    let message = &conversation.messages[1];
    assert_eq!(message.body, "");
    assert_eq!(media_of(&bridge, message), ("image/gif".into(), gif));
}

/// MCS failing for a while loses nothing: the DM waits on the intake queue and its file reaches
/// the conversation once, whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_x_customers_image_outlasts_mcs_failing() {
    let bridge = start("media-x-mcs-down").await;
    let sandbox = &bridge.sandbox;
    sandbox.inject(
        Fault::new(Service::Twilio, 500)
            .path_prefix("/v1/Services")
            .times(2),
    );
    let photo = image(50_000);
    sandbox
        .customer_dm_with_media(
            CUSTOMER,
            "jordan_cust",
            "Crash dialog",
            ("crash.png", "image/png", photo.clone()),
        )
        .await;
    let conversation = conversation_with_message(&bridge, 0).await;
    assert_eq!(media_of(&bridge, &conversation.messages[0]).1, photo);
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let conversation = bridge.sandbox.conversation(&conversation.sid).unwrap();
    assert_eq!(conversation.messages.len(), 1, "posted once");
}

/// A program is not forwarded: the customer's text reaches the agent with a note naming the
/// file, and the customer is told why in one DM.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_executable_from_a_customer_is_refused_with_one_line_and_one_note() {
    let bridge = start("media-x-exe").await;
    let sandbox = &bridge.sandbox;
    sandbox
        .customer_dm_with_media(
            CUSTOMER,
            "jordan_cust",
            "Run this please",
            (
                "setup.exe",
                "application/x-msdownload",
                Bytes::from_static(b"MZ\x90\x00"),
            ),
        )
        .await;
    let conversation = conversation_with_message(&bridge, 1).await;
    let message = &conversation.messages[0];
    assert!(message.media.is_empty(), "{message:#?}");
    assert!(
        message.body.starts_with("Run this please"),
        "{}",
        message.body
    );
    let noted = notes(&conversation);
    assert_eq!(noted.len(), 1, "{noted:?}");
    assert!(
        noted[0].contains(".exe") && noted[0].contains("not forwarded"),
        "{noted:?}"
    );
    let told = dms(&bridge, CUSTOMER, 1).await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(
        told[0].contains(".exe") && !told[0].contains('\n'),
        "{told:?}"
    );
    drained_delivery_queue(&bridge).await;
    let conversation = wait_for(WAIT, || bridge.sandbox.conversation(&conversation.sid)).await;
    assert_eq!(notes(&conversation.unwrap()).len(), 1);
    assert_eq!(bridge.sandbox.dms_to(CUSTOMER).len(), 1);
}

fn discord_customer() -> sandbox::DiscordUser {
    sandbox::DiscordUser::new("800000000000000001", "river")
}

/// The deferred reply of an interaction, once the worker has written it.
async fn original(bridge: &LocalBridge, reply: &sandbox::DiscordReply) -> String {
    wait_for(WAIT, || bridge.sandbox.discord_original(&reply.token))
        .await
        .expect("the deferred reply was never edited")
}

/// A Discord customer's `/helpme` screenshot reaches the conversation as media with the
/// question, bytes and type kept; a `/reply` with a program is refused: one line in its reply,
/// one note for the agent, and its text still reaches the conversation.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_discord_customers_attachment_reaches_the_conversation_as_media() {
    let bridge = start("media-discord-in").await;
    let sandbox = &bridge.sandbox;
    let screenshot = image(120_000);
    let reply = sandbox
        .discord_command_with_files(
            &discord_customer(),
            true,
            "helpme",
            &[("question", "It crashes on launch")],
            &[(
                "attachment",
                sandbox::DiscordFile::new("crash.jpg", "image/jpeg", screenshot.clone()),
            )],
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        original(&bridge, &reply).await,
        "Thanks! We'll answer in your DMs."
    );
    let conversation = conversation_with_message(&bridge, 0).await;
    let message = &conversation.messages[0];
    assert_eq!(message.author, "discord-800000000000000001");
    assert_eq!(message.body, "It crashes on launch");
    assert_eq!(
        media_of(&bridge, message),
        ("image/jpeg".into(), screenshot)
    );

    let reply = sandbox
        .discord_command_with_files(
            &discord_customer(),
            false,
            "reply",
            &[("message", "Try this")],
            &[(
                "attachment",
                sandbox::DiscordFile::new(
                    "fix.exe",
                    "application/x-msdownload",
                    Bytes::from_static(b"MZ\x90\x00"),
                ),
            )],
        )
        .await;
    let told = original(&bridge, &reply).await;
    assert_eq!(told.lines().count(), 2, "{told}");
    assert!(told.lines().nth(1).unwrap().contains("fix.exe"), "{told}");
    let conversation = wait_for(WAIT, || {
        bridge
            .sandbox
            .conversation(&conversation.sid)
            .filter(|c| !notes(c).is_empty())
    })
    .await
    .expect("a note for the agent");
    let texts: Vec<_> = conversation
        .messages
        .iter()
        .filter(|m| m.author != "Flex Bridge")
        .map(|m| (m.body.as_str(), m.media.len()))
        .collect();
    assert_eq!(texts, [("It crashes on launch", 1), ("Try this", 0)]);
    let noted = notes(&conversation);
    assert_eq!(noted.len(), 1, "{noted:?}");
    assert!(noted[0].contains("fix.exe"), "{noted:?}");
}

/// The Reply modal offers a File Upload (optional, up to 10 files); what the customer uploads
/// there reaches the conversation as media with their message, bytes and type kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn files_from_the_reply_modal_reach_the_conversation() {
    let bridge = start("media-discord-modal").await;
    let sandbox = &bridge.sandbox;
    let reply = sandbox
        .discord_command(
            &discord_customer(),
            true,
            "helpme",
            &[("question", "It crashes")],
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    conversation_with_message(&bridge, 0).await;
    let modal = responses_reply_modal();
    let upload = &modal["data"]["components"][1]["component"];
    assert_eq!(upload["type"], 19, "{modal}");
    let receipt = image(64_000);
    let submitted = sandbox
        .discord_modal_submit_with_files(
            &discord_customer(),
            "reply_modal",
            &[("message", "Here is the receipt")],
            &[(
                upload["custom_id"].as_str().unwrap(),
                vec![sandbox::DiscordFile::new(
                    "receipt.jpg",
                    "image/jpeg",
                    receipt.clone(),
                )],
            )],
        )
        .await;
    assert_eq!(submitted.status, 200, "{submitted:?}");
    let conversation = conversation_with_message(&bridge, 1).await;
    let message = &conversation.messages[1];
    assert_eq!(message.body, "Here is the receipt");
    assert_eq!(media_of(&bridge, message), ("image/jpeg".into(), receipt));
}

/// The modal the Reply button opens, as the bridge answers it.
fn responses_reply_modal() -> serde_json::Value {
    serde_json::to_value(flex_bridge::discord::responses::reply_modal()).unwrap()
}

/// The DMs the brand sent the X customer that carry a file: their text and the file as X
/// received it.
fn media_dms(bridge: &LocalBridge) -> Vec<(Option<String>, String, Bytes)> {
    bridge
        .sandbox
        .sent_dms()
        .into_iter()
        .filter(|dm| dm.participant_id == CUSTOMER && !dm.media.is_empty())
        .map(|dm| {
            assert_eq!(dm.media.len(), 1, "one attachment per DM");
            let media = dm.media[0].clone();
            (dm.text, media.content_type, media.bytes)
        })
        .collect()
}

/// An agent's three files reach the X customer as three DMs, once each and in order, the text
/// with the first, though MCS fails in the middle for longer than the client retries (so the
/// job goes back to its queue after the first DM went out).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_agents_files_reach_x_once_each_in_order_through_an_mcs_failure() {
    let bridge = start("media-x-out").await;
    let sandbox = &bridge.sandbox;
    sandbox
        .customer_dm(CUSTOMER, "jordan_cust", "Can you send the label?")
        .await;
    let conversation = conversation_with_message(&bridge, 0).await;
    let files = [
        ("label.png", "image/png", image(30_000)),
        ("box.gif", "image/gif", Bytes::from_static(b"GIF89a-box")),
        ("route.jpg", "image/jpeg", image(3 * 1024 * 1024)),
    ];
    // The first file's fetch passes; the second's fails four times (every attempt of one try).
    sandbox.inject(
        Fault::new(Service::Twilio, 500)
            .path_prefix("/v1/Services")
            .after(1)
            .times(4),
    );
    sandbox
        .agent_media_message(
            &conversation.sid,
            "agent@acme.com",
            Some("Here you go"),
            &files,
        )
        .await
        .unwrap();
    let sent = wait_for(WAIT, || {
        Some(media_dms(&bridge)).filter(|dms| dms.len() >= 3)
    })
    .await
    .unwrap_or_else(|| panic!("three DMs with files: {:#?}", media_dms(&bridge)));
    drained_delivery_queue(&bridge).await;
    let sent_after = media_dms(&bridge);
    assert_eq!(sent_after.len(), 3, "each file once");
    for (n, ((text, content_type, bytes), (_, sent_type, sent_bytes))) in
        sent.iter().zip(&files).enumerate()
    {
        assert_eq!(content_type, sent_type, "file {n}");
        assert_eq!(bytes, sent_bytes, "file {n}");
        let expected = (n == 0).then(|| "Here you go".to_owned());
        assert_eq!(text, &expected, "file {n}");
    }
    assert!(notes(&sandbox.conversation(&conversation.sid).unwrap()).is_empty());
}

/// An agent's image reaches the Discord customer's DM as a file, bytes kept; a file over
/// Discord's 10 MiB is replaced by a notice to the customer and a note for the agent.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_agents_files_reach_discord_or_are_noted_when_too_big() {
    let bridge = start("media-discord-out").await;
    let sandbox = &bridge.sandbox;
    let user = discord_customer();
    let reply = sandbox
        .discord_command(&user, true, "helpme", &[("question", "Where is my label?")])
        .await;
    original(&bridge, &reply).await;
    let conversation = conversation_with_message(&bridge, 0).await;
    let before = sandbox.discord_dms_to(&user.id).len();
    let label = image(200_000);
    sandbox
        .agent_media_message(
            &conversation.sid,
            "agent@acme.com",
            Some("Your label"),
            &[("label.jpg", "image/jpeg", label.clone())],
        )
        .await
        .unwrap();
    // The agent's first message is told with who joined, first.
    let message = wait_for(WAIT, || {
        sandbox.discord_dms_to(&user.id)[before..]
            .iter()
            .find(|m| !m.attachments.is_empty())
            .cloned()
    })
    .await
    .expect("the agent's file");
    assert_eq!(message.content, "Your label");
    assert_eq!(message.attachments.len(), 1);
    assert_eq!(message.attachments[0].filename, "label.jpg");
    assert_eq!(message.attachments[0].content_type, "image/jpeg");
    assert_eq!(message.attachments[0].bytes, label);

    let before = sandbox.discord_dms_to(&user.id).len();
    sandbox
        .agent_media_message(
            &conversation.sid,
            "agent@acme.com",
            None,
            &[("video.mp4", "video/mp4", image(10 * 1024 * 1024 + 1))],
        )
        .await
        .unwrap();
    let dms = wait_for(WAIT, || {
        Some(sandbox.discord_dms_to(&user.id)).filter(|d| d.len() > before)
    })
    .await
    .unwrap();
    let notice = dms.last().unwrap();
    assert!(notice.attachments.is_empty());
    assert!(
        notice.content.contains("video.mp4") && notice.content.contains("could not be delivered"),
        "{}",
        notice.content
    );
    let noted = wait_for(WAIT, || {
        Some(notes(&sandbox.conversation(&conversation.sid).unwrap())).filter(|n| !n.is_empty())
    })
    .await
    .unwrap();
    assert_eq!(noted.len(), 1, "{noted:?}");
    assert!(
        noted[0].contains("video.mp4") && noted[0].contains("10 MiB"),
        "{noted:?}"
    );
    drained_delivery_queue(&bridge).await;
    assert_eq!(sandbox.discord_dms_to(&user.id).len(), before + 1);
}
