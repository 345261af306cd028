//! Customers' files into Flex: which files are carried (the allow-list and the limits), and how
//! one passes from the platform's download into Twilio's Media Content Service without being
//! held twice. The workers post the Media SID with the customer's text
//! ([`crate::conversations::CustomerMessage::media_sid`]); a file refused here is named to the
//! agent in a note and explained to the customer in one line.

use crate::queue::{notice_for, Queue, QueueError};
use crate::retry::HttpError;
use crate::twilio::media::{Media, MediaClient, NewMedia, MAX_MEDIA_BYTES};
use crate::twilio::TwilioClient;

/// The types carried into Flex: images, PDF, plain text and common video. Anything else (an
/// archive, an office document, an executable) is refused, as an agent's desktop would open it.
pub const ACCEPTED_TYPES: [&str; 10] = [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "video/mp4",
    "video/quicktime",
    "video/webm",
    // X serves some photos with the old non-standard name.
    "image/pjpeg",
];

/// Names that run as programs on the agent's machine: refused whatever type they claim, since a
/// content type is the sender's word.
const EXECUTABLE_EXTENSIONS: [&str; 18] = [
    "exe", "msi", "bat", "cmd", "com", "scr", "dll", "ps1", "vbs", "js", "jar", "sh", "app", "apk",
    "dmg", "pif", "cpl", "lnk",
];

/// Why a customer's file is not carried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not on [`ACCEPTED_TYPES`], or named like a program.
    Type(String),
    TooLarge {
        size: u64,
        max: u64,
    },
}

impl Refusal {
    /// The one line the customer reads.
    pub fn customer_line(&self, filename: &str) -> String {
        match self {
            Self::Type(_) => format!(
                "We could not pass on {filename}: only images, PDFs, plain text and videos can be sent."
            ),
            Self::TooLarge { max, .. } => format!(
                "We could not pass on {filename}: files can be at most {} MB.",
                max / 1_000_000
            ),
        }
    }

    /// The note the agent reads in the conversation.
    pub fn agent_note(&self, filename: &str) -> String {
        match self {
            Self::Type(content_type) => format!(
                "The customer sent {filename} ({content_type}); it was not forwarded: that type of file is not accepted."
            ),
            Self::TooLarge { size, max } => format!(
                "The customer sent {filename} ({size} bytes); it was not forwarded: it is over the {max} bytes allowed."
            ),
        }
    }
}

/// Where a refusal is told: the agent's note in the conversation, the customer's line through
/// the delivery queue.
pub struct Told<'a> {
    pub twilio: &'a TwilioClient,
    pub queue: &'a dyn Queue,
}

#[derive(Debug, thiserror::Error)]
pub enum TellError {
    #[error("not a customer identity")]
    Identity,
    #[error("the customer's line was not queued")]
    Queue(#[from] QueueError),
    #[error("the agent's note was not posted")]
    Note(#[source] HttpError),
}

impl Told<'_> {
    /// Tells the customer (`identity`) in one line why `filename` was not passed on, and the
    /// agent in a note naming it. `id` is the customer's event: the line's job id comes from
    /// it, so a retry queues the same job, which delivery sends once.
    pub async fn refusal(
        &self,
        identity: &str,
        conversation_sid: &str,
        id: &str,
        filename: &str,
        refusal: &Refusal,
    ) -> Result<(), TellError> {
        let line = notice_for(
            identity,
            &format!("{id}-refused-{}", filename_key(filename)),
            refusal.customer_line(filename),
        )
        .ok_or(TellError::Identity)?;
        line.enqueue(self.queue).await?;
        crate::flex::post_note(
            self.twilio,
            conversation_sid,
            &refusal.agent_note(filename),
            "file_refused",
            id,
        )
        .await
        .map_err(TellError::Note)?;
        tracing::info!(filename, ?refusal, "customer's file refused");
        Ok(())
    }
}

/// A file's name as part of a job id (FIFO deduplication ids take alphanumerics and
/// punctuation; spaces and other characters become `_`).
fn filename_key(filename: &str) -> String {
    filename
        .chars()
        .take(40)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Whether a file may go to Flex: its type on the allow-list, its name not a program's, its
/// size (when known) within `platform_max` and MCS's own limit.
pub fn check(
    filename: &str,
    content_type: &str,
    size: Option<u64>,
    platform_max: u64,
) -> Result<(), Refusal> {
    let essence = essence(content_type);
    let extension = filename
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    let executable = extension
        .as_deref()
        .is_some_and(|ext| EXECUTABLE_EXTENSIONS.contains(&ext));
    if executable || !ACCEPTED_TYPES.contains(&essence.as_str()) {
        return Err(Refusal::Type(essence));
    }
    let max = platform_max.min(MAX_MEDIA_BYTES);
    match size {
        Some(size) if size > max => Err(Refusal::TooLarge { size, max }),
        _ => Ok(()),
    }
}

/// `image/png; charset=…` → `image/png`.
fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// A file's name from its URL: the last path segment, without the query.
pub fn filename_of(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    match path.rsplit('/').next() {
        Some(name) if !name.is_empty() => name.to_owned(),
        _ => "file".to_owned(),
    }
}

/// A customer's file on its way in: the headers read, the body still on the wire.
pub struct Download {
    pub filename: String,
    pub content_type: String,
    /// `Content-Length`, when the platform sent it.
    pub content_length: Option<u64>,
    pub response: reqwest::Response,
}

/// Passes `download` into MCS. With its length known the body streams straight through (sent
/// once: a failure goes back to the queue, which downloads it again); without, it is read once,
/// refused past `max`, and uploaded from that one copy (each retry shares it).
pub async fn upload(mcs: &MediaClient, download: Download, max: u64) -> Result<Media, HttpError> {
    match download.content_length {
        Some(length) => {
            let body = reqwest::Body::wrap_stream(download.response.bytes_stream());
            mcs.upload_stream(&download.content_type, &download.filename, length, body)
                .await
        }
        None => {
            let bytes = read_at_most(download.response, max).await?;
            mcs.upload(&NewMedia {
                content_type: &download.content_type,
                filename: &download.filename,
                bytes,
            })
            .await
        }
    }
}

async fn read_at_most(
    mut response: reqwest::Response,
    max: u64,
) -> Result<bytes::Bytes, HttpError> {
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(|err| {
        HttpError::unsent("media", format!("download broke: {}", err.without_url()))
    })? {
        if (body.len() + chunk.len()) as u64 > max {
            return Err(HttpError::unsent(
                "media",
                "the file is longer than allowed",
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allow_list_takes_images_pdf_text_and_video_and_never_programs() {
        let max = 10_000_000;
        assert!(check("crash.png", "image/png", Some(3), max).is_ok());
        assert!(check("receipt.PDF", "application/pdf; x=y", None, max).is_ok());
        assert!(check("clip.mov", "video/quicktime", Some(9), max).is_ok());
        assert_eq!(
            check("setup.exe", "application/x-msdownload", Some(3), max),
            Err(Refusal::Type("application/x-msdownload".into()))
        );
        assert!(matches!(
            check("crash.exe", "image/png", Some(3), max),
            Err(Refusal::Type(_))
        ));
        assert!(matches!(
            check("archive.zip", "application/zip", Some(3), max),
            Err(Refusal::Type(_))
        ));
        assert_eq!(
            check("big.png", "image/png", Some(max + 1), max),
            Err(Refusal::TooLarge { size: max + 1, max })
        );
    }

    #[test]
    fn a_name_comes_from_the_urls_last_segment() {
        assert_eq!(
            filename_of("https://ton.twitter.com/1.1/ton/data/dm/1/2/abc.jpg?x=1"),
            "abc.jpg"
        );
        assert_eq!(filename_of("https://ton.twitter.com/"), "file");
    }

    #[test]
    fn the_lines_name_the_file() {
        let refusal = Refusal::Type("application/x-msdownload".into());
        assert!(refusal.customer_line("setup.exe").contains("setup.exe"));
        assert!(!refusal.customer_line("setup.exe").contains('\n'));
        assert!(refusal.agent_note("setup.exe").contains("setup.exe"));
    }
}
