//! Does the customer ask for a person? Words like "agent", "human", "representative" anywhere
//! (one typo allowed), or "person", "someone", "staff" after talk / speak / real / live.

use kb::analyze::words;

/// Each of these alone asks for a person; five letters or more also match with one typo.
const PERSON_WORDS: &[&str] = &[
    "agent",
    "agents",
    "human",
    "humans",
    "representative",
    "rep",
    "operator",
    "supervisor",
];

/// These ask for a person only after one of [`ASKING_WORDS`] ("talk to someone", "a real
/// person"), since "someone hacked my account" does not.
const VAGUE_WORDS: &[&str] = &[
    "person", "someone", "somebody", "staff", "people", "employee",
];
const ASKING_WORDS: &[&str] = &[
    "talk", "speak", "chat", "connect", "contact", "real", "live", "actual", "reach",
];

pub fn asks_for_person(text: &str) -> bool {
    let words = words(text);
    words.iter().enumerate().any(|(i, word)| {
        let near = |list: &[&str]| {
            list.iter()
                .any(|w| w == word || (w.len() >= 5 && strsim::osa_distance(w, word) <= 1))
        };
        near(PERSON_WORDS)
            || (near(VAGUE_WORDS)
                && words[i.saturating_sub(3)..i]
                    .iter()
                    .any(|w| ASKING_WORDS.contains(&w.as_str())))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asking_for_a_person_in_the_ways_customers_do() {
        for text in [
            "agent",
            "AGENT PLEASE",
            "can i talk to a human",
            "get me a representative",
            "talk to someone",
            "I'd like to talk to an agent.",
            "Talk to an agent",
            "i want a real person",
            "agnet",
            "humna pls",
            "speak with somebody from support",
        ] {
            assert!(asks_for_person(text), "{text:?}");
        }
    }

    #[test]
    fn questions_that_mention_people_are_not_requests() {
        for text in [
            "someone hacked my account",
            "how do i report a person for cheating",
            "my friend wants to trade",
            "how do i get people to join my guild",
            "how do i reset my password",
            "",
        ] {
            assert!(!asks_for_person(text), "{text:?}");
        }
    }
}
