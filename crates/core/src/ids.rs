//! The ids the bridge passes between its layers, typed so one cannot stand in for another: a
//! Twilio conversation's SID and a case's id. (The customer's identity is the store's
//! `CustomerIdentity`; a queue's lane is `queue::Lane`.)

use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::config::is_sid;

/// A Twilio conversation's SID (`CH` and 32 hex digits). Stored and sent as the plain string;
/// it reads as a `&str` wherever one is asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConversationSid(String);

/// A SID Twilio gave us (a webhook, an API answer, our own record): taken as it is. What a
/// person typed is parsed instead ([`FromStr`]), and checked.
impl From<String> for ConversationSid {
    fn from(sid: String) -> Self {
        Self(sid)
    }
}

impl From<&str> for ConversationSid {
    fn from(sid: &str) -> Self {
        Self(sid.to_owned())
    }
}

impl ConversationSid {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for ConversationSid {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConversationSid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for ConversationSid {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for ConversationSid {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for ConversationSid {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<ConversationSid> for String {
    fn eq(&self, other: &ConversationSid) -> bool {
        *self == other.0
    }
}

impl PartialEq<ConversationSid> for &str {
    fn eq(&self, other: &ConversationSid) -> bool {
        *self == other.0
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a conversation SID (CH followed by 32 hex digits)")]
pub struct NotAConversationSid;

/// Typed by a person (the CLI, the console): checked.
impl FromStr for ConversationSid {
    type Err = NotAConversationSid;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        is_sid(text, "CH")
            .then(|| Self(text.to_owned()))
            .ok_or(NotAConversationSid)
    }
}

/// A case's id: `CS-` and its number (`CS-1042`), as customers and agents quote it. Always
/// in that form (any `cs-1042` typed is read as `CS-1042`); it reads as a `&str`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseId(String);

impl CaseId {
    pub const PREFIX: &'static str = "CS-";

    pub fn new(number: u64) -> Self {
        Self(format!("{}{number}", Self::PREFIX))
    }

    pub fn number(&self) -> u64 {
        self.0[Self::PREFIX.len()..].parse().unwrap_or_default()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for CaseId {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a case id (CS- and a number, e.g. CS-1042)")]
pub struct NotACaseId;

/// `CS-1042`, any case, spaces around ignored.
impl FromStr for CaseId {
    type Err = NotACaseId;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let number = text
            .get(..Self::PREFIX.len())
            .filter(|p| p.eq_ignore_ascii_case(Self::PREFIX))
            .map(|_| &text[Self::PREFIX.len()..])
            .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|digits| digits.parse::<u64>().ok())
            .ok_or(NotACaseId)?;
        Ok(Self::new(number))
    }
}

impl PartialEq<String> for CaseId {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<&str> for CaseId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<CaseId> for String {
    fn eq(&self, other: &CaseId) -> bool {
        *self == other.0
    }
}

impl PartialEq<CaseId> for &str {
    fn eq(&self, other: &CaseId) -> bool {
        *self == other.0
    }
}

impl Serialize for CaseId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for CaseId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_id_reads_as_it_prints() {
        let id: CaseId = "cs-1042 ".parse().unwrap();
        assert_eq!(id, CaseId::new(1042));
        assert_eq!(id.to_string(), "CS-1042");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"CS-1042\"");
        assert_eq!(
            serde_json::from_str::<CaseId>("\"CS-7\"").unwrap(),
            CaseId::new(7)
        );
        for bad in ["1042", "CS-", "CS-x", "CASE-1", "CS-1.5", "CS-+1", ""] {
            assert_eq!(bad.parse::<CaseId>(), Err(NotACaseId), "{bad}");
        }
    }

    #[test]
    fn a_conversation_sid_from_a_person_is_checked() {
        let sid = format!("CH{}", "a".repeat(32));
        assert_eq!(sid.parse::<ConversationSid>().unwrap(), sid);
        assert!("CHnope".parse::<ConversationSid>().is_err());
        assert!(format!("AC{}", "a".repeat(32))
            .parse::<ConversationSid>()
            .is_err());
        let from_twilio = ConversationSid::from("CH1");
        assert_eq!(serde_json::to_string(&from_twilio).unwrap(), "\"CH1\"");
        assert_eq!(from_twilio.len(), 3, "reads as a str");
    }
}
