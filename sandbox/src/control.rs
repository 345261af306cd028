//! JSON control routes under `/sandbox/...`: the test-facing [`Sandbox`] methods over HTTP, for
//! a web console or a person with curl. No auth: the sandbox only listens on loopback.
//!
//! | route | does |
//! |---|---|
//! | `GET /sandbox/conversations` | every conversation ([`ConversationView`]s) |
//! | `GET /sandbox/conversations/{sid}` | one conversation |
//! | `POST /sandbox/conversations/{sid}/agent-messages` `{author, body}` | agent reply → `{sid}` |
//! | `POST /sandbox/conversations/{sid}/agent-join` `{identity, friendly_name}` | agent joins |
//! | `POST /sandbox/conversations/{sid}/close` | agent ends the chat |
//! | `GET /sandbox/webhook-deliveries` | Twilio webhooks fired and their answers |
//! | `POST /sandbox/x/dm` `{sender_id, screen_name, text}` | customer DM → [`crate::XDelivery`] |
//! | `GET /sandbox/x/dms/{participant_id}` | texts the brand sent that user |
//! | `GET /sandbox/x/sent` | every DM the brand sent |
//! | `POST /sandbox/faults` `{service, status, count, retry_after}` | inject faults |
//! | `GET /sandbox/counts`, `POST /sandbox/counts/reset` | REST request counters |

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::{Sandbox, SandboxError, Service};

pub(crate) fn routes(sandbox: Sandbox) -> Router {
    Router::new()
        .route("/sandbox/conversations", get(conversations))
        .route("/sandbox/conversations/{sid}", get(conversation))
        .route(
            "/sandbox/conversations/{sid}/agent-messages",
            post(agent_message),
        )
        .route("/sandbox/conversations/{sid}/agent-join", post(agent_join))
        .route("/sandbox/conversations/{sid}/close", post(close))
        .route("/sandbox/webhook-deliveries", get(webhook_deliveries))
        .route("/sandbox/x/dm", post(customer_dm))
        .route("/sandbox/x/dms/{participant_id}", get(dms_to))
        .route("/sandbox/x/sent", get(sent_dms))
        .route("/sandbox/faults", post(inject_fault))
        .route("/sandbox/counts", get(counts))
        .route("/sandbox/counts/reset", post(reset_counts))
        .with_state(sandbox)
}

impl IntoResponse for SandboxError {
    fn into_response(self) -> Response {
        let status = match &self {
            SandboxError::ConversationNotFound(_) => StatusCode::NOT_FOUND,
            SandboxError::ConversationClosed(_) | SandboxError::ParticipantExists { .. } => {
                StatusCode::CONFLICT
            }
            SandboxError::Http { .. } | SandboxError::Crc(_) => StatusCode::BAD_GATEWAY,
        };
        (status, Json(json!({"error": self.to_string()}))).into_response()
    }
}

async fn conversations(State(sandbox): State<Sandbox>) -> Response {
    Json(sandbox.conversations()).into_response()
}

async fn conversation(State(sandbox): State<Sandbox>, Path(sid): Path<String>) -> Response {
    match sandbox.conversation(&sid) {
        Some(view) => Json(view).into_response(),
        None => SandboxError::ConversationNotFound(sid).into_response(),
    }
}

#[derive(Deserialize)]
struct AgentMessage {
    author: String,
    body: String,
}

async fn agent_message(
    State(sandbox): State<Sandbox>,
    Path(sid): Path<String>,
    Json(request): Json<AgentMessage>,
) -> Result<Response, SandboxError> {
    let message_sid = sandbox
        .agent_message(&sid, &request.author, &request.body)
        .await?;
    Ok((StatusCode::CREATED, Json(json!({"sid": message_sid}))).into_response())
}

#[derive(Deserialize)]
struct AgentJoin {
    identity: String,
    friendly_name: String,
}

async fn agent_join(
    State(sandbox): State<Sandbox>,
    Path(sid): Path<String>,
    Json(request): Json<AgentJoin>,
) -> Result<Response, SandboxError> {
    sandbox
        .agent_joins(&sid, &request.identity, &request.friendly_name)
        .await?;
    Ok(Json(json!({"ok": true})).into_response())
}

async fn close(
    State(sandbox): State<Sandbox>,
    Path(sid): Path<String>,
) -> Result<Response, SandboxError> {
    sandbox.close(&sid).await?;
    Ok(Json(json!({"ok": true})).into_response())
}

async fn webhook_deliveries(State(sandbox): State<Sandbox>) -> Response {
    Json(sandbox.webhook_deliveries()).into_response()
}

#[derive(Deserialize)]
struct CustomerDm {
    sender_id: String,
    screen_name: String,
    text: String,
}

async fn customer_dm(State(sandbox): State<Sandbox>, Json(request): Json<CustomerDm>) -> Response {
    let delivery = sandbox
        .customer_dm(&request.sender_id, &request.screen_name, &request.text)
        .await;
    Json(delivery).into_response()
}

async fn dms_to(State(sandbox): State<Sandbox>, Path(participant_id): Path<String>) -> Response {
    Json(sandbox.dms_to(&participant_id)).into_response()
}

async fn sent_dms(State(sandbox): State<Sandbox>) -> Response {
    Json(sandbox.sent_dms()).into_response()
}

#[derive(Deserialize)]
struct Fault {
    service: Service,
    status: u16,
    #[serde(default = "one")]
    count: u32,
    #[serde(default)]
    retry_after: u64,
}

fn one() -> u32 {
    1
}

async fn inject_fault(State(sandbox): State<Sandbox>, Json(fault): Json<Fault>) -> Response {
    if StatusCode::from_u16(fault.status).is_err() {
        let error = json!({"error": format!("{} is not an HTTP status", fault.status)});
        return (StatusCode::BAD_REQUEST, Json(error)).into_response();
    }
    sandbox.inject_fault(fault.service, fault.status, fault.count, fault.retry_after);
    Json(json!({"ok": true})).into_response()
}

async fn counts(State(sandbox): State<Sandbox>) -> Response {
    Json(json!({
        "twilio": sandbox.request_count(Service::Twilio),
        "x": sandbox.request_count(Service::X),
    }))
    .into_response()
}

async fn reset_counts(State(sandbox): State<Sandbox>) -> Response {
    sandbox.reset_counts();
    Json(json!({"ok": true})).into_response()
}
