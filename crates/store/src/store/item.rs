//! The stored form of every record, shared by the DynamoDB and in-memory stores: the item keys
//! and the one flat `Item`.

use serde::{Deserialize, Serialize};

use super::{BotState, Customer, CustomerSlot, DmBudget};
use crate::cases::{Case, CaseId};

/// Item keys, shared by both implementations.
pub(crate) fn customer_key(identity: &str) -> String {
    format!("CUSTOMER#{identity}")
}

pub(crate) fn conversation_key(sid: &str) -> String {
    format!("CONVERSATION#{sid}")
}

pub(crate) fn event_key(key: &str) -> String {
    format!("EVENT#{key}")
}

pub(crate) fn case_key(id: &CaseId) -> String {
    format!("CASE#{id}")
}

pub(crate) fn case_source_key(source: &str) -> String {
    format!("CASESOURCE#{source}")
}

pub(crate) const CASE_COUNTER_KEY: &str = "COUNTER#case";

/// The one record of the brand's X DM budget.
pub(crate) const DM_BUDGET_KEY: &str = "XBUDGET#brand";

/// How long a budget record outlives its last window's reset (then it says nothing anyway).
pub(crate) fn dm_budget_expiry(budget: &DmBudget) -> i64 {
    let resets = [budget.short, budget.user_day, budget.app_day]
        .into_iter()
        .flatten()
        .map(|w| w.reset)
        .chain(budget.refused_until);
    resets.max().unwrap_or(budget.observed_ms / 1000) + 24 * 3600
}

/// The stored form of every record: one flat item, so both implementations share the rules.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Item {
    pub pk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// A customer record whose conversation ended (`CUSTOMER#` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returning: Option<bool>,
    /// The satisfaction question standing for a returning customer (`CUSTOMER#` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating_asked: Option<RatingAsked>,
    /// The customer's conversation that ended last (`CUSTOMER#` only): only its survey may
    /// still be asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_conversation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<Case>,
    /// The bot state (`CONVERSATION#` records only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot: Option<BotState>,
    /// The case a source filed (`CASESOURCE#` records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<CaseId>,
    /// Index keys of `CASE#` records (the `by_reporter` and `by_status` indexes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_reporter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_number: Option<u64>,
    /// The case counter's last value (`COUNTER#case` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counter: Option<u64>,
    /// The brand's X DM budget (`XBUDGET#brand` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dm_budget: Option<DmBudget>,
}

/// "How did we do?" about `case_id`, standing until `until` (epoch seconds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RatingAsked {
    pub case_id: String,
    pub until: i64,
}

impl Item {
    /// A `CASE#` record with its index keys.
    pub fn for_case(case: &Case) -> Self {
        Self {
            pk: case_key(&case.id),
            case_reporter: Some(case.reporter.clone()),
            case_status: Some(case.status.as_str().to_owned()),
            case_kind: Some(case.kind.as_str().to_owned()),
            case_number: Some(case.number()),
            case: Some(case.clone()),
            ..Self::default()
        }
    }

    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    pub fn slot(self, now: i64) -> CustomerSlot {
        if self.is_expired(now) {
            return CustomerSlot::Empty;
        }
        match (self.customer, self.lease_until) {
            (Some(customer), _) => CustomerSlot::Open(customer),
            (None, Some(until)) if until > now => CustomerSlot::Opening { lease_until: until },
            _ if self.returning == Some(true) => CustomerSlot::Returning {
                asked_to_rate: self
                    .rating_asked
                    .filter(|asked| asked.until > now)
                    .map(|asked| asked.case_id),
            },
            _ => CustomerSlot::Empty,
        }
    }
}
