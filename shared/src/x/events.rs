//! Inbound X webhook payloads: the Account Activity API delivery (`direct_message_events`,
//! typing and read events) and the X Activity API envelope (`data.event_type = "dm.received"`).
//! Both are reduced to [`InboundDm`]s; everything else is recognised and ignored.

use std::collections::HashMap;

use serde::Deserialize;

/// One customer DM, ready to post to Flex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundDm {
    /// X's DM event id: the dedupe key.
    pub event_id: String,
    pub sender_id: String,
    /// `@screen_name`, when the payload names the sender.
    pub handle: Option<String>,
    pub text: String,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub messages: Vec<InboundDm>,
    /// Events deliberately dropped (echoes of our own DMs, typing, read receipts, other kinds).
    pub ignored: usize,
}

#[derive(Deserialize)]
struct AccountActivity {
    #[serde(default)]
    direct_message_events: Vec<DmEvent>,
    #[serde(default)]
    users: HashMap<String, serde_json::Value>,
    #[serde(default)]
    direct_message_indicate_typing_events: Vec<serde_json::Value>,
    #[serde(default)]
    direct_message_mark_read_events: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct ActivityEnvelope {
    data: ActivityData,
}

#[derive(Deserialize)]
struct ActivityData {
    event_type: String,
    #[serde(default)]
    payload: Option<AccountActivity>,
}

#[derive(Deserialize)]
struct DmEvent {
    #[serde(rename = "type")]
    kind: String,
    id: String,
    #[serde(default)]
    message_create: Option<MessageCreate>,
}

#[derive(Deserialize)]
struct MessageCreate {
    sender_id: String,
    message_data: MessageData,
}

#[derive(Deserialize)]
struct MessageData {
    #[serde(default)]
    text: String,
    #[serde(default)]
    entities: Entities,
    #[serde(default)]
    attachment: Option<Attachment>,
}

#[derive(Deserialize, Default)]
struct Entities {
    #[serde(default)]
    urls: Vec<UrlEntity>,
}

#[derive(Deserialize)]
struct UrlEntity {
    url: String,
    #[serde(default)]
    expanded_url: Option<String>,
}

#[derive(Deserialize)]
struct Attachment {
    #[serde(default)]
    media: Option<Media>,
}

#[derive(Deserialize)]
struct Media {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    media_url_https: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("not an X webhook payload: {0}")]
pub struct PayloadError(String);

/// Parses a verified webhook body. `brand_account_id` is our own X account: DMs it sent are
/// echoes and are dropped.
pub fn parse(body: &[u8], brand_account_id: &str) -> Result<Parsed, PayloadError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| PayloadError(e.to_string()))?;
    if !value.is_object() {
        return Err(PayloadError("expected a JSON object".into()));
    }
    let activity = if value
        .get("data")
        .and_then(|d| d.get("event_type"))
        .is_some()
    {
        let envelope: ActivityEnvelope =
            serde_json::from_value(value).map_err(|e| PayloadError(e.to_string()))?;
        match (envelope.data.event_type.as_str(), envelope.data.payload) {
            ("dm.received", Some(payload)) => payload,
            _ => {
                return Ok(Parsed {
                    messages: vec![],
                    ignored: 1,
                })
            }
        }
    } else {
        serde_json::from_value(value).map_err(|e| PayloadError(e.to_string()))?
    };
    let mut parsed = Parsed {
        messages: Vec::new(),
        ignored: activity.direct_message_indicate_typing_events.len()
            + activity.direct_message_mark_read_events.len(),
    };
    for event in activity.direct_message_events {
        match (event.kind.as_str(), event.message_create) {
            ("message_create", Some(create)) if create.sender_id != brand_account_id => {
                let handle = handle_of(&activity.users, &create.sender_id);
                parsed.messages.push(InboundDm {
                    event_id: event.id,
                    text: customer_text(create.message_data),
                    sender_id: create.sender_id,
                    handle,
                });
            }
            _ => parsed.ignored += 1,
        }
    }
    Ok(parsed)
}

/// Account Activity users carry `screen_name`; X Activity users are v2 objects under `data`.
fn handle_of(users: &HashMap<String, serde_json::Value>, id: &str) -> Option<String> {
    let user = users.get(id)?;
    let name = user
        .get("screen_name")
        .or_else(|| user.get("data").and_then(|d| d.get("username")))?
        .as_str()?;
    Some(format!("@{name}"))
}

/// The text an agent should read: t.co links expanded, and an attachment noted with its link
/// (X puts the media's t.co link in the text; the agent cannot open it without our credentials).
fn customer_text(data: MessageData) -> String {
    let media = data.attachment.and_then(|a| a.media);
    let mut text = data.text;
    if let Some(media_link) = media.as_ref().and_then(|m| m.url.as_deref()) {
        text = text.replace(media_link, "");
    }
    for entity in &data.entities.urls {
        if let Some(expanded) = &entity.expanded_url {
            text = text.replace(&entity.url, expanded);
        }
    }
    let mut text = text.trim().to_owned();
    if let Some(media) = media {
        let kind = media.kind.unwrap_or_else(|| "media".into());
        let link = media.media_url_https.unwrap_or_default();
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&format!("[The customer attached a {kind}: {link}]"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const BRAND: &str = "1514100000000000001";

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../fixtures/x/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn account_activity_text_dm() {
        let parsed = parse(&fixture("aaa-v2-dm-inbound-text.json"), BRAND).unwrap();
        assert_eq!(
            parsed.messages,
            vec![InboundDm {
                event_id: "1953112233445566778".into(),
                sender_id: "2900000001".into(),
                handle: Some("@jordan_cust".into()),
                text: "Hi @AcmeSupport, my order A-1042 hasn't arrived. Tracking: https://track.example.com/A-1042".into(),
            }]
        );
    }

    #[test]
    fn attachments_are_noted_in_the_text() {
        let parsed = parse(&fixture("aaa-v2-dm-inbound-media-quickreply.json"), BRAND).unwrap();
        assert_eq!(
            parsed.messages[0].text,
            "Damaged box\n[The customer attached a photo: https://ton.twitter.com/1.1/ton/data/dm/1953112299887766554/1953112288776655443/kP3sXbQ1.jpg]"
        );
    }

    #[test]
    fn echoes_typing_and_read_events_are_ignored() {
        for name in [
            "aaa-v2-dm-outbound-echo.json",
            "aaa-v2-dm-typing.json",
            "aaa-v2-dm-read.json",
        ] {
            let parsed = parse(&fixture(name), BRAND).unwrap();
            assert!(parsed.messages.is_empty(), "{name}");
            assert_eq!(parsed.ignored, 1, "{name}");
        }
    }

    #[test]
    fn x_activity_envelope() {
        let parsed = parse(&fixture("xaa-dm-received.json"), BRAND).unwrap();
        assert_eq!(parsed.messages.len(), 1);
        assert_eq!(parsed.messages[0].handle.as_deref(), Some("@jordan_cust"));
        assert_eq!(parsed.messages[0].event_id, "1953112233445566778");
        let other = br#"{"data":{"event_type":"follow.follow","payload":{}}}"#;
        assert_eq!(parse(other, BRAND).unwrap().messages.len(), 0);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse(b"not json", BRAND).is_err());
        assert!(parse(b"[]", BRAND).is_err());
        assert!(parse(br#"{"direct_message_events":[{"id":1}]}"#, BRAND).is_err());
        assert_eq!(parse(b"{}", BRAND).unwrap(), Parsed::default());
    }
}
