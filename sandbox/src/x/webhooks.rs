//! The customer's side of X: Account Activity API payloads (the shape of
//! `fixtures/x/aaa-v2-dm-*.json`) and X Activity API deliveries (`fixtures/x/xaa-dm-received.json`:
//! `{"data": EVENT}` or `{"data": [EVENT, ...]}`), signed with `x-twitter-webhooks-signature` and
//! POSTed to the bridge with X's retries, and the CRC challenge X sends when a webhook is
//! registered.

use serde_json::{json, Value};

use super::{SentDm, XDelivery};
use crate::{lock, time, Sandbox, SandboxError};

/// The brand's screen name in generated payloads.
const BRAND_SCREEN_NAME: &str = "SandboxBrand";

fn user(id: &str, screen_name: &str) -> Value {
    json!({
        "id": id,
        "created_timestamp": "1422556069340",
        "name": screen_name,
        "screen_name": screen_name,
        "protected": false,
        "verified": false,
        "followers_count": 0,
        "friends_count": 0,
        "statuses_count": 0,
        "profile_image_url_https": "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png",
    })
}

/// X wraps every link in a DM in a t.co link and lists the original in `entities.urls`.
fn shorten_links(text: &str) -> (String, Vec<Value>) {
    let mut out = String::new();
    let mut urls = Vec::new();
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if word.starts_with("https://") || word.starts_with("http://") {
            let short = format!(
                "https://t.co/{}",
                &uuid::Uuid::new_v4().simple().to_string()[..10]
            );
            let start = out.chars().count();
            urls.push(json!({
                "url": short,
                "expanded_url": word,
                "display_url": word.split_once("://").map_or(word, |(_, rest)| rest),
                "indices": [start, start + short.chars().count()],
            }));
            out.push_str(&short);
        } else {
            out.push_str(word);
        }
    }
    (out, urls)
}

fn message_create(id: &str, sender_id: &str, recipient_id: &str, text: &str) -> Value {
    let (text, urls) = shorten_links(text);
    json!({
        "type": "message_create",
        "id": id,
        "created_timestamp": time::now_millis().to_string(),
        "message_create": {
            "target": {"recipient_id": recipient_id},
            "sender_id": sender_id,
            "message_data": {
                "text": text,
                "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": urls},
            },
        },
    })
}

/// A DM event carrying `media` (an Account Activity `media` object): X appends the media's
/// t.co link to the text, lists it in `entities.urls`, and puts the media in
/// `message_data.attachment` (fixtures/x/aaa-v2-dm-inbound-media-quickreply.json).
fn message_create_with_media(
    id: &str,
    sender_id: &str,
    recipient_id: &str,
    text: &str,
    media: Value,
) -> Value {
    let mut event = message_create(id, sender_id, recipient_id, text);
    let data = &mut event["message_create"]["message_data"];
    let mut text = data["text"].as_str().unwrap_or_default().to_owned();
    if !text.is_empty() {
        text.push(' ');
    }
    let start = text.chars().count();
    let link = media["url"].as_str().unwrap_or_default().to_owned();
    text.push_str(&link);
    let end = text.chars().count();
    data["text"] = json!(text);
    if let Some(urls) = data["entities"]["urls"].as_array_mut() {
        urls.push(json!({
            "url": link,
            "expanded_url": media["expanded_url"],
            "display_url": media["display_url"],
            "indices": [start, end],
        }));
    }
    let mut media = media;
    media["indices"] = json!([start, end]);
    data["attachment"] = json!({"type": "media", "media": media});
    event
}

impl Sandbox {
    /// The raw Account Activity body of a customer DM and its fresh event id, for tests that
    /// deliver it themselves (e.g. twice, with [`Sandbox::deliver_x_webhook`]).
    pub fn customer_dm_body(
        &self,
        sender_id: &str,
        screen_name: &str,
        text: &str,
    ) -> (String, Vec<u8>) {
        let brand = &self.config().x_brand_account_id;
        let event_id = time::snowflake();
        let body = json!({
            "for_user_id": brand,
            "direct_message_events": [message_create(&event_id, sender_id, brand, text)],
            "users": {
                sender_id: user(sender_id, screen_name),
                brand.as_str(): user(brand, BRAND_SCREEN_NAME),
            },
        });
        (event_id, body.to_string().into_bytes())
    }

    /// An X Activity API event for the brand's subscription: `{event_uuid, filter: {user_id},
    /// event_type, tag, payload}`.
    pub fn x_activity_event(&self, event_type: &str, payload: Value) -> Value {
        json!({
            "event_uuid": time::snowflake(),
            "filter": {"user_id": self.config().x_brand_account_id},
            "event_type": event_type,
            "tag": "flex-bridge",
            "payload": payload,
        })
    }

    /// A customer's DM as an X Activity API `dm.received` event, and its DM event id. The
    /// payload carries the DM event and the v2 users (`{id: {data: user}}`).
    pub fn x_activity_dm(&self, sender_id: &str, username: &str, text: &str) -> (String, Value) {
        let brand = &self.config().x_brand_account_id;
        let event_id = time::snowflake();
        let payload = json!({
            "direct_message_events": [message_create(&event_id, sender_id, brand, text)],
            "users": {
                sender_id: {"data": {"id": sender_id, "name": username, "username": username}},
                brand.as_str(): {"data": {"id": brand, "name": BRAND_SCREEN_NAME, "username": BRAND_SCREEN_NAME}},
            },
        });
        (event_id, self.x_activity_event("dm.received", payload))
    }

    /// A public post by `author_id` naming the brand, as an X Activity API
    /// `post.mention.create` event, and the post's id. The payload is a v2 Post
    /// (`#/components/schemas/Post`: id, text, author_id, created_at, conversation_id,
    /// edit_history_post_ids, entities); the users are expanded next to it (`includes.users`).
    /// Links in `text` become t.co links listed in `entities.urls`. For a repost, set
    /// `payload.referenced_posts` to `[{"type": "retweeted", "id": ...}]`.
    pub fn x_activity_mention(
        &self,
        author_id: &str,
        username: &str,
        text: &str,
    ) -> (String, Value) {
        let brand = &self.config().x_brand_account_id;
        let post_id = time::snowflake();
        let (text, urls) = shorten_links(text);
        let handle = format!("@{BRAND_SCREEN_NAME}");
        let mentions: Vec<Value> = text
            .match_indices(&handle)
            .map(|(at, _)| {
                let start = text[..at].chars().count();
                json!({"start": start, "end": start + handle.chars().count(),
                       "username": BRAND_SCREEN_NAME, "id": brand})
            })
            .collect();
        let payload = json!({
            "id": post_id,
            "text": text,
            "author_id": author_id,
            "created_at": time::now_iso(),
            "conversation_id": post_id,
            "edit_history_post_ids": [post_id],
            "lang": "en",
            "entities": {"mentions": mentions, "urls": urls},
        });
        let mut event = self.x_activity_event("post.mention.create", payload);
        event["includes"] = json!({"users": [
            {"id": author_id, "name": username, "username": username},
            {"id": brand, "name": BRAND_SCREEN_NAME, "username": BRAND_SCREEN_NAME},
        ]});
        (post_id, event)
    }

    /// Delivers `{"data": data}` (one event, or a list of them) as X Activity API webhooks do:
    /// signed, and retried on failure. Returns the last status and the attempts made.
    pub async fn deliver_x_activity(&self, data: Value) -> (u16, u32) {
        self.send_x_webhook(json!({ "data": data }).to_string().as_bytes())
            .await
    }

    /// A customer DMs the brand: a signed webhook, retried like X does on failure.
    pub async fn customer_dm(&self, sender_id: &str, screen_name: &str, text: &str) -> XDelivery {
        let (event_id, body) = self.customer_dm_body(sender_id, screen_name, text);
        let (status, attempts) = self.send_x_webhook(&body).await;
        XDelivery {
            event_id,
            status,
            attempts,
        }
    }

    /// A customer DMs the brand a file (`content_type` decides photo, animated_gif or video)
    /// with `text`, as an Account Activity webhook; the file is then served to the brand's
    /// signed requests at the payload's `media_url_https`.
    pub async fn customer_dm_with_media(
        &self,
        sender_id: &str,
        screen_name: &str,
        text: &str,
        file: (&str, &str, bytes::Bytes),
    ) -> XDelivery {
        let brand = &self.config().x_brand_account_id;
        let event_id = time::snowflake();
        let (filename, content_type, bytes) = file;
        let media = self.attach_customer_media(&event_id, filename, content_type, bytes);
        let body = json!({
            "for_user_id": brand,
            "direct_message_events": [message_create_with_media(&event_id, sender_id, brand, text, media)],
            "users": {
                sender_id: user(sender_id, screen_name),
                brand.as_str(): user(brand, BRAND_SCREEN_NAME),
            },
        });
        let (status, attempts) = self.send_x_webhook(body.to_string().as_bytes()).await;
        XDelivery {
            event_id,
            status,
            attempts,
        }
    }

    /// The same DM with a file as an X Activity API `dm.received` event (deliver it with
    /// [`Sandbox::deliver_x_activity`]), and its DM event id.
    pub fn x_activity_dm_with_media(
        &self,
        sender_id: &str,
        username: &str,
        text: &str,
        file: (&str, &str, bytes::Bytes),
    ) -> (String, Value) {
        let (event_id, mut event) = self.x_activity_dm(sender_id, username, text);
        let brand = self.config().x_brand_account_id.clone();
        let (filename, content_type, bytes) = file;
        let media = self.attach_customer_media(&event_id, filename, content_type, bytes);
        event["payload"]["direct_message_events"] = json!([message_create_with_media(
            &event_id, sender_id, &brand, text, media
        )]);
        (event_id, event)
    }

    /// The customer is typing (the bridge should ignore it).
    pub async fn customer_typing(&self, sender_id: &str) -> XDelivery {
        let brand = &self.config().x_brand_account_id;
        let body = json!({
            "for_user_id": brand,
            "direct_message_indicate_typing_events": [{
                "created_timestamp": time::now_millis().to_string(),
                "sender_id": sender_id,
                "target": {"recipient_id": brand},
            }],
            "users": {sender_id: user(sender_id, sender_id), brand.as_str(): user(brand, BRAND_SCREEN_NAME)},
        });
        let (status, attempts) = self.send_x_webhook(body.to_string().as_bytes()).await;
        XDelivery {
            event_id: String::new(),
            status,
            attempts,
        }
    }

    /// The customer read the brand's DMs up to `last_read_event_id` (the bridge should ignore it).
    pub async fn customer_read(&self, sender_id: &str, last_read_event_id: &str) -> XDelivery {
        let brand = &self.config().x_brand_account_id;
        let body = json!({
            "for_user_id": brand,
            "direct_message_mark_read_events": [{
                "created_timestamp": time::now_millis().to_string(),
                "sender_id": sender_id,
                "target": {"recipient_id": brand},
                "last_read_event_id": last_read_event_id,
            }],
            "users": {sender_id: user(sender_id, sender_id), brand.as_str(): user(brand, BRAND_SCREEN_NAME)},
        });
        let (status, attempts) = self.send_x_webhook(body.to_string().as_bytes()).await;
        XDelivery {
            event_id: String::new(),
            status,
            attempts,
        }
    }

    /// Delivers exactly `body`, correctly signed, `times` times (each with X's retries);
    /// returns each delivery's final status (0 if the bridge could not be reached).
    pub async fn deliver_x_webhook(&self, body: &[u8], times: usize) -> Vec<u16> {
        let mut statuses = Vec::with_capacity(times);
        for _ in 0..times {
            statuses.push(self.send_x_webhook(body).await.0);
        }
        statuses
    }

    /// The echo X sends of a DM the brand sent: a `message_create` from the brand.
    pub(super) async fn echo(&self, dm: &SentDm) {
        let brand = &self.config().x_brand_account_id;
        let mut event = message_create(
            &dm.dm_event_id,
            brand,
            &dm.participant_id,
            dm.text.as_deref().unwrap_or(""),
        );
        event["message_create"]["source_app_id"] = json!("268278");
        let body = json!({
            "for_user_id": brand,
            "direct_message_events": [event],
            "users": {brand.as_str(): user(brand, BRAND_SCREEN_NAME), dm.participant_id.as_str(): user(&dm.participant_id, &dm.participant_id)},
        });
        self.send_x_webhook(body.to_string().as_bytes()).await;
    }

    /// POSTs a signed body; on a non-2xx answer or a connection error, retries after each
    /// configured backoff. Returns the last status (0: unreachable) and the attempts made.
    async fn send_x_webhook(&self, body: &[u8]) -> (u16, u32) {
        let url = self.x_webhook_url();
        let signature = flex_bridge::x::signature::sign(&self.config().x_consumer_secret, body);
        let backoff = lock(&self.inner.x_retry_backoff).clone();
        let mut attempts = 0;
        let mut status = 0;
        for delay in std::iter::once(None).chain(backoff.into_iter().map(Some)) {
            if let Some(delay) = delay {
                tokio::time::sleep(delay).await;
            }
            attempts += 1;
            let result = self
                .inner
                .http
                .post(&url)
                .header("content-type", "application/json; charset=utf-8")
                .header(flex_bridge::x::signature::HEADER, &signature)
                .body(body.to_vec())
                .send()
                .await;
            status = match result {
                Ok(response) => response.status().as_u16(),
                Err(err) => {
                    tracing::info!(error = %err, "sandbox: X webhook not delivered");
                    0
                }
            };
            tracing::info!(status, attempts, "sandbox: X webhook delivered");
            if (200..300).contains(&status) {
                break;
            }
        }
        (status, attempts)
    }

    /// X's CRC challenge: `GET {webhook}?crc_token=...` must answer `{"response_token":
    /// "sha256=<HMAC-SHA256(consumer secret, token)>"}`. Ok(false) for any other answer.
    pub async fn crc_check(&self) -> Result<bool, SandboxError> {
        let url = self.x_webhook_url();
        let token = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            uuid::Uuid::new_v4().to_string(),
        );
        let expected =
            flex_bridge::x::signature::crc_response_token(&self.config().x_consumer_secret, &token);
        let response = self
            .inner
            .http
            .get(&url)
            .query(&[("crc_token", &token)])
            .send()
            .await
            .map_err(|e| SandboxError::Http {
                url: url.clone(),
                detail: e.to_string(),
            })?;
        if !response.status().is_success() {
            return Ok(false);
        }
        let body: Value = response.json().await.unwrap_or_default();
        Ok(body.get("response_token").and_then(Value::as_str) == Some(expected.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_become_t_co_with_entities() {
        let (text, urls) = shorten_links("see https://example.com/a now");
        assert!(text.starts_with("see https://t.co/") && text.ends_with(" now"));
        assert_eq!(urls[0]["expanded_url"], "https://example.com/a");
        let [start, end] = [
            urls[0]["indices"][0].as_u64().unwrap(),
            urls[0]["indices"][1].as_u64().unwrap(),
        ];
        let short: String = text
            .chars()
            .skip(start as usize)
            .take((end - start) as usize)
            .collect();
        assert_eq!(urls[0]["url"], short.as_str());
    }
}
