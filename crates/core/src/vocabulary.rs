//! The words every layer shares: an article the bot suggests, the kinds of case, and the bot's
//! fixed phrases that the platforms' buttons and lists repeat. Kept below the platforms' clients
//! and the store so that all of them can name these without depending on each other.

use serde::{Deserialize, Serialize};

/// An article the bot suggests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    pub title: String,
    #[serde(default)]
    pub url: Option<String>,
    pub snippet: String,
}

/// The last numbered option of every bot answer on X, and the Discord button's label.
pub const TALK_TO_AGENT: &str = "Talk to an agent";

/// The bot's answer when it has none.
pub const NOT_SURE: &str =
    "I'm not sure I have an answer for that. Try asking in other words, or ask for an agent.";

/// What a case is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    Bug,
    Feature,
    Support,
}

impl CaseKind {
    pub const ALL: [CaseKind; 3] = [CaseKind::Support, CaseKind::Bug, CaseKind::Feature];

    pub fn display_name(self) -> &'static str {
        match self {
            CaseKind::Bug => "Bug report",
            CaseKind::Feature => "Feature request",
            CaseKind::Support => "Support request",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CaseKind::Bug => "bug",
            CaseKind::Feature => "feature",
            CaseKind::Support => "support",
        }
    }
}

impl std::str::FromStr for CaseKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown kind {s:?} (support, bug, feature)"))
    }
}
