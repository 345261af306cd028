//! The names the bridge gives Discord: slash commands and their options, button and modal
//! `custom_id`s, and the modals' text-input ids. Interactions are matched on these, so they are
//! defined once here and used by the command list, the responses and the parser.
//!
//! Conventions:
//! - buttons on agent messages: `reply` (opens the reply modal), `agent` (asks for a person);
//! - a quick-reply button is `qr:` + its label. A button label is at most 80 characters and a
//!   `custom_id` at most 100, so the whole (already truncated) label always fits and the click
//!   needs no store look-up. The customer's answer is the label as shown on the button.
//! - modals: `reply_modal` (field `message`), `bug_modal` (`title`, `details`, `steps`),
//!   `feature_modal` (`title`, `details`).
//!
//! No id carries a conversation SID: a click is tied to the customer's open conversation by
//! their identity, so buttons on an old message simply continue (or open) the current one.

/// `/helpme question:` opens (or continues) a conversation.
pub const COMMAND_HELPME: &str = "helpme";
pub const OPTION_QUESTION: &str = "question";
/// `/reply message:` continues the open conversation.
pub const COMMAND_REPLY: &str = "reply";
pub const OPTION_MESSAGE: &str = "message";
/// `/bug` and `/new_feature` open a modal; the submission becomes a case.
pub const COMMAND_BUG: &str = "bug";
/// `/cases [id:]`: the customer's own cases, or one case's history.
pub const COMMAND_CASES: &str = "cases";
pub const OPTION_ID: &str = "id";
pub const COMMAND_NEW_FEATURE: &str = "new_feature";

pub const BUTTON_REPLY: &str = "reply";
pub const BUTTON_AGENT: &str = "agent";
/// Under a bot answer: the suggestions answered the question.
pub const BUTTON_HELPED: &str = "helped";
pub const QUICK_REPLY_PREFIX: &str = "qr:";
/// The satisfaction buttons on the ended notice: `csat:1` … `csat:5`.
pub const RATING_PREFIX: &str = "csat:";

pub const MODAL_REPLY: &str = "reply_modal";
pub const MODAL_BUG: &str = "bug_modal";
pub const MODAL_FEATURE: &str = "feature_modal";

pub const FIELD_MESSAGE: &str = "message";
/// The Reply modal's optional files (a File Upload).
pub const FIELD_FILES: &str = "files";
pub const FIELD_TITLE: &str = "title";
pub const FIELD_DETAILS: &str = "details";
pub const FIELD_STEPS: &str = "steps";

/// Discord's limits on a button (characters).
pub const MAX_BUTTON_LABEL: usize = 80;
pub const MAX_CUSTOM_ID: usize = 100;

/// The `custom_id` of a quick-reply button; `label` is cut to a button label's length first.
pub fn quick_reply_id(label: &str) -> String {
    format!("{QUICK_REPLY_PREFIX}{}", truncate(label, MAX_BUTTON_LABEL))
}

/// The label a quick-reply `custom_id` stands for, if it is one.
pub fn quick_reply_label(custom_id: &str) -> Option<&str> {
    custom_id
        .strip_prefix(QUICK_REPLY_PREFIX)
        .filter(|label| !label.trim().is_empty())
}

/// At most `max` characters, ending in `…` when something was cut. Discord counts characters
/// (code points), not bytes, so this never splits one.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.truncate(out.trim_end().len());
    if max > 0 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_reply_ids_round_trip_and_always_fit() {
        assert_eq!(quick_reply_id("Track order"), "qr:Track order");
        assert_eq!(quick_reply_label("qr:Track order"), Some("Track order"));
        assert_eq!(quick_reply_label("reply"), None);
        assert_eq!(quick_reply_label("qr: "), None);
        let long = "é".repeat(300);
        let id = quick_reply_id(&long);
        assert!(id.chars().count() <= MAX_CUSTOM_ID);
        assert_eq!(
            quick_reply_label(&id).map(|l| l.chars().count()),
            Some(MAX_BUTTON_LABEL)
        );
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate("hello", 5), "hello");
        assert_eq!(truncate("hello world", 7), "hello…");
        assert_eq!(truncate("ééééé", 3), "éé…");
        assert_eq!(truncate("abc", 0), "");
    }
}
