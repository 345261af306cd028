//! TaskRouter tasks, created by the Interactions API (`twilio::flex`) and read back with
//! TaskRouter REST (`twilio::taskrouter`), and the agent's side of one: accept, reply,
//! complete. Those reuse the conversation's agent join, agent message and close, so they fire
//! the same signed webhooks.

use serde::Serialize;
use serde_json::Value;

use super::Store;
use crate::{time, Sandbox, SandboxError};

/// The TaskQueue and Workflow names every sandbox task reports (a new Flex account's defaults).
pub const TASK_QUEUE_SID: &str = "WQ00000000000000000000000000000000";
pub const TASK_QUEUE_NAME: &str = "Everyone";
pub const WORKFLOW_NAME: &str = "Assign to Anyone";

/// The task channels a Flex workspace starts with: unique name and SID.
pub const TASK_CHANNELS: &[(&str, &str)] = &[
    ("default", "TC00000000000000000000000000000000"),
    ("voice", "TC00000000000000000000000000000001"),
    ("chat", "TC00000000000000000000000000000002"),
    ("sms", "TC00000000000000000000000000000003"),
    ("video", "TC00000000000000000000000000000004"),
    ("email", "TC00000000000000000000000000000005"),
];

/// `task_enum_status` (twilio_taskrouter_v1.json).
pub const TASK_STATUSES: &[&str] = &[
    "pending",
    "reserved",
    "assigned",
    "canceled",
    "completed",
    "wrapping",
];

#[derive(Debug, Clone)]
pub(super) struct Task {
    pub sid: String,
    pub interaction_sid: String,
    /// The interaction channel (`UO…`) and its type (`chat`).
    pub channel_sid: String,
    pub channel_type: String,
    pub interaction_context_sid: Option<String>,
    pub webhook_ttid: Option<String>,
    pub conversation_sid: String,
    pub workspace_sid: String,
    pub workflow_sid: String,
    pub queue_sid: String,
    pub task_channel: (&'static str, &'static str),
    pub routing_target: Option<String>,
    /// A JSON object, as a string (TaskRouter's form).
    pub attributes: String,
    pub assignment_status: &'static str,
    pub priority: i64,
    pub timeout: i64,
    pub reason: Option<String>,
    pub created_secs: u64,
    pub date_created: String,
    pub date_updated: String,
    pub agent: Option<TaskAgent>,
}

/// The agent who accepted a task.
#[derive(Debug, Clone, Serialize)]
pub struct TaskAgent {
    /// The agent's participant identity in the conversation.
    pub identity: String,
    pub friendly_name: String,
}

/// A task as the test (or the web console) sees it.
#[derive(Debug, Clone, Serialize)]
pub struct TaskView {
    pub sid: String,
    /// `pending` until accepted, then `assigned`, then `completed`.
    pub assignment_status: String,
    /// The task attributes, parsed (the bridge's plus the ones Flex adds).
    pub attributes: Value,
    pub conversation_sid: String,
    /// The conversation's state now (`active`, `closed`, ...).
    pub conversation_state: Option<String>,
    pub interaction_sid: String,
    pub interaction_channel_sid: String,
    pub workspace_sid: String,
    pub workflow_sid: String,
    pub task_channel_unique_name: String,
    pub date_created: String,
    pub date_updated: String,
    pub agent: Option<TaskAgent>,
}

impl Store {
    pub(super) fn task_mut(&mut self, sid: &str) -> Result<&mut Task, SandboxError> {
        self.tasks
            .iter_mut()
            .find(|t| t.sid == sid)
            .ok_or_else(|| SandboxError::TaskNotFound(sid.to_owned()))
    }

    fn task_view(&self, task: &Task) -> TaskView {
        TaskView {
            sid: task.sid.clone(),
            assignment_status: task.assignment_status.to_owned(),
            attributes: serde_json::from_str(&task.attributes).unwrap_or(Value::Null),
            conversation_sid: task.conversation_sid.clone(),
            conversation_state: self
                .find(&task.conversation_sid)
                .ok()
                .map(|c| c.state.clone()),
            interaction_sid: task.interaction_sid.clone(),
            interaction_channel_sid: task.channel_sid.clone(),
            workspace_sid: task.workspace_sid.clone(),
            workflow_sid: task.workflow_sid.clone(),
            task_channel_unique_name: task.task_channel.0.to_owned(),
            date_created: task.date_created.clone(),
            date_updated: task.date_updated.clone(),
            agent: task.agent.clone(),
        }
    }

    /// Moves a task from `from` to `to`, or says what it is instead.
    fn transition(
        &mut self,
        sid: &str,
        from: &'static str,
        to: &'static str,
    ) -> Result<Task, SandboxError> {
        let task = self.task_mut(sid)?;
        if task.assignment_status != from {
            return Err(SandboxError::TaskStatus {
                task_sid: sid.to_owned(),
                status: task.assignment_status.to_owned(),
                expected: from,
            });
        }
        task.assignment_status = to;
        task.date_updated = time::now_iso();
        Ok(task.clone())
    }
}

/// The Flex agent's side of a task.
impl Sandbox {
    /// Every task the Interactions API created, oldest first. Its length is the number of
    /// interactions created.
    pub fn tasks(&self) -> Vec<TaskView> {
        let store = self.twilio_store();
        store.tasks.iter().map(|t| store.task_view(t)).collect()
    }

    pub fn task(&self, sid: &str) -> Option<TaskView> {
        let store = self.twilio_store();
        store
            .tasks
            .iter()
            .find(|t| t.sid == sid)
            .map(|t| store.task_view(t))
    }

    /// The tasks whose conversation is `conversation_sid`, oldest first.
    pub fn tasks_for(&self, conversation_sid: &str) -> Vec<TaskView> {
        self.tasks()
            .into_iter()
            .filter(|t| t.conversation_sid == conversation_sid)
            .collect()
    }

    /// An agent accepts a pending task: it becomes `assigned` and the agent joins the
    /// conversation ([`Sandbox::agent_joins`]: `onParticipantAdded` is fired). If the join is
    /// refused (conversation closed, identity already in it) the task stays pending.
    pub async fn accept_task(
        &self,
        task_sid: &str,
        identity: &str,
        friendly_name: &str,
    ) -> Result<TaskView, SandboxError> {
        // Claimed before the join, so two agents cannot both accept it.
        let task = {
            let mut store = self.twilio_store();
            let task = store.transition(task_sid, "pending", "assigned")?;
            store.task_mut(task_sid)?.agent = Some(TaskAgent {
                identity: identity.to_owned(),
                friendly_name: friendly_name.to_owned(),
            });
            task
        };
        if let Err(err) = self
            .agent_joins(&task.conversation_sid, identity, friendly_name)
            .await
        {
            let mut store = self.twilio_store();
            if let Ok(claimed) = store.task_mut(task_sid) {
                claimed.assignment_status = "pending";
                claimed.agent = None;
            }
            return Err(err);
        }
        Ok(self.task(task_sid).expect("tasks are never removed"))
    }

    /// The agent who accepted the task replies ([`Sandbox::agent_message`]: `Source=SDK`,
    /// `onMessageAdded` fired). Returns the message SID.
    pub async fn task_reply(&self, task_sid: &str, body: &str) -> Result<String, SandboxError> {
        let (conversation_sid, agent) = {
            let mut store = self.twilio_store();
            let task = store.task_mut(task_sid)?;
            match (&task.agent, task.assignment_status) {
                (Some(agent), "assigned") => {
                    (task.conversation_sid.clone(), agent.identity.clone())
                }
                _ => {
                    return Err(SandboxError::TaskStatus {
                        task_sid: task_sid.to_owned(),
                        status: task.assignment_status.to_owned(),
                        expected: "assigned",
                    })
                }
            }
        };
        self.agent_message(&conversation_sid, &agent, body).await
    }

    /// The agent ends the chat: the conversation closes ([`Sandbox::close`]:
    /// `onConversationStateUpdated`, `StateTo=closed`; nothing fired if it was already closed)
    /// and the assigned task becomes `completed`.
    pub async fn complete_task(&self, task_sid: &str) -> Result<TaskView, SandboxError> {
        let conversation_sid = {
            let mut store = self.twilio_store();
            let task = store.task_mut(task_sid)?;
            if task.assignment_status != "assigned" {
                return Err(SandboxError::TaskStatus {
                    task_sid: task_sid.to_owned(),
                    status: task.assignment_status.to_owned(),
                    expected: "assigned",
                });
            }
            task.conversation_sid.clone()
        };
        match self.close(&conversation_sid).await {
            Ok(()) | Err(SandboxError::ConversationClosed(_)) => {}
            Err(err) => return Err(err),
        }
        {
            let mut store = self.twilio_store();
            store.transition(task_sid, "assigned", "completed")?;
            store.task_mut(task_sid)?.reason = Some("Chat ended by the agent".into());
        }
        Ok(self.task(task_sid).expect("tasks are never removed"))
    }
}
