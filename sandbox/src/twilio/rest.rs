//! The Conversations v1 REST handlers, and the state changes they share with Flex's side.
//!
//! Each handler validates the whole request first (unknown field, bad enum, bad SID, missing
//! required field: 400 with Twilio's error JSON), then changes state under the lock, then fires
//! webhooks with the lock released, and answers only after they were delivered.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::json;
use super::spec::{self, Form, Result, TwilioError};
use super::webhooks::Dispatch;
use super::{now, Conversation, Message, Participant, Store, Webhook, MESSAGING_SERVICE_SID};
use crate::{time, Sandbox};

/// A message to add, from REST or from an agent.
#[derive(Default)]
pub(super) struct NewMessage {
    pub author: String,
    pub body: Option<String>,
    pub attributes: String,
    pub source: &'static str,
    pub webhook_enabled: bool,
    /// Uploaded files (MCS) the message takes, in order.
    pub media_sids: Vec<String>,
    pub content_sid: Option<String>,
    pub date_created: Option<String>,
    pub date_updated: Option<String>,
}

#[derive(Default)]
pub(super) struct NewParticipant {
    pub identity: Option<String>,
    pub attributes: String,
    pub address: Option<String>,
    pub proxy_address: Option<String>,
    pub projected_address: Option<String>,
    pub role_sid: Option<String>,
    pub date_created: Option<String>,
    pub date_updated: Option<String>,
}

impl Store {
    pub(super) fn add_message(
        &mut self,
        sid: &str,
        new: NewMessage,
    ) -> Result<(Message, Dispatch)> {
        if self.find(sid)?.state == "closed" {
            return Err(TwilioError::closed());
        }
        // Every file is checked before any is taken: a refused message changes nothing.
        for media_sid in &new.media_sids {
            self.check_media(media_sid)?;
        }
        let message_sid = time::sid("IM");
        let media = new
            .media_sids
            .iter()
            .map(|media_sid| self.take_media(media_sid, sid, &message_sid))
            .collect::<Result<Vec<_>>>()?;
        let conversation = self.find_mut(sid)?;
        // A message wakes an inactive conversation, as in Twilio.
        if conversation.state == "inactive" {
            conversation.state = "active".into();
        }
        let date_created = new.date_created.unwrap_or_else(now);
        let message = Message {
            sid: message_sid,
            index: conversation.messages.last().map_or(0, |m| m.index + 1),
            participant_sid: conversation
                .participant_by_identity(&new.author)
                .map(|p| p.sid.clone()),
            author: new.author,
            body: new.body,
            attributes: new.attributes,
            source: new.source,
            webhook_enabled: new.webhook_enabled,
            media,
            content_sid: new.content_sid,
            date_updated: new.date_updated.unwrap_or_else(|| date_created.clone()),
            date_created,
        };
        conversation.messages.push(message.clone());
        let params = super::webhooks::message_added(&message, &conversation.messaging_service_sid);
        let dispatch = if message.webhook_enabled {
            self.dispatch(sid, "onMessageAdded", params)
        } else {
            Dispatch::none()
        };
        Ok((message, dispatch))
    }

    pub(super) fn add_participant(
        &mut self,
        sid: &str,
        new: NewParticipant,
        fire: bool,
    ) -> Result<(Participant, Dispatch)> {
        let conversation = self.find_mut(sid)?;
        if conversation.state == "closed" {
            return Err(TwilioError::closed());
        }
        if let Some(identity) = &new.identity {
            if conversation.participant_by_identity(identity).is_some() {
                return Err(TwilioError::new(
                    StatusCode::CONFLICT,
                    50433,
                    format!("Participant with identity {identity} already exists"),
                ));
            }
        }
        let date_created = new.date_created.unwrap_or_else(now);
        let participant = Participant {
            sid: time::sid("MB"),
            identity: new.identity,
            attributes: new.attributes,
            address: new.address,
            proxy_address: new.proxy_address,
            projected_address: new.projected_address,
            role_sid: new.role_sid,
            date_updated: new.date_updated.unwrap_or_else(|| date_created.clone()),
            date_created,
        };
        conversation.participants.push(participant.clone());
        let dispatch = if fire {
            let params = super::webhooks::participant_added(&participant);
            self.dispatch(sid, "onParticipantAdded", params)
        } else {
            Dispatch::none()
        };
        Ok((participant, dispatch))
    }

    /// Changes the state; a real change fires `onConversationStateUpdated` when `fire`.
    /// Twilio never reopens a closed conversation.
    pub(super) fn set_state(&mut self, sid: &str, state: &str, fire: bool) -> Result<Dispatch> {
        let conversation = self.find_mut(sid)?;
        let from = conversation.state.clone();
        if from == state {
            return Ok(Dispatch::none());
        }
        if from == "closed" {
            return Err(TwilioError::closed());
        }
        conversation.state = state.to_owned();
        conversation.date_updated = now();
        if !fire {
            return Ok(Dispatch::none());
        }
        let params = super::webhooks::state_updated(conversation, &from);
        Ok(self.dispatch(sid, "onConversationStateUpdated", params))
    }
}

type Reply = std::result::Result<Response, TwilioError>;

fn created(value: serde_json::Value) -> Reply {
    Ok((StatusCode::CREATED, Json(value)).into_response())
}

fn ok(value: serde_json::Value) -> Reply {
    Ok(Json(value).into_response())
}

/// `POST /v1/Conversations`
pub(super) async fn create_conversation(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let form = Form::body(&headers, &body, spec::CONVERSATION_FIELDS)?;
    // Valid but without effect here: no service-level webhooks are emulated.
    spec::webhook_enabled(&headers)?;
    let conversation = new_conversation(&form)?;
    let mut store = sandbox.twilio_store();
    check_unique_name(&store, &conversation)?;
    let value = json::conversation(&sandbox, &conversation);
    store.conversations.push(conversation);
    created(value)
}

/// `POST /v1/ConversationWithParticipants`: a conversation and up to 10 participants in one
/// request, all or nothing. No conversation-scoped webhook exists yet, so none fires.
pub(super) async fn create_conversation_with_participants(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let form = Form::body(&headers, &body, spec::CONVERSATION_WITH_PARTICIPANTS_FIELDS)?;
    spec::webhook_enabled(&headers)?;
    let participants = form
        .all("Participant")
        .iter()
        .map(|raw| participant_from_json(raw))
        .collect::<Result<Vec<_>>>()?;
    if participants.len() > 10 {
        return Err(TwilioError::invalid(
            "At most 10 participants can be added in a single request",
        ));
    }
    let conversation = new_conversation(&form)?;
    let sid = conversation.sid.clone();
    let mut store = sandbox.twilio_store();
    check_unique_name(&store, &conversation)?;
    store.conversations.push(conversation);
    for participant in participants {
        if let Err(err) = store.add_participant(&sid, participant, false) {
            store.conversations.retain(|c| c.sid != sid);
            return Err(err);
        }
    }
    created(json::conversation(&sandbox, store.find(&sid)?))
}

/// One `Participant` of ConversationWithParticipants: a JSON object of the participant's
/// fields in snake case; anything else is refused as Twilio refuses an unknown parameter.
fn participant_from_json(raw: &str) -> Result<NewParticipant> {
    let invalid = |why: String| TwilioError::invalid(format!("Invalid Participant: {why}"));
    let value: serde_json::Value =
        serde_json::from_str(raw).map_err(|_| invalid(format!("{raw:?} is not JSON")))?;
    let object = value
        .as_object()
        .ok_or_else(|| invalid(format!("{raw:?} is not a JSON object")))?;
    if let Some(key) = object
        .keys()
        .find(|k| !spec::PARTICIPANT_JSON_KEYS.contains(&k.as_str()))
    {
        return Err(invalid(format!("unknown field {key:?}")));
    }
    let text = |v: &serde_json::Value, name: &str| -> Result<Option<String>> {
        match v.get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(invalid(format!("{name} must be a string"))),
        }
    };
    let attributes = text(&value, "attributes")?.unwrap_or_else(|| "{}".into());
    if serde_json::from_str::<serde_json::Value>(&attributes).is_err() {
        return Err(invalid("attributes must be a valid JSON string".into()));
    }
    let binding = value.get("messaging_binding").cloned().unwrap_or_default();
    let role_sid = text(&value, "role_sid")?;
    if role_sid.as_deref().is_some_and(|r| !spec::is_sid(r, "RL")) {
        return Err(invalid("role_sid is not an RL SID".into()));
    }
    let participant = NewParticipant {
        identity: text(&value, "identity")?,
        attributes,
        address: text(&binding, "address")?,
        proxy_address: text(&binding, "proxy_address")?,
        projected_address: text(&binding, "projected_address")?,
        role_sid,
        ..NewParticipant::default()
    };
    if participant.identity.is_none()
        && participant.address.is_none()
        && participant.projected_address.is_none()
    {
        return Err(invalid(
            "needs identity or messaging_binding.address".into(),
        ));
    }
    Ok(participant)
}

/// A conversation from Create's fields.
fn new_conversation(form: &Form) -> Result<Conversation> {
    let date_created = form.datetime("DateCreated")?.unwrap_or_else(now);
    let mut conversation = Conversation {
        sid: time::sid("CH"),
        friendly_name: None,
        unique_name: None,
        attributes: "{}".into(),
        state: "active".into(),
        messaging_service_sid: MESSAGING_SERVICE_SID.into(),
        date_updated: date_created.clone(),
        date_created,
        created_secs: time::now_secs(),
        timers_inactive: None,
        timers_closed: None,
        email_address: None,
        email_name: None,
        participants: Vec::new(),
        webhooks: Vec::new(),
        messages: Vec::new(),
        studio_executions: 0,
    };
    apply_conversation_fields(&mut conversation, form)?;
    if let Some(state) = form.one_of("State", spec::CONVERSATION_STATES)? {
        conversation.state = state;
    }
    Ok(conversation)
}

/// The fields Create and Update share; `State` is left to the caller.
fn apply_conversation_fields(c: &mut Conversation, form: &Form) -> Result<()> {
    c.friendly_name = form.string("FriendlyName").or(c.friendly_name.take());
    c.unique_name = form.string("UniqueName").or(c.unique_name.take());
    c.attributes = form
        .attributes()?
        .unwrap_or(std::mem::take(&mut c.attributes));
    c.messaging_service_sid = form
        .sid("MessagingServiceSid", "MG")?
        .unwrap_or(std::mem::take(&mut c.messaging_service_sid));
    c.date_created = form
        .datetime("DateCreated")?
        .unwrap_or(std::mem::take(&mut c.date_created));
    c.date_updated = form.datetime("DateUpdated")?.unwrap_or_else(now);
    c.timers_inactive = form
        .duration("Timers.Inactive")?
        .or(c.timers_inactive.take());
    c.timers_closed = form.duration("Timers.Closed")?.or(c.timers_closed.take());
    c.email_address = form
        .string("Bindings.Email.Address")
        .or(c.email_address.take());
    c.email_name = form.string("Bindings.Email.Name").or(c.email_name.take());
    Ok(())
}

fn check_unique_name(store: &Store, conversation: &Conversation) -> Result<()> {
    let Some(name) = &conversation.unique_name else {
        return Ok(());
    };
    let taken = store
        .conversations
        .iter()
        .any(|c| c.sid != conversation.sid && c.unique_name.as_ref() == Some(name));
    if taken {
        return Err(TwilioError::new(
            StatusCode::CONFLICT,
            50353,
            format!("Conversation with unique name {name} already exists"),
        ));
    }
    Ok(())
}

/// `GET /v1/Conversations/{Sid}`
pub(super) async fn fetch_conversation(
    State(sandbox): State<Sandbox>,
    Path(sid): Path<String>,
) -> Reply {
    let store = sandbox.twilio_store();
    ok(json::conversation(&sandbox, store.find(&sid)?))
}

/// `POST /v1/Conversations/{Sid}`: with `State` and `X-Twilio-Webhook-Enabled: true`, a state
/// change fires `onConversationStateUpdated`.
pub(super) async fn update_conversation(
    State(sandbox): State<Sandbox>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let form = Form::body(&headers, &body, spec::CONVERSATION_FIELDS)?;
    let fire = spec::webhook_enabled(&headers)?;
    let state = form.one_of("State", spec::CONVERSATION_STATES)?;
    let (value, dispatch) = {
        let mut store = sandbox.twilio_store();
        let mut updated = store.find(&sid)?.clone();
        if updated.state == "closed" && state.as_deref().is_some_and(|s| s != "closed") {
            return Err(TwilioError::closed());
        }
        apply_conversation_fields(&mut updated, &form)?;
        check_unique_name(&store, &updated)?;
        *store.find_mut(&sid)? = updated;
        // The state changes last, through the one path that fires its webhook.
        let dispatch = match state {
            Some(state) => store.set_state(&sid, &state, fire)?,
            None => Dispatch::none(),
        };
        (json::conversation(&sandbox, store.find(&sid)?), dispatch)
    };
    sandbox.deliver(dispatch).await;
    ok(value)
}

/// `POST /v1/Conversations/{ConversationSid}/Participants`
pub(super) async fn create_participant(
    State(sandbox): State<Sandbox>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let form = Form::body(&headers, &body, spec::PARTICIPANT_FIELDS)?;
    let fire = spec::webhook_enabled(&headers)?;
    let new = NewParticipant {
        identity: form.string("Identity"),
        attributes: form.attributes()?.unwrap_or_else(|| "{}".into()),
        address: form.string("MessagingBinding.Address"),
        proxy_address: form.string("MessagingBinding.ProxyAddress"),
        projected_address: form.string("MessagingBinding.ProjectedAddress"),
        role_sid: form.sid("RoleSid", "RL")?,
        date_created: form.datetime("DateCreated")?,
        date_updated: form.datetime("DateUpdated")?,
    };
    if new.identity.is_none() && new.address.is_none() && new.projected_address.is_none() {
        return Err(TwilioError::invalid(
            "Missing required parameter Identity or MessagingBinding.Address in the post body",
        ));
    }
    let (value, dispatch) = {
        let mut store = sandbox.twilio_store();
        let (participant, dispatch) = store.add_participant(&sid, new, fire)?;
        (json::participant(&sandbox, &sid, &participant), dispatch)
    };
    sandbox.deliver(dispatch).await;
    created(value)
}

/// `POST /v1/Conversations/{ConversationSid}/Messages`: with `X-Twilio-Webhook-Enabled: true`
/// fires `onMessageAdded` (`Source=API`) and starts Studio; without it, stays silent.
pub(super) async fn create_message(
    State(sandbox): State<Sandbox>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let form = Form::body(&headers, &body, spec::MESSAGE_FIELDS)?;
    let new = NewMessage {
        author: form.string("Author").unwrap_or_else(|| "system".into()),
        body: form.string("Body"),
        attributes: form.attributes()?.unwrap_or_else(|| "{}".into()),
        source: "API",
        webhook_enabled: spec::webhook_enabled(&headers)?,
        media_sids: form.sid("MediaSid", "ME")?.into_iter().collect(),
        content_sid: form.sid("ContentSid", "HX")?,
        date_created: form.datetime("DateCreated")?,
        date_updated: form.datetime("DateUpdated")?,
    };
    if new.body.as_deref().unwrap_or("").is_empty()
        && new.media_sids.is_empty()
        && new.content_sid.is_none()
    {
        return Err(TwilioError::invalid(
            "Missing required parameter Body, MediaSid or ContentSid in the post body",
        ));
    }
    let (value, dispatch) = {
        let mut store = sandbox.twilio_store();
        let (message, dispatch) = store.add_message(&sid, new)?;
        (json::message(&sandbox, &sid, &message), dispatch)
    };
    sandbox.deliver(dispatch).await;
    created(value)
}

/// `GET /v1/Conversations/{ConversationSid}/Messages`
pub(super) async fn list_messages(
    State(sandbox): State<Sandbox>,
    Path(sid): Path<String>,
    RawQuery(query): RawQuery,
) -> Reply {
    let query = Form::parse(
        query.unwrap_or_default().as_bytes(),
        spec::LIST_MESSAGES_QUERY,
    )?;
    let descending = query.one_of("Order", spec::ORDERS)?.as_deref() == Some("desc");
    let mut items: Vec<_> = {
        let store = sandbox.twilio_store();
        let conversation = store.find(&sid)?;
        conversation
            .messages
            .iter()
            .map(|m| json::message(&sandbox, &sid, m))
            .collect()
    };
    if descending {
        items.reverse();
    }
    let url = format!("{}/v1/Conversations/{sid}/Messages", sandbox.url());
    ok(spec::page("messages", items, &query, 100, &url)?)
}

/// `POST /v1/Conversations/{ConversationSid}/Webhooks`
pub(super) async fn create_webhook(
    State(sandbox): State<Sandbox>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let form = Form::body(&headers, &body, spec::WEBHOOK_FIELDS)?;
    form.required("Target")?;
    let target = form
        .one_of("Target", spec::WEBHOOK_TARGETS)?
        .unwrap_or_default();
    // What each target needs to ever fire (Twilio refuses these at creation too).
    let needed: &[&str] = match target.as_str() {
        "webhook" => &["Configuration.Url"],
        "trigger" => &["Configuration.Url", "Configuration.Triggers"],
        _ => &["Configuration.FlowSid"],
    };
    for field in needed {
        form.required(field)?;
    }
    let url = form.string("Configuration.Url");
    if let Some(url) = &url {
        let absolute =
            reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if !absolute {
            return Err(TwilioError::invalid(format!(
                "Invalid Configuration.Url: {url:?} is not an absolute http(s) URL"
            )));
        }
    }
    let filters = form.all("Configuration.Filters");
    if let Some(bad) = filters
        .iter()
        .find(|f| !spec::WEBHOOK_EVENTS.contains(&f.as_str()))
    {
        return Err(TwilioError::invalid(format!(
            "Invalid Configuration.Filters: {bad:?} is not a Conversations webhook event"
        )));
    }
    let webhook = Webhook {
        sid: time::sid("WH"),
        method: form
            .one_of("Configuration.Method", spec::WEBHOOK_METHODS)?
            .or_else(|| url.as_ref().map(|_| "post".to_owned())),
        flow_sid: form.sid("Configuration.FlowSid", "FW")?,
        replay_after: form.integer("Configuration.ReplayAfter", 0, i64::MAX)?,
        triggers: form.all("Configuration.Triggers"),
        filters,
        url,
        target,
        date_created: now(),
    };
    let mut store = sandbox.twilio_store();
    let conversation = store.find_mut(&sid)?;
    conversation.webhooks.push(webhook.clone());
    created(json::webhook(&sandbox, &sid, &webhook))
}

/// `GET /v1/Conversations/{ConversationSid}/Webhooks`
pub(super) async fn list_webhooks(
    State(sandbox): State<Sandbox>,
    Path(sid): Path<String>,
    RawQuery(query): RawQuery,
) -> Reply {
    let query = Form::parse(
        query.unwrap_or_default().as_bytes(),
        spec::LIST_WEBHOOKS_QUERY,
    )?;
    let items = {
        let store = sandbox.twilio_store();
        let conversation = store.find(&sid)?;
        conversation
            .webhooks
            .iter()
            .map(|w| json::webhook(&sandbox, &sid, w))
            .collect()
    };
    let url = format!("{}/v1/Conversations/{sid}/Webhooks", sandbox.url());
    // The spec caps this page size at 5 (a conversation has at most 5 scoped webhooks).
    ok(spec::page("webhooks", items, &query, 5, &url)?)
}

/// `GET /v1/ParticipantConversations?Identity=...|Address=...`: every conversation (closed
/// ones too) the participant is in, newest first.
pub(super) async fn participant_conversations(
    State(sandbox): State<Sandbox>,
    RawQuery(query): RawQuery,
) -> Reply {
    let query = Form::parse(
        query.unwrap_or_default().as_bytes(),
        spec::LIST_PARTICIPANT_CONVERSATIONS_QUERY,
    )?;
    let identity = query.get("Identity");
    let address = query.get("Address");
    if identity.is_none() && address.is_none() {
        return Err(TwilioError::invalid(
            "Missing required parameter Identity or Address",
        ));
    }
    let items = {
        let store = sandbox.twilio_store();
        store
            .conversations
            .iter()
            .rev()
            .filter_map(|c| {
                let participant = c.participants.iter().find(|p| {
                    identity.is_some_and(|i| p.identity.as_deref() == Some(i))
                        || address.is_some_and(|a| p.address.as_deref() == Some(a))
                })?;
                Some(json::participant_conversation(&sandbox, c, participant))
            })
            .collect()
    };
    let url = format!("{}/v1/ParticipantConversations", sandbox.url());
    ok(spec::page("conversations", items, &query, 50, &url)?)
}

/// A known path with a method it does not take: Twilio's 405 (code 20004).
pub(super) async fn method_not_allowed() -> TwilioError {
    TwilioError::new(StatusCode::METHOD_NOT_ALLOWED, 20004, "Method not allowed")
}

/// Any other `/v1/...` path: Twilio's 404.
pub(super) async fn unknown_route(uri: Uri) -> TwilioError {
    TwilioError::not_found(uri.path())
}
