//! A case's transcript: who said what, when, in the conversation the case was handled in
//! (customer, virtual agent, agent and the bridge's own notes; files by name). Written once,
//! when the conversation closes, to a private bucket keyed by case id ([`TranscriptStore`]);
//! `flex-bridge cases transcript CS-1042` prints it.
//!
//! Built page by page from Twilio's message list ([`Transcript::add`]), so a conversation of
//! thousands of messages is never read whole; what is kept is the lines themselves.

mod memory;
#[cfg(feature = "s3")]
mod s3;

use std::fmt::Write as _;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::cases::CaseId;
use crate::store_error::StoreError;
use flex_bridge_core::ids::ConversationSid;
use flex_bridge_twilio::ConversationMessage;

pub use memory::MemoryTranscripts;
#[cfg(feature = "s3")]
pub use s3::S3Transcripts;

/// Who wrote a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    Customer,
    /// The virtual agent (its lines are marked `{"flex_bridge": {"bot": true}}`).
    Bot,
    /// A note from the bridge for the agent (any other `flex_bridge` mark).
    Bridge,
    Agent,
}

impl Speaker {
    fn label(self) -> &'static str {
        match self {
            Speaker::Customer => "customer",
            Speaker::Bot => "virtual agent",
            Speaker::Bridge => "note",
            Speaker::Agent => "agent",
        }
    }
}

/// One message of the conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// When Twilio recorded it (ISO 8601, UTC).
    pub at: String,
    pub author: String,
    pub speaker: Speaker,
    pub text: String,
    /// The files it carried, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transcript {
    pub case_id: CaseId,
    pub conversation_sid: ConversationSid,
    /// The customer's identity (`x-…`, `discord-…`): their lines are theirs.
    pub customer: String,
    pub lines: Vec<Line>,
}

/// The key under which the bridge marks its own messages' attributes (and the conversations it
/// opens); the Flex webhooks use the same one.
pub const BRIDGE_ATTRIBUTE: &str = "flex_bridge";

impl Transcript {
    pub fn new(case_id: CaseId, conversation_sid: ConversationSid, customer: String) -> Self {
        Self {
            case_id,
            conversation_sid,
            customer,
            lines: Vec::new(),
        }
    }

    /// Adds one listed message, in the order Twilio lists them.
    pub fn add(&mut self, message: &ConversationMessage) {
        let author = message.author.clone().unwrap_or_default();
        let files = message
            .media
            .iter()
            .flatten()
            .map(|m| {
                m.filename
                    .clone()
                    .unwrap_or_else(|| "(unnamed file)".into())
            })
            .collect();
        self.lines.push(Line {
            at: message.date_created.clone().unwrap_or_default(),
            speaker: self.speaker(&author, message.attributes.as_deref()),
            author,
            text: message.body.clone().unwrap_or_default(),
            files,
        });
    }

    fn speaker(&self, author: &str, attributes: Option<&str>) -> Speaker {
        let mark = attributes
            .and_then(|a| serde_json::from_str::<serde_json::Value>(a).ok())
            .and_then(|a| a.get(BRIDGE_ATTRIBUTE).cloned());
        match mark {
            Some(mark) if mark["bot"] == serde_json::Value::Bool(true) => Speaker::Bot,
            Some(_) => Speaker::Bridge,
            None if author == self.customer => Speaker::Customer,
            None => Speaker::Agent,
        }
    }

    /// Plain text, one line per message: `time  author (role): text [files: a.png]`.
    pub fn text(&self) -> String {
        let mut out = format!(
            "Transcript of {} (conversation {}, customer {})\n",
            self.case_id, self.conversation_sid, self.customer
        );
        for line in &self.lines {
            let _ = write!(
                out,
                "{}  {} ({}): {}",
                line.at,
                line.author,
                line.speaker.label(),
                line.text
            );
            if !line.files.is_empty() {
                let _ = write!(out, " [files: {}]", line.files.join(", "));
            }
            out.push('\n');
        }
        out
    }

    /// A self-contained HTML page; every text from the conversation is escaped.
    pub fn html(&self) -> String {
        let e = |text: &str| {
            text.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
                .replace('\'', "&#39;")
        };
        let mut out = format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>Transcript of {id}</title></head><body>\n<h1>Transcript of {id}</h1>\n\
             <p>Conversation {sid}, customer {customer}</p>\n<table>\n\
             <tr><th>Time (UTC)</th><th>Author</th><th>Role</th><th>Message</th></tr>\n",
            id = e(&self.case_id),
            sid = e(&self.conversation_sid),
            customer = e(&self.customer),
        );
        for line in &self.lines {
            let files = if line.files.is_empty() {
                String::new()
            } else {
                let names: Vec<String> = line.files.iter().map(|f| e(f)).collect();
                format!("<br><small>Files: {}</small>", names.join(", "))
            };
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}{files}</td></tr>",
                e(&line.at),
                e(&line.author),
                line.speaker.label(),
                e(&line.text).replace('\n', "<br>"),
            );
        }
        out.push_str("</table>\n</body></html>\n");
        out
    }
}

/// Where transcripts are kept.
#[async_trait]
pub trait TranscriptStore: Send + Sync {
    /// Stores `transcript` unless its case has one already; `false` then (a retried close
    /// writes nothing twice).
    async fn put_once(&self, transcript: &Transcript) -> Result<bool, StoreError>;
    async fn transcript(&self, case_id: &CaseId) -> Result<Option<Transcript>, StoreError>;
}

/// The object key of a case's transcript.
pub fn key_of(case_id: &CaseId) -> String {
    format!("transcripts/{case_id}.json")
}

#[cfg(any(test, feature = "testing"))]
pub mod contract {
    //! What every `TranscriptStore` does.
    use super::*;

    pub fn sample(number: u64) -> Transcript {
        let mut t = Transcript::new(CaseId::new(number), "CH1".into(), "x-7".into());
        let message = |author: &str, body: &str, attributes: Option<&str>| ConversationMessage {
            sid: "IM1".into(),
            index: 0,
            author: Some(author.into()),
            body: Some(body.into()),
            date_created: Some("2026-12-07T10:00:00Z".into()),
            attributes: attributes.map(str::to_owned),
            media: None,
        };
        t.add(&message("x-7", "my game keeps crashing", None));
        t.add(&message(
            "Virtual agent",
            "Try this",
            Some(r#"{"flex_bridge":{"bot":true}}"#),
        ));
        t.add(&message("sam", "Hi, I'm Sam", Some("{}")));
        t
    }

    pub async fn a_transcript_is_written_once(store: &dyn TranscriptStore) {
        let first = sample(1042);
        assert_eq!(store.transcript(&first.case_id).await.unwrap(), None);
        assert!(store.put_once(&first).await.unwrap());
        let mut second = sample(1042);
        second.lines.clear();
        assert!(!store.put_once(&second).await.unwrap(), "written twice");
        assert_eq!(store.transcript(&first.case_id).await.unwrap(), Some(first));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flex_bridge_twilio::MessageMedia;

    #[test]
    fn each_line_has_its_speaker_time_and_files() {
        let mut t = contract::sample(1042);
        t.add(&ConversationMessage {
            sid: "IM4".into(),
            index: 3,
            author: Some("Flex Bridge".into()),
            body: Some("Not delivered".into()),
            date_created: Some("2026-12-07T10:01:00Z".into()),
            attributes: Some(r#"{"flex_bridge":{"delivery_failed":"j1"}}"#.into()),
            media: Some(vec![MessageMedia {
                sid: Some("ME1".into()),
                filename: Some("crash <1>.png".into()),
                content_type: Some("image/png".into()),
            }]),
        });
        let speakers: Vec<Speaker> = t.lines.iter().map(|l| l.speaker).collect();
        assert_eq!(
            speakers,
            [
                Speaker::Customer,
                Speaker::Bot,
                Speaker::Agent,
                Speaker::Bridge
            ]
        );
        let text = t.text();
        assert!(text.starts_with("Transcript of CS-1042 (conversation CH1, customer x-7)\n"));
        assert!(text.contains("2026-12-07T10:00:00Z  x-7 (customer): my game keeps crashing\n"));
        assert!(text.contains("(note): Not delivered [files: crash <1>.png]\n"));
        let html = t.html();
        assert!(html.contains("crash &lt;1&gt;.png"), "{html}");
        assert!(!html.contains("<1>"), "{html}");
    }

    #[tokio::test]
    async fn the_memory_store_writes_once() {
        contract::a_transcript_is_written_once(&MemoryTranscripts::default()).await;
    }
}
