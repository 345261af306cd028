//! X's DM limits for the brand user, as the DM endpoint reports them on every answer: the
//! endpoint's 15-minute window (`x-rate-limit-*`), the user's 24 hours (`x-user-limit-24hour-*`)
//! and the app's 24 hours (`x-app-limit-24hour-*`), resets in epoch seconds. A DM is refused with
//! 429 while any window is spent, and a window is full again from its reset.

use axum::http::HeaderMap;

use crate::{time, Sandbox};

/// One window: `limit` DMs per `length_secs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XLimitWindow {
    pub limit: u32,
    pub remaining: u32,
    /// Epoch seconds.
    pub reset: u64,
    pub length_secs: u64,
}

impl XLimitWindow {
    fn new(limit: u32, length_secs: u64) -> Self {
        Self::at(limit, limit, length_secs, length_secs)
    }

    /// `remaining` of `limit` left, full again in `reset_in_secs`, then every `length_secs`.
    fn at(limit: u32, remaining: u32, reset_in_secs: u64, length_secs: u64) -> Self {
        Self {
            limit,
            remaining,
            reset: time::now_secs() + reset_in_secs,
            length_secs,
        }
    }

    fn refill(&mut self, now: u64) {
        if now >= self.reset {
            self.remaining = self.limit;
            self.reset = now + self.length_secs;
        }
    }
}

/// The brand's three windows, with X's documented defaults (docs.x.com, "Rate limits":
/// 200 DMs per 15 minutes and 1,000 per 24 hours per user, 15,000 per 24 hours per app).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XDmLimits {
    pub short: XLimitWindow,
    pub user_day: XLimitWindow,
    pub app_day: XLimitWindow,
}

impl Default for XDmLimits {
    fn default() -> Self {
        Self {
            short: XLimitWindow::new(200, 15 * 60),
            user_day: XLimitWindow::new(1_000, 24 * 3600),
            app_day: XLimitWindow::new(15_000, 24 * 3600),
        }
    }
}

impl XDmLimits {
    fn windows(&mut self) -> [(&'static str, &mut XLimitWindow); 3] {
        [
            ("x-rate-limit", &mut self.short),
            ("x-user-limit-24hour", &mut self.user_day),
            ("x-app-limit-24hour", &mut self.app_day),
        ]
    }

    /// Spends one DM if every window has one left; either way, the headers X answers with.
    pub(super) fn spend(&mut self) -> (bool, HeaderMap) {
        let now = time::now_secs();
        let allowed = self.windows().into_iter().all(|(_, w)| {
            w.refill(now);
            w.remaining > 0
        });
        let mut headers = HeaderMap::new();
        for (prefix, window) in self.windows() {
            if allowed {
                window.remaining -= 1;
            }
            for (name, value) in [
                ("limit", window.limit as u64),
                ("remaining", window.remaining as u64),
                ("reset", window.reset),
            ] {
                headers.insert(
                    axum::http::HeaderName::try_from(format!("{prefix}-{name}"))
                        .expect("a header name"),
                    value.into(),
                );
            }
        }
        (allowed, headers)
    }
}

impl Sandbox {
    /// Sets the brand's user 24-hour window: `remaining` DMs left, full again in
    /// `reset_in_secs` (then `limit` per 24 hours).
    pub fn set_x_dm_day(&self, limit: u32, remaining: u32, reset_in_secs: u64) {
        self.x_store().dm_limits.user_day =
            XLimitWindow::at(limit, remaining, reset_in_secs, 24 * 3600);
    }

    /// Sets the endpoint's 15-minute window likewise.
    pub fn set_x_dm_short(&self, limit: u32, remaining: u32, reset_in_secs: u64) {
        self.x_store().dm_limits.short = XLimitWindow::at(limit, remaining, reset_in_secs, 15 * 60);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_dm_spends_every_window_and_a_spent_one_refuses_until_its_reset() {
        let mut limits = XDmLimits::default();
        let (allowed, headers) = limits.spend();
        assert!(allowed);
        assert_eq!(headers["x-rate-limit-remaining"], "199");
        assert_eq!(headers["x-user-limit-24hour-remaining"], "999");
        assert_eq!(headers["x-app-limit-24hour-limit"], "15000");
        limits.user_day.remaining = 0;
        let (allowed, headers) = limits.spend();
        assert!(!allowed);
        assert_eq!(headers["x-user-limit-24hour-remaining"], "0");
        assert_eq!(
            headers["x-rate-limit-remaining"], "199",
            "a refusal spends nothing"
        );
        limits.user_day.reset = time::now_secs();
        assert!(limits.spend().0, "full again at its reset");
        assert_eq!(limits.user_day.remaining, 999);
    }
}
