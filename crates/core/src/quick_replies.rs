//! Quick replies: an agent ends a message with `Options: Label - description, Label - description`.
//! Discord shows them as buttons. X's v2 DM API has none, so X gets a numbered list, and a
//! customer's reply of `2` is read as the second label.

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuickReply {
    pub label: String,
    pub description: Option<String>,
}

/// An agent message split into its text and offered options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentMessage {
    pub text: String,
    pub options: Vec<QuickReply>,
}

const MARKER: &str = "options:";

/// Finds a trailing `Options:` list; a message without one (or with an empty one) is all text.
pub fn parse(message: &str) -> AgentMessage {
    let plain = || AgentMessage {
        text: message.trim().to_owned(),
        options: vec![],
    };
    // Only a marker at the start, or after a line break or a sentence's end, counts, so prose
    // such as "our shipping options: ..." is left alone.
    let Some(at) = message.char_indices().map(|(i, _)| i).rfind(|&i| {
        let starts = message[i..]
            .get(..MARKER.len())
            .is_some_and(|m| m.eq_ignore_ascii_case(MARKER));
        let before = message[..i].trim_end_matches(' ');
        starts && (before.is_empty() || before.ends_with(['\n', '.', '!', '?', ':']))
    }) else {
        return plain();
    };
    let options: Vec<QuickReply> = message[at + MARKER.len()..]
        .split([',', '\n'])
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|option| match option.split_once(" - ") {
            Some((label, description)) => QuickReply {
                label: label.trim().to_owned(),
                description: Some(description.trim().to_owned()).filter(|d| !d.is_empty()),
            },
            None => QuickReply {
                label: option.to_owned(),
                description: None,
            },
        })
        .filter(|o| !o.label.is_empty())
        .collect();
    if options.is_empty() {
        return plain();
    }
    AgentMessage {
        text: message[..at].trim().to_owned(),
        options,
    }
}

/// The X rendering: the text, then `1. Label — description` lines and how to answer.
pub fn numbered_list(message: &AgentMessage) -> String {
    let mut out = message.text.clone();
    if message.options.is_empty() {
        return out;
    }
    if !out.is_empty() {
        out.push_str("\n\n");
    }
    for (n, option) in message.options.iter().enumerate() {
        out.push_str(&format!("{}. {}", n + 1, option.label));
        if let Some(description) = &option.description {
            out.push_str(&format!(" — {description}"));
        }
        out.push('\n');
    }
    out.push_str("Reply with a number to choose.");
    out
}

/// A customer's reply read against the labels last offered: `2` (or ` 2. `) becomes label 2.
pub fn answer(reply: &str, labels: &[String]) -> Option<String> {
    let n: usize = reply.trim().trim_end_matches(['.', ')']).parse().ok()?;
    labels.get(n.checked_sub(1)?).cloned()
}

pub fn labels(message: &AgentMessage) -> Vec<String> {
    message.options.iter().map(|o| o.label.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_trailing_options() {
        let m =
            parse("How can I help? Options: Track order - where is it, Refund - money back, Other");
        assert_eq!(m.text, "How can I help?");
        assert_eq!(
            m.options,
            vec![
                QuickReply {
                    label: "Track order".into(),
                    description: Some("where is it".into())
                },
                QuickReply {
                    label: "Refund".into(),
                    description: Some("money back".into())
                },
                QuickReply {
                    label: "Other".into(),
                    description: None
                },
            ]
        );
    }

    #[test]
    fn options_on_their_own_line_and_plain_messages() {
        let m = parse("Pick one\nOptions: Yes - do it, No");
        assert_eq!((m.text.as_str(), m.options.len()), ("Pick one", 2));
        let m = parse("Our shipping options: are many");
        assert_eq!(m.options.len(), 0, "prose mentioning options is left alone");
        assert_eq!(parse("Options:").options.len(), 0);
        assert_eq!(parse("  just text ").text, "just text");
    }

    #[test]
    fn x_gets_a_numbered_list_and_numbers_map_back() {
        let m = parse("How can I help? Options: Track order - where is it, Refund - money back");
        assert_eq!(
            numbered_list(&m),
            "How can I help?\n\n1. Track order — where is it\n2. Refund — money back\nReply with a number to choose."
        );
        let labels = labels(&m);
        assert_eq!(answer("2", &labels).as_deref(), Some("Refund"));
        assert_eq!(answer(" 1. ", &labels).as_deref(), Some("Track order"));
        assert_eq!(answer("3", &labels), None);
        assert_eq!(answer("0", &labels), None);
        assert_eq!(answer("2 please", &labels), None);
    }
}
