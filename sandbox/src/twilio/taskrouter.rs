//! The TaskRouter v1 subset (`taskrouter.twilio.com/v1/Workspaces/{WorkspaceSid}/Tasks`): list
//! tasks with filters and fetch one, as `twilio_taskrouter_v1.json` (`ListTask`, `FetchTask`,
//! `taskrouter.v1.workspace.task`) describes them.
//!
//! The spec's note on `attributes` is followed: a list shows `null` there, only a fetch of one
//! task shows them. So a bridge that finds its task with `EvaluateTaskAttributes` must not read
//! the attributes off the list.

use std::cmp::Ordering;

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::expression::{self, Expr};
use super::spec::{self, Form, Result, TwilioError};
use super::tasks::{Task, TASK_QUEUE_NAME, TASK_STATUSES, WORKFLOW_NAME};
use crate::{time, Sandbox};

/// `ListTask` query parameters.
pub const LIST_TASKS_QUERY: &[&str] = &[
    "Priority",
    "AssignmentStatus",
    "WorkflowSid",
    "WorkflowName",
    "TaskQueueSid",
    "TaskQueueName",
    "EvaluateTaskAttributes",
    "RoutingTarget",
    "Ordering",
    "HasAddons",
    "PageSize",
    "Page",
    "PageToken",
];

type Reply = std::result::Result<Response, TwilioError>;

/// The `ListTask` filters given.
struct Filter {
    statuses: Vec<String>,
    priority: Option<i64>,
    workflow_sid: Option<String>,
    workflow_name: Option<String>,
    queue_sid: Option<String>,
    queue_name: Option<String>,
    routing_target: Option<String>,
    has_addons: Option<bool>,
    expression: Option<Expr>,
}

impl Filter {
    fn from_query(query: &Form) -> Result<Self> {
        // `AssignmentStatus` is an array: repeated, or comma-separated as the spec's example.
        let statuses: Vec<String> = query
            .all("AssignmentStatus")
            .iter()
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_owned())
            .collect();
        if let Some(bad) = statuses
            .iter()
            .find(|s| !TASK_STATUSES.contains(&s.as_str()))
        {
            return Err(TwilioError::invalid(format!(
                "Invalid AssignmentStatus: {bad:?} is not one of {}",
                TASK_STATUSES.join(", ")
            )));
        }
        let has_addons = match query.get("HasAddons") {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(other) => {
                return Err(TwilioError::invalid(format!(
                    "Invalid HasAddons: {other:?} is not a boolean"
                )))
            }
        };
        let expression = query
            .get("EvaluateTaskAttributes")
            .map(|source| {
                expression::parse(source).map_err(|why| {
                    TwilioError::invalid(format!(
                        "Invalid EvaluateTaskAttributes: {source:?}: {why}"
                    ))
                })
            })
            .transpose()?;
        Ok(Self {
            statuses,
            priority: query.integer("Priority", i64::MIN, i64::MAX)?,
            workflow_sid: query.sid("WorkflowSid", "WW")?,
            workflow_name: query.string("WorkflowName"),
            queue_sid: query.sid("TaskQueueSid", "WQ")?,
            queue_name: query.string("TaskQueueName"),
            routing_target: query.string("RoutingTarget"),
            has_addons,
            expression,
        })
    }

    fn matches(&self, task: &Task) -> bool {
        let same =
            |wanted: &Option<String>, actual: &str| wanted.as_deref().is_none_or(|w| w == actual);
        let attributes = || serde_json::from_str(&task.attributes).unwrap_or(Value::Null);
        (self.statuses.is_empty() || self.statuses.iter().any(|s| s == task.assignment_status))
            && self.priority.is_none_or(|p| p == task.priority)
            && same(&self.workflow_sid, &task.workflow_sid)
            && same(&self.workflow_name, WORKFLOW_NAME)
            && same(&self.queue_sid, &task.queue_sid)
            && same(&self.queue_name, TASK_QUEUE_NAME)
            && same(&self.routing_target, task.routing_target.as_deref().unwrap_or(""))
            // Sandbox tasks carry no Add-on data.
            && self.has_addons != Some(true)
            && self.expression.as_ref().is_none_or(|e| e.matches(&attributes()))
    }
}

/// `Ordering`: `Attribute:order` pairs, comma-separated, as the spec describes them.
fn ordering(query: &Form) -> Result<Vec<(String, bool)>> {
    let Some(raw) = query.get("Ordering") else {
        return Ok(Vec::new());
    };
    let bad = || TwilioError::invalid(format!("Invalid Ordering: {raw:?}"));
    let keys = raw
        .split(',')
        .map(|pair| {
            let (attribute, order) = pair.trim().split_once(':').ok_or_else(bad)?;
            let attribute = ["DateCreated", "Priority", "VirtualStartTime"]
                .into_iter()
                .find(|a| *a == attribute)
                .ok_or_else(bad)?;
            let descending = match order {
                "asc" => false,
                "desc" => true,
                _ => return Err(bad()),
            };
            Ok((attribute.to_owned(), descending))
        })
        .collect::<Result<Vec<_>>>()?;
    let named = |a: &str| keys.iter().any(|(k, _)| k == a);
    if named("DateCreated") && named("VirtualStartTime") {
        return Err(bad());
    }
    Ok(keys)
}

fn compare(a: &Task, b: &Task, keys: &[(String, bool)]) -> Ordering {
    keys.iter()
        .map(|(key, descending)| {
            let order = match key.as_str() {
                "Priority" => a.priority.cmp(&b.priority),
                _ => a.created_secs.cmp(&b.created_secs),
            };
            if *descending {
                order.reverse()
            } else {
                order
            }
        })
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

fn workspace_url(sandbox: &Sandbox, workspace_sid: &str) -> String {
    format!("{}/v1/Workspaces/{workspace_sid}", sandbox.url())
}

/// `GET /v1/Workspaces/{WorkspaceSid}/Tasks`: oldest first unless `Ordering` says otherwise.
pub(super) async fn list_tasks(
    State(sandbox): State<Sandbox>,
    Path(workspace_sid): Path<String>,
    RawQuery(query): RawQuery,
) -> Reply {
    if !spec::is_sid(&workspace_sid, "WS") {
        return Err(TwilioError::not_found(&format!(
            "/Workspaces/{workspace_sid}/Tasks"
        )));
    }
    let query = Form::parse(query.unwrap_or_default().as_bytes(), LIST_TASKS_QUERY)?;
    let filter = Filter::from_query(&query)?;
    let keys = ordering(&query)?;
    let mut tasks: Vec<Task> = {
        let store = sandbox.twilio_store();
        store
            .tasks
            .iter()
            .filter(|t| t.workspace_sid == workspace_sid && filter.matches(t))
            .cloned()
            .collect()
    };
    tasks.sort_by(|a, b| compare(a, b, &keys));
    let items = tasks.iter().map(|t| task(&sandbox, t, false)).collect();
    // Page URLs keep the filters, so following `next_page_url` lists the same tasks.
    let mut url = format!("{}/Tasks", workspace_url(&sandbox, &workspace_sid));
    let filters = query.encoded_without(&["PageSize", "Page", "PageToken"]);
    if !filters.is_empty() {
        url = format!("{url}?{filters}");
    }
    Ok(Json(spec::page("tasks", items, &query, 1000, &url)?).into_response())
}

/// `GET /v1/Workspaces/{WorkspaceSid}/Tasks/{Sid}`
pub(super) async fn fetch_task(
    State(sandbox): State<Sandbox>,
    Path((workspace_sid, sid)): Path<(String, String)>,
) -> Reply {
    let store = sandbox.twilio_store();
    let found = store
        .tasks
        .iter()
        .find(|t| t.sid == sid && t.workspace_sid == workspace_sid)
        .ok_or_else(|| {
            TwilioError::not_found(&format!("/Workspaces/{workspace_sid}/Tasks/{sid}"))
        })?;
    Ok(Json(task(&sandbox, found, true)).into_response())
}

/// `taskrouter.v1.workspace.task`; `attributes` only when fetched alone (see the module doc).
fn task(sandbox: &Sandbox, t: &Task, with_attributes: bool) -> Value {
    let workspace = workspace_url(sandbox, &t.workspace_sid);
    let url = format!("{workspace}/Tasks/{}", t.sid);
    json!({
        "account_sid": sandbox.config().twilio_account_sid,
        "age": time::now_secs().saturating_sub(t.created_secs),
        "assignment_status": t.assignment_status,
        "attributes": if with_attributes { json!(t.attributes) } else { Value::Null },
        "addons": "{}",
        "date_created": t.date_created,
        "date_updated": t.date_updated,
        "task_queue_entered_date": t.date_created,
        "virtual_start_time": t.date_created,
        "priority": t.priority,
        "reason": t.reason,
        "sid": t.sid,
        "task_queue_sid": t.queue_sid,
        "task_queue_friendly_name": TASK_QUEUE_NAME,
        "task_channel_sid": t.task_channel.1,
        "task_channel_unique_name": t.task_channel.0,
        "timeout": t.timeout,
        "workflow_sid": t.workflow_sid,
        "workflow_friendly_name": WORKFLOW_NAME,
        "workspace_sid": t.workspace_sid,
        "ignore_capacity": false,
        "routing_target": t.routing_target,
        "url": url,
        "links": {
            "task_queue": format!("{workspace}/TaskQueues/{}", t.queue_sid),
            "workflow": format!("{workspace}/Workflows/{}", t.workflow_sid),
            "workspace": workspace,
            "reservations": format!("{url}/Reservations"),
        },
    })
}
