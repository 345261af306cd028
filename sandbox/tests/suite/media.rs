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

fn x_media(sandbox: &Sandbox, consumer_secret: &str) -> flex_bridge::x::media::XMediaClient {
    let c = sandbox.config();
    flex_bridge::x::media::XMediaClient::new(
        flex_bridge::http::http_client(),
        flex_bridge::x::XApiConfig {
            consumer_key: c.x_consumer_key.clone(),
            consumer_secret: Secret::new(consumer_secret),
            access_token: c.x_access_token.clone(),
            access_token_secret: Secret::new(c.x_access_token_secret.clone()),
            api_url: sandbox.url(),
        },
    )
}

const X_CUSTOMER: &str = "2900000001";

#[tokio::test]
async fn an_agents_image_is_uploaded_in_chunks_and_sent_as_one_attached_dm() {
    use flex_bridge::x::media::{DmMediaCategory, InMemory, APPEND_CHUNK_BYTES};
    let receiver = Receiver::start().await;
    let sandbox = sandbox_for(&receiver).await;
    let client = x_media(&sandbox, &sandbox.config().x_consumer_secret);
    // Three APPENDs: two full chunks and a rest.
    let bytes = image(2 * APPEND_CHUNK_BYTES + 1234);
    let uploaded = client
        .upload_dm_media(
            "image/png",
            bytes.len() as u64,
            &mut InMemory::new(bytes.clone()),
        )
        .await
        .unwrap();
    assert_eq!(uploaded.category, DmMediaCategory::Image);
    assert_eq!(uploaded.size, Some(bytes.len() as u64));
    let held = sandbox.x_uploaded_media(&uploaded.media_id).unwrap();
    assert_eq!(held.bytes, bytes);
    assert_eq!(held.content_type, "image/png");

    let sent = client
        .send_media_dm(X_CUSTOMER, Some("Your label"), &uploaded.media_id)
        .await
        .unwrap();
    let dm = sandbox
        .sent_dms()
        .into_iter()
        .find(|dm| dm.dm_event_id == sent.dm_event_id)
        .unwrap();
    assert_eq!(dm.text.as_deref(), Some("Your label"));
    assert_eq!(dm.media_ids, std::slice::from_ref(&uploaded.media_id));
    assert_eq!(dm.media[0].bytes, bytes);

    // Media X does not hold is refused, and so is a file over its category's limit.
    let unknown = client
        .send_media_dm(X_CUSTOMER, None, "123")
        .await
        .unwrap_err();
    assert!(unknown.is_status(400), "{unknown}");
    let too_big = client
        .upload_dm_media("image/png", 6_000_000, &mut InMemory::new(Bytes::new()))
        .await
        .unwrap_err();
    assert!(matches!(
        too_big,
        flex_bridge::x::media::XMediaError::TooLarge { .. }
    ));
    let exe = client
        .upload_dm_media(
            "application/x-msdownload",
            3,
            &mut InMemory::new(Bytes::from_static(b"MZ\0")),
        )
        .await
        .unwrap_err();
    assert!(!exe.is_transient(), "{exe}");
}

#[tokio::test]
async fn a_video_waits_for_processing_and_bad_oauth_is_refused() {
    use flex_bridge::x::media::{DmMediaCategory, InMemory};
    let receiver = Receiver::start().await;
    let sandbox = sandbox_for(&receiver).await;
    let video = Bytes::from_static(b"\0\0\0\x18ftypmp42 not really a video");
    let uploaded = x_media(&sandbox, &sandbox.config().x_consumer_secret)
        .upload_dm_media(
            "video/mp4",
            video.len() as u64,
            &mut InMemory::new(video.clone()),
        )
        .await
        .unwrap();
    assert_eq!(uploaded.category, DmMediaCategory::Video);
    assert_eq!(
        sandbox.x_uploaded_media(&uploaded.media_id).unwrap().bytes,
        video
    );

    let forged = x_media(&sandbox, "not-the-consumer-secret");
    let refused = forged
        .upload_dm_media(
            "image/png",
            3,
            &mut InMemory::new(Bytes::from_static(b"png")),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, flex_bridge::x::media::XMediaError::Http(e) if e.is_status(401)),
        "{refused}"
    );
    let refused = forged
        .send_media_dm(X_CUSTOMER, None, &uploaded.media_id)
        .await
        .unwrap_err();
    assert!(refused.is_status(401));
}

#[tokio::test]
async fn a_customers_image_is_read_with_the_brands_credentials_in_both_webhook_forms() {
    use flex_bridge::x::media::dm_attachments;
    let receiver = Receiver::start().await;
    let sandbox = sandbox_for(&receiver).await;
    let client = x_media(&sandbox, &sandbox.config().x_consumer_secret);
    let bytes = image(40_000);

    let delivery = sandbox
        .customer_dm_with_media(
            X_CUSTOMER,
            "jordan_cust",
            "Damaged box",
            ("box.jpg", "image/jpeg", bytes.clone()),
        )
        .await;
    assert_eq!(delivery.status, 200);
    let webhook = receiver.requests().pop().unwrap();
    let found = dm_attachments(&webhook.body);
    assert_eq!(found.len(), 1);
    let (event_id, media) = &found[0];
    assert_eq!(event_id, &delivery.event_id);
    assert_eq!(media.kind, "photo");
    let content = client
        .download_dm_media(media.download_url())
        .await
        .unwrap();
    assert_eq!(content.content_type.as_deref(), Some("image/jpeg"));
    assert_eq!(content.response.bytes().await.unwrap(), bytes);
    // The v2 path serves the same file.
    let (dm_id, media_id, resource_id) = media.v2_ids().unwrap();
    let again = client
        .download_dm_media_by_ids(dm_id, media_id, resource_id)
        .await
        .unwrap();
    assert_eq!(again.response.bytes().await.unwrap(), bytes);
    // Unsigned, or signed for a host that is not X's, it is not served.
    let unsigned = flex_bridge::http::http_client()
        .get(media.download_url())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    assert!(
        client
            .download_dm_media("https://example.com/steal")
            .await
            .unwrap_err()
            .unsent
    );

    let (event_id, event) = sandbox.x_activity_dm_with_media(
        X_CUSTOMER,
        "jordan_cust",
        "",
        ("clip.gif", "image/gif", Bytes::from_static(b"GIF89a...")),
    );
    let (status, _) = sandbox.deliver_x_activity(serde_json::json!([event])).await;
    assert_eq!(status, 200);
    let webhook = receiver.requests().pop().unwrap();
    let found = dm_attachments(&webhook.body);
    assert_eq!(found[0].0, event_id);
    assert_eq!(found[0].1.kind, "animated_gif");
    let content = client
        .download_dm_media(found[0].1.download_url())
        .await
        .unwrap();
    assert_eq!(content.response.bytes().await.unwrap(), &b"GIF89a..."[..]);
}

fn discord(sandbox: &Sandbox, token: &str) -> flex_bridge::discord::DiscordClient {
    flex_bridge::discord::DiscordClient::new(
        flex_bridge::http::http_client(),
        flex_bridge::discord::DiscordApiConfig {
            bot_token: Secret::new(token),
            api_url: sandbox.discord_api_url(),
        },
    )
}

#[tokio::test]
async fn an_agents_files_reach_the_discord_dm_as_multipart_byte_for_byte() {
    use flex_bridge::discord::media::OutgoingFile;
    use flex_bridge::discord::messages::OutgoingMessage;
    let receiver = Receiver::start().await;
    let sandbox = sandbox_for(&receiver).await;
    let client = discord(&sandbox, &sandbox.config().discord_bot_token);
    let channel = client.open_dm("812345678901234567").await.unwrap();
    let files = [
        OutgoingFile::new(
            "label.pdf",
            "application/pdf",
            Bytes::from_static(b"%PDF-1.7 x"),
        ),
        OutgoingFile::new("photo.png", "image/png", image(3 * 1024 * 1024)),
    ];
    client
        .send_files(&channel, &OutgoingMessage::text("Your files"), &files)
        .await
        .unwrap();
    let message = sandbox.discord_dms_to("812345678901234567").pop().unwrap();
    assert_eq!(message.content, "Your files");
    assert_eq!(message.attachments.len(), 2);
    for (received, sent) in message.attachments.iter().zip(&files) {
        assert_eq!(received.filename, sent.filename);
        assert_eq!(received.content_type, sent.content_type);
        assert_eq!(received.bytes, sent.bytes);
    }

    // Over the upload limit: 413, Discord's 40005, not worth retrying.
    let big = [OutgoingFile::new(
        "big.bin",
        "image/png",
        image(10 * 1024 * 1024 + 1),
    )];
    let refused = client
        .send_files(&channel, &OutgoingMessage::text("big"), &big)
        .await
        .unwrap_err();
    assert!(
        refused.is_status(413) && !refused.is_transient(),
        "{refused}"
    );
    assert_eq!(flex_bridge::discord::error_code(&refused), Some(40005));
    let forged = discord(&sandbox, "not-the-bot-token")
        .send_files(&channel, &OutgoingMessage::text("x"), &files[..1])
        .await
        .unwrap_err();
    assert!(forged.is_status(401));
}

#[tokio::test]
async fn a_customers_attachment_option_and_file_upload_are_resolved_and_downloadable() {
    use flex_bridge::discord::media::interaction_files;
    use sandbox::{DiscordFile, DiscordUser};
    let receiver = Receiver::start().await;
    let sandbox = sandbox_for(&receiver).await;
    sandbox.set_discord_interactions_url(format!("{}/discord/interactions", receiver.url));
    let client = discord(&sandbox, &sandbox.config().discord_bot_token);
    let user = DiscordUser::new("812345678901234567", "dana");
    let screenshot = DiscordFile::new("crash.png", "image/png", image(20_000));

    for command in ["helpme", "reply"] {
        let text_option = if command == "helpme" {
            "question"
        } else {
            "message"
        };
        sandbox
            .discord_command_with_files(
                &user,
                command == "helpme",
                command,
                &[(text_option, "It crashes")],
                &[("attachment", screenshot.clone())],
            )
            .await;
        let body = sandbox.last_discord_interaction().unwrap();
        let files = interaction_files(&body).unwrap();
        assert_eq!(files.size_limit, 10 * 1024 * 1024);
        assert_eq!(files.files.len(), 1, "{command}");
        let attachment = &files.files[0];
        assert_eq!(attachment.filename, "crash.png");
        assert_eq!(attachment.size, 20_000);
        let response = client.download_attachment(&attachment.url).await.unwrap();
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "image/png"
        );
        assert_eq!(response.bytes().await.unwrap(), screenshot.bytes);
    }

    let receipt = DiscordFile::new(
        "receipt.pdf",
        "application/pdf",
        Bytes::from_static(b"%PDF"),
    );
    sandbox
        .discord_modal_submit_with_files(
            &user,
            "reply_modal",
            &[("message", "Both attached")],
            &[("files", vec![receipt.clone(), screenshot.clone()])],
        )
        .await;
    let body = sandbox.last_discord_interaction().unwrap();
    let files = interaction_files(&body).unwrap();
    let names: Vec<_> = files.files.iter().map(|f| f.filename.as_str()).collect();
    assert_eq!(names, ["receipt.pdf", "crash.png"]);
    let response = client
        .download_attachment(&files.files[0].url)
        .await
        .unwrap();
    assert_eq!(response.bytes().await.unwrap(), receipt.bytes);
    // The bridge's own parser still reads the text beside the files.
    assert!(matches!(
        flex_bridge::discord::interactions::parse(&body).unwrap(),
        flex_bridge::discord::interactions::Interaction::FromUser {
            action: flex_bridge::discord::interactions::Action::Reply { .. },
            ..
        }
    ));
    // Without the URL's signature the CDN serves nothing.
    let unsigned = files.files[0].url.split('?').next().unwrap().to_owned();
    let status = flex_bridge::http::http_client()
        .get(format!("{unsigned}?hm=forged"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 404);
}
