//! Retries for calls to Twilio, X and Discord: 429 and 5xx are retried, honouring `Retry-After`.
//!
//! The budget is small on purpose: a webhook must answer within seconds, and a queue consumer gets
//! its real retries from SQS (visibility timeout, then the DLQ). When the remote asks us to wait
//! longer than the budget allows, we stop at once and hand the wait back to the caller.

use std::time::Duration;

use reqwest::{RequestBuilder, Response, StatusCode};

#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub first_backoff: Duration,
    /// The longest single wait we accept inside one call.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            first_backoff: Duration::from_millis(200),
            max_wait: Duration::from_secs(5),
        }
    }
}

/// A call that failed. `status` is absent when the request never got an answer.
#[derive(Debug, thiserror::Error)]
#[error("{service} answered {}: {detail}", status.map(|s| s.as_u16().to_string()).unwrap_or_else(|| "nothing".into()))]
pub struct HttpError {
    pub service: &'static str,
    pub status: Option<StatusCode>,
    /// Seconds the remote asked us to wait before trying again.
    pub retry_after: Option<u64>,
    pub detail: String,
    /// Refused here before anything was sent (a malformed id, URL or header): trying again
    /// cannot help.
    #[doc(hidden)]
    pub unsent: bool,
}

impl HttpError {
    /// A request refused before it was sent: permanent.
    pub fn unsent(service: &'static str, detail: impl Into<String>) -> Self {
        Self {
            service,
            status: None,
            retry_after: None,
            detail: detail.into(),
            unsent: true,
        }
    }

    /// Worth another try later (rate limit, server error, no answer). A request that was
    /// never sent is not.
    pub fn is_transient(&self) -> bool {
        if self.unsent {
            return false;
        }
        match self.status {
            None => true,
            Some(s) => s == StatusCode::TOO_MANY_REQUESTS || s.is_server_error(),
        }
    }

    pub fn is_status(&self, status: u16) -> bool {
        self.status.map(|s| s.as_u16()) == Some(status)
    }
}

impl RetryPolicy {
    /// Sends the request built by `build` until it succeeds, fails for good, or the budget ends.
    /// Success is any 2xx; the error keeps the remote's body (trimmed) for the logs and notes.
    pub async fn send(
        &self,
        service: &'static str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Response, HttpError> {
        let mut backoff = self.first_backoff;
        let mut attempt = 1;
        loop {
            let error = match build().send().await {
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) => error_from(service, response).await,
                // A request that could not even be built is ours to fix, not the remote's.
                Err(err) if err.is_builder() => {
                    HttpError::unsent(service, err.without_url().to_string())
                }
                Err(err) => HttpError {
                    service,
                    status: None,
                    retry_after: None,
                    detail: err.without_url().to_string(),
                    unsent: false,
                },
            };
            if !error.is_transient() || attempt >= self.attempts {
                return Err(error);
            }
            let wait = error
                .retry_after
                .map(Duration::from_secs)
                .unwrap_or(backoff);
            if wait > self.max_wait {
                return Err(error);
            }
            tracing::warn!(service, attempt, status = ?error.status, wait_ms = wait.as_millis() as u64, "retrying");
            tokio::time::sleep(wait).await;
            backoff = backoff.saturating_mul(2);
            attempt += 1;
        }
    }
}

async fn error_from(service: &'static str, response: Response) -> HttpError {
    let status = response.status();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
    };
    // X answers 429 with its windows' resets (epoch seconds) rather than `Retry-After`: the
    // 15-minute `x-rate-limit-reset`, or, when a 24-hour window is the one spent, its reset.
    let day_reset = ["x-user-limit-24hour", "x-app-limit-24hour"]
        .into_iter()
        .filter(|window| header(&format!("{window}-remaining")).map(str::trim) == Some("0"))
        .filter_map(|window| header(&format!("{window}-reset")).and_then(seconds_until_epoch))
        .max();
    let retry_after = header(reqwest::header::RETRY_AFTER.as_str())
        .and_then(parse_retry_after)
        .or(day_reset)
        .or_else(|| header("x-rate-limit-reset").and_then(seconds_until_epoch));
    // Characters, not bytes: a byte cut could split a multi-byte character and panic.
    let detail: String = response
        .text()
        .await
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect();
    HttpError {
        service,
        status: Some(status),
        retry_after,
        detail,
        unsent: false,
    }
}

/// Seconds from now until an epoch-seconds time (X's `x-rate-limit-reset`), 0 if past.
pub fn seconds_until_epoch(value: &str) -> Option<u64> {
    let at: i64 = value.trim().parse().ok()?;
    Some((at - crate::now_epoch()).max(0) as u64)
}

/// `Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3).
pub fn parse_retry_after(value: &str) -> Option<u64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds >= 0.0).then(|| seconds.ceil() as u64);
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .map(|d| d.as_secs())
            .unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_accepts_seconds_and_dates() {
        assert_eq!(parse_retry_after("3"), Some(3));
        assert_eq!(parse_retry_after("0.25"), Some(1));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(0));
        let later = std::time::SystemTime::now() + Duration::from_secs(120);
        let secs = parse_retry_after(&httpdate::fmt_http_date(later)).unwrap();
        assert!((118..=120).contains(&secs), "{secs}");
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }

    #[test]
    fn only_throttling_and_server_errors_are_transient() {
        let e = |s: u16| HttpError {
            service: "t",
            status: Some(StatusCode::from_u16(s).unwrap()),
            retry_after: None,
            detail: String::new(),
            unsent: false,
        };
        assert!(e(429).is_transient());
        assert!(e(503).is_transient());
        assert!(!e(400).is_transient());
        assert!(!e(403).is_transient());
    }

    #[tokio::test]
    async fn a_request_refused_before_sending_is_permanent_and_sent_once() {
        let attempts = std::sync::atomic::AtomicU32::new(0);
        let client = crate::http::http_client();
        let err = RetryPolicy::default()
            .send("t", || {
                attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                client.get("http://127.0.0.1:9/").header("bad\nname", "v")
            })
            .await
            .unwrap_err();
        assert!(!err.is_transient(), "{err}");
        assert_eq!(attempts.into_inner(), 1);
        assert!(!HttpError::unsent("t", "malformed id").is_transient());
    }

    #[tokio::test]
    async fn x_rate_limit_reset_is_honoured_like_retry_after() {
        let reset = (crate::now_epoch() + 30).to_string();
        let response = http::Response::builder()
            .status(429)
            .header("x-rate-limit-reset", reset)
            .body("Too Many Requests")
            .unwrap();
        let err = error_from("x", reqwest::Response::from(response)).await;
        let wait = err.retry_after.expect("a wait");
        assert!((29..=30).contains(&wait), "{wait}");
        assert_eq!(seconds_until_epoch("0"), Some(0));
        assert_eq!(seconds_until_epoch("soon"), None);
    }

    #[tokio::test]
    async fn a_spent_24_hour_window_is_waited_for_not_the_15_minute_one() {
        let now = crate::now_epoch();
        let response = http::Response::builder()
            .status(429)
            .header("x-rate-limit-remaining", "150")
            .header("x-rate-limit-reset", (now + 600).to_string())
            .header("x-user-limit-24hour-remaining", "0")
            .header("x-user-limit-24hour-reset", (now + 40_000).to_string())
            .header("x-app-limit-24hour-remaining", "9000")
            .header("x-app-limit-24hour-reset", (now + 80_000).to_string())
            .body("Too Many Requests")
            .unwrap();
        let err = error_from("x", reqwest::Response::from(response)).await;
        let wait = err.retry_after.expect("a wait");
        assert!((39_999..=40_000).contains(&wait), "{wait}");
    }
}
