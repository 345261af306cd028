//! Incoming interactions: the JSON Discord posts to the interactions endpoint, and the
//! [`Action`] each one means for the bridge.
//!
//! Only the fields the bridge reads are modelled; Discord adds fields freely, so everything else
//! is ignored. The same types serialise, so the sandbox (playing Discord) can build requests.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::components::{null_as_empty, Component};
use super::ids;

/// Interaction types (Discord API v10).
pub const PING: u8 = 1;
pub const APPLICATION_COMMAND: u8 = 2;
pub const MESSAGE_COMPONENT: u8 = 3;
pub const AUTOCOMPLETE: u8 = 4;
pub const MODAL_SUBMIT: u8 = 5;

/// Where an interaction happened (`context`): a server, the bot's DM, or another DM.
pub const CONTEXT_GUILD: u8 = 0;
pub const CONTEXT_BOT_DM: u8 = 1;
pub const CONTEXT_PRIVATE_CHANNEL: u8 = 2;

/// The interaction as posted. A PING has only `id`, `application_id`, `type`, `token`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RawInteraction {
    pub id: String,
    pub application_id: String,
    #[serde(rename = "type")]
    pub kind: u8,
    #[serde(default)]
    pub token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<InteractionData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guild_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    /// Present in a server; the user is then `member.user`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<Member>,
    /// Present in DMs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<u8>,
}

/// `data`: a command's name and options, a component's `custom_id`, or a modal's fields.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InteractionData {
    /// A command's id (a snowflake string) or a clicked component's number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The command type (1 = slash command).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<u8>,
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub options: Vec<CommandOption>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component_type: Option<u8>,
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub components: Vec<Component>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CommandOption {
    pub name: String,
    /// Option type (3 = string).
    #[serde(rename = "type", default)]
    pub kind: u8,
    /// A string, number or boolean, by option type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub options: Vec<CommandOption>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Member {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_name: Option<String>,
}

/// What a verified interaction asks of the bridge.
// One per request, matched at once and never stored in bulk: boxing would only cost clarity.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Interaction {
    /// Discord checking the endpoint: answer PONG.
    Ping,
    /// A person did something.
    FromUser {
        context: InteractionContext,
        action: Action,
    },
}

/// Who, where, and how to answer later. Serialisable, so the slow part can go on a queue.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionContext {
    /// The interaction id: the dedupe key.
    pub interaction_id: String,
    pub application_id: String,
    /// Valid for 15 minutes, for editing the deferred reply only; never logged.
    pub token: String,
    pub user_id: String,
    pub username: String,
    /// The user's display name, when set.
    pub display_name: Option<String>,
    pub guild_id: Option<String>,
    pub channel_id: Option<String>,
    /// [`CONTEXT_GUILD`], [`CONTEXT_BOT_DM`] or [`CONTEXT_PRIVATE_CHANNEL`], when given.
    pub context: Option<u8>,
}

impl fmt::Debug for InteractionContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InteractionContext")
            .field("interaction_id", &self.interaction_id)
            .field("application_id", &self.application_id)
            .field("token", &"***")
            .field("user_id", &self.user_id)
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field("guild_id", &self.guild_id)
            .field("channel_id", &self.channel_id)
            .field("context", &self.context)
            .finish()
    }
}

/// The bridge's meaning of an interaction. The first group needs slow work (answer with a
/// deferred reply and queue it); `Bug`, `NewFeature` and `ReplyButton` are answered at once
/// with a modal; `Unknown` gets a short ephemeral "not understood".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// `/helpme question:`
    HelpMe { question: String },
    /// `/reply message:`, or the reply modal's submission.
    Reply { message: String },
    /// The Talk to an agent button.
    TalkToAgent,
    /// The That helped button under a bot answer.
    Helped,
    /// `/cases`, or `/cases id:CS-1042`.
    Cases { id: Option<String> },
    /// A satisfaction button (1–5) on the ended notice.
    Rate { score: u8 },
    /// A quick-reply button: forwarded as the customer's answer.
    QuickReply { label: String },
    /// The bug modal's submission.
    BugReport {
        title: String,
        details: String,
        steps: Option<String>,
    },
    /// The feature modal's submission.
    FeatureRequest { title: String, details: String },
    /// A modal the bridge does not know (an old or foreign `custom_id`), with its fields.
    ModalSubmit {
        custom_id: String,
        fields: HashMap<String, String>,
    },
    /// `/bug`: open the bug modal.
    Bug,
    /// `/new_feature`: open the feature modal.
    NewFeature,
    /// The Reply button: open the reply modal.
    ReplyButton,
    /// Anything else, described for the logs.
    Unknown { what: String },
}

/// What the customer said, for the actions that post to their conversation.
pub const TALK_TO_AGENT_TEXT: &str = "I'd like to talk to an agent.";

impl Action {
    /// The text to post into the customer's conversation, if this action is a message.
    pub fn customer_text(&self) -> Option<&str> {
        match self {
            Action::HelpMe { question } => Some(question),
            Action::Reply { message } => Some(message),
            Action::QuickReply { label } => Some(label),
            Action::TalkToAgent => Some(TALK_TO_AGENT_TEXT),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("not a Discord interaction: {0}")]
pub struct PayloadError(String);

/// Parses a verified interactions body.
pub fn parse(body: &[u8]) -> Result<Interaction, PayloadError> {
    let raw: RawInteraction =
        serde_json::from_slice(body).map_err(|e| PayloadError(e.to_string()))?;
    reduce(raw)
}

/// The bridge's meaning of a parsed interaction.
pub fn reduce(raw: RawInteraction) -> Result<Interaction, PayloadError> {
    if raw.kind == PING {
        return Ok(Interaction::Ping);
    }
    let user = raw
        .member
        .and_then(|m| m.user)
        .or(raw.user)
        .ok_or_else(|| PayloadError("no user or member.user".into()))?;
    let data = raw.data.unwrap_or_default();
    let action = match raw.kind {
        APPLICATION_COMMAND => command(&data),
        MESSAGE_COMPONENT => component(&data),
        MODAL_SUBMIT => modal(&data),
        other => Action::Unknown {
            what: format!("interaction type {other}"),
        },
    };
    Ok(Interaction::FromUser {
        context: InteractionContext {
            interaction_id: raw.id,
            application_id: raw.application_id,
            token: raw.token,
            user_id: user.id,
            username: user.username,
            display_name: user.global_name,
            guild_id: raw.guild_id,
            channel_id: raw.channel_id,
            context: raw.context,
        },
        action,
    })
}

fn command(data: &InteractionData) -> Action {
    let name = data.name.as_deref().unwrap_or_default();
    let text = |option: &str| {
        data.options
            .iter()
            .find(|o| o.name == option)
            .and_then(|o| o.value.as_ref()?.as_str())
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    };
    match name {
        ids::COMMAND_HELPME => match text(ids::OPTION_QUESTION) {
            Some(question) => Action::HelpMe { question },
            None => unknown("/helpme without a question"),
        },
        ids::COMMAND_REPLY => match text(ids::OPTION_MESSAGE) {
            Some(message) => Action::Reply { message },
            None => unknown("/reply without a message"),
        },
        ids::COMMAND_BUG => Action::Bug,
        ids::COMMAND_CASES => Action::Cases {
            id: text(ids::OPTION_ID),
        },
        ids::COMMAND_NEW_FEATURE => Action::NewFeature,
        other => unknown(&format!("command /{other}")),
    }
}

fn component(data: &InteractionData) -> Action {
    let custom_id = data.custom_id.as_deref().unwrap_or_default();
    match custom_id {
        ids::BUTTON_REPLY => Action::ReplyButton,
        ids::BUTTON_AGENT => Action::TalkToAgent,
        ids::BUTTON_HELPED => Action::Helped,
        _ if custom_id.starts_with(ids::RATING_PREFIX) => {
            match custom_id[ids::RATING_PREFIX.len()..].parse::<u8>() {
                Ok(score @ 1..=5) => Action::Rate { score },
                _ => unknown(&format!("component {custom_id:?}")),
            }
        }
        _ => match ids::quick_reply_label(custom_id) {
            Some(label) => Action::QuickReply {
                label: label.trim().to_owned(),
            },
            None => unknown(&format!("component {custom_id:?}")),
        },
    }
}

fn modal(data: &InteractionData) -> Action {
    let custom_id = data.custom_id.clone().unwrap_or_default();
    let mut values = Vec::new();
    for component in &data.components {
        component.submitted_values(&mut values);
    }
    let fields: HashMap<String, String> = values
        .into_iter()
        .map(|(id, value)| (id.to_owned(), value.trim().to_owned()))
        .collect();
    let field = |id: &str| fields.get(id).filter(|v| !v.is_empty()).cloned();
    match custom_id.as_str() {
        ids::MODAL_REPLY => match field(ids::FIELD_MESSAGE) {
            Some(message) => Action::Reply { message },
            None => unknown("reply modal without a message"),
        },
        ids::MODAL_BUG => match (field(ids::FIELD_TITLE), field(ids::FIELD_DETAILS)) {
            (Some(title), Some(details)) => Action::BugReport {
                title,
                details,
                steps: field(ids::FIELD_STEPS),
            },
            _ => unknown("bug modal without title or details"),
        },
        ids::MODAL_FEATURE => match (field(ids::FIELD_TITLE), field(ids::FIELD_DETAILS)) {
            (Some(title), Some(details)) => Action::FeatureRequest { title, details },
            _ => unknown("feature modal without title or details"),
        },
        _ => Action::ModalSubmit { custom_id, fields },
    }
}

fn unknown(what: &str) -> Action {
    Action::Unknown {
        what: what.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/../../fixtures/discord/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn action_of(body: &Value) -> (InteractionContext, Action) {
        match parse(&serde_json::to_vec(body).unwrap()).unwrap() {
            Interaction::FromUser { context, action } => (context, action),
            Interaction::Ping => panic!("unexpected ping"),
        }
    }

    #[test]
    fn ping_is_ping_even_with_extra_fields() {
        let body = include_bytes!("../../../fixtures/discord/ping.json");
        assert_eq!(parse(body).unwrap(), Interaction::Ping);
        let mut extra = fixture("ping.json");
        extra["user"] = json!(null);
        extra["entitlements"] = json!([]);
        assert_eq!(
            parse(extra.to_string().as_bytes()).unwrap(),
            Interaction::Ping
        );
    }

    #[test]
    fn guild_command_takes_the_member_user() {
        let (context, action) = action_of(&fixture("slash-command-guild.json"));
        assert_eq!(context.interaction_id, "1402958911234567890");
        assert_eq!(context.application_id, "1395501276284469329");
        assert_eq!(context.user_id, "812345678901234567");
        assert_eq!(context.username, "dana.customer");
        assert_eq!(context.display_name.as_deref(), Some("Dana Customer"));
        assert_eq!(context.guild_id.as_deref(), Some("1183000000000000001"));
        assert_eq!(context.channel_id.as_deref(), Some("1183000000000000042"));
        assert_eq!(context.context, Some(CONTEXT_GUILD));
        assert!(context.token.starts_with("aW50ZXJhY3Rpb246"));
        // The sample's `/support` is not one of ours.
        assert_eq!(
            action,
            Action::Unknown {
                what: "command /support".into()
            }
        );
    }

    #[test]
    fn bot_dm_command_takes_the_top_level_user() {
        let mut body = fixture("slash-command-bot-dm.json");
        let (context, _) = action_of(&body);
        assert_eq!(context.user_id, "812345678901234567");
        assert_eq!(context.guild_id, None);
        assert_eq!(context.context, Some(CONTEXT_BOT_DM));

        body["data"]["name"] = json!("helpme");
        body["data"]["options"] =
            json!([{"name": "question", "type": 3, "value": "  Where is my order? "}]);
        assert_eq!(
            action_of(&body).1,
            Action::HelpMe {
                question: "Where is my order?".into()
            }
        );
        body["data"]["name"] = json!("reply");
        body["data"]["options"] = json!([{"name": "message", "type": 3, "value": "Thanks"}]);
        assert_eq!(
            action_of(&body).1,
            Action::Reply {
                message: "Thanks".into()
            }
        );
        body["data"]["options"] = json!([{"name": "message", "type": 3, "value": "   "}]);
        assert!(matches!(action_of(&body).1, Action::Unknown { .. }));
        body["data"]["options"] = json!(null);
        assert!(matches!(action_of(&body).1, Action::Unknown { .. }));
        body["data"]["name"] = json!("bug");
        assert_eq!(action_of(&body).1, Action::Bug);
        body["data"]["name"] = json!("new_feature");
        assert_eq!(action_of(&body).1, Action::NewFeature);
    }

    #[test]
    fn buttons_map_by_custom_id() {
        let mut body = fixture("button-click-bot-dm.json");
        let (context, action) = action_of(&body);
        assert_eq!(context.user_id, "812345678901234567");
        assert_eq!(context.channel_id.as_deref(), Some("1290000000000000123"));
        assert!(
            matches!(action, Action::Unknown { .. }),
            "the sample's id is not ours"
        );
        for (custom_id, expected) in [
            ("reply", Action::ReplyButton),
            ("agent", Action::TalkToAgent),
            (
                "qr:Track order",
                Action::QuickReply {
                    label: "Track order".into(),
                },
            ),
        ] {
            body["data"]["custom_id"] = json!(custom_id);
            assert_eq!(action_of(&body).1, expected, "{custom_id}");
        }
    }

    #[test]
    fn modal_in_the_label_shape() {
        let mut body = fixture("modal-submit-label.json");
        let (context, action) = action_of(&body);
        assert_eq!(context.interaction_id, "1402959456789012345");
        let Action::ModalSubmit { custom_id, fields } = action else {
            panic!("{action:?}")
        };
        assert_eq!(custom_id, "flex_reply_modal:conv=CH1a2b3c4d5e6f");
        assert_eq!(
            fields.get("reply_text").map(String::as_str),
            Some("Yes, the new address is 12 Harbour Street, Apt 4. Thanks!")
        );

        body["data"]["custom_id"] = json!("reply_modal");
        body["data"]["components"][0]["component"]["custom_id"] = json!("message");
        assert_eq!(
            action_of(&body).1,
            Action::Reply {
                message: "Yes, the new address is 12 Harbour Street, Apt 4. Thanks!".into()
            }
        );
    }

    #[test]
    fn modal_in_the_legacy_action_row_shape() {
        let mut body = fixture("modal-submit-legacy-action-row.json");
        let (context, action) = action_of(&body);
        assert_eq!(context.guild_id.as_deref(), Some("1183000000000000001"));
        assert_eq!(context.user_id, "812345678901234567");
        let Action::ModalSubmit { custom_id, fields } = action else {
            panic!("{action:?}")
        };
        assert_eq!(custom_id, "flex_start_modal");
        assert_eq!(fields.len(), 2);
        assert_eq!(fields["subject"], "Refund request");

        body["data"]["custom_id"] = json!("feature_modal");
        body["data"]["components"][0]["components"][0]["custom_id"] = json!("title");
        assert_eq!(
            action_of(&body).1,
            Action::FeatureRequest {
                title: "Refund request".into(),
                details: "I was charged twice for order A-1042 on 2026-08-01.".into()
            }
        );
        body["data"]["custom_id"] = json!("bug_modal");
        assert_eq!(
            action_of(&body).1,
            Action::BugReport {
                title: "Refund request".into(),
                details: "I was charged twice for order A-1042 on 2026-08-01.".into(),
                steps: None
            }
        );
        body["data"]["components"][1]["components"][0]["value"] = json!("");
        assert!(matches!(action_of(&body).1, Action::Unknown { .. }));
    }

    #[test]
    fn bug_modal_with_steps_in_labels() {
        let label = |id: &str, value: &str| json!({"type": 18, "component": {"type": 4, "custom_id": id, "value": value}});
        let mut body = fixture("modal-submit-label.json");
        body["data"]["custom_id"] = json!("bug_modal");
        body["data"]["components"] = json!([
            label("title", "Crash"),
            label("details", "It crashes"),
            {"type": 10, "content": "Thanks for helping"},
            label("steps", "1. open 2. tap"),
        ]);
        assert_eq!(
            action_of(&body).1,
            Action::BugReport {
                title: "Crash".into(),
                details: "It crashes".into(),
                steps: Some("1. open 2. tap".into())
            }
        );
    }

    #[test]
    fn bad_payloads_are_errors_not_panics() {
        assert!(parse(b"").is_err());
        assert!(parse(b"[]").is_err());
        assert!(parse(br#"{"id":"1","application_id":"2","type":"x"}"#).is_err());
        let no_user =
            br#"{"id":"1","application_id":"2","type":2,"token":"t","data":{"name":"helpme"}}"#;
        assert!(parse(no_user).is_err());
        let autocomplete =
            br#"{"id":"1","application_id":"2","type":4,"token":"t","user":{"id":"3"}}"#;
        assert!(matches!(
            parse(autocomplete).unwrap(),
            Interaction::FromUser {
                action: Action::Unknown { .. },
                ..
            }
        ));
    }

    #[test]
    fn context_debug_hides_the_token_and_round_trips() {
        let (context, action) = action_of(&fixture("slash-command-guild.json"));
        assert!(!format!("{context:?}").contains(&context.token));
        let json = serde_json::to_string(&(&context, &action)).unwrap();
        let back: (InteractionContext, Action) = serde_json::from_str(&json).unwrap();
        assert_eq!(back, (context, action));
    }

    #[test]
    fn raw_interactions_serialise_for_the_sandbox() {
        let raw: RawInteraction =
            serde_json::from_value(fixture("modal-submit-label.json")).unwrap();
        let again: RawInteraction =
            serde_json::from_str(&serde_json::to_string(&raw).unwrap()).unwrap();
        assert_eq!(raw, again);
    }

    #[test]
    fn customer_text_of_messages() {
        assert_eq!(
            Action::TalkToAgent.customer_text(),
            Some(TALK_TO_AGENT_TEXT)
        );
        assert_eq!(
            Action::QuickReply {
                label: "Yes".into()
            }
            .customer_text(),
            Some("Yes")
        );
        assert_eq!(Action::Bug.customer_text(), None);
    }
}
