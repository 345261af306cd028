//! Answers to interactions. Discord waits 3 seconds for one, so the endpoint answers with PONG,
//! a modal, a short ephemeral message, or a deferred ephemeral reply that the worker edits later.
//!
//! Modals use the Label component (type 18) wrapping a text input: Discord's components
//! reference documents it as the way to build modals and marks text inputs inside action rows
//! as deprecated. Discord still accepts and sends the old shape, so the parser reads both.

use serde::{Deserialize, Serialize};

use super::components::{
    Component, INPUT_PARAGRAPH, INPUT_SHORT, MAX_MODAL_TITLE, MAX_UPLOAD_VALUES,
};
use super::ids;
use super::interactions::Action;
use super::messages::AllowedMentions;

/// Interaction callback types (Discord API v10).
pub const PONG: u8 = 1;
pub const CHANNEL_MESSAGE_WITH_SOURCE: u8 = 4;
pub const DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: u8 = 5;
pub const MODAL: u8 = 9;

/// Message flag: only the user who interacted sees the message.
pub const EPHEMERAL: u64 = 1 << 6;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionResponse {
    #[serde(rename = "type")]
    pub kind: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<ResponseData>,
}

/// A message (types 4 and 5) or a modal (type 9); unused fields are left out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_mentions: Option<AllowedMentions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<Component>,
}

/// `{"type":1}`: the answer to Discord's PING.
pub fn pong() -> InteractionResponse {
    InteractionResponse {
        kind: PONG,
        data: None,
    }
}

/// `{"type":5,"data":{"flags":64}}`: "thinking…", seen only by the user, edited by the worker.
pub fn deferred_ephemeral() -> InteractionResponse {
    InteractionResponse {
        kind: DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
        data: Some(ResponseData {
            flags: Some(EPHEMERAL),
            ..ResponseData::default()
        }),
    }
}

/// A message only the user sees, that mentions nobody.
pub fn ephemeral_message(content: &str) -> InteractionResponse {
    InteractionResponse {
        kind: CHANNEL_MESSAGE_WITH_SOURCE,
        data: Some(ResponseData {
            content: Some(super::ids::truncate(content, super::messages::MAX_CONTENT)),
            flags: Some(EPHEMERAL),
            allowed_mentions: Some(AllowedMentions::none()),
            ..ResponseData::default()
        }),
    }
}

pub fn modal(custom_id: &str, title: &str, fields: Vec<Component>) -> InteractionResponse {
    InteractionResponse {
        kind: MODAL,
        data: Some(ResponseData {
            custom_id: Some(custom_id.to_owned()),
            title: Some(super::ids::truncate(title, MAX_MODAL_TITLE)),
            components: fields,
            ..ResponseData::default()
        }),
    }
}

/// The modal an action opens at once (`/bug`, `/new_feature`, the Reply button), if any.
pub fn modal_for(action: &Action) -> Option<InteractionResponse> {
    match action {
        Action::Bug => Some(bug_modal()),
        Action::NewFeature => Some(feature_modal()),
        Action::ReplyButton => Some(reply_modal()),
        _ => None,
    }
}

/// The Reply button's modal: one paragraph and, optionally, files (a screenshot, a receipt),
/// submitted as [`ids::MODAL_REPLY`].
pub fn reply_modal() -> InteractionResponse {
    modal(
        ids::MODAL_REPLY,
        "Reply to support",
        vec![
            Component::labelled(
                "Your message",
                None,
                Component::text_input(ids::FIELD_MESSAGE, INPUT_PARAGRAPH, true, 4000)
                    .with_placeholder("Type your reply…"),
            ),
            Component::labelled(
                "Screenshots or files",
                Some("Optional: images, PDF, text or video"),
                Component::file_upload(ids::FIELD_FILES, MAX_UPLOAD_VALUES),
            ),
        ],
    )
}

/// `/bug`: title, details, steps to reproduce (optional).
pub fn bug_modal() -> InteractionResponse {
    modal(
        ids::MODAL_BUG,
        "Report a bug",
        vec![
            title_field("A short summary of the problem"),
            details_field("What happened, and what did you expect?"),
            Component::labelled(
                "Steps to reproduce",
                Some("Optional"),
                // An embed field holds 1024 characters.
                Component::text_input(ids::FIELD_STEPS, INPUT_PARAGRAPH, false, 1000)
                    .with_placeholder("1. Open…  2. Tap…"),
            ),
        ],
    )
}

/// `/new_feature`: title and details.
pub fn feature_modal() -> InteractionResponse {
    modal(
        ids::MODAL_FEATURE,
        "Request a feature",
        vec![
            title_field("A short name for the idea"),
            details_field("What would you like, and why?"),
        ],
    )
}

fn title_field(placeholder: &str) -> Component {
    Component::labelled(
        "Title",
        None,
        Component::text_input(ids::FIELD_TITLE, INPUT_SHORT, true, 100)
            .with_placeholder(placeholder),
    )
}

fn details_field(placeholder: &str) -> Component {
    Component::labelled(
        "Details",
        None,
        // Room for the case id, title and fields within an embed's 6000 characters.
        Component::text_input(ids::FIELD_DETAILS, INPUT_PARAGRAPH, true, 3000)
            .with_placeholder(placeholder),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/../../fixtures/discord/responses/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn json_of(response: &InteractionResponse) -> Value {
        serde_json::to_value(response).unwrap()
    }

    #[test]
    fn simple_responses_match_the_samples() {
        assert_eq!(json_of(&pong()), fixture("pong.json"));
        assert_eq!(
            json_of(&deferred_ephemeral()),
            fixture("deferred-ephemeral.json")
        );
        let sample = fixture("channel-message-ephemeral.json");
        let content = sample["data"]["content"].as_str().unwrap();
        assert_eq!(json_of(&ephemeral_message(content)), sample);
    }

    #[test]
    fn reply_modal_has_the_sample_shape() {
        let ours = json_of(&reply_modal());
        let sample = fixture("modal-reply.json");
        assert_eq!(ours["type"], sample["type"]);
        assert_eq!(ours["data"]["custom_id"], "reply_modal");
        assert_eq!(ours["data"]["title"], sample["data"]["title"]);
        let (label, expected) = (
            &ours["data"]["components"][0],
            &sample["data"]["components"][0],
        );
        assert_eq!(label["type"], 18);
        assert_eq!(label["label"], expected["label"]);
        let input = &label["component"];
        for key in ["type", "style", "min_length", "max_length", "required"] {
            assert_eq!(input[key], expected["component"][key], "{key}");
        }
        assert_eq!(input["custom_id"], "message");
        assert!(input.get("label").is_none(), "the Label carries the name");
        // The optional files, per `FileUploadComponentForModalRequest` in a Label.
        let files = &ours["data"]["components"][1];
        assert_eq!(files["type"], 18);
        assert_eq!(files["component"]["type"], 19);
        assert_eq!(files["component"]["custom_id"], "files");
        assert_eq!(files["component"]["min_values"], 0);
        assert_eq!(files["component"]["max_values"], 10);
        assert_eq!(files["component"]["required"], false);
    }

    #[test]
    fn actions_that_open_a_modal() {
        assert_eq!(modal_for(&Action::Bug), Some(bug_modal()));
        assert_eq!(modal_for(&Action::NewFeature), Some(feature_modal()));
        assert_eq!(modal_for(&Action::ReplyButton), Some(reply_modal()));
        assert_eq!(modal_for(&Action::TalkToAgent), None);
    }

    #[test]
    fn case_modals_have_their_fields_within_limits() {
        for (response, ids) in [
            (bug_modal(), vec!["title", "details", "steps"]),
            (feature_modal(), vec!["title", "details"]),
        ] {
            let data = response.data.unwrap();
            assert_eq!(response.kind, MODAL);
            assert!(data.title.unwrap().chars().count() <= 45);
            let got: Vec<_> = data
                .components
                .iter()
                .map(|c| {
                    assert_eq!(c.kind, super::super::components::LABEL);
                    assert!(c.label.as_ref().unwrap().chars().count() <= 45);
                    c.component.as_ref().unwrap().custom_id.clone().unwrap()
                })
                .collect();
            assert_eq!(got, ids);
        }
        let bug = json_of(&bug_modal());
        assert_eq!(
            bug["data"]["components"][2]["component"]["required"],
            json!(false)
        );
        assert!(bug["data"]["components"][2]["component"]
            .get("min_length")
            .is_none());
    }
}
