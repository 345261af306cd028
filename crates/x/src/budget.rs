//! The brand's X DM budget. The brand is one X user: X lets it send about 200 DMs per 15 minutes
//! and 1,000 per 24 hours (the app 15,000 per 24 hours), and every bot answer and notice spends
//! the same budget as an agent's reply. X reports where each window stands on every answer of the
//! DM endpoint:
//!
//! | window | headers |
//! | --- | --- |
//! | the endpoint's 15 minutes | `x-rate-limit-limit`, `x-rate-limit-remaining`, `x-rate-limit-reset` |
//! | the user's 24 hours | `x-user-limit-24hour-limit`, `-remaining`, `-reset` |
//! | the app's 24 hours | `x-app-limit-24hour-limit`, `-remaining`, `-reset` |
//!
//! (resets in epoch seconds). The last report is kept in the store, shared by every Lambda, and
//! each DM is weighed against it before it is sent: when the budget runs low, what the customer
//! can do without is dropped first; near the end only agents' messages and the notices that can
//! wait go; when it is spent, agents' messages wait on their queue for the reset.
//!
//! A DM that waits holds its FIFO lane: everything queued behind it waits too. So only what has
//! nothing essential behind it may wait: an agent's message (more of the agent's messages follow
//! it), the chat-ended notice (the last of its conversation), a notice outside any conversation.
//! The bot's answers and the hand-off notice may have the Flex task's creation behind them: they
//! are sent or dropped, never held.

use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};

/// One of X's limit windows, as last reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub limit: u32,
    pub remaining: u32,
    /// Epoch seconds: from then the window is full again.
    pub reset: i64,
}

impl Window {
    fn from_headers(headers: &HeaderMap, prefix: &str) -> Option<Self> {
        let number = |name: &str| -> Option<i64> {
            headers
                .get(format!("{prefix}-{name}"))?
                .to_str()
                .ok()?
                .trim()
                .parse()
                .ok()
        };
        Some(Self {
            limit: number("limit")?.try_into().ok()?,
            remaining: number("remaining")?.try_into().ok()?,
            reset: number("reset")?,
        })
    }

    /// What is left at `now`: a window past its reset is full again.
    fn remaining_at(&self, now: i64) -> u32 {
        if now >= self.reset {
            self.limit
        } else {
            self.remaining
        }
    }
}

/// What X last said of the brand's DM windows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmBudget {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short: Option<Window>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_day: Option<Window>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_day: Option<Window>,
    /// X refused a DM with 429 and said when to come back: nothing goes before then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused_until: Option<i64>,
    /// When this was observed (epoch milliseconds): of two reports the newer one is kept.
    pub observed_ms: i64,
}

/// Where the budget stands, for [`decide`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    Plenty,
    /// A tenth or less of a window is left: optional notices are dropped.
    Low,
    /// A fortieth or less is left (5 of 200, 25 of 1,000): kept for agents' messages until
    /// `until`.
    Reserved {
        until: i64,
    },
    /// Nothing is left until `until`.
    Spent {
        until: i64,
    },
}

/// How much a DM matters when the budget is short, and whether it may hold its lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priority {
    /// What an agent wrote, and the first agent's "joined": sent while anything is left, then
    /// waits for the reset.
    Agent,
    /// A notice that can wait (the chat ended; news outside any conversation): sent while the
    /// budget is not nearly spent, then waits.
    Notice,
    /// Worth sending only now, and never held (the bot's answers, the hand-off notice: the Flex
    /// task may be queued behind them): sent while the budget is not nearly spent, then dropped.
    Passing,
    /// What the customer can do without: a transfer's second "joined", the thanks for a rating.
    Optional,
}

/// What to do with one DM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Send,
    /// Not sent, and done with: the budget is better spent on agents' messages.
    Drop,
    /// Kept on the queue until this epoch second.
    WaitUntil(i64),
}

impl DmBudget {
    /// The windows X reported on an answer of the DM endpoint (an answer without them gives an
    /// empty budget, which never holds anything back).
    pub fn from_headers(headers: &HeaderMap, observed_ms: i64) -> Self {
        Self {
            short: Window::from_headers(headers, "x-rate-limit"),
            user_day: Window::from_headers(headers, "x-user-limit-24hour"),
            app_day: Window::from_headers(headers, "x-app-limit-24hour"),
            refused_until: None,
            observed_ms,
        }
    }

    /// Whether X reported any window at all.
    pub fn is_reported(&self) -> bool {
        self.windows().next().is_some()
    }

    /// This report, with the windows it does not carry taken from `earlier` while they are in
    /// force at `now` (an answer may carry only the 15-minute window). A DM that went out ends
    /// an earlier refusal.
    pub fn over(mut self, earlier: Option<&DmBudget>, now: i64) -> Self {
        let Some(earlier) = earlier else {
            return self;
        };
        let current = |w: Option<Window>| w.filter(|w| w.reset > now);
        self.short = self.short.or(current(earlier.short));
        self.user_day = self.user_day.or(current(earlier.user_day));
        self.app_day = self.app_day.or(current(earlier.app_day));
        self
    }

    /// X answered 429: spent until `until`, whatever the windows said before.
    pub fn refused(mut self, until: i64, observed_ms: i64) -> Self {
        self.refused_until = Some(until);
        self.observed_ms = observed_ms;
        self
    }

    fn windows(&self) -> impl Iterator<Item = &Window> {
        [&self.short, &self.user_day, &self.app_day]
            .into_iter()
            .flatten()
    }

    /// Where the budget stands at `now` (epoch seconds).
    pub fn standing(&self, now: i64) -> Standing {
        if let Some(until) = self.refused_until.filter(|until| *until > now) {
            return Standing::Spent { until };
        }
        let latest_reset = |held: &dyn Fn(&Window) -> bool| {
            self.windows()
                .filter(|w| w.reset > now && held(w))
                .map(|w| w.reset)
                .max()
        };
        if let Some(until) = latest_reset(&|w| w.remaining_at(now) == 0) {
            return Standing::Spent { until };
        }
        if let Some(until) = latest_reset(&|w| w.remaining_at(now) <= (w.limit / 40).max(1)) {
            return Standing::Reserved { until };
        }
        if latest_reset(&|w| w.remaining_at(now) <= (w.limit / 10).max(1)).is_some() {
            return Standing::Low;
        }
        Standing::Plenty
    }
}

/// Whether a DM of `priority` goes out when the budget stands at `standing`.
pub fn decide(standing: Standing, priority: Priority) -> Decision {
    match (standing, priority) {
        (Standing::Plenty, _) => Decision::Send,
        (_, Priority::Optional) => Decision::Drop,
        (Standing::Low, _) | (Standing::Reserved { .. }, Priority::Agent) => Decision::Send,
        (_, Priority::Passing) => Decision::Drop,
        (Standing::Reserved { until }, _) | (Standing::Spent { until }, _) => {
            Decision::WaitUntil(until)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_786_000_000;

    fn headers(pairs: &[(&str, i64)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.to_string().parse().unwrap(),
            );
        }
        map
    }

    fn budget(short: (u32, u32), day: (u32, u32)) -> DmBudget {
        DmBudget::from_headers(
            &headers(&[
                ("x-rate-limit-limit", short.0.into()),
                ("x-rate-limit-remaining", short.1.into()),
                ("x-rate-limit-reset", NOW + 600),
                ("x-user-limit-24hour-limit", day.0.into()),
                ("x-user-limit-24hour-remaining", day.1.into()),
                ("x-user-limit-24hour-reset", NOW + 50_000),
            ]),
            1,
        )
    }

    #[test]
    fn reads_the_windows_x_reports() {
        let read = budget((200, 150), (1000, 900));
        assert_eq!(
            read.short,
            Some(Window {
                limit: 200,
                remaining: 150,
                reset: NOW + 600
            })
        );
        assert_eq!(read.user_day.map(|w| w.remaining), Some(900));
        assert_eq!(read.app_day, None, "not reported: not held against us");
        assert_eq!(
            DmBudget::from_headers(&headers(&[("x-rate-limit-limit", 200)]), 1),
            DmBudget {
                observed_ms: 1,
                ..DmBudget::default()
            },
            "a window without all three headers is not read"
        );
    }

    #[test]
    fn a_report_keeps_the_earlier_windows_it_does_not_carry() {
        let earlier = budget((200, 150), (1000, 90)).refused(NOW + 30, 1);
        let short_only = DmBudget::from_headers(
            &headers(&[
                ("x-rate-limit-limit", 200),
                ("x-rate-limit-remaining", 149),
                ("x-rate-limit-reset", NOW + 600),
            ]),
            2,
        );
        assert!(short_only.is_reported());
        assert!(!DmBudget::from_headers(&HeaderMap::new(), 2).is_reported());
        let merged = short_only.clone().over(Some(&earlier), NOW);
        assert_eq!(merged.short.map(|w| w.remaining), Some(149));
        assert_eq!(merged.user_day, earlier.user_day, "kept: still in force");
        assert_eq!(
            merged.refused_until, None,
            "a DM went out: the refusal is over"
        );
        assert_eq!(merged.standing(NOW), Standing::Low);
        let later = short_only.over(Some(&earlier), NOW + 50_000);
        assert_eq!(later.user_day, None, "past its reset: not kept");
    }

    #[test]
    fn stands_by_its_tightest_window() {
        assert_eq!(
            budget((200, 150), (1000, 900)).standing(NOW),
            Standing::Plenty
        );
        assert_eq!(budget((200, 20), (1000, 900)).standing(NOW), Standing::Low);
        assert_eq!(budget((200, 150), (1000, 100)).standing(NOW), Standing::Low);
        assert_eq!(
            budget((200, 5), (1000, 900)).standing(NOW),
            Standing::Reserved { until: NOW + 600 }
        );
        assert_eq!(
            budget((200, 150), (1000, 0)).standing(NOW),
            Standing::Spent {
                until: NOW + 50_000
            }
        );
        assert_eq!(
            budget((200, 0), (1000, 0)).standing(NOW),
            Standing::Spent {
                until: NOW + 50_000
            },
            "spent until the last spent window is full again"
        );
        assert_eq!(
            budget((200, 0), (1000, 900)).standing(NOW + 600),
            Standing::Plenty,
            "a window is full again at its reset"
        );
        let refused = budget((200, 150), (1000, 900)).refused(NOW + 30, 2);
        assert_eq!(refused.standing(NOW), Standing::Spent { until: NOW + 30 });
        assert_eq!(refused.standing(NOW + 30), Standing::Plenty);
    }

    #[test]
    fn agents_keep_priority_as_the_budget_runs_out() {
        use Decision::{Drop, Send, WaitUntil};
        use Priority::*;
        let row = |standing| [Agent, Notice, Passing, Optional].map(|p| decide(standing, p));
        assert_eq!(row(Standing::Plenty), [Send, Send, Send, Send]);
        assert_eq!(row(Standing::Low), [Send, Send, Send, Drop]);
        assert_eq!(
            row(Standing::Reserved { until: 9 }),
            [Send, WaitUntil(9), Drop, Drop]
        );
        assert_eq!(
            row(Standing::Spent { until: 9 }),
            [WaitUntil(9), WaitUntil(9), Drop, Drop],
            "only what may hold its lane waits"
        );
    }
}
