//! Response bodies, shaped like the spec's schemas (`conversations.v1.conversation`,
//! `...conversation_participant`, `...conversation_message`, `...conversation_scoped_webhook`,
//! `conversations.v1.participant_conversation`): snake_case, every property present, `null`
//! when unset. Links point at the sandbox so a client can follow them.

use serde_json::{json, Map, Value};

use super::{Conversation, Message, Participant, Webhook, CHAT_SERVICE_SID};
use crate::{time, Sandbox};

fn base(sandbox: &Sandbox) -> String {
    format!("{}/v1", sandbox.url())
}

fn timers(c: &Conversation) -> Value {
    let at = |duration: &Option<String>| {
        duration
            .as_deref()
            .and_then(time::parse_duration)
            .map(|secs| time::iso8601(c.created_secs + secs))
    };
    let mut timers = Map::new();
    if let Some(date) = at(&c.timers_inactive) {
        timers.insert("date_inactive".into(), date.into());
    }
    if let Some(date) = at(&c.timers_closed) {
        timers.insert("date_closed".into(), date.into());
    }
    Value::Object(timers)
}

pub fn conversation(sandbox: &Sandbox, c: &Conversation) -> Value {
    let url = format!("{}/Conversations/{}", base(sandbox), c.sid);
    let bindings = match (&c.email_address, &c.email_name) {
        (None, None) => json!({}),
        (address, name) => json!({"email": {"projected_address": address, "name": name}}),
    };
    json!({
        "account_sid": sandbox.config().twilio_account_sid,
        "chat_service_sid": CHAT_SERVICE_SID,
        "messaging_service_sid": c.messaging_service_sid,
        "sid": c.sid,
        "friendly_name": c.friendly_name,
        "unique_name": c.unique_name,
        "attributes": c.attributes,
        "state": c.state,
        "date_created": c.date_created,
        "date_updated": c.date_updated,
        "timers": timers(c),
        "bindings": bindings,
        "links": {
            "participants": format!("{url}/Participants"),
            "messages": format!("{url}/Messages"),
            "webhooks": format!("{url}/Webhooks"),
            "export": format!("{url}/Export"),
        },
        "url": url,
    })
}

fn binding(p: &Participant) -> Value {
    if p.address.is_none() && p.projected_address.is_none() {
        return Value::Null;
    }
    json!({
        "type": "sms",
        "address": p.address,
        "proxy_address": p.proxy_address,
        "projected_address": p.projected_address,
    })
}

pub fn participant(sandbox: &Sandbox, conversation_sid: &str, p: &Participant) -> Value {
    json!({
        "account_sid": sandbox.config().twilio_account_sid,
        "conversation_sid": conversation_sid,
        "sid": p.sid,
        "identity": p.identity,
        "attributes": p.attributes,
        "messaging_binding": binding(p),
        "role_sid": p.role_sid,
        "date_created": p.date_created,
        "date_updated": p.date_updated,
        "url": format!("{}/Conversations/{conversation_sid}/Participants/{}", base(sandbox), p.sid),
        "last_read_message_index": null,
        "last_read_timestamp": null,
    })
}

pub fn message(sandbox: &Sandbox, conversation_sid: &str, m: &Message) -> Value {
    let url = format!(
        "{}/Conversations/{conversation_sid}/Messages/{}",
        base(sandbox),
        m.sid
    );
    let media = super::media::message_media_json(&m.media);
    json!({
        "account_sid": sandbox.config().twilio_account_sid,
        "conversation_sid": conversation_sid,
        "sid": m.sid,
        "index": m.index,
        "author": m.author,
        "body": m.body,
        "media": media,
        "attributes": m.attributes,
        "participant_sid": m.participant_sid,
        "date_created": m.date_created,
        "date_updated": m.date_updated,
        "delivery": null,
        "content_sid": m.content_sid,
        "links": {
            "delivery_receipts": format!("{url}/Receipts"),
            "channel_metadata": format!("{url}/ChannelMetadata"),
        },
        "url": url,
    })
}

pub fn webhook(sandbox: &Sandbox, conversation_sid: &str, w: &Webhook) -> Value {
    let mut configuration = Map::new();
    let mut put = |key: &str, value: Value| {
        if !value.is_null() {
            configuration.insert(key.into(), value);
        }
    };
    put("url", json!(w.url));
    put("method", json!(w.method));
    put("filters", json!(w.filters));
    if !w.triggers.is_empty() {
        put("triggers", json!(w.triggers));
    }
    put("flow_sid", json!(w.flow_sid));
    put("replay_after", json!(w.replay_after));
    json!({
        "account_sid": sandbox.config().twilio_account_sid,
        "conversation_sid": conversation_sid,
        "sid": w.sid,
        "target": w.target,
        "configuration": configuration,
        "date_created": w.date_created,
        "date_updated": w.date_created,
        "url": format!("{}/Conversations/{conversation_sid}/Webhooks/{}", base(sandbox), w.sid),
    })
}

pub fn participant_conversation(sandbox: &Sandbox, c: &Conversation, p: &Participant) -> Value {
    let conversation_url = format!("{}/Conversations/{}", base(sandbox), c.sid);
    json!({
        "account_sid": sandbox.config().twilio_account_sid,
        "chat_service_sid": CHAT_SERVICE_SID,
        "participant_sid": p.sid,
        "participant_user_sid": null,
        "participant_identity": p.identity,
        "participant_messaging_binding": binding(p),
        "conversation_sid": c.sid,
        "conversation_unique_name": c.unique_name,
        "conversation_friendly_name": c.friendly_name,
        "conversation_attributes": c.attributes,
        "conversation_date_created": c.date_created,
        "conversation_date_updated": c.date_updated,
        "conversation_created_by": "system",
        "conversation_state": c.state,
        "conversation_timers": timers(c),
        "links": {
            "participant": format!("{conversation_url}/Participants/{}", p.sid),
            "conversation": conversation_url,
        },
    })
}
