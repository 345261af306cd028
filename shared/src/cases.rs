//! Support cases with human-friendly ids (`CS-1042`) from an atomic counter.
//!
//! A case is keyed by what filed it (a Discord interaction id, say), so a retried submission
//! finds its case instead of filing a second one; the counter may skip a number then, never
//! repeat one.

use serde::{Deserialize, Serialize};

use crate::now_epoch;
use crate::store::{Store, StoreError};

/// The first case is `CS-1001`.
pub const FIRST_CASE_NUMBER: u64 = 1001;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    Bug,
    Feature,
    Support,
}

impl CaseKind {
    pub fn display_name(self) -> &'static str {
        match self {
            CaseKind::Bug => "Bug report",
            CaseKind::Feature => "Feature request",
            CaseKind::Support => "Support request",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub id: String,
    pub kind: CaseKind,
    pub title: String,
    pub details: String,
    #[serde(default)]
    pub steps: Option<String>,
    /// The customer's identity (`discord-<id>`, `x-<id>`).
    pub reporter: String,
    pub status: CaseStatus,
    pub opened_at: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    Resolved,
}

/// What a new case says.
#[derive(Clone, Debug)]
pub struct NewCase {
    pub kind: CaseKind,
    pub title: String,
    pub details: String,
    pub steps: Option<String>,
    pub reporter: String,
}

/// Files the case for `source` (e.g. `discord#<interaction id>`), or returns the one already
/// filed for it.
pub async fn file(store: &dyn Store, source: &str, new: NewCase) -> Result<Case, StoreError> {
    if let Some(existing) = store.case_for_source(source).await? {
        return Ok(existing);
    }
    let number = store.next_case_number().await?;
    let case = Case {
        id: format!("CS-{number}"),
        kind: new.kind,
        title: new.title,
        details: new.details,
        steps: new.steps,
        reporter: new.reporter,
        status: CaseStatus::Open,
        opened_at: now_epoch(),
    };
    if store.put_case(source, &case).await? {
        Ok(case)
    } else {
        // Filed concurrently by a retry of the same submission: that one stands.
        store
            .case_for_source(source)
            .await?
            .ok_or_else(|| StoreError(format!("case for {source} vanished")))
    }
}
