//! Injected failures and request counters for each emulated REST API.
//!
//! Both run as the outermost middleware of a service's routes, so a faulted request is counted
//! but never authenticated, validated or applied: exactly what a rate limit or an outage at the
//! provider's edge looks like to the bridge.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::{lock, Sandbox, Service};

const SERVICES: usize = 3;

#[derive(Clone, Copy, Debug)]
struct Fault {
    status: u16,
    remaining: u32,
    retry_after: Duration,
    /// Discord only: the 429 is the app's global limit, not a route's.
    global: bool,
}

#[derive(Default)]
pub(crate) struct Faults {
    queues: [Mutex<VecDeque<Fault>>; SERVICES],
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
    pub(crate) fn inject(&self, service: Service, status: u16, count: u32, retry_after: u64) {
        self.inject_precise(
            service,
            status,
            count,
            Duration::from_secs(retry_after),
            false,
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
        if count > 0 {
            lock(&self.queues[index(service)]).push_back(Fault {
                status,
                remaining: count,
                retry_after,
                global,
            });
        }
    }

    fn take(&self, service: Service) -> Option<Fault> {
        let mut queue = lock(&self.queues[index(service)]);
        let front = queue.front_mut()?;
        let fault = *front;
        front.remaining -= 1;
        if front.remaining == 0 {
            queue.pop_front();
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
    match faults.take(service) {
        Some(fault) => {
            tracing::info!(?service, status = fault.status, "sandbox: injected fault");
            fault_response(service, fault)
        }
        None => next.run(request).await,
    }
}

/// The error each provider answers with, in its own body shape.
fn fault_response(service: Service, fault: Fault) -> Response {
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
        faults.inject(Service::X, 429, 2, 1);
        faults.inject(Service::X, 503, 1, 0);
        let statuses: Vec<u16> = std::iter::from_fn(|| faults.take(Service::X))
            .map(|f| f.status)
            .collect();
        assert_eq!(statuses, [429, 429, 503]);
        assert!(faults.take(Service::Twilio).is_none());
        assert!(faults.take(Service::Discord).is_none());
    }

    #[tokio::test]
    async fn discord_rate_limits_have_discords_shape() {
        let response = fault_response(
            Service::Discord,
            Fault {
                status: 429,
                remaining: 1,
                retry_after: Duration::from_millis(1500),
                global: false,
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
