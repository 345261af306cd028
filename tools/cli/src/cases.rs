//! `flex-bridge cases list | show | resolve | reopen`: the operator's view of the cases
//! (support hand-offs, bug reports, feature requests) in the bridge's DynamoDB table.
//!
//! Reads `TABLE_NAME`, and `DELIVERY_QUEUE_URL` to resolve (the reporter of a bug report or
//! feature request is told through the durable delivery lane: an outage of Discord or X delays
//! the message, never drops it). AWS region and credentials come from the usual places, and
//! `AWS_ENDPOINT_URL` points the SDK at an emulator.

use std::io::Write;

use flex_bridge_core::config::{schema, ConfigError, Env};
use flex_bridge_store::cases::views::date_time as utc;
use flex_bridge_store::cases::{
    self, Case, CaseError, CaseFilter, CaseId, CaseKind, CasePage, CaseStatus, CaseStore,
};
use flex_bridge_store::queue::resolved_notice;
use flex_bridge_store::queue::{Queue, QueueError, SqsQueue};
use flex_bridge_store::store::DynamoStore;
use flex_bridge_store::store_error::StoreError;
use flex_bridge_store::transcripts::{S3Transcripts, TranscriptStore};

use crate::CasesCommand;

/// Who operator changes are by, in the timeline.
pub const OPERATOR: &str = "operator";

/// Titles in the listing are cut to this many characters.
const TITLE_WIDTH: usize = 48;

/// Timeline events are padded to at most this many characters.
const EVENT_WIDTH: usize = 48;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("no AWS region: set AWS_REGION (or AWS_PROFILE with a region)")]
    NoRegion,
    #[error("not a case id: {0} (expected CS-1042)")]
    NotACaseId(String),
    #[error("{0} has no transcript (one is written when its conversation closes)")]
    NoTranscript(CaseId),
    /// A bad `--status`, `--kind` or `--note`.
    #[error("{0}")]
    Argument(String),
    #[error(transparent)]
    Case(#[from] CaseError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{id} is resolved, but the message for its reporter could not be queued: {source}")]
    NotTold { id: String, source: QueueError },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Runs one `cases` subcommand.
pub async fn run(command: CasesCommand, env: Env, out: &mut dyn Write) -> Result<(), Error> {
    match command {
        CasesCommand::List {
            status,
            kind,
            customer,
            limit,
            page,
            json,
        } => {
            let filter = CaseFilter {
                reporter: customer
                    .map(|c| c.trim().to_owned())
                    .filter(|c| !c.is_empty()),
                status: status
                    .map(|s| s.trim().parse::<CaseStatus>())
                    .transpose()
                    .map_err(Error::Argument)?,
                kind: kind
                    .map(|k| k.trim().parse::<CaseKind>())
                    .transpose()
                    .map_err(Error::Argument)?,
            };
            let (store, _) = connect(env, false).await?;
            list(&store, &filter, limit as usize, page.as_deref(), json, out).await
        }
        CasesCommand::Show { id, json } => {
            let id = case_id(&id)?;
            let (store, _) = connect(env, false).await?;
            show(&store, &id, json, out).await
        }
        CasesCommand::Resolve { id, note } => {
            let id = case_id(&id)?;
            let note = note_text(&note)?;
            let (store, queue) = connect(env, true).await?;
            let queue = queue.expect("DELIVERY_QUEUE_URL was required");
            resolve(&store, &queue, &id, note, out).await
        }
        CasesCommand::Transcript { id, html } => {
            let id = case_id(&id)?;
            let transcripts = transcripts(env).await?;
            transcript(&transcripts, &id, html, out).await
        }
        CasesCommand::Reopen { id, note } => {
            let id = case_id(&id)?;
            let note = note_text(&note)?;
            let (store, _) = connect(env, false).await?;
            reopen(&store, &id, note, out).await
        }
    }
}

/// `CS-1042`, `cs-1042` or ` CS-1042 ` → `CS-1042`.
pub fn case_id(arg: &str) -> Result<CaseId, Error> {
    arg.parse().map_err(|_| Error::NotACaseId(arg.to_owned()))
}

fn note_text(note: &str) -> Result<&str, Error> {
    let note = note.trim();
    if note.is_empty() {
        return Err(Error::Argument(
            "--note is empty: the timeline keeps it, so say what was done or why".into(),
        ));
    }
    Ok(note)
}

/// The case store, and the delivery queue when `queue` (one error naming every missing
/// variable).
async fn connect(mut env: Env, queue: bool) -> Result<(DynamoStore, Option<SqsQueue>), Error> {
    let table = env.required(&schema::TABLE_NAME);
    let queue_url = queue.then(|| env.required(&schema::DELIVERY_QUEUE_URL));
    env.finish()?;
    let config = flex_bridge_store::sdk_http::aws_config().await;
    if config.region().is_none() {
        return Err(Error::NoRegion);
    }
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), table);
    let queue = queue_url.map(|url| SqsQueue::new(aws_sdk_sqs::Client::new(&config), url));
    Ok((store, queue))
}

/// The transcripts bucket.
async fn transcripts(mut env: Env) -> Result<S3Transcripts, Error> {
    let bucket = env.required(&schema::TRANSCRIPTS_BUCKET);
    env.finish()?;
    let config = flex_bridge_store::sdk_http::aws_config().await;
    if config.region().is_none() {
        return Err(Error::NoRegion);
    }
    Ok(S3Transcripts::from_sdk(&config, bucket))
}

pub async fn transcript(
    transcripts: &dyn TranscriptStore,
    id: &CaseId,
    html: bool,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let transcript = transcripts
        .transcript(id)
        .await?
        .ok_or_else(|| Error::NoTranscript(id.clone()))?;
    let text = if html {
        transcript.html()
    } else {
        transcript.text()
    };
    write!(out, "{text}")?;
    Ok(())
}

pub async fn list(
    store: &dyn CaseStore,
    filter: &CaseFilter,
    limit: usize,
    page: Option<&str>,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let listed = store.list_cases(filter, page, limit).await?;
    if json {
        let listing = Listing {
            cases: &listed.cases,
            next: listed.next.as_deref(),
        };
        writeln!(out, "{}", pretty(&listing))?;
    } else {
        write!(out, "{}", table(&listed, filter, limit))?;
    }
    Ok(())
}

/// `cases list --json`.
#[derive(serde::Serialize)]
struct Listing<'a> {
    cases: &'a [Case],
    next: Option<&'a str>,
}

/// Indented JSON, fields in their declared order.
fn pretty(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).expect("cases serialise")
}

/// The listing as a table, then the command for the next page when there is one.
pub fn table(page: &CasePage, filter: &CaseFilter, limit: usize) -> String {
    let mut out = String::new();
    if page.cases.is_empty() {
        out.push_str("no cases\n");
    } else {
        let header = [
            "ID",
            "KIND",
            "STATUS",
            "REPORTER",
            "UPDATED (UTC)",
            "CSAT",
            "TITLE",
        ];
        let rows: Vec<[String; 7]> = page
            .cases
            .iter()
            .map(|case| {
                [
                    case.id.to_string(),
                    case.kind.as_str().to_owned(),
                    case.status.as_str().to_owned(),
                    case.reporter.clone(),
                    utc(updated_at(case)),
                    case.satisfaction
                        .map(|s| format!("{}/5", s.score))
                        .unwrap_or_else(|| "-".into()),
                    truncate(&case.title, TITLE_WIDTH),
                ]
            })
            .collect();
        let mut widths = header.map(|h| h.chars().count());
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut line = |cells: &[&str]| {
            let mut text = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i + 1 == cells.len() {
                    text.push_str(cell);
                } else {
                    text.push_str(&format!("{cell:<width$}  ", width = widths[i]));
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        line(&header);
        for row in &rows {
            line(&row.each_ref().map(String::as_str));
        }
    }
    if let Some(next) = &page.next {
        out.push_str(&format!(
            "next page: {}\n",
            list_command(filter, limit, next)
        ));
    }
    out
}

/// `flex-bridge cases list` with the same filters and limit, from `page`.
fn list_command(filter: &CaseFilter, limit: usize, page: &str) -> String {
    let mut command = "flex-bridge cases list".to_owned();
    if let Some(status) = filter.status {
        command.push_str(&format!(" --status {}", status.as_str()));
    }
    if let Some(kind) = filter.kind {
        command.push_str(&format!(" --kind {}", kind.as_str()));
    }
    if let Some(customer) = &filter.reporter {
        command.push_str(&format!(" --customer {}", shell_word(customer)));
    }
    if limit != crate::DEFAULT_CASES_LIMIT as usize {
        command.push_str(&format!(" --limit {limit}"));
    }
    command.push_str(&format!(" --page {}", shell_word(page)));
    command
}

/// `word` as one shell word: as it is when that is safe, else single-quoted.
fn shell_word(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:@/+=,".contains(c));
    if safe {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Records written before `updated_at` existed hold 0.
fn updated_at(case: &Case) -> i64 {
    case.updated_at.max(case.opened_at)
}

/// One line of at most `width` characters, `…` marking a cut.
pub fn truncate(text: &str, width: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= width {
        line
    } else {
        let mut cut: String = line.chars().take(width.saturating_sub(1)).collect();
        cut.truncate(cut.trim_end().len());
        cut.push('…');
        cut
    }
}

pub async fn show(
    store: &dyn CaseStore,
    id: &CaseId,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let case = store
        .case(id)
        .await?
        .ok_or_else(|| CaseError::NotFound(id.to_string()))?;
    if json {
        writeln!(out, "{}", pretty(&case))?;
    } else {
        write!(out, "{}", details(&case))?;
    }
    Ok(())
}

/// Everything about a case, for reading.
pub fn details(case: &Case) -> String {
    let mut out = String::new();
    let mut field = |name: &str, value: &str| {
        out.push_str(&format!("{:<15}{value}\n", format!("{name}:")));
    };
    field("Case", &case.id.to_string());
    field("Kind", case.kind.display_name());
    field("Status", case.status.display_name());
    field("Title", &case.title);
    field("Reporter", &case.reporter);
    let platform = case
        .reporter
        .parse::<flex_bridge_store::store::CustomerIdentity>();
    field(
        "Platform",
        platform.map_or("", |identity| identity.platform.as_str()),
    );
    field("Opened", &format!("{} UTC", utc(case.opened_at)));
    field("Updated", &format!("{} UTC", utc(updated_at(case))));
    field(
        "Conversations",
        &if case.conversations.is_empty() {
            "none".to_owned()
        } else {
            case.conversations.join(", ")
        },
    );
    field(
        "Satisfaction",
        &match case.satisfaction {
            Some(s) => format!("{}/5 at {} UTC", s.score, utc(s.at)),
            None => "not rated".to_owned(),
        },
    );
    let mut section = |name: &str, text: &str| {
        out.push_str(&format!("\n{name}:\n"));
        for line in text.trim_end().lines() {
            out.push_str(format!("  {line}").trim_end());
            out.push('\n');
        }
    };
    section("Details", &case.details);
    if let Some(steps) = case.steps.as_deref().filter(|s| !s.trim().is_empty()) {
        section("Steps to reproduce", steps);
    }
    out.push_str("\nTimeline (UTC):\n");
    let width = case
        .timeline
        .iter()
        .map(|e| e.event.chars().count())
        .max()
        .unwrap_or(0)
        .min(EVENT_WIDTH);
    for entry in &case.timeline {
        let line = format!("  {}  {:<width$}  {}", utc(entry.at), entry.event, entry.by);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Resolves the case; the reporter of a bug report or feature request is told, through the
/// delivery queue.
pub async fn resolve(
    store: &dyn CaseStore,
    queue: &dyn Queue,
    id: &CaseId,
    note: &str,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let case = cases::resolve(store, id, OPERATOR, note).await?;
    match resolved_notice(&case, note) {
        Some(job) => {
            job.enqueue(queue).await.map_err(|source| Error::NotTold {
                id: case.id.to_string(),
                source,
            })?;
            writeln!(
                out,
                "{} resolved (the reporter will be told on {})",
                case.id,
                job.customer.platform.as_str()
            )?;
        }
        None => writeln!(out, "{} resolved", case.id)?,
    }
    Ok(())
}

pub async fn reopen(
    store: &dyn CaseStore,
    id: &CaseId,
    note: &str,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let case = cases::reopen(store, id, OPERATOR, note).await?;
    writeln!(out, "{} reopened", case.id)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flex_bridge_store::cases::{Satisfaction, TimelineEntry};

    fn case() -> Case {
        Case {
            id: CaseId::new(1042),
            kind: CaseKind::Bug,
            title: "The app crashes when I open the inventory after a long raid".into(),
            details: "It crashes.\nEvery time.".into(),
            steps: Some("1. Raid\n2. Open the inventory".into()),
            reporter: "discord-123456789".into(),
            status: CaseStatus::Resolved,
            opened_at: 1_796_331_420,
            updated_at: 1_796_335_020,
            conversations: vec!["CH1".into()],
            timeline: vec![
                TimelineEntry {
                    at: 1_796_331_420,
                    event: "Bug report opened".into(),
                    by: "discord-123456789".into(),
                },
                TimelineEntry {
                    at: 1_796_335_020,
                    event: "resolved: fixed in 1.2".into(),
                    by: "operator".into(),
                },
            ],
            satisfaction: Some(Satisfaction {
                score: 4,
                at: 1_796_335_080,
            }),
        }
    }

    #[test]
    fn times_are_utc_minutes() {
        assert_eq!(utc(0), "1970-01-01 00:00");
        assert_eq!(utc(1_796_331_420), "2026-12-03 20:57");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00");
        assert_eq!(utc(1_709_251_199), "2024-02-29 23:59");
        assert_eq!(utc(-1), "1969-12-31 23:59");
    }

    #[test]
    fn ids_are_normalised_or_refused() {
        assert_eq!(case_id(" cs-1042 ").unwrap(), "CS-1042");
        assert_eq!(
            case_id("1042x").unwrap_err().to_string(),
            "not a case id: 1042x (expected CS-1042)"
        );
        assert!(case_id("CS-").is_err());
    }

    #[test]
    fn titles_are_cut_to_one_line() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("two\nlines", 10), "two lines");
        assert_eq!(truncate("a much longer title", 10), "a much lo…");
        assert_eq!(truncate("a much  longer title", 8), "a much…");
        assert_eq!(truncate("ééééééééééé", 5), "éééé…");
    }

    #[test]
    fn the_table_lines_up_and_offers_the_next_page() {
        let mut rated = case();
        let mut open = case();
        open.id = CaseId::new(1043);
        open.kind = CaseKind::Support;
        open.status = CaseStatus::InProgress;
        open.title = "Refund".into();
        open.reporter = "x-42".into();
        open.satisfaction = None;
        rated.updated_at = 0;
        let page = CasePage {
            cases: vec![open, rated],
            next: Some("eyJw".into()),
        };
        let filter = CaseFilter {
            kind: Some(CaseKind::Bug),
            reporter: Some("discord-1".into()),
            ..CaseFilter::default()
        };
        assert_eq!(
            table(&page, &filter, 2),
            "\
ID       KIND     STATUS       REPORTER           UPDATED (UTC)     CSAT  TITLE
CS-1043  support  in_progress  x-42               2026-12-03 21:57  -     Refund
CS-1042  bug      resolved     discord-123456789  2026-12-03 20:57  4/5   The app crashes when I open the inventory after…
next page: flex-bridge cases list --kind bug --customer discord-1 --limit 2 --page eyJw
"
        );
        assert_eq!(
            table(&CasePage::default(), &CaseFilter::default(), 50),
            "no cases\n"
        );
    }

    #[test]
    fn details_show_everything() {
        assert_eq!(
            details(&case()),
            "\
Case:          CS-1042
Kind:          Bug report
Status:        resolved
Title:         The app crashes when I open the inventory after a long raid
Reporter:      discord-123456789
Platform:      discord
Opened:        2026-12-03 20:57 UTC
Updated:       2026-12-03 21:57 UTC
Conversations: CH1
Satisfaction:  4/5 at 2026-12-03 21:58 UTC

Details:
  It crashes.
  Every time.

Steps to reproduce:
  1. Raid
  2. Open the inventory

Timeline (UTC):
  2026-12-03 20:57  Bug report opened       discord-123456789
  2026-12-03 21:57  resolved: fixed in 1.2  operator
"
        );
    }

    #[test]
    fn odd_words_are_quoted_for_the_shell() {
        assert_eq!(shell_word("discord-1"), "discord-1");
        assert_eq!(shell_word("it's me"), r"'it'\''s me'");
    }
}
