//! Inbound X webhook payloads, reduced to [`InboundDm`]s; everything else is recognised, counted
//! and ignored.
//!
//! Two shapes arrive until Account Activity ends on 2027-01-01:
//! - Account Activity: `{for_user_id, direct_message_events: [...], users: {...}, ...}`;
//! - X Activity API (XAA): `{"data": EVENT}` or `{"data": [EVENT, ...]}`, each EVENT
//!   `{event_uuid, filter: {user_id}, event_type, tag, payload}`. DMs are `dm.received`, whose
//!   payload carries Account Activity's `direct_message_events` and `users`.
//!
//! One bad item never costs the others: a malformed event (or DM inside one) is skipped and
//! logged, and the rest of the delivery goes through. Events for another account than the
//! brand's are not this contact center's. XChat (`chat.*`) is end-to-end encrypted: its events
//! are counted by type and their payload is never read.
//!
//! Public mentions (`post.mention.create`, whose payload is a v2 Post) become
//! [`InboundMention`]s; the brand's own posts and reposts are ignored. Whether they go anywhere
//! is `twitter-inbound`'s choice (`X_MENTIONS`, see [`super::mentions`]).

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde_json::Value;

/// One customer DM, ready to post to Flex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundDm {
    /// X's DM event id: the dedupe key.
    pub event_id: String,
    pub sender_id: String,
    /// `@screen_name`, when the payload names the sender.
    pub handle: Option<String>,
    pub text: String,
    /// The X Activity API delivery's `event_uuid` (none for Account Activity): logged with the
    /// DM so a delivery can be followed through the bridge.
    pub event_uuid: Option<String>,
}

/// A public post naming the brand (`post.mention.create`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMention {
    /// The post's id: the dedupe key, and its link (`https://x.com/i/web/status/<id>`).
    pub post_id: String,
    pub author_id: String,
    /// `@username`, when the event names the author (`includes.users`, or the Post's own
    /// `username`).
    pub handle: Option<String>,
    /// The post's text, t.co links expanded.
    pub text: String,
    pub event_uuid: Option<String>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub messages: Vec<InboundDm>,
    /// Public mentions of the brand by others (not reposts).
    pub mentions: Vec<InboundMention>,
    /// Events deliberately dropped (echoes of our own DMs, typing, read receipts, other kinds).
    pub ignored: usize,
    /// Events of a subscription for another account (`filter.user_id`, `for_user_id`).
    pub foreign: usize,
    /// Items that could not be read, skipped so the rest of the delivery goes through.
    pub malformed: usize,
    /// XChat events by type: encrypted, so counted and never parsed.
    pub encrypted: BTreeMap<String, usize>,
}

impl Parsed {
    pub fn encrypted_total(&self) -> usize {
        self.encrypted.values().sum()
    }

    /// Only malformed items: the delivery is bad input as a whole (one good item among bad
    /// ones makes it a delivery whose bad items are skipped).
    pub fn is_all_malformed(&self) -> bool {
        self.malformed > 0
            && self.messages.is_empty()
            && self.mentions.is_empty()
            && self.ignored + self.foreign + self.encrypted_total() == 0
    }
}

#[derive(Deserialize)]
struct AccountActivity {
    #[serde(default)]
    for_user_id: Option<String>,
    #[serde(default)]
    direct_message_events: Vec<Value>,
    #[serde(default)]
    users: HashMap<String, Value>,
    #[serde(default)]
    direct_message_indicate_typing_events: Vec<Value>,
    #[serde(default)]
    direct_message_mark_read_events: Vec<Value>,
}

/// One X Activity API event: the envelope only; the payload is read by event type.
#[derive(Deserialize)]
struct ActivityEvent {
    #[serde(default)]
    event_uuid: Option<Value>,
    #[serde(default)]
    filter: Option<ActivityFilter>,
    event_type: String,
    #[serde(default)]
    payload: Option<Value>,
    /// Expansions of a post event (`users`), next to the payload.
    #[serde(default)]
    includes: Option<Value>,
}

#[derive(Deserialize)]
struct ActivityFilter {
    #[serde(default)]
    user_id: Option<String>,
}

/// A `dm.received` payload: Account Activity's DM events and users.
#[derive(Deserialize)]
struct DmPayload {
    #[serde(default)]
    direct_message_events: Vec<Value>,
    #[serde(default)]
    users: HashMap<String, Value>,
}

/// The v2 Post of a `post.mention.create` (`#/components/schemas/Post`): what the bridge reads.
#[derive(Deserialize)]
struct PostPayload {
    id: String,
    author_id: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    username: Option<String>,
    /// X API v2 names them `referenced_tweets`; the current spec `referenced_posts`.
    #[serde(default)]
    referenced_tweets: Option<Vec<Reference>>,
    #[serde(default)]
    referenced_posts: Option<Vec<Reference>>,
    #[serde(default)]
    entities: Option<Entities>,
    #[serde(default)]
    includes: Option<Value>,
}

#[derive(Deserialize)]
struct Reference {
    #[serde(rename = "type")]
    kind: String,
}

impl PostPayload {
    /// A repost (`retweeted`) is not the author writing to the brand.
    fn is_repost(&self) -> bool {
        self.referenced_tweets
            .iter()
            .chain(&self.referenced_posts)
            .flatten()
            .any(|r| r.kind == "retweeted")
    }
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
/// echoes, and events of other accounts' subscriptions are not ours. Only a body that is not a
/// JSON object (or whose `data` is neither an event nor a list of them) is an error.
pub fn parse(body: &[u8], brand_account_id: &str) -> Result<Parsed, PayloadError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| PayloadError(e.to_string()))?;
    let Value::Object(mut object) = value else {
        return Err(PayloadError("expected a JSON object".into()));
    };
    let mut parsed = Parsed::default();
    match object.remove("data") {
        Some(Value::Array(events)) => {
            for event in events {
                parsed.activity_event(event, brand_account_id);
            }
        }
        Some(event @ Value::Object(_)) => parsed.activity_event(event, brand_account_id),
        Some(_) => return Err(PayloadError("`data` is neither an event nor a list".into())),
        None => {
            let activity: AccountActivity = serde_json::from_value(Value::Object(object))
                .map_err(|e| PayloadError(e.to_string()))?;
            parsed.account_activity(activity, brand_account_id);
        }
    }
    Ok(parsed)
}

impl Parsed {
    fn account_activity(&mut self, activity: AccountActivity, brand: &str) {
        let events = activity.direct_message_events.len()
            + activity.direct_message_indicate_typing_events.len()
            + activity.direct_message_mark_read_events.len();
        if activity
            .for_user_id
            .as_deref()
            .is_some_and(|id| id != brand)
        {
            tracing::info!(for_user_id = ?activity.for_user_id, events, "x delivery for another account ignored");
            self.foreign += events;
            return;
        }
        self.ignored += activity.direct_message_indicate_typing_events.len()
            + activity.direct_message_mark_read_events.len();
        self.dm_events(activity.direct_message_events, &activity.users, brand, None);
    }

    fn activity_event(&mut self, event: Value, brand: &str) {
        let event: ActivityEvent = match serde_json::from_value(event) {
            Ok(event) => event,
            Err(err) => {
                tracing::warn!(error = %err, "malformed X Activity event skipped");
                self.malformed += 1;
                return;
            }
        };
        let event_uuid = event.event_uuid.as_ref().map(|uuid| match uuid {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        let for_brand = event
            .filter
            .as_ref()
            .and_then(|f| f.user_id.as_deref())
            .is_some_and(|id| id == brand);
        if !for_brand {
            tracing::info!(event_uuid, event_type = %event.event_type, "x event for another account ignored");
            self.foreign += 1;
            return;
        }
        if event.event_type.starts_with("chat.") {
            // XChat is end-to-end encrypted: its payload is never read.
            *self.encrypted.entry(event.event_type).or_default() += 1;
            return;
        }
        if event.event_type == "post.mention.create" {
            self.mention(event.payload, event.includes, brand, event_uuid);
            return;
        }
        if event.event_type != "dm.received" {
            tracing::debug!(event_uuid, event_type = %event.event_type, "x event ignored");
            self.ignored += 1;
            return;
        }
        match event.payload.map(serde_json::from_value::<DmPayload>) {
            Some(Ok(payload)) => self.dm_events(
                payload.direct_message_events,
                &payload.users,
                brand,
                event_uuid.as_deref(),
            ),
            Some(Err(err)) => {
                tracing::warn!(event_uuid, error = %err, "malformed dm.received payload skipped");
                self.malformed += 1;
            }
            None => {
                tracing::warn!(event_uuid, "dm.received without a payload skipped");
                self.malformed += 1;
            }
        }
    }

    fn mention(
        &mut self,
        payload: Option<Value>,
        includes: Option<Value>,
        brand: &str,
        event_uuid: Option<String>,
    ) {
        let post = match payload.map(serde_json::from_value::<PostPayload>) {
            Some(Ok(post)) => post,
            Some(Err(err)) => {
                tracing::warn!(event_uuid, error = %err, "malformed post.mention.create payload skipped");
                self.malformed += 1;
                return;
            }
            None => {
                tracing::warn!(event_uuid, "post.mention.create without a payload skipped");
                self.malformed += 1;
                return;
            }
        };
        if post.author_id == brand || post.is_repost() {
            tracing::debug!(event_uuid, post_id = %post.id, "the brand's own post or a repost ignored");
            self.ignored += 1;
            return;
        }
        let handle = [includes.as_ref(), post.includes.as_ref()]
            .into_iter()
            .flatten()
            .find_map(|includes| username_in(includes, &post.author_id))
            .or(post.username.clone())
            .map(|name| format!("@{name}"));
        let mut text = post.text;
        for entity in post.entities.map(|e| e.urls).unwrap_or_default() {
            if let Some(expanded) = &entity.expanded_url {
                text = text.replace(&entity.url, expanded);
            }
        }
        self.mentions.push(InboundMention {
            post_id: post.id,
            author_id: post.author_id,
            handle,
            text: text.trim().to_owned(),
            event_uuid,
        });
    }

    fn dm_events(
        &mut self,
        events: Vec<Value>,
        users: &HashMap<String, Value>,
        brand: &str,
        event_uuid: Option<&str>,
    ) {
        for event in events {
            let event: DmEvent = match serde_json::from_value(event) {
                Ok(event) => event,
                Err(err) => {
                    tracing::warn!(event_uuid, error = %err, "malformed DM event skipped");
                    self.malformed += 1;
                    continue;
                }
            };
            match (event.kind.as_str(), event.message_create) {
                ("message_create", Some(create)) if create.sender_id != brand => {
                    self.messages.push(InboundDm {
                        event_id: event.id,
                        handle: handle_of(users, &create.sender_id),
                        text: customer_text(create.message_data),
                        sender_id: create.sender_id,
                        event_uuid: event_uuid.map(str::to_owned),
                    });
                }
                _ => self.ignored += 1,
            }
        }
    }
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

/// `includes.users[]` (v2 users) holds the author's `username`.
fn username_in(includes: &Value, author_id: &str) -> Option<String> {
    includes
        .get("users")?
        .as_array()?
        .iter()
        .find(|u| u.get("id").and_then(Value::as_str) == Some(author_id))?
        .get("username")?
        .as_str()
        .map(str::to_owned)
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
            "{}/../../fixtures/x/{name}",
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
                event_uuid: None,
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
        assert_eq!(
            parsed.messages[0].event_uuid.as_deref(),
            Some("-6850472171600526495")
        );
        let other = format!(
            r#"{{"data":{{"event_uuid":"1","filter":{{"user_id":"{BRAND}"}},"event_type":"follow.follow","payload":{{}}}}}}"#
        );
        let parsed = parse(other.as_bytes(), BRAND).unwrap();
        assert_eq!((parsed.messages.len(), parsed.ignored), (0, 1));
    }

    /// An XAA event for the brand: `dm.received` with one DM from `sender`.
    fn xaa_dm(uuid: &str, event_id: &str, sender: &str, text: &str) -> Value {
        serde_json::json!({
            "event_uuid": uuid,
            "filter": {"user_id": BRAND},
            "event_type": "dm.received",
            "tag": "flex-dm-inbound",
            "payload": {
                "direct_message_events": [{
                    "type": "message_create", "id": event_id, "created_timestamp": "1786012345678",
                    "message_create": {
                        "target": {"recipient_id": BRAND}, "sender_id": sender,
                        "message_data": {"text": text, "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []}}
                    }
                }],
                "users": {sender: {"data": {"id": sender, "username": format!("user{sender}")}}}
            }
        })
    }

    fn ids(parsed: &Parsed) -> Vec<(&str, &str)> {
        parsed
            .messages
            .iter()
            .map(|m| (m.sender_id.as_str(), m.event_id.as_str()))
            .collect()
    }

    #[test]
    fn every_event_of_a_batched_delivery_is_read_in_order() {
        let body = serde_json::json!({"data": [
            xaa_dm("u1", "1900000000000000011", "2900000001", "first"),
            xaa_dm("u2", "1900000000000000012", "2900000002", "second"),
            xaa_dm("u3", "1900000000000000013", "2900000001", "third"),
        ]});
        let parsed = parse(body.to_string().as_bytes(), BRAND).unwrap();
        assert_eq!(
            ids(&parsed),
            vec![
                ("2900000001", "1900000000000000011"),
                ("2900000002", "1900000000000000012"),
                ("2900000001", "1900000000000000013"),
            ]
        );
        assert_eq!(
            parsed.messages[1].handle.as_deref(),
            Some("@user2900000002")
        );
        assert_eq!(parsed.messages[2].event_uuid.as_deref(), Some("u3"));
    }

    #[test]
    fn a_malformed_item_is_skipped_and_the_rest_go_through() {
        let mut broken_dm = xaa_dm("u2", "1900000000000000022", "2900000002", "x");
        broken_dm["payload"]["direct_message_events"][0]["message_create"] = Value::from(7);
        let body = serde_json::json!({"data": [
            xaa_dm("u1", "1900000000000000021", "2900000001", "first"),
            {"event_uuid": "u9", "filter": {"user_id": BRAND}},
            broken_dm,
            "not an event",
            {"event_uuid": "u8", "filter": {"user_id": BRAND}, "event_type": "dm.received", "payload": "x"},
            xaa_dm("u3", "1900000000000000023", "2900000003", "last"),
        ]});
        let parsed = parse(body.to_string().as_bytes(), BRAND).unwrap();
        assert_eq!(
            ids(&parsed),
            vec![
                ("2900000001", "1900000000000000021"),
                ("2900000003", "1900000000000000023")
            ]
        );
        assert_eq!(parsed.malformed, 4);
    }

    #[test]
    fn echoes_and_other_accounts_events_are_not_customers_dms() {
        let mut foreign = xaa_dm("u2", "1900000000000000032", "2900000002", "not ours");
        foreign["filter"]["user_id"] = "1514100000000000999".into();
        let mut unfiltered = xaa_dm("u3", "1900000000000000033", "2900000003", "no filter");
        unfiltered.as_object_mut().unwrap().remove("filter");
        let body = serde_json::json!({"data": [
            xaa_dm("u1", "1900000000000000031", BRAND, "Thanks for waiting!"),
            foreign,
            unfiltered,
        ]});
        let parsed = parse(body.to_string().as_bytes(), BRAND).unwrap();
        assert!(parsed.messages.is_empty());
        assert_eq!((parsed.ignored, parsed.foreign), (1, 2));

        let mut aaa: Value =
            serde_json::from_slice(&fixture("aaa-v2-dm-inbound-text.json")).unwrap();
        aaa["for_user_id"] = "1514100000000000999".into();
        let parsed = parse(aaa.to_string().as_bytes(), BRAND).unwrap();
        assert!(parsed.messages.is_empty());
        assert_eq!(parsed.foreign, 1);
    }

    #[test]
    fn xchat_events_are_counted_by_type_and_never_read() {
        let chat = |uuid: &str, kind: &str| {
            // A payload no DM parser could read: only its type is looked at.
            serde_json::json!({"event_uuid": uuid, "filter": {"user_id": BRAND}, "event_type": kind,
                "payload": {"encoded_event": "AAECAwQ=", "direct_message_events": 42}})
        };
        let body = serde_json::json!({"data": [
            chat("u1", "chat.received"),
            xaa_dm("u2", "1900000000000000041", "2900000001", "plain DM"),
            chat("u3", "chat.received"),
            chat("u4", "chat.conversation.join"),
        ]});
        let parsed = parse(body.to_string().as_bytes(), BRAND).unwrap();
        assert_eq!(ids(&parsed), vec![("2900000001", "1900000000000000041")]);
        assert_eq!(parsed.encrypted_total(), 3);
        assert_eq!(
            parsed.encrypted,
            BTreeMap::from([
                ("chat.conversation.join".to_owned(), 1),
                ("chat.received".to_owned(), 2)
            ])
        );
        assert_eq!(parsed.malformed, 0);
    }

    /// A `post.mention.create` event for the brand: a v2 Post by `author`.
    fn xaa_mention(uuid: &str, post_id: &str, author: &str, text: &str) -> Value {
        serde_json::json!({
            "event_uuid": uuid,
            "filter": {"user_id": BRAND},
            "event_type": "post.mention.create",
            "tag": "flex-mentions",
            "payload": {
                "id": post_id, "author_id": author, "text": text,
                "created_at": "2026-09-01T10:00:00.000Z", "conversation_id": post_id,
                "edit_history_post_ids": [post_id],
                "entities": {
                    "mentions": [{"start": 0, "end": 12, "username": "AcmeSupport", "id": BRAND}],
                    "urls": [{"start": 40, "end": 63, "url": "https://t.co/AbCdEf1234",
                              "expanded_url": "https://acme.example/orders/A-1042"}]
                }
            },
            "includes": {"users": [
                {"id": author, "username": "jordan_cust", "name": "Jordan"},
                {"id": BRAND, "username": "AcmeSupport", "name": "Acme"}
            ]}
        })
    }

    #[test]
    fn a_public_mention_is_read_with_its_author_and_links() {
        let body = serde_json::json!({"data": [
            xaa_mention("u1", "1960000000000000001", "2900000001",
                "@AcmeSupport my order never came: https://t.co/AbCdEf1234"),
            xaa_dm("u2", "1900000000000000051", "2900000002", "a DM"),
        ]});
        let parsed = parse(body.to_string().as_bytes(), BRAND).unwrap();
        assert_eq!(
            parsed.mentions,
            vec![InboundMention {
                post_id: "1960000000000000001".into(),
                author_id: "2900000001".into(),
                handle: Some("@jordan_cust".into()),
                text: "@AcmeSupport my order never came: https://acme.example/orders/A-1042".into(),
                event_uuid: Some("u1".into()),
            }]
        );
        assert_eq!(ids(&parsed), vec![("2900000002", "1900000000000000051")]);
        assert_eq!((parsed.ignored, parsed.malformed), (0, 0));
    }

    #[test]
    fn the_author_is_named_by_the_post_when_no_users_are_included() {
        let mut mention = xaa_mention("u1", "1960000000000000002", "2900000003", "@AcmeSupport hi");
        mention.as_object_mut().unwrap().remove("includes");
        let parsed = parse(
            serde_json::json!({"data": mention.clone()})
                .to_string()
                .as_bytes(),
            BRAND,
        )
        .unwrap();
        assert_eq!(parsed.mentions[0].handle, None);
        mention["payload"]["username"] = "cust3".into();
        let parsed = parse(
            serde_json::json!({"data": mention}).to_string().as_bytes(),
            BRAND,
        )
        .unwrap();
        assert_eq!(parsed.mentions[0].handle.as_deref(), Some("@cust3"));
    }

    #[test]
    fn the_brands_own_posts_reposts_and_broken_mentions_are_not_mentions() {
        let own = xaa_mention(
            "u1",
            "1960000000000000011",
            BRAND,
            "@AcmeSupport is here to help",
        );
        let mut repost = xaa_mention(
            "u2",
            "1960000000000000012",
            "2900000001",
            "RT @AcmeSupport: news",
        );
        repost["payload"]["referenced_tweets"] =
            serde_json::json!([{"type": "retweeted", "id": "1960000000000000001"}]);
        let mut repost_v2 = xaa_mention(
            "u3",
            "1960000000000000013",
            "2900000001",
            "RT @AcmeSupport: news",
        );
        repost_v2["payload"]["referenced_posts"] =
            serde_json::json!([{"type": "retweeted", "id": "1960000000000000001"}]);
        let mut quote = xaa_mention(
            "u4",
            "1960000000000000014",
            "2900000002",
            "@AcmeSupport look",
        );
        quote["payload"]["referenced_posts"] =
            serde_json::json!([{"type": "quoted", "id": "1960000000000000001"}]);
        let mut foreign = xaa_mention("u5", "1960000000000000015", "2900000002", "@Other hi");
        foreign["filter"]["user_id"] = "1514100000000000999".into();
        let mut no_author = xaa_mention("u6", "1960000000000000016", "2900000002", "x");
        no_author["payload"]
            .as_object_mut()
            .unwrap()
            .remove("author_id");
        let body = serde_json::json!({"data": [own, repost, repost_v2, quote, foreign, no_author]});
        let parsed = parse(body.to_string().as_bytes(), BRAND).unwrap();
        let posts: Vec<&str> = parsed.mentions.iter().map(|m| m.post_id.as_str()).collect();
        assert_eq!(
            posts,
            ["1960000000000000014"],
            "a quote is the author writing"
        );
        assert_eq!(
            (parsed.ignored, parsed.foreign, parsed.malformed),
            (3, 1, 1)
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse(b"not json", BRAND).is_err());
        assert!(parse(b"[]", BRAND).is_err());
        assert!(parse(br#"{"data":"dm.received"}"#, BRAND).is_err());
        assert!(parse(br#"{"direct_message_events":{"id":1}}"#, BRAND).is_err());
        let skipped = parse(br#"{"direct_message_events":[{"id":1}]}"#, BRAND).unwrap();
        assert_eq!((skipped.messages.len(), skipped.malformed), (0, 1));
        assert!(skipped.is_all_malformed(), "bad input as a whole");
        let typing =
            br#"{"direct_message_events":[{"id":1}],"direct_message_indicate_typing_events":[{}]}"#;
        assert!(!parse(typing, BRAND).unwrap().is_all_malformed());
        assert_eq!(parse(b"{}", BRAND).unwrap(), Parsed::default());
    }
}
