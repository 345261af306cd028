//! Injected failures and request counters for each emulated REST API.
//!
//! Both run as the outermost middleware of a service's routes, so a faulted request is counted
//! but never authenticated, validated or applied: exactly what a rate limit or an outage at the
//! provider's edge looks like to the bridge.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::{lock, Sandbox, Service};

#[derive(Clone, Copy, Debug)]
struct Fault {
    status: u16,
    remaining: u32,
    retry_after: u64,
}

#[derive(Default)]
pub(crate) struct Faults {
    twilio: Mutex<VecDeque<Fault>>,
    x: Mutex<VecDeque<Fault>>,
    twilio_count: AtomicU64,
    x_count: AtomicU64,
}

impl Faults {
    fn queue(&self, service: Service) -> &Mutex<VecDeque<Fault>> {
        match service {
            Service::Twilio => &self.twilio,
            Service::X => &self.x,
        }
    }

    fn counter(&self, service: Service) -> &AtomicU64 {
        match service {
            Service::Twilio => &self.twilio_count,
            Service::X => &self.x_count,
        }
    }

    /// Queues after any fault still pending, so two injections play one after the other.
    pub(crate) fn inject(&self, service: Service, status: u16, count: u32, retry_after: u64) {
        if count > 0 {
            lock(self.queue(service)).push_back(Fault {
                status,
                remaining: count,
                retry_after,
            });
        }
    }

    fn take(&self, service: Service) -> Option<Fault> {
        let mut queue = lock(self.queue(service));
        let front = queue.front_mut()?;
        let fault = *front;
        front.remaining -= 1;
        if front.remaining == 0 {
            queue.pop_front();
        }
        Some(fault)
    }

    pub(crate) fn count(&self, service: Service) -> u64 {
        self.counter(service).load(Ordering::SeqCst)
    }

    pub(crate) fn reset_counts(&self) {
        self.twilio_count.store(0, Ordering::SeqCst);
        self.x_count.store(0, Ordering::SeqCst);
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

async fn gate(sandbox: &Sandbox, service: Service, request: Request, next: Next) -> Response {
    let faults = &sandbox.inner.faults;
    faults.counter(service).fetch_add(1, Ordering::SeqCst);
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
    };
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::TOO_MANY_REQUESTS {
        let headers = response.headers_mut();
        headers.insert("retry-after", HeaderValue::from(fault.retry_after));
        if service == Service::X {
            // X's rate-limit headers: the window resets at this Unix time.
            let reset = crate::time::now_secs() + fault.retry_after;
            headers.insert("x-rate-limit-reset", HeaderValue::from(reset));
            headers.insert("x-rate-limit-remaining", HeaderValue::from(0u32));
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
    }
}
