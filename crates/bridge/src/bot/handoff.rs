//! The hand-off to a live agent, as the conversation's lane performs it: the Flex task is
//! created with the Interactions API exactly once, however often the job runs.
//!
//! Before the first `POST /v1/Interactions` an attempt is recorded. A 5xx or a timeout may come
//! after Twilio created the task, so a later attempt first asks TaskRouter for a task of this
//! conversation (`EvaluateTaskAttributes=conversationSid == "CH…"`) and creates one only if
//! there is none.

use serde_json::json;

use crate::cases::CaseId;
use crate::conversations::conversation_attributes;
use crate::idempotency::Key;
use crate::retry::HttpError;
use crate::routing::FlexTaskRouting;
use crate::store::{Customer, Store, StoreError};
use crate::twilio::{NewInteraction, TwilioClient};

const ATTEMPT_TTL_SECS: i64 = 30 * 24 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum HandoffError {
    #[error(transparent)]
    Twilio(#[from] HttpError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl HandoffError {
    pub fn is_transient(&self) -> bool {
        match self {
            HandoffError::Twilio(e) => e.is_transient(),
            HandoffError::Store(_) => true,
        }
    }
}

/// Creates the Flex task for the customer's conversation (once) and puts the case id in the
/// conversation's attributes. Returns the task's or the interaction's SID.
pub async fn hand_off(
    twilio: &TwilioClient,
    store: &dyn Store,
    customer: &Customer,
    routing: &FlexTaskRouting,
    case_id: Option<&CaseId>,
) -> Result<String, HandoffError> {
    let sid = &customer.conversation_sid;
    let first_attempt = store
        .claim_event(&Key::Interaction(sid).to_string(), ATTEMPT_TTL_SECS)
        .await?;
    let existing = if first_attempt {
        None
    } else {
        twilio
            .tasks_for_conversation(&routing.workspace_sid, sid)
            .await?
            .into_iter()
            .next()
    };
    let created = match existing {
        Some(task) => {
            tracing::info!(conversation_sid = %sid, task_sid = %task.sid, "an earlier attempt created the task");
            task.sid
        }
        None => {
            let attributes = task_attributes(customer, case_id);
            let interaction = twilio
                .create_interaction(&NewInteraction {
                    conversation_sid: sid,
                    workspace_sid: &routing.workspace_sid,
                    workflow_sid: &routing.workflow_sid,
                    attributes: &attributes,
                })
                .await?;
            tracing::info!(conversation_sid = %sid, interaction_sid = %interaction.sid, "flex task created");
            interaction.sid
        }
    };
    if let Some(case_id) = case_id {
        twilio
            .set_attributes(sid, &with_case(customer, case_id))
            .await?;
    }
    Ok(created)
}

/// What the task carries for Flex and the agent: who, where from, and the case.
pub fn task_attributes(customer: &Customer, case_id: Option<&CaseId>) -> serde_json::Value {
    let mut attributes = json!({
        "from": customer.identity,
        "customerName": customer.handle.as_deref().unwrap_or(&customer.identity),
        "customerAddress": customer.identity,
        "channelType": "chat",
        "customChannelType": customer.platform.as_str(),
        "conversationSid": customer.conversation_sid,
    });
    if let Some(case_id) = case_id {
        attributes["caseId"] = json!(case_id);
    }
    attributes
}

/// The conversation's attributes as the bridge created them, plus the case id (Twilio replaces
/// attributes whole).
fn with_case(customer: &Customer, case_id: &CaseId) -> serde_json::Value {
    let mut attributes = conversation_attributes(
        customer.platform,
        &customer.identity,
        customer.handle.as_deref(),
    );
    attributes["caseId"] = json!(case_id);
    attributes
}
