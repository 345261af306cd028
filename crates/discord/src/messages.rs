//! What the bridge posts with the bot token: agent messages and notices in a customer's DM, and
//! bug / feature cases in the configured channels.
//!
//! Every message is sent with `allowed_mentions: {"parse": []}`: text typed by agents and
//! customers must never ping `@everyone`, a role or a user.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::components::{
    Component, MAX_BUTTONS_PER_ROW, MAX_ROWS, STYLE_PRIMARY, STYLE_SECONDARY, STYLE_SUCCESS,
};
use super::ids::{self, truncate};
use crate::quick_replies;
use crate::vocabulary::{self as replies, Suggestion};

/// Discord's limit on a message's `content` (characters). The OpenAPI spec allows 4000 for
/// some senders; the documented limit for bots is 2000, so that is what we split at.
pub const MAX_CONTENT: usize = 2000;

/// Embed limits (characters): title, description, a field's name and value, the whole embed.
pub const MAX_EMBED_TITLE: usize = 256;
pub const MAX_EMBED_DESCRIPTION: usize = 4096;
pub const MAX_FIELD_NAME: usize = 256;
pub const MAX_FIELD_VALUE: usize = 1024;
pub const MAX_EMBED_TOTAL: usize = 6000;

/// A `nonce` is at most 25 characters.
pub const MAX_NONCE: usize = 25;

pub const REPLY_LABEL: &str = "Reply";
pub const TALK_TO_AGENT_LABEL: &str = crate::vocabulary::TALK_TO_AGENT;
pub const HELPED_LABEL: &str = "That helped";
/// The bot answer embed's colour (Discord blurple).
const BOT_COLOR: u32 = 0x5865F2;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowedMentions {
    pub parse: Vec<String>,
}

impl AllowedMentions {
    /// `{"parse": []}`: mention nobody.
    pub fn none() -> Self {
        Self::default()
    }
}

/// The body of `POST /channels/{id}/messages`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingMessage {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub embeds: Vec<Embed>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<Component>,
    #[serde(default)]
    pub allowed_mentions: AllowedMentions,
    /// With `enforce_nonce`, Discord returns the earlier message instead of posting the same
    /// nonce twice within a few minutes: a retried send after a lost answer is not a duplicate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enforce_nonce: bool,
}

impl OutgoingMessage {
    pub fn text(content: &str) -> Self {
        Self {
            content: content.to_owned(),
            ..Self::default()
        }
    }

    /// Makes sends of this message idempotent, keyed by `key` (e.g. the delivery job id).
    pub fn with_nonce(mut self, key: &str) -> Self {
        self.nonce = Some(nonce_for(key));
        self.enforce_nonce = true;
        self
    }
}

/// A nonce for `key`, within Discord's 25 characters: long keys (a Twilio SID plus a piece
/// number) are hashed, so different keys still get different nonces.
pub fn nonce_for(key: &str) -> String {
    use sha2::{Digest, Sha256};
    if key.len() <= MAX_NONCE && key.is_ascii() {
        return key.to_owned();
    }
    let digest = Sha256::digest(key.as_bytes());
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Embed {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<EmbedField>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbedField {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub inline: bool,
}

/// The DM(s) an agent message becomes. Quick replies (`Options: …`) become buttons; every
/// message ends with Reply and Talk to an agent. Long text is split over several messages, and
/// only the last carries buttons, so they sit under the end of what the agent wrote.
pub fn agent_message(body: &str) -> Vec<OutgoingMessage> {
    let parsed = quick_replies::parse(body);
    let rows_for_options = MAX_ROWS - 1;
    let mut buttons = Vec::new();
    let mut seen = HashSet::new();
    let mut listed = Vec::new();
    for option in &parsed.options {
        let label = truncate(&option.label, ids::MAX_BUTTON_LABEL);
        // Two buttons of one message may not share a custom_id; a repeated label adds nothing.
        if !seen.insert(label.clone()) {
            continue;
        }
        let fits = buttons.len() < rows_for_options * MAX_BUTTONS_PER_ROW;
        if fits {
            buttons.push(Component::button(
                &ids::quick_reply_id(&label),
                &label,
                STYLE_SECONDARY,
            ));
        }
        // A button shows no description, and options beyond the buttons are only text: both
        // are listed, so nothing the agent offered is lost.
        match (&option.description, fits) {
            (Some(description), _) => listed.push(format!("• **{label}** — {description}")),
            (None, false) => listed.push(format!("• {label}")),
            (None, true) => {}
        }
    }
    let mut content = parsed.text;
    if !listed.is_empty() {
        if !content.is_empty() {
            content.push_str("\n\n");
        }
        content.push_str(&listed.join("\n"));
    }
    let mut rows: Vec<Component> = buttons
        .chunks(MAX_BUTTONS_PER_ROW)
        .map(|row| Component::action_row(row.to_vec()))
        .collect();
    rows.push(Component::action_row(vec![
        Component::button(ids::BUTTON_REPLY, REPLY_LABEL, STYLE_PRIMARY),
        Component::button(ids::BUTTON_AGENT, TALK_TO_AGENT_LABEL, STYLE_SECONDARY),
    ]));
    let mut messages: Vec<OutgoingMessage> = split_content(&content)
        .iter()
        .map(|piece| OutgoingMessage::text(piece))
        .collect();
    match messages.last_mut() {
        Some(last) => last.components = rows,
        // Options only, no text: the buttons stand alone.
        None => messages.push(OutgoingMessage {
            components: rows,
            ..OutgoingMessage::default()
        }),
    }
    messages
}

/// The bot's answer: the suggested articles in an embed (title linked, one-line snippet) with
/// That helped / Talk to an agent / Reply buttons; or, with no suggestions, that it is not sure.
pub fn bot_answer(suggestions: &[Suggestion]) -> Vec<OutgoingMessage> {
    let mut buttons = Vec::new();
    if !suggestions.is_empty() {
        buttons.push(Component::button(
            ids::BUTTON_HELPED,
            HELPED_LABEL,
            STYLE_SUCCESS,
        ));
    }
    buttons.push(Component::button(
        ids::BUTTON_AGENT,
        TALK_TO_AGENT_LABEL,
        STYLE_SECONDARY,
    ));
    buttons.push(Component::button(
        ids::BUTTON_REPLY,
        REPLY_LABEL,
        STYLE_PRIMARY,
    ));
    let components = vec![Component::action_row(buttons)];
    if suggestions.is_empty() {
        return vec![OutgoingMessage {
            components,
            ..OutgoingMessage::text(replies::NOT_SURE)
        }];
    }
    let fields = suggestions
        .iter()
        .map(|s| {
            let value = match &s.url {
                Some(url) => format!("{}\n{url}", s.snippet),
                None => s.snippet.clone(),
            };
            EmbedField {
                name: truncate(&s.title, MAX_FIELD_NAME),
                value: truncate(&value, MAX_FIELD_VALUE),
                inline: false,
            }
        })
        .collect();
    vec![OutgoingMessage {
        embeds: vec![Embed {
            title: Some("Here's what I found".into()),
            description: Some("Did one of these answer your question?".into()),
            color: Some(BOT_COLOR),
            fields,
        }],
        components,
        ..OutgoingMessage::default()
    }]
}

/// "How did we do?" with a button per score, 1 to 5.
pub fn rating_request(question: &str) -> OutgoingMessage {
    let buttons = (1..=5)
        .map(|n| {
            Component::button(
                &format!("{}{n}", ids::RATING_PREFIX),
                &n.to_string(),
                STYLE_SECONDARY,
            )
        })
        .collect();
    OutgoingMessage {
        components: vec![Component::action_row(buttons)],
        ..OutgoingMessage::text(question)
    }
}

/// A notice (an agent joined, the chat ended): plain text, no buttons.
pub fn notice(text: &str) -> Vec<OutgoingMessage> {
    split_content(text)
        .iter()
        .map(|piece| OutgoingMessage::text(piece))
        .collect()
}

/// Splits text into pieces of at most [`MAX_CONTENT`] characters, preferring to break at a
/// line break, then at a space, and only then inside a word. Empty text gives no pieces.
pub fn split_content(text: &str) -> Vec<String> {
    split_at_most(text.trim(), MAX_CONTENT)
}

fn split_at_most(text: &str, max: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        // Byte offset just past the first `max` characters, or the whole rest.
        let window_end = rest.char_indices().nth(max).map_or(rest.len(), |(i, _)| i);
        if window_end == rest.len() {
            pieces.push(rest.to_owned());
            break;
        }
        let window = &rest[..window_end];
        // Break at the last line break, else the last whitespace, in the second half of the
        // window (so a break near the start does not make a tiny piece), else hard.
        let half = window.len() / 2;
        let cut = window
            .rfind('\n')
            .filter(|&i| i >= half)
            .or_else(|| window.rfind(char::is_whitespace).filter(|&i| i >= half))
            .unwrap_or(window_end);
        let piece = rest[..cut].trim_end();
        if !piece.is_empty() {
            pieces.push(piece.to_owned());
        }
        rest = rest[cut..].trim_start();
    }
    pieces
}

pub use crate::vocabulary::CaseKind;

/// Red for bugs, blurple for the rest.
fn embed_color(kind: CaseKind) -> u32 {
    match kind {
        CaseKind::Bug => 0xED4245,
        CaseKind::Feature | CaseKind::Support => 0x5865F2,
    }
}

/// The embed a bug report or feature request is posted as. Every part is cut to Discord's
/// limits, the details last, so the whole embed stays within its 6000 characters.
pub fn case_embed(
    case_id: &str,
    kind: CaseKind,
    title: &str,
    details: &str,
    steps: Option<&str>,
    reporter: &str,
) -> Embed {
    let title = truncate(
        &format!("{case_id} · {}: {}", kind.display_name(), title.trim()),
        MAX_EMBED_TITLE,
    );
    let mut fields = Vec::new();
    if let Some(steps) = steps.map(str::trim).filter(|s| !s.is_empty()) {
        fields.push(field("Steps to reproduce", steps));
    }
    fields.push(field("Reported by", reporter));
    let used = title.chars().count()
        + fields
            .iter()
            .map(|f| f.name.chars().count() + f.value.chars().count())
            .sum::<usize>();
    let room = MAX_EMBED_DESCRIPTION.min(MAX_EMBED_TOTAL.saturating_sub(used));
    Embed {
        title: Some(title),
        description: Some(truncate(details.trim(), room)).filter(|d| !d.is_empty()),
        color: Some(embed_color(kind)),
        fields,
    }
}

fn field(name: &str, value: &str) -> EmbedField {
    let value = truncate(value.trim(), MAX_FIELD_VALUE);
    EmbedField {
        name: truncate(name, MAX_FIELD_NAME),
        // A field's value may not be empty.
        value: if value.is_empty() {
            "—".to_owned()
        } else {
            value
        },
        inline: false,
    }
}

/// The message that posts a case to its channel.
pub fn case_message(embed: Embed) -> OutgoingMessage {
    OutgoingMessage {
        embeds: vec![embed],
        ..OutgoingMessage::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn chars(s: &str) -> usize {
        s.chars().count()
    }

    fn custom_ids(message: &OutgoingMessage) -> Vec<Vec<String>> {
        message
            .components
            .iter()
            .map(|row| {
                row.components
                    .iter()
                    .filter_map(|b| b.custom_id.clone())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_short_agent_message_gets_reply_and_agent_buttons() {
        let messages = agent_message("Could you confirm the new delivery address?");
        assert_eq!(messages.len(), 1);
        let json = serde_json::to_value(&messages[0]).unwrap();
        assert_eq!(
            json,
            json!({
                "content": "Could you confirm the new delivery address?",
                "components": [{"type": 1, "components": [
                    {"type": 2, "custom_id": "reply", "style": 1, "label": "Reply"},
                    {"type": 2, "custom_id": "agent", "style": 2, "label": "Talk to an agent"},
                ]}],
                "allowed_mentions": {"parse": []},
            })
        );
        // Same body shape as the sample Create Message request (its ids are another design's).
        let path = format!(
            "{}/../../fixtures/discord/responses/create-message-agent-reply.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let sample: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(json["allowed_mentions"], sample["allowed_mentions"]);
        assert_eq!(
            json["components"][0]["type"],
            sample["components"][0]["type"]
        );
        assert_eq!(
            json["components"][0]["components"][0]["label"],
            sample["components"][0]["components"][0]["label"]
        );
        assert_eq!(
            json["components"][0]["components"][0]["style"],
            sample["components"][0]["components"][0]["style"]
        );
    }

    #[test]
    fn quick_replies_become_button_rows_above_the_reply_row() {
        let messages = agent_message(
            "How can I help? Options: Track order - where is it, Refund - money back, Other",
        );
        assert_eq!(messages.len(), 1);
        let m = &messages[0];
        assert_eq!(
            m.content,
            "How can I help?\n\n• **Track order** — where is it\n• **Refund** — money back"
        );
        assert_eq!(
            custom_ids(m),
            vec![
                vec!["qr:Track order", "qr:Refund", "qr:Other"],
                vec!["reply", "agent"]
            ]
        );
    }

    #[test]
    fn at_most_five_rows_and_unique_ids() {
        let options: Vec<String> = (1..=30).map(|n| format!("Option {n}")).collect();
        let body = format!("Pick one. Options: {}, Option 1", options.join(", "));
        let m = &agent_message(&body)[0];
        let rows = custom_ids(m);
        assert_eq!(rows.len(), 5);
        assert!(rows.iter().all(|r| r.len() <= 5));
        assert_eq!(rows.last().unwrap(), &vec!["reply", "agent"]);
        let all: Vec<_> = rows.iter().flatten().collect();
        let unique: HashSet<_> = all.iter().collect();
        assert_eq!(all.len(), unique.len());
        assert_eq!(all.len(), 22);
        // Options without a button are still offered as text.
        assert!(m.content.contains("• Option 21") && m.content.contains("• Option 30"));
        assert!(!m.content.contains("• Option 20\n"));
    }

    #[test]
    fn long_labels_are_cut_to_fit_a_button() {
        let label = "x".repeat(150);
        let m = &agent_message(&format!("Choose. Options: {label}, Other"))[0];
        let button = &m.components[0].components[0];
        assert_eq!(chars(button.label.as_deref().unwrap()), 80);
        assert!(chars(button.custom_id.as_deref().unwrap()) <= 100);
    }

    #[test]
    fn options_only_still_send_the_buttons() {
        let messages = agent_message("Options: Yes, No");
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].content, "");
        assert_eq!(custom_ids(&messages[0])[0], vec!["qr:Yes", "qr:No"]);
    }

    #[test]
    fn long_messages_split_with_buttons_on_the_last_piece_only() {
        let paragraph = "word ".repeat(300); // 1500 characters
        let body = format!("{paragraph}\n{paragraph}\n{paragraph}");
        let messages = agent_message(&body);
        assert_eq!(messages.len(), 3);
        assert!(messages.iter().all(|m| chars(&m.content) <= MAX_CONTENT));
        assert!(messages[..2].iter().all(|m| m.components.is_empty()));
        assert_eq!(custom_ids(&messages[2]), vec![vec!["reply", "agent"]]);
        let words: usize = messages
            .iter()
            .map(|m| m.content.split_whitespace().count())
            .sum();
        assert_eq!(words, 900, "nothing lost at the breaks");
    }

    #[test]
    fn splitting_prefers_newlines_then_spaces_then_cuts_on_char_boundaries() {
        let text = format!("{}\n{}", "a ".repeat(700).trim_end(), "b".repeat(1000));
        let pieces = split_at_most(&text, 2000);
        assert_eq!(pieces.len(), 2);
        assert!(pieces[0].ends_with('a') && pieces[1].starts_with('b'));

        let pieces = split_at_most(&"ü".repeat(4500), 2000);
        assert_eq!(
            pieces.iter().map(|p| chars(p)).collect::<Vec<_>>(),
            vec![2000, 2000, 500]
        );

        let pieces = split_at_most("aaaa bbbb cccc", 7);
        assert_eq!(pieces, vec!["aaaa", "bbbb", "cccc"]);
        assert!(split_content("  ").is_empty());
        assert_eq!(split_content("hi"), vec!["hi"]);
    }

    #[test]
    fn notices_are_plain_text() {
        let n = notice("Sam joined the chat.");
        assert_eq!(n.len(), 1);
        assert!(n[0].components.is_empty());
        assert_eq!(
            serde_json::to_value(&n[0]).unwrap(),
            json!({"content": "Sam joined the chat.", "allowed_mentions": {"parse": []}})
        );
    }

    #[test]
    fn case_embeds_stay_within_limits() {
        let e = case_embed(
            "CS-1042",
            CaseKind::Bug,
            "App crashes",
            "It crashes on start",
            Some("1. open"),
            "dana.customer",
        );
        assert_eq!(
            e.title.as_deref(),
            Some("CS-1042 · Bug report: App crashes")
        );
        assert_eq!(e.fields.len(), 2);
        assert_eq!(e.fields[0].name, "Steps to reproduce");

        let huge = "é".repeat(10_000);
        let e = case_embed("CS-1", CaseKind::Feature, &huge, &huge, Some(&huge), &huge);
        let title = chars(e.title.as_deref().unwrap());
        let description = chars(e.description.as_deref().unwrap());
        assert!(title <= MAX_EMBED_TITLE);
        assert!(description <= MAX_EMBED_DESCRIPTION);
        assert!(e.fields.iter().all(|f| chars(&f.value) <= MAX_FIELD_VALUE));
        let total = title
            + description
            + e.fields
                .iter()
                .map(|f| chars(&f.name) + chars(&f.value))
                .sum::<usize>();
        assert!(total <= MAX_EMBED_TOTAL, "{total}");

        let e = case_embed("CS-2", CaseKind::Feature, "Dark mode", "Please", None, " ");
        assert_eq!(e.fields.len(), 1);
        assert_eq!(e.fields[0].value, "—");
        let json = serde_json::to_value(case_message(e)).unwrap();
        assert_eq!(json["allowed_mentions"], json!({"parse": []}));
        assert_eq!(json["embeds"][0]["color"], 0x5865F2);
    }

    #[test]
    fn nonces_fit_and_differ() {
        assert_eq!(nonce_for("job-1"), "job-1");
        let a = nonce_for("IMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa#1");
        let b = nonce_for("IMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa#2");
        assert!(a.len() <= MAX_NONCE && a != b);
        let m = OutgoingMessage::text("hi").with_nonce("k");
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(
            (json["nonce"].clone(), json["enforce_nonce"].clone()),
            (json!("k"), json!(true))
        );
    }
}
