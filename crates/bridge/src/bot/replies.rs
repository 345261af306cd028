//! What the bot says, in plain text: on X (numbered, so a reply of `2` picks an option) and in
//! the conversation's transcript for the agent. Discord's buttons and embeds are in
//! `discord::messages::bot_answer`.

use crate::cases::CaseId;
use crate::queue::Suggestion;

pub use crate::vocabulary::{NOT_SURE, TALK_TO_AGENT};
const FOUND: &str = "Here's what I found:";

/// The answer as text: the suggestions numbered (title — snippet, then the link) and "Talk to
/// an agent" as the last number; or, with no suggestions, that the bot is not sure.
pub fn answer_text(suggestions: &[Suggestion]) -> String {
    let mut text = if suggestions.is_empty() {
        NOT_SURE.to_owned()
    } else {
        FOUND.to_owned()
    };
    for (n, suggestion) in suggestions.iter().enumerate() {
        text.push_str(&format!(
            "\n{}. {} — {}",
            n + 1,
            suggestion.title,
            suggestion.snippet
        ));
        if let Some(url) = &suggestion.url {
            text.push_str(&format!("\n   {url}"));
        }
    }
    text.push_str(&format!("\n{}. {TALK_TO_AGENT}", suggestions.len() + 1));
    text.push_str("\nReply with a number, or ask me something else.");
    text
}

/// The labels a numbered reply on X stands for, in order: the titles, then "Talk to an agent"
/// (which the bot reads as asking for a person).
pub fn option_labels(suggestions: &[Suggestion]) -> Vec<String> {
    suggestions
        .iter()
        .map(|s| s.title.clone())
        .chain([TALK_TO_AGENT.to_owned()])
        .collect()
}

pub fn handoff_text(case_id: &CaseId) -> String {
    format!("Case {case_id} opened — connecting you to an agent.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suggestion(title: &str) -> Suggestion {
        Suggestion {
            title: title.into(),
            url: Some(format!("https://help.example/{title}")),
            snippet: "One line.".into(),
        }
    }

    #[test]
    fn answers_are_numbered_with_talk_to_an_agent_last() {
        let text = answer_text(&[suggestion("Reset"), suggestion("Locked")]);
        assert_eq!(
            text,
            "Here's what I found:\n1. Reset — One line.\n   https://help.example/Reset\n\
             2. Locked — One line.\n   https://help.example/Locked\n3. Talk to an agent\n\
             Reply with a number, or ask me something else."
        );
        assert_eq!(
            option_labels(&[suggestion("Reset")]),
            ["Reset", "Talk to an agent"]
        );
        assert!(answer_text(&[]).starts_with(NOT_SURE));
        assert!(answer_text(&[]).contains("\n1. Talk to an agent"));
    }
}
