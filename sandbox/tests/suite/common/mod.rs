//! A tiny webhook receiver standing in for the bridge: records every request and answers with
//! queued statuses (200 once the queue is empty). It answers X's CRC challenge like the bridge.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use sandbox::{Sandbox, SandboxConfig};

#[derive(Clone, Debug)]
pub struct Captured {
    pub method: Method,
    /// Path and query, as received.
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Captured {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn form(&self) -> Vec<(String, String)> {
        serde_urlencoded::from_bytes(&self.body).unwrap()
    }

    pub fn param(&self, name: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

#[derive(Clone, Default)]
struct Shared {
    requests: Arc<Mutex<Vec<Captured>>>,
    statuses: Arc<Mutex<VecDeque<u16>>>,
    crc_secret: Arc<Mutex<String>>,
}

pub struct Receiver {
    pub url: String,
    shared: Shared,
}

impl Receiver {
    pub async fn start() -> Self {
        let shared = Shared::default();
        *shared.crc_secret.lock().unwrap() = SandboxConfig::for_tests("").x_consumer_secret;
        let app = axum::Router::new()
            .fallback(record)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, shared }
    }

    pub fn requests(&self) -> Vec<Captured> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The next requests are answered with these statuses, in order.
    pub fn respond_with(&self, statuses: &[u16]) {
        self.shared.statuses.lock().unwrap().extend(statuses);
    }

    pub fn set_crc_secret(&self, secret: &str) {
        *self.shared.crc_secret.lock().unwrap() = secret.to_owned();
    }
}

async fn record(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let crc_token = uri.query().and_then(|q| url_param(q, "crc_token"));
    shared.requests.lock().unwrap().push(Captured {
        method,
        uri: uri.to_string(),
        headers,
        body,
    });
    if let Some(token) = crc_token {
        let secret = shared.crc_secret.lock().unwrap().clone();
        let response_token = flex_bridge::x::signature::crc_response_token(&secret, &token);
        return Json(serde_json::json!({ "response_token": response_token })).into_response();
    }
    let status = shared.statuses.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(status).unwrap().into_response()
}

fn url_param(query: &str, name: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// A sandbox whose X webhooks go to `receiver` (path `/twitter/webhook`), with fast retries.
pub async fn sandbox_for(receiver: &Receiver) -> Sandbox {
    let sandbox = Sandbox::start(SandboxConfig::for_tests(format!(
        "{}/twitter/webhook",
        receiver.url
    )))
    .await
    .unwrap();
    sandbox.set_x_retry_backoff(&[std::time::Duration::from_millis(10); 3]);
    sandbox
}

/// A client authenticated as the sandbox's Twilio account.
pub struct Twilio {
    pub base: String,
    pub http: reqwest::Client,
    sid: String,
    token: String,
}

impl Twilio {
    pub fn new(sandbox: &Sandbox) -> Self {
        Self {
            base: sandbox.url(),
            http: flex_bridge::http::http_client(),
            sid: sandbox.config().twilio_account_sid.clone(),
            token: sandbox.config().twilio_auth_token.clone(),
        }
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.base))
            .basic_auth(&self.sid, Some(&self.token))
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.base))
            .basic_auth(&self.sid, Some(&self.token))
    }

    /// POSTs a form; returns status and JSON body.
    pub async fn form(&self, path: &str, form: &[(&str, &str)]) -> (u16, serde_json::Value) {
        send(self.post(path).form(form)).await
    }
}

pub async fn send(request: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    (status, body)
}
