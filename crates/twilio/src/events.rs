//! Conversations webhook events (form-encoded POSTs) that Flex Bridge subscribes to.
//!
//! Field names are Twilio's: `EventType`, `ConversationSid`, `MessageSid`, `Author`, `Body`,
//! `Attributes`, `Source`, `ParticipantSid`, `Identity`, `StateFrom`, `StateTo`.

use std::collections::HashMap;

use flex_bridge_core::ids::ConversationSid;

/// A webhook event, reduced to what the bridge acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    MessageAdded {
        conversation_sid: ConversationSid,
        message_sid: String,
        author: String,
        body: String,
        attributes: String,
        /// `SDK` for a Flex agent (or any SDK client), `API` for REST.
        source: String,
    },
    ParticipantAdded {
        conversation_sid: ConversationSid,
        participant_sid: String,
        identity: String,
        attributes: String,
    },
    StateUpdated {
        conversation_sid: ConversationSid,
        state_to: String,
    },
    /// Any other `EventType`: acknowledged and ignored.
    Other(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("missing form field {0}")]
pub struct MissingField(pub &'static str);

impl Event {
    pub fn from_form(body: &[u8]) -> Result<Self, MissingField> {
        let form: HashMap<String, String> =
            url::form_urlencoded::parse(body).into_owned().collect();
        let field = |name: &'static str| form.get(name).cloned().ok_or(MissingField(name));
        let optional = |name: &str| form.get(name).cloned().unwrap_or_default();
        let event = match field("EventType")?.as_str() {
            "onMessageAdded" => Self::MessageAdded {
                conversation_sid: field("ConversationSid")?.into(),
                message_sid: field("MessageSid")?,
                author: optional("Author"),
                body: optional("Body"),
                attributes: optional("Attributes"),
                source: optional("Source"),
            },
            "onParticipantAdded" => Self::ParticipantAdded {
                conversation_sid: field("ConversationSid")?.into(),
                participant_sid: field("ParticipantSid")?,
                identity: optional("Identity"),
                attributes: optional("Attributes"),
            },
            "onConversationStateUpdated" => Self::StateUpdated {
                conversation_sid: field("ConversationSid")?.into(),
                state_to: field("StateTo")?,
            },
            other => Self::Other(other.to_owned()),
        };
        Ok(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_an_agent_message() {
        let body = "EventType=onMessageAdded&ConversationSid=CH1&MessageSid=IM1&Author=agent%40acme.com&Body=Hi+there&Source=SDK&Attributes=%7B%7D";
        assert_eq!(
            Event::from_form(body.as_bytes()).unwrap(),
            Event::MessageAdded {
                conversation_sid: "CH1".into(),
                message_sid: "IM1".into(),
                author: "agent@acme.com".into(),
                body: "Hi there".into(),
                attributes: "{}".into(),
                source: "SDK".into(),
            }
        );
    }

    #[test]
    fn unknown_events_are_other_and_missing_fields_are_named() {
        assert_eq!(
            Event::from_form(b"EventType=onUserUpdated").unwrap(),
            Event::Other("onUserUpdated".into())
        );
        assert_eq!(
            Event::from_form(b"EventType=onMessageAdded&ConversationSid=CH1"),
            Err(MissingField("MessageSid"))
        );
        assert_eq!(Event::from_form(b""), Err(MissingField("EventType")));
    }
}
