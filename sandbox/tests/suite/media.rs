//! Files both ways (issue 16): the platform crates' media clients against the sandbox's MCS, X
//! media and Discord attachments, through real HTTP.

use bytes::Bytes;
use flex_bridge::config::Secret;
use flex_bridge::twilio::media::{
    is_media_too_large, webhook_media, MediaClient, MediaConfig, NewMedia, NewMediaMessage,
};
use flex_bridge::twilio::TwilioConfig;
use sandbox::twilio::CHAT_SERVICE_SID;
use sandbox::Sandbox;

use crate::common::{sandbox_for, Receiver, Twilio};

/// A PNG's signature and some bytes that are not UTF-8, so any re-encoding would show.
fn image(len: usize) -> Bytes {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend((0..len.saturating_sub(8)).map(|i| (i * 31 % 251) as u8));
    Bytes::from(bytes)
}

fn mcs(sandbox: &Sandbox, auth_token: &str) -> MediaClient {
    let twilio = TwilioConfig::at(
        &sandbox.url(),
        &sandbox.config().twilio_account_sid,
        Secret::new(auth_token),
    );
    MediaClient::new(
        flex_bridge::http::http_client(),
        twilio,
        MediaConfig::at(&sandbox.url(), CHAT_SERVICE_SID),
    )
}

/// A conversation with an `onMessageAdded` webhook to `receiver`.
async fn conversation(sandbox: &Sandbox, receiver: &Receiver) -> String {
    let twilio = Twilio::new(sandbox);
    let (status, created) = twilio
        .form(
            "/v1/ConversationWithParticipants",
            &[("Participant", r#"{"identity":"x-2900000001"}"#)],
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let sid = created["sid"].as_str().unwrap().to_owned();
    let hook = format!("{}/twilio/flex-outbound", receiver.url);
    let (status, body) = twilio
        .form(
            &format!("/v1/Conversations/{sid}/Webhooks"),
            &[
                ("Target", "webhook"),
                ("Configuration.Url", &hook),
                ("Configuration.Filters", "onMessageAdded"),
            ],
        )
        .await;
    assert_eq!(status, 201, "{body}");
    sid
}

#[tokio::test]
async fn a_file_goes_through_mcs_into_a_message_and_back_byte_for_byte() {
    let receiver = Receiver::start().await;
    let sandbox = sandbox_for(&receiver).await;
    let client = mcs(&sandbox, &sandbox.config().twilio_auth_token);
    let bytes = image(70_000);
    let media = client
        .upload(&NewMedia {
            content_type: "image/png",
            filename: "crash.png",
            bytes: bytes.clone(),
        })
        .await
        .unwrap();
    assert!(media.sid.starts_with("ME"), "{media:?}");
    assert_eq!(media.size, Some(70_000));
    assert_eq!(media.filename.as_deref(), Some("crash.png"));

    let conversation_sid = conversation(&sandbox, &receiver).await;
    let message = client
        .post_media_message(
            &conversation_sid,
            &NewMediaMessage {
                author: "x-2900000001",
                body: Some("It crashes here"),
                media_sid: &media.sid,
                attributes: None,
                webhooks: true,
            },
        )
        .await
        .unwrap();
    let view = sandbox.conversation(&conversation_sid).unwrap();
    let posted = view.messages.iter().find(|m| m.sid == message.sid).unwrap();
    assert_eq!(posted.body, "It crashes here");
    assert_eq!(posted.media.len(), 1);
    assert_eq!(posted.media[0].content_type, "image/png");

    // The message resource lists it as the spec says, and the webhook carries it as Twilio does.
    let (_, listed) = crate::common::send(
        Twilio::new(&sandbox).get(&format!("/v1/Conversations/{conversation_sid}/Messages")),
    )
    .await;
    let listed_media = &listed["messages"][0]["media"][0];
    assert_eq!(listed_media["sid"], media.sid.as_str());
    assert_eq!(listed_media["filename"], "crash.png");
    assert_eq!(listed_media["size"], 70_000);
    let hook = receiver.requests().pop().unwrap();
    let announced = webhook_media(&hook.body).unwrap();
    assert_eq!(announced.len(), 1);
    assert_eq!(announced[0].sid, media.sid);
    assert_eq!(announced[0].content_type.as_deref(), Some("image/png"));
    assert_eq!(announced[0].size, Some(70_000));

    // A file is sent with one message only.
    let again = client
        .post_media_message(
            &conversation_sid,
            &NewMediaMessage {
                author: "x-2900000001",
                body: None,
                media_sid: &media.sid,
                attributes: None,
                webhooks: false,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(flex_bridge::twilio::error_code(&again), Some(50508));

    let (fetched, mut content) = client.fetch_content(&media.sid).await.unwrap();
    assert_eq!(fetched.message_sid.as_deref(), Some(message.sid.as_str()));
    assert_eq!(content.content_type.as_deref(), Some("image/png"));
    let mut downloaded = Vec::new();
    while let Some(chunk) = content.chunk().await.unwrap() {
        downloaded.extend_from_slice(&chunk);
    }
    assert_eq!(downloaded, bytes);
}

#[tokio::test]
async fn an_agents_files_arrive_in_the_webhook_and_download_intact() {
    let receiver = Receiver::start().await;
    let sandbox = sandbox_for(&receiver).await;
    let conversation_sid = conversation(&sandbox, &receiver).await;
    let files = [
        (
            "label.pdf",
            "application/pdf",
            Bytes::from_static(b"%PDF-1.7 label"),
        ),
        ("photo.png", "image/png", image(5_000)),
        ("notes.txt", "text/plain", Bytes::from_static(b"three")),
    ];
    sandbox
        .agent_media_message(&conversation_sid, "agent@acme.com", Some("Here"), &files)
        .await
        .unwrap();
    let hook = receiver.requests().pop().unwrap();
    assert_eq!(hook.param("Source").as_deref(), Some("SDK"));
    let announced = webhook_media(&hook.body).unwrap();
    let names: Vec<_> = announced
        .iter()
        .filter_map(|m| m.filename.as_deref())
        .collect();
    assert_eq!(names, ["label.pdf", "photo.png", "notes.txt"]);
    let client = mcs(&sandbox, &sandbox.config().twilio_auth_token);
    for (media, (_, content_type, bytes)) in announced.iter().zip(&files) {
        let (_, content) = client.fetch_content(&media.sid).await.unwrap();
        assert_eq!(content.content_type.as_deref(), Some(*content_type));
        assert_eq!(&content.bytes_at_most(1 << 20).await.unwrap(), bytes);
    }
}

#[tokio::test]
async fn mcs_refuses_bad_auth_and_files_over_its_limit() {
    let receiver = Receiver::start().await;
    let sandbox = sandbox_for(&receiver).await;
    let file = NewMedia {
        content_type: "image/png",
        filename: "big.png",
        bytes: image(2_000),
    };
    let refused = mcs(&sandbox, "wrong-token")
        .upload(&file)
        .await
        .unwrap_err();
    assert!(refused.is_status(401), "{refused}");
    assert_eq!(flex_bridge::twilio::error_code(&refused), Some(20003));

    sandbox.set_twilio_media_limit(1_000);
    let client = mcs(&sandbox, &sandbox.config().twilio_auth_token);
    let too_large = client.upload(&file).await.unwrap_err();
    assert!(is_media_too_large(&too_large), "{too_large}");
    assert!(!too_large.is_transient());

    // A file streamed through (another download) goes in once, whole.
    sandbox.set_twilio_media_limit(10_000);
    let media = client
        .upload_stream(
            "image/png",
            "streamed.png",
            2_000,
            reqwest::Body::from(file.bytes.clone()),
        )
        .await
        .unwrap();
    assert_eq!(sandbox.twilio_media(&media.sid).unwrap().bytes, file.bytes);

    // The temporary link needs no credentials, and only the right token opens it.
    let link = media.links.content_direct_temporary.unwrap();
    let plain = flex_bridge::http::http_client();
    assert_eq!(plain.get(&link).send().await.unwrap().status(), 200);
    let forged = format!("{}x", link);
    assert_eq!(plain.get(&forged).send().await.unwrap().status(), 403);
}
