//! Cases: every hand-off to an agent (support), bug report and feature request, followed from
//! report to resolution. Ids are human-friendly (`CS-1042`) from an atomic counter.
//!
//! Status: `open` → `in_progress` (an agent joined) → `resolved` (the chat closed, or an
//! operator resolved it), and `reopened` by an operator. Every change appends to the case's
//! timeline (time, event, who). Changes are conditional writes in the store: a transition only
//! happens from the statuses that allow it, and concurrent timeline appends all land.
//!
//! The store behind cases is the [`CaseStore`] port, declared here and implemented by the
//! DynamoDB and in-memory stores.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use flex_bridge_core::ids::CaseId;

use crate::now_epoch;
use crate::store_error::StoreError;

/// The first case is `CS-1001`.
pub const FIRST_CASE_NUMBER: u64 = 1001;

pub use crate::vocabulary::CaseKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    InProgress,
    Resolved,
    Reopened,
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 4] = [
        CaseStatus::Open,
        CaseStatus::InProgress,
        CaseStatus::Reopened,
        CaseStatus::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::InProgress => "in_progress",
            CaseStatus::Resolved => "resolved",
            CaseStatus::Reopened => "reopened",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::InProgress => "in progress",
            CaseStatus::Resolved => "resolved",
            CaseStatus::Reopened => "reopened",
        }
    }
}

impl std::str::FromStr for CaseStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s || k.display_name() == s)
            .ok_or_else(|| format!("unknown status {s:?} (open, in_progress, resolved, reopened)"))
    }
}

/// One change in a case's life.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: i64,
    pub event: String,
    /// Who: an agent's name, `operator`, the customer, or `Flex Bridge`.
    pub by: String,
}

/// The customer's answer to "How did we do? 1–5".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Satisfaction {
    pub score: u8,
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub id: CaseId,
    pub kind: CaseKind,
    pub title: String,
    pub details: String,
    #[serde(default)]
    pub steps: Option<String>,
    /// The customer's identity (`discord-<id>`, `x-<id>`): also says the platform.
    pub reporter: String,
    pub status: CaseStatus,
    pub opened_at: i64,
    #[serde(default)]
    pub updated_at: i64,
    /// The conversations the case was handled in.
    #[serde(default)]
    pub conversations: Vec<String>,
    #[serde(default)]
    pub timeline: Vec<TimelineEntry>,
    #[serde(default)]
    pub satisfaction: Option<Satisfaction>,
}

impl Case {
    pub fn number(&self) -> u64 {
        self.id.number()
    }

    /// Whether an agent ever joined: the timeline says so (it outlives the status).
    pub fn had_agent(&self) -> bool {
        self.timeline.iter().any(|e| e.event.ends_with(JOINED))
    }
}

/// `CS-1042` → 1042.
pub fn number_of(id: &str) -> Option<u64> {
    id.parse::<CaseId>().ok().map(|id| id.number())
}

/// What a new case says.
#[derive(Clone, Debug)]
pub struct NewCase {
    pub kind: CaseKind,
    pub title: String,
    pub details: String,
    pub steps: Option<String>,
    pub reporter: String,
    /// The conversation a support case is handled in.
    pub conversation: Option<String>,
}

/// A status change and/or a timeline entry, applied only from the `from` statuses (any, when
/// empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseUpdate {
    pub from: Vec<CaseStatus>,
    pub to: Option<CaseStatus>,
    pub entry: TimelineEntry,
    /// A conversation to link to the case.
    pub conversation: Option<String>,
}

/// Which cases to list. Newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaseFilter {
    pub reporter: Option<String>,
    pub status: Option<CaseStatus>,
    pub kind: Option<CaseKind>,
}

impl CaseFilter {
    pub fn matches(&self, case: &Case) -> bool {
        self.reporter.as_ref().is_none_or(|r| *r == case.reporter)
            && self.status.is_none_or(|s| s == case.status)
            && self.kind.is_none_or(|k| k == case.kind)
    }
}

/// One page of a listing; `next` continues it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CasePage {
    pub cases: Vec<Case>,
    pub next: Option<String>,
}

/// Where cases are kept.
#[async_trait]
pub trait CaseStore: Send + Sync {
    /// The next value of the case counter: 1, 2, 3, … (atomic, never repeated).
    async fn next_case_count(&self) -> Result<u64, StoreError>;
    /// The case `source` filed, if any.
    async fn case_for_source(&self, source: &str) -> Result<Option<Case>, StoreError>;
    /// Records a new case and that `source` filed it; `false` if `source` already filed one.
    async fn insert_case(&self, source: &str, case: &Case) -> Result<bool, StoreError>;
    async fn case(&self, id: &CaseId) -> Result<Option<Case>, StoreError>;
    /// Applies `update` if the case exists and its status is in `update.from`; returns the case
    /// after it, or `None`.
    async fn update_case(
        &self,
        id: &CaseId,
        update: &CaseUpdate,
    ) -> Result<Option<Case>, StoreError>;
    /// Stores the satisfaction score unless one is stored already; `false` then.
    async fn set_satisfaction(
        &self,
        id: &CaseId,
        satisfaction: Satisfaction,
        entry: &TimelineEntry,
    ) -> Result<bool, StoreError>;
    /// Cases matching `filter`, newest first, `limit` per page, from `page` (a previous
    /// page's `next`). Served by indexes, never a scan.
    async fn list_cases(
        &self,
        filter: &CaseFilter,
        page: Option<&str>,
        limit: usize,
    ) -> Result<CasePage, StoreError>;
}

/// The end of the timeline event of an agent joining.
const JOINED: &str = "joined the chat";

/// Who the bridge is in timelines.
pub const BRIDGE: &str = "Flex Bridge";

fn entry(event: impl Into<String>, by: impl Into<String>) -> TimelineEntry {
    TimelineEntry {
        at: now_epoch(),
        event: event.into(),
        by: by.into(),
    }
}

/// Files the case for `source` (e.g. `discord#<interaction id>`), or returns the one already
/// filed for it: a retried submission never files two. The counter may then skip a number,
/// never repeat one.
pub async fn file(store: &dyn CaseStore, source: &str, new: NewCase) -> Result<Case, StoreError> {
    if let Some(existing) = store.case_for_source(source).await? {
        return Ok(existing);
    }
    let count = store.next_case_count().await?;
    let now = now_epoch();
    let by = if new.kind == CaseKind::Support {
        BRIDGE.to_owned()
    } else {
        new.reporter.clone()
    };
    let case = Case {
        id: CaseId::new(FIRST_CASE_NUMBER + count - 1),
        kind: new.kind,
        title: new.title,
        details: new.details,
        steps: new.steps,
        reporter: new.reporter,
        status: CaseStatus::Open,
        opened_at: now,
        updated_at: now,
        conversations: new.conversation.into_iter().collect(),
        timeline: vec![entry(format!("{} opened", new.kind.display_name()), by)],
        satisfaction: None,
    };
    if store.insert_case(source, &case).await? {
        Ok(case)
    } else {
        // Filed concurrently by a retry of the same submission: that one stands.
        store
            .case_for_source(source)
            .await?
            .ok_or_else(|| StoreError(format!("case for {source} vanished")))
    }
}

/// Why a change was refused.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("no case {0}")]
    NotFound(String),
    #[error("{id} is {status}: it cannot be {action}")]
    Transition {
        id: String,
        status: &'static str,
        action: &'static str,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Moves the case from one of `from` to `to`, with a timeline entry; a wrong status or an
/// unknown id is a [`CaseError`] naming it.
async fn transition(
    store: &dyn CaseStore,
    id: &CaseId,
    (from, to): (&[CaseStatus], CaseStatus),
    entry: TimelineEntry,
    action: &'static str,
) -> Result<Case, CaseError> {
    let update = CaseUpdate {
        from: from.to_vec(),
        to: Some(to),
        entry,
        conversation: None,
    };
    match store.update_case(id, &update).await? {
        Some(case) => Ok(case),
        None => match store.case(id).await? {
            None => Err(CaseError::NotFound(id.to_string())),
            Some(case) => Err(CaseError::Transition {
                id: id.to_string(),
                status: case.status.display_name(),
                action,
            }),
        },
    }
}

use CaseStatus::{InProgress, Open, Reopened, Resolved};

/// An agent joined the case's conversation: open (or reopened) → in progress.
pub async fn start(store: &dyn CaseStore, id: &CaseId, agent: &str) -> Result<Case, CaseError> {
    let event = entry(format!("{agent} {JOINED}"), agent);
    transition(store, id, (&[Open, Reopened], InProgress), event, "started").await
}

/// Resolved, with a note, by `by` (the bridge when the chat closed, or an operator).
pub async fn resolve(
    store: &dyn CaseStore,
    id: &CaseId,
    by: &str,
    note: &str,
) -> Result<Case, CaseError> {
    let event = entry(format!("resolved: {note}"), by);
    let from = [Open, InProgress, Reopened];
    transition(store, id, (&from, Resolved), event, "resolved").await
}

/// Reopened by an operator, with a note.
pub async fn reopen(
    store: &dyn CaseStore,
    id: &CaseId,
    by: &str,
    note: &str,
) -> Result<Case, CaseError> {
    let event = entry(format!("reopened: {note}"), by);
    transition(store, id, (&[Resolved], Reopened), event, "reopened").await
}

/// A note on the timeline, whatever the status.
pub async fn note(
    store: &dyn CaseStore,
    id: &CaseId,
    by: &str,
    text: &str,
) -> Result<Case, CaseError> {
    let update = CaseUpdate {
        from: Vec::new(),
        to: None,
        entry: entry(text, by),
        conversation: None,
    };
    store
        .update_case(id, &update)
        .await?
        .ok_or_else(|| CaseError::NotFound(id.to_string()))
}

/// The customer's first satisfaction score counts; `false` when one was already stored.
pub async fn rate(
    store: &dyn CaseStore,
    id: &CaseId,
    score: u8,
    by: &str,
) -> Result<bool, StoreError> {
    let satisfaction = Satisfaction {
        score: score.clamp(1, 5),
        at: now_epoch(),
    };
    store
        .set_satisfaction(
            id,
            satisfaction,
            &entry(format!("satisfaction {}/5", satisfaction.score), by),
        )
        .await
}

/// The behaviour every `CaseStore` must have: run against memory in unit tests and against
/// DynamoDB (moto server) in `local/tests/suite/store_dynamodb.rs`.
#[doc(hidden)]
#[cfg(any(test, feature = "testing"))]
pub mod contract;
pub mod views;
