//! What Twilio's Conversations v1 API accepts, and how it refuses the rest.
//!
//! Field names, enums and SID patterns are copied from the official OpenAPI spec,
//! `twilio_conversations_v1.json` (`paths./v1/...requestBody` and `components.schemas`), so the
//! sandbox never reads the spec at build or test time. Error codes follow Twilio's error
//! dictionary (https://www.twilio.com/docs/api/errors).

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::time;

/// `POST /v1/Conversations` and `POST /v1/Conversations/{Sid}` (CreateConversation and
/// UpdateConversation take the same fields).
pub const CONVERSATION_FIELDS: &[&str] = &[
    "FriendlyName",
    "UniqueName",
    "DateCreated",
    "DateUpdated",
    "MessagingServiceSid",
    "Attributes",
    "State",
    "Timers.Inactive",
    "Timers.Closed",
    "Bindings.Email.Address",
    "Bindings.Email.Name",
];

/// `POST /v1/ConversationWithParticipants` (CreateConversationWithParticipants): a
/// conversation's fields (no `UniqueName`-less variant) and up to 10 `Participant`s, each a JSON
/// object of a participant's fields in snake case.
pub const CONVERSATION_WITH_PARTICIPANTS_FIELDS: &[&str] = &[
    "FriendlyName",
    "UniqueName",
    "DateCreated",
    "DateUpdated",
    "MessagingServiceSid",
    "Attributes",
    "State",
    "Timers.Inactive",
    "Timers.Closed",
    "Bindings.Email.Address",
    "Bindings.Email.Name",
    "Participant",
];

/// The keys of one `Participant` JSON object in ConversationWithParticipants.
pub const PARTICIPANT_JSON_KEYS: &[&str] =
    &["identity", "attributes", "messaging_binding", "role_sid"];

/// `POST /v1/Conversations/{ConversationSid}/Participants` (CreateConversationParticipant).
pub const PARTICIPANT_FIELDS: &[&str] = &[
    "Identity",
    "MessagingBinding.Address",
    "MessagingBinding.ProxyAddress",
    "DateCreated",
    "DateUpdated",
    "Attributes",
    "MessagingBinding.ProjectedAddress",
    "RoleSid",
];

/// `POST /v1/Conversations/{ConversationSid}/Messages` (CreateConversationMessage).
pub const MESSAGE_FIELDS: &[&str] = &[
    "Author",
    "Body",
    "DateCreated",
    "DateUpdated",
    "Attributes",
    "MediaSid",
    "ContentSid",
    "ContentVariables",
    "Subject",
];

/// `POST /v1/Conversations/{ConversationSid}/Webhooks` (CreateConversationScopedWebhook);
/// `Target` is its only required field.
pub const WEBHOOK_FIELDS: &[&str] = &[
    "Target",
    "Configuration.Url",
    "Configuration.Method",
    "Configuration.Filters",
    "Configuration.Triggers",
    "Configuration.FlowSid",
    "Configuration.ReplayAfter",
];

/// Fields of type `array`: sent once per value, so they may repeat (`AssignmentStatus` is
/// TaskRouter's `ListTask` filter).
pub const ARRAY_FIELDS: &[&str] = &[
    "Participant",
    "Configuration.Filters",
    "Configuration.Triggers",
    "AssignmentStatus",
];

/// Query parameters of the list operations used.
pub const LIST_MESSAGES_QUERY: &[&str] = &["Order", "PageSize", "Page", "PageToken"];
pub const LIST_WEBHOOKS_QUERY: &[&str] = &["PageSize", "Page", "PageToken"];
pub const LIST_PARTICIPANT_CONVERSATIONS_QUERY: &[&str] =
    &["Identity", "Address", "PageSize", "Page", "PageToken"];

/// `conversation_enum_state`.
pub const CONVERSATION_STATES: &[&str] = &["initializing", "inactive", "active", "closed"];
/// `conversation_scoped_webhook_enum_target`.
pub const WEBHOOK_TARGETS: &[&str] = &["webhook", "trigger", "studio"];
/// `conversation_scoped_webhook_enum_method`.
pub const WEBHOOK_METHODS: &[&str] = &["get", "post"];
/// `conversation_message_enum_order_type`.
pub const ORDERS: &[&str] = &["asc", "desc"];
/// `conversation_*_enum_webhook_enabled_type` (the `X-Twilio-Webhook-Enabled` header).
pub const WEBHOOK_ENABLED: &[&str] = &["true", "false"];

/// Event names a webhook filter may name. The spec types filters as plain strings; these are
/// the Conversations webhook events of https://www.twilio.com/docs/conversations/conversations-webhooks
/// (pre-action `onXxx` and post-action `onXxxed`). A typo in a filter is refused rather than
/// silently never firing.
pub const WEBHOOK_EVENTS: &[&str] = &[
    "onConversationAdd",
    "onConversationUpdate",
    "onConversationRemove",
    "onMessageAdd",
    "onMessageUpdate",
    "onMessageRemove",
    "onParticipantAdd",
    "onParticipantUpdate",
    "onParticipantRemove",
    "onUserUpdate",
    "onConversationAdded",
    "onConversationUpdated",
    "onConversationRemoved",
    "onConversationStateUpdated",
    "onMessageAdded",
    "onMessageUpdated",
    "onMessageRemoved",
    "onParticipantAdded",
    "onParticipantUpdated",
    "onParticipantRemoved",
    "onDeliveryUpdated",
    "onUserAdded",
    "onUserUpdated",
];

/// Twilio's error body: `{"code","message","more_info","status"}`.
#[derive(Debug)]
pub struct TwilioError {
    pub status: StatusCode,
    pub code: u32,
    pub message: String,
}

impl TwilioError {
    pub fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 20001: Twilio's "invalid parameter", also used for missing ones.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 20001, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, 20003, "Authenticate")
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            20404,
            format!("The requested resource {what} was not found"),
        )
    }

    /// Twilio's 50377 for a message or change to a closed conversation.
    pub fn closed() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            flex_bridge::twilio::CONVERSATION_CLOSED as u32,
            "Conversation state is 'closed' so it can't be used for chatting anymore",
        )
    }
}

impl IntoResponse for TwilioError {
    fn into_response(self) -> Response {
        let body = json!({
            "code": self.code,
            "message": self.message,
            "more_info": format!("https://www.twilio.com/docs/errors/{}", self.code),
            "status": self.status.as_u16(),
        });
        (self.status, Json(body)).into_response()
    }
}

pub type Result<T> = std::result::Result<T, TwilioError>;

/// A form-encoded body (or query string), checked against the fields its operation accepts.
#[derive(Debug, Default)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// Refuses fields the operation does not define and repeats of non-array fields.
    pub fn parse(raw: &[u8], allowed: &[&str]) -> Result<Self> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(raw)
            .map_err(|e| TwilioError::invalid(format!("Malformed form body: {e}")))?;
        for (i, (name, _)) in pairs.iter().enumerate() {
            if !allowed.contains(&name.as_str()) {
                return Err(TwilioError::invalid(format!("Invalid parameter: {name}")));
            }
            let repeated = pairs[..i].iter().any(|(earlier, _)| earlier == name);
            if repeated && !ARRAY_FIELDS.contains(&name.as_str()) {
                return Err(TwilioError::invalid(format!(
                    "Parameter {name} was given more than once"
                )));
            }
        }
        Ok(Self { pairs })
    }

    /// A POST body: form-encoded (or empty), nothing else.
    pub fn body(headers: &HeaderMap, raw: &[u8], allowed: &[&str]) -> Result<Self> {
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !raw.is_empty() && !content_type.starts_with("application/x-www-form-urlencoded") {
            return Err(TwilioError::invalid(format!(
                "Content-Type must be application/x-www-form-urlencoded, not {content_type:?}"
            )));
        }
        Self::parse(raw, allowed)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn string(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn required(&self, name: &str) -> Result<String> {
        self.string(name).ok_or_else(|| {
            TwilioError::invalid(format!(
                "Missing required parameter {name} in the post body"
            ))
        })
    }

    /// An enum value, matched case-insensitively, returned as the spec spells it.
    pub fn one_of(&self, name: &str, values: &[&str]) -> Result<Option<String>> {
        self.get(name)
            .map(|given| {
                values
                    .iter()
                    .find(|v| v.eq_ignore_ascii_case(given))
                    .map(|v| (*v).to_owned())
                    .ok_or_else(|| {
                        TwilioError::invalid(format!(
                            "Invalid {name}: {given:?} is not one of {}",
                            values.join(", ")
                        ))
                    })
            })
            .transpose()
    }

    /// A SID field: `^{prefix}[0-9a-fA-F]{32}$`.
    pub fn sid(&self, name: &str, prefix: &str) -> Result<Option<String>> {
        match self.get(name) {
            Some(v) if !is_sid(v, prefix) => Err(TwilioError::invalid(format!(
                "Invalid {name}: {v:?} is not a {prefix} SID"
            ))),
            v => Ok(v.map(str::to_owned)),
        }
    }

    pub fn datetime(&self, name: &str) -> Result<Option<String>> {
        match self.get(name) {
            Some(v) if !time::is_datetime(v) => Err(TwilioError::invalid(format!(
                "Invalid {name}: {v:?} is not an ISO 8601 date-time"
            ))),
            v => Ok(v.map(str::to_owned)),
        }
    }

    /// An ISO 8601 duration (`Timers.*`), kept as given.
    pub fn duration(&self, name: &str) -> Result<Option<String>> {
        match self.get(name) {
            Some(v) if time::parse_duration(v).is_none() => Err(TwilioError::invalid(format!(
                "Invalid {name}: {v:?} is not an ISO 8601 duration"
            ))),
            v => Ok(v.map(str::to_owned)),
        }
    }

    pub fn integer(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>> {
        self.get(name)
            .map(|v| match v.parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(TwilioError::invalid(format!(
                    "Invalid {name}: {v:?} must be an integer from {min} to {max}"
                ))),
            })
            .transpose()
    }

    /// The pairs not named in `except`, form-encoded again (a list's filters for its page URLs).
    pub fn encoded_without(&self, except: &[&str]) -> String {
        let kept: Vec<_> = self
            .pairs
            .iter()
            .filter(|(k, _)| !except.contains(&k.as_str()))
            .collect();
        serde_urlencoded::to_string(kept).unwrap_or_default()
    }

    /// `Attributes`: Twilio stores a JSON string and refuses anything else.
    pub fn attributes(&self) -> Result<Option<String>> {
        match self.get("Attributes") {
            Some(v) if serde_json::from_str::<serde_json::Value>(v).is_err() => Err(
                TwilioError::invalid("Invalid Attributes: must be a valid JSON string"),
            ),
            v => Ok(v.map(str::to_owned)),
        }
    }
}

pub use flex_bridge::twilio::is_sid;

/// `X-Twilio-Webhook-Enabled`: absent means false.
pub fn webhook_enabled(headers: &HeaderMap) -> Result<bool> {
    match headers.get("x-twilio-webhook-enabled") {
        None => Ok(false),
        Some(value) => match value.to_str().unwrap_or("") {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(TwilioError::invalid(format!(
                "Invalid X-Twilio-Webhook-Enabled: {other:?} is not one of {}",
                WEBHOOK_ENABLED.join(", ")
            ))),
        },
    }
}

/// One page of a list, with Twilio's `meta` block (`url` may carry the list's filters).
pub fn page(
    key: &str,
    items: Vec<serde_json::Value>,
    query: &Form,
    max_page_size: i64,
    url: &str,
) -> Result<serde_json::Value> {
    let page_size = query
        .integer("PageSize", 1, max_page_size)?
        .unwrap_or(50.min(max_page_size));
    let page = query.integer("Page", 0, i64::MAX)?.unwrap_or(0);
    let start = (page * page_size) as usize;
    let total = items.len();
    let items: Vec<_> = items
        .into_iter()
        .skip(start)
        .take(page_size as usize)
        .collect();
    let separator = if url.contains('?') { '&' } else { '?' };
    let page_url = |p: i64| format!("{url}{separator}PageSize={page_size}&Page={p}");
    let next = (start + (page_size as usize) < total).then(|| page_url(page + 1));
    let previous = (page > 0).then(|| page_url(page - 1));
    Ok(json!({
        key: items,
        "meta": {
            "page": page,
            "page_size": page_size,
            "first_page_url": page_url(0),
            "previous_page_url": previous,
            "url": page_url(page),
            "next_page_url": next,
            "key": key,
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_unknown_and_repeated_fields() {
        let err = Form::parse(b"FriendlyName=a&Colour=red", CONVERSATION_FIELDS).unwrap_err();
        assert_eq!(err.code, 20001);
        assert!(err.message.contains("Colour"));
        assert!(Form::parse(b"State=active&State=closed", CONVERSATION_FIELDS).is_err());
        let form = Form::parse(
            b"Target=webhook&Configuration.Filters=onMessageAdded&Configuration.Filters=onParticipantAdded",
            WEBHOOK_FIELDS,
        )
        .unwrap();
        assert_eq!(form.all("Configuration.Filters").len(), 2);
    }

    #[test]
    fn checks_enums_sids_and_json() {
        let form = Form::parse(b"Configuration.Method=POST", WEBHOOK_FIELDS).unwrap();
        assert_eq!(
            form.one_of("Configuration.Method", WEBHOOK_METHODS)
                .unwrap()
                .as_deref(),
            Some("post")
        );
        let form = Form::parse(b"Target=email", WEBHOOK_FIELDS).unwrap();
        assert!(form.one_of("Target", WEBHOOK_TARGETS).is_err());
        let form = Form::parse(b"Configuration.FlowSid=FW123", WEBHOOK_FIELDS).unwrap();
        assert!(form.sid("Configuration.FlowSid", "FW").is_err());
        let form = Form::parse(b"Attributes=%7Bnope", MESSAGE_FIELDS).unwrap();
        assert!(form.attributes().is_err());
    }
}
