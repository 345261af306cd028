//! Injected failures and request counters for each emulated REST API.
//!
//! Both run as the outermost middleware of a service's routes, so a faulted request is counted
//! but never authenticated, validated or applied: exactly what a rate limit or an outage at the
//! provider's edge looks like to the bridge. The one exception is a fault marked
//! [`Fault::after_processing`]: the request is applied (state changed, webhooks fired) and only
//! its answer is lost, as when a provider times out after committing.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::{lock, Sandbox, Service};

const SERVICES: usize = 3;

/// A fault to inject: the next `count` requests to `service` (only those under `path_prefix`,
/// if set) answer `status`. Also the JSON body of `POST /sandbox/faults`.
///
/// ```ignore
/// let lost = Fault::new(Service::Twilio, 500).path_prefix("/v1/Interactions");
/// sandbox.inject(lost.after_processing());
/// ```
#[derive(Clone, Debug, Deserialize)]
pub struct Fault {
    pub service: Service,
    pub status: u16,
    /// How many matching requests fail (default 1).
    #[serde(default = "one")]
    pub count: u32,
    /// 429 only: `Retry-After` in seconds.
    #[serde(default)]
    pub retry_after: u64,
    /// Only requests whose path is this or below it (`/v1/Interactions`,
    /// `/v1/Workspaces`); others pass and leave the fault pending. `None`: every request.
    #[serde(default)]
    pub path_prefix: Option<String>,
    /// Apply the request first, then answer `status` instead of its success (a refused request
    /// keeps its own answer). E.g. a 500 after the Interactions API created the task.
    #[serde(default)]
    pub after_processing: bool,
    /// Hold each matching request this long first (a slow provider). With `status` 200 the
    /// request then goes through as usual: see [`Fault::slow`].
    #[serde(default)]
    pub delay_ms: u64,
    /// Let this many matching requests through first (fail the second part of a message).
    #[serde(default)]
    pub after: u32,
}

fn one() -> u32 {
    1
}

impl Fault {
    pub fn new(service: Service, status: u16) -> Self {
        Self {
            service,
            status,
            count: 1,
            retry_after: 0,
            path_prefix: None,
            after_processing: false,
            delay_ms: 0,
            after: 0,
        }
    }

    /// The fault starts after `passed` matching requests went through.
    pub fn after(mut self, passed: u32) -> Self {
        self.after = passed;
        self
    }

    /// Not a failure: the matching requests are answered as usual, `delay` late.
    pub fn slow(service: Service, delay: Duration) -> Self {
        Self {
            delay_ms: delay.as_millis().try_into().unwrap_or(u64::MAX),
            ..Self::new(service, 200)
        }
    }

    pub fn times(mut self, count: u32) -> Self {
        self.count = count;
        self
    }

    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = secs;
        self
    }

    pub fn path_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.path_prefix = Some(prefix.into());
        self
    }

    pub fn after_processing(mut self) -> Self {
        self.after_processing = true;
        self
    }
}

/// A fault waiting in a service's queue.
#[derive(Clone, Debug)]
struct Queued {
    status: u16,
    remaining: u32,
    retry_after: Duration,
    /// Discord only: the 429 is the app's global limit, not a route's.
    global: bool,
    path_prefix: Option<String>,
    after_processing: bool,
    delay: Duration,
    /// Matching requests still to let through before the fault starts.
    pass: u32,
}

impl Queued {
    /// `/v1/Interactions` covers `/v1/Interactions` and `/v1/Interactions/KD…`, not
    /// `/v1/InteractionsX`.
    fn applies_to(&self, path: &str) -> bool {
        match self.path_prefix.as_deref() {
            None => true,
            Some(prefix) => match path.strip_prefix(prefix) {
                Some(rest) => rest.is_empty() || rest.starts_with('/') || prefix.ends_with('/'),
                None => false,
            },
        }
    }
}

#[derive(Default)]
pub(crate) struct Faults {
    queues: [Mutex<VecDeque<Queued>>; SERVICES],
    counts: [AtomicU64; SERVICES],
}

fn index(service: Service) -> usize {
    match service {
        Service::Twilio => 0,
        Service::X => 1,
        Service::Discord => 2,
    }
}

impl Faults {
    /// Queues after any fault still pending, so two injections play one after the other.
    pub(crate) fn inject(&self, fault: Fault) {
        self.push(
            fault.service,
            Queued {
                status: fault.status,
                remaining: fault.count,
                retry_after: Duration::from_secs(fault.retry_after),
                global: false,
                path_prefix: fault.path_prefix,
                after_processing: fault.after_processing,
                delay: Duration::from_millis(fault.delay_ms),
                pass: fault.after,
            },
        );
    }

    pub(crate) fn inject_precise(
        &self,
        service: Service,
        status: u16,
        count: u32,
        retry_after: Duration,
        global: bool,
    ) {
        self.push(
            service,
            Queued {
                status,
                remaining: count,
                retry_after,
                global,
                path_prefix: None,
                after_processing: false,
                delay: Duration::ZERO,
                pass: 0,
            },
        );
    }

    fn push(&self, service: Service, queued: Queued) {
        if queued.remaining > 0 {
            lock(&self.queues[index(service)]).push_back(queued);
        }
    }

    /// The first pending fault that applies to `path`, used up by one.
    fn take(&self, service: Service, path: &str) -> Option<Queued> {
        let mut queue = lock(&self.queues[index(service)]);
        let at = queue.iter().position(|f| f.applies_to(path))?;
        let front = &mut queue[at];
        if front.pass > 0 {
            front.pass -= 1;
            return None;
        }
        let fault = front.clone();
        front.remaining -= 1;
        if front.remaining == 0 {
            queue.remove(at);
        }
        Some(fault)
    }

    pub(crate) fn count(&self, service: Service) -> u64 {
        self.counts[index(service)].load(Ordering::SeqCst)
    }

    pub(crate) fn reset_counts(&self) {
        for count in &self.counts {
            count.store(0, Ordering::SeqCst);
        }
    }
}

pub(crate) async fn twilio_gate(
    State(sandbox): State<Sandbox>,
    request: Request,
    next: Next,
) -> Response {
    gate(&sandbox, Service::Twilio, request, next).await
}

pub(crate) async fn x_gate(
    State(sandbox): State<Sandbox>,
    request: Request,
    next: Next,
) -> Response {
    gate(&sandbox, Service::X, request, next).await
}

pub(crate) async fn discord_gate(
    State(sandbox): State<Sandbox>,
    request: Request,
    next: Next,
) -> Response {
    gate(&sandbox, Service::Discord, request, next).await
}

async fn gate(sandbox: &Sandbox, service: Service, request: Request, next: Next) -> Response {
    let faults = &sandbox.inner.faults;
    faults.counts[index(service)].fetch_add(1, Ordering::SeqCst);
    let path = request.uri().path().to_owned();
    let Some(fault) = faults.take(service, &path) else {
        return next.run(request).await;
    };
    if !fault.delay.is_zero() {
        tracing::info!(?service, %path, delay_ms = fault.delay.as_millis(), "sandbox: slow answer");
        tokio::time::sleep(fault.delay).await;
    }
    if fault.status == 200 {
        return next.run(request).await;
    }
    if fault.after_processing {
        let response = next.run(request).await;
        if !response.status().is_success() {
            return response;
        }
    }
    tracing::info!(
        ?service,
        %path,
        status = fault.status,
        after_processing = fault.after_processing,
        "sandbox: injected fault"
    );
    fault_response(service, &fault)
}

/// The error each provider answers with, in its own body shape.
fn fault_response(service: Service, fault: &Queued) -> Response {
    let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let reason = status.canonical_reason().unwrap_or("Error");
    let rate_limited = status == StatusCode::TOO_MANY_REQUESTS;
    let body = match service {
        // Twilio's error codes for HTTP failures are 20000 + status (20429, 20500, 20503).
        Service::Twilio => json!({
            "code": 20000 + u32::from(status.as_u16()),
            "message": reason,
            "more_info": format!("https://www.twilio.com/docs/errors/{}", 20000 + u32::from(status.as_u16())),
            "status": status.as_u16(),
        }),
        Service::X => json!({
            "title": reason,
            "detail": reason,
            "type": "about:blank",
            "status": status.as_u16(),
        }),
        // `RatelimitedResponse` (Discord openapi.json): `retry_after` in float seconds, `global`.
        Service::Discord if rate_limited => json!({
            "message": "You are being rate limited.",
            "retry_after": fault.retry_after.as_secs_f64(),
            "global": fault.global,
        }),
        // Discord's plain HTTP errors: `{"message": "500: Internal Server Error", "code": 0}`.
        Service::Discord => json!({
            "message": format!("{}: {reason}", status.as_u16()),
            "code": 0,
        }),
    };
    let mut response = (status, Json(body)).into_response();
    if rate_limited {
        let headers = response.headers_mut();
        // Whole seconds, rounded up (Discord's `Retry-After` is too).
        let whole_secs =
            fault.retry_after.as_secs() + u64::from(fault.retry_after.subsec_nanos() > 0);
        headers.insert("retry-after", HeaderValue::from(whole_secs));
        match service {
            Service::X => {
                // X's rate-limit headers: the window resets at this Unix time.
                let reset = crate::time::now_secs() + whole_secs;
                headers.insert("x-rate-limit-reset", HeaderValue::from(reset));
                headers.insert("x-rate-limit-remaining", HeaderValue::from(0u32));
            }
            Service::Discord => {
                // `ClientRatelimitedResponse` headers (Discord openapi.json), plus the scope
                // headers the docs describe ("Rate Limits", rate-limits.mdx).
                let secs = fault.retry_after.as_secs_f64();
                let reset = crate::time::now_millis() as f64 / 1000.0 + secs;
                let float = |v: f64| HeaderValue::from_str(&format!("{v:.3}")).ok();
                headers.insert("x-ratelimit-limit", HeaderValue::from(5u32));
                headers.insert("x-ratelimit-remaining", HeaderValue::from(0u32));
                if let Some(v) = float(reset) {
                    headers.insert("x-ratelimit-reset", v);
                }
                if let Some(v) = float(secs) {
                    headers.insert("x-ratelimit-reset-after", v);
                }
                headers.insert(
                    "x-ratelimit-bucket",
                    HeaderValue::from_static("5a9e4f2c1b7d3e8a0c6f2b4d9e1a7c3f"),
                );
                if fault.global {
                    headers.insert("x-ratelimit-global", HeaderValue::from_static("true"));
                }
                headers.insert(
                    "x-ratelimit-scope",
                    HeaderValue::from_static(if fault.global { "global" } else { "user" }),
                );
            }
            Service::Twilio => {}
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_play_in_order_then_stop() {
        let faults = Faults::default();
        faults.inject(Fault::new(Service::X, 429).times(2).retry_after(1));
        faults.inject(Fault::new(Service::X, 503));
        let statuses: Vec<u16> = std::iter::from_fn(|| faults.take(Service::X, "/2/x"))
            .map(|f| f.status)
            .collect();
        assert_eq!(statuses, [429, 429, 503]);
        assert!(faults.take(Service::Twilio, "/v1/x").is_none());
        assert!(faults.take(Service::Discord, "/api/v10/x").is_none());
    }

    #[test]
    fn path_faults_wait_for_their_path() {
        let faults = Faults::default();
        faults.inject(Fault::new(Service::Twilio, 500).path_prefix("/v1/Interactions"));
        faults.inject(Fault::new(Service::Twilio, 429));
        // The service-wide fault behind it still plays for other paths.
        assert_eq!(
            faults
                .take(Service::Twilio, "/v1/Conversations")
                .map(|f| f.status),
            Some(429)
        );
        assert!(faults.take(Service::Twilio, "/v1/Conversations").is_none());
        assert!(faults.take(Service::Twilio, "/v1/InteractionsX").is_none());
        assert_eq!(
            faults
                .take(Service::Twilio, "/v1/Interactions")
                .map(|f| f.status),
            Some(500)
        );
        assert!(faults.take(Service::Twilio, "/v1/Interactions").is_none());
    }

    #[tokio::test]
    async fn discord_rate_limits_have_discords_shape() {
        let response = fault_response(
            Service::Discord,
            &Queued {
                status: 429,
                remaining: 1,
                retry_after: Duration::from_millis(1500),
                global: false,
                path_prefix: None,
                after_processing: false,
                delay: Duration::ZERO,
                pass: 0,
            },
        );
        assert_eq!(response.status(), 429);
        let headers = response.headers().clone();
        assert_eq!(headers["retry-after"], "2");
        assert_eq!(headers["x-ratelimit-reset-after"], "1.500");
        assert_eq!(headers["x-ratelimit-remaining"], "0");
        assert_eq!(headers["x-ratelimit-scope"], "user");
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body,
            json!({"message": "You are being rate limited.", "retry_after": 1.5, "global": false})
        );
    }
}
