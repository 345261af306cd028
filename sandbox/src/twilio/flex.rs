//! The Flex Interactions API subset (`flex-api.twilio.com/v1/Interactions`): an inbound chat
//! interaction bound to an existing conversation, which creates one TaskRouter task.
//!
//! Fields and the response shape follow `twilio_flex_v1.json` (`CreateInteraction`,
//! `flex.v1.interaction`, whose example shows the task inside `routing.properties`). The spec
//! types `Channel` and `Routing` only as JSON; what is checked inside them follows the
//! Interactions docs (inbound, API-initiated contact). Two choices the spec leaves open:
//! - `Routing` is required: the spec marks only `Channel`, but the docs say both must be
//!   supplied and without it no task is created (the whole point for the bridge).
//! - The answer is `200`, as the spec and the docs say ("a 200 response only indicates that the
//!   server has accepted the request"), not the 201 of other Twilio creates.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::now;
use super::spec::{self, Form, Result, TwilioError};
use super::tasks::{Task, TASK_CHANNELS, TASK_QUEUE_NAME, TASK_QUEUE_SID, WORKFLOW_NAME};
use crate::{time, Sandbox};

/// `CreateInteractionRequest` properties.
pub const INTERACTION_FIELDS: &[&str] =
    &["Channel", "Routing", "InteractionContextSid", "WebhookTtid"];
/// `interaction_channel_enum_type`.
pub const CHANNEL_TYPES: &[&str] = &[
    "voice",
    "sms",
    "email",
    "web",
    "whatsapp",
    "chat",
    "messenger",
    "gbm",
];
/// `initiated_by` values of the docs; only the inbound ones bind an existing conversation.
const INITIATED_BY: &[&str] = &["customer", "api", "agent"];
/// TaskRouter's longest task timeout (30 days).
const MAX_TIMEOUT: i64 = 2_592_000;

type Reply = std::result::Result<Response, TwilioError>;

fn invalid(field: &str, why: impl std::fmt::Display) -> TwilioError {
    TwilioError::invalid(format!("Invalid {field}: {why}"))
}

/// A form field holding a JSON object.
fn json_object(form: &Form, field: &str) -> Result<Map<String, Value>> {
    let raw = form.required(field)?;
    match serde_json::from_str(&raw) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(invalid(field, "must be a JSON object")),
    }
}

/// An optional string member; present but not a string is refused.
fn string<'a>(object: &'a Map<String, Value>, key: &str, field: &str) -> Result<Option<&'a str>> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(field, format!("{key} must be a string"))),
    }
}

fn sid_member(
    object: &Map<String, Value>,
    key: &str,
    prefix: &str,
    field: &str,
) -> Result<Option<String>> {
    match string(object, key, field)? {
        Some(v) if !spec::is_sid(v, prefix) => {
            Err(invalid(field, format!("{key} {v:?} is not a {prefix} SID")))
        }
        v => Ok(v.map(str::to_owned)),
    }
}

fn integer(object: &Map<String, Value>, key: &str, min: i64, max: i64) -> Result<Option<i64>> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(invalid(
                "Routing",
                format!("properties.{key} must be an integer from {min} to {max}"),
            )),
        },
    }
}

/// What `Channel` says: the channel type and the conversation to bind.
struct ChannelSpec {
    kind: String,
    initiated_by: String,
    media_channel_sid: String,
}

fn channel_spec(channel: &Map<String, Value>) -> Result<ChannelSpec> {
    let kind = string(channel, "type", "Channel")?
        .ok_or_else(|| invalid("Channel", "type is required"))?;
    if !CHANNEL_TYPES.contains(&kind) {
        return Err(invalid(
            "Channel",
            format!("type {kind:?} is not one of {}", CHANNEL_TYPES.join(", ")),
        ));
    }
    let initiated_by = string(channel, "initiated_by", "Channel")?
        .ok_or_else(|| invalid("Channel", "initiated_by is required"))?;
    if !INITIATED_BY.contains(&initiated_by) {
        return Err(invalid(
            "Channel",
            format!(
                "initiated_by {initiated_by:?} is not one of {}",
                INITIATED_BY.join(", ")
            ),
        ));
    }
    if initiated_by == "agent" {
        // Outbound interactions create their own conversation; the bridge never makes one.
        return Err(invalid(
            "Channel",
            "the sandbox emulates only inbound interactions (initiated_by customer or api)",
        ));
    }
    let properties = match channel.get("properties") {
        Some(Value::Object(p)) => p,
        _ => {
            return Err(invalid(
                "Channel",
                "properties must be an object with media_channel_sid",
            ))
        }
    };
    let media_channel_sid = sid_member(properties, "media_channel_sid", "CH", "Channel")?
        .ok_or_else(|| invalid("Channel", "properties.media_channel_sid is required"))?;
    Ok(ChannelSpec {
        kind: kind.to_owned(),
        initiated_by: initiated_by.to_owned(),
        media_channel_sid,
    })
}

/// What `Routing.properties` says about the task to create.
struct RoutingSpec {
    workspace_sid: String,
    workflow_sid: String,
    queue_sid: Option<String>,
    worker_sid: Option<String>,
    task_channel: (&'static str, &'static str),
    attributes: Map<String, Value>,
    priority: i64,
    timeout: i64,
}

fn routing_spec(routing: &Map<String, Value>) -> Result<RoutingSpec> {
    let field = "Routing";
    let p = match routing.get("properties") {
        Some(Value::Object(p)) => p,
        _ => return Err(invalid(field, "properties must be an object")),
    };
    let required = |key: &str, prefix: &str| {
        sid_member(p, key, prefix, field)?
            .ok_or_else(|| invalid(field, format!("properties.{key} is required")))
    };
    let name = string(p, "task_channel_unique_name", field)?
        .ok_or_else(|| invalid(field, "properties.task_channel_unique_name is required"))?;
    let task_channel = *TASK_CHANNELS
        .iter()
        .find(|(unique_name, _)| *unique_name == name)
        .ok_or_else(|| invalid(field, format!("no TaskChannel {name:?} in the workspace")))?;
    if let Some(sid) = sid_member(p, "task_channel_sid", "TC", field)? {
        if sid != task_channel.1 {
            return Err(invalid(
                field,
                format!("task_channel_sid {sid} is not the {name} TaskChannel"),
            ));
        }
    }
    let attributes = match p.get("attributes") {
        None => Map::new(),
        Some(Value::Object(a)) => a.clone(),
        Some(_) => {
            return Err(invalid(
                field,
                "properties.attributes must be a JSON object",
            ))
        }
    };
    Ok(RoutingSpec {
        workspace_sid: required("workspace_sid", "WS")?,
        workflow_sid: required("workflow_sid", "WW")?,
        queue_sid: sid_member(p, "queue_sid", "WQ", field)?,
        worker_sid: sid_member(p, "worker_sid", "WK", field)?,
        task_channel,
        attributes,
        priority: integer(p, "priority", 0, i64::from(i32::MAX))?.unwrap_or(0),
        timeout: integer(p, "timeout", 1, MAX_TIMEOUT)?.unwrap_or(86_400),
    })
}

/// The task attributes: the bridge's "as is", plus what Flex adds to an interaction's task.
fn task_attributes(
    mut attributes: Map<String, Value>,
    channel: &ChannelSpec,
    ids: (&str, &str),
) -> String {
    let (interaction_sid, channel_sid) = ids;
    let mut default = |key: &str, value: &str| {
        attributes.entry(key).or_insert_with(|| value.into());
    };
    default("conversationSid", &channel.media_channel_sid);
    default("initiatedBy", &channel.initiated_by);
    default("direction", "inbound");
    attributes.insert("flexInteractionSid".into(), interaction_sid.into());
    attributes.insert("flexInteractionChannelSid".into(), channel_sid.into());
    attributes.insert("flexChannelInviteSid".into(), time::sid("KG").into());
    Value::Object(attributes).to_string()
}

/// `POST /v1/Interactions`
pub(super) async fn create_interaction(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let form = Form::body(&headers, &body, INTERACTION_FIELDS)?;
    let channel = channel_spec(&json_object(&form, "Channel")?)?;
    let routing = routing_spec(&json_object(&form, "Routing")?)?;
    let interaction_context_sid = form.sid("InteractionContextSid", "HQ")?;
    let mut store = sandbox.twilio_store();
    let conversation = store.find(&channel.media_channel_sid).map_err(|_| {
        invalid(
            "Channel",
            format!(
                "media_channel_sid {} is not a conversation of this account",
                channel.media_channel_sid
            ),
        )
    })?;
    if conversation.state == "closed" {
        return Err(TwilioError::closed());
    }
    let (interaction_sid, channel_sid) = (time::sid("KD"), time::sid("UO"));
    let date_created = now();
    let task = Task {
        sid: time::sid("WT"),
        attributes: task_attributes(
            routing.attributes,
            &channel,
            (&interaction_sid, &channel_sid),
        ),
        interaction_sid,
        channel_sid,
        channel_type: channel.kind,
        interaction_context_sid,
        webhook_ttid: form.string("WebhookTtid"),
        conversation_sid: channel.media_channel_sid,
        workspace_sid: routing.workspace_sid,
        workflow_sid: routing.workflow_sid,
        queue_sid: routing.queue_sid.unwrap_or_else(|| TASK_QUEUE_SID.into()),
        task_channel: routing.task_channel,
        routing_target: routing.worker_sid,
        assignment_status: "pending",
        priority: routing.priority,
        timeout: routing.timeout,
        reason: None,
        created_secs: time::now_secs(),
        date_updated: date_created.clone(),
        date_created,
        agent: None,
    };
    tracing::info!(
        task = %task.sid,
        conversation = %task.conversation_sid,
        "sandbox: interaction created a task"
    );
    let value = interaction(&sandbox, &task);
    store.tasks.push(task);
    Ok(Json(value).into_response())
}

/// `GET /v1/Interactions/{Sid}`
pub(super) async fn fetch_interaction(
    State(sandbox): State<Sandbox>,
    Path(sid): Path<String>,
) -> Reply {
    let store = sandbox.twilio_store();
    let task = store
        .tasks
        .iter()
        .find(|t| t.interaction_sid == sid)
        .ok_or_else(|| TwilioError::not_found(&format!("/Interactions/{sid}")))?;
    Ok(Json(interaction(&sandbox, task)).into_response())
}

/// `flex.v1.interaction`, with `routing.properties` shaped like the spec's example: the task,
/// dates as Unix seconds, attributes as a JSON string.
fn interaction(sandbox: &Sandbox, task: &Task) -> Value {
    let url = format!("{}/v1/Interactions/{}", sandbox.url(), task.interaction_sid);
    let age = time::now_secs().saturating_sub(task.created_secs);
    json!({
        "sid": task.interaction_sid,
        "channel": {"type": task.channel_type, "sid": task.channel_sid},
        "routing": {
            "reservation": null,
            "properties": {
                "date_updated": task.created_secs,
                "task_queue_entered_date": task.created_secs,
                "workflow_name": WORKFLOW_NAME,
                "age_in_queue": age,
                "task_channel_unique_name": task.task_channel.0,
                "assignment_status": task.assignment_status,
                "queue_name": TASK_QUEUE_NAME,
                "assignmentCounter": 0,
                "priority": task.priority,
                "sid": task.sid,
                "workflow_sid": task.workflow_sid,
                "routing_target": task.routing_target,
                "reason": task.reason.clone().unwrap_or_default(),
                "attributes": task.attributes,
                "task_channel_sid": task.task_channel.1,
                "age": age,
                "workspace_sid": task.workspace_sid,
                "account_sid": sandbox.config().twilio_account_sid,
                "timeout": task.timeout,
                "date_created": task.created_secs,
                "addons": "{}",
                "queue_sid": task.queue_sid,
            },
        },
        "interaction_context_sid": task.interaction_context_sid,
        "webhook_ttid": task.webhook_ttid,
        "url": url,
        "links": {"channels": format!("{url}/Channels")},
    })
}
