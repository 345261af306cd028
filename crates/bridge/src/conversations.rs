//! Customer messages into Flex: find the customer's open conversation or open one, race-free,
//! then post the message so Studio (and later the agent) sees it.
//!
//! Warm path: one DynamoDB read (the customer's record) and one Twilio call (the message).
//! Opening a conversation: a conditional lease in the store makes exactly one request do the
//! Twilio set-up while concurrent first messages wait for it and then post into the same
//! conversation. The set-up is the conversation with its participant (one call), its three
//! webhooks and, for a customer the store has never seen, a look-up of a conversation left
//! open in Twilio first.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::config::{Env, PublicUrl};
use crate::ids::ConversationSid;
use crate::quick_replies;
use crate::retry::HttpError;
use crate::routes::{CHANNEL_UPDATED_PATH, CHATBOT_PATH, FLEX_OUTBOUND_PATH};
use crate::routing::Routing;
use crate::store::{Customer, CustomerSlot, Platform, Store, StoreError};
use crate::twilio::media::{MediaClient, NewMediaMessage};
use crate::twilio::{self, NewConversation, NewMessage, ScopedWebhook, TwilioClient};

/// How long one request may hold the right to open a customer's conversation. Its set-up has
/// a deadline well inside it (`ConversationSettings::set_up_deadline`).
const LEASE_SECS: i64 = 30;
/// The default deadline for the set-up: room for a retried call or two, then the lease's
/// remaining 10 s cover recording it and closing what was created.
const SET_UP_DEADLINE: Duration = Duration::from_secs(20);
/// Waiting for another request's set-up: 50, 100, 200, then 400 ms rounds, about 30 s.
const WAIT_ROUNDS: u32 = 78;

/// A message from a customer on X or Discord.
#[derive(Clone, Debug)]
pub struct CustomerMessage {
    pub platform: Platform,
    pub user_id: String,
    /// Where replies go (X user id, Discord DM channel id).
    pub address: String,
    pub handle: Option<String>,
    pub text: String,
    /// The platform's id for this event, kept in the message attributes for tracing.
    pub event_id: String,
    /// The customer asked for a person: marked in the message attributes for Studio and the bot.
    pub agent_requested: bool,
    /// A public post naming the brand, not a message to it: marked in the attributes, so the bot
    /// does not answer it (its author is invited to DM instead).
    pub public_post: bool,
    /// A file the worker uploaded to MCS (`ME…`): posted as a media message with the text, so
    /// the agent sees it in Flex.
    pub media_sid: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Twilio(#[from] HttpError),
    #[error("the customer's conversation is still being opened")]
    Busy,
    #[error("opening the conversation took longer than its deadline")]
    Deadline,
}

impl BridgeError {
    /// Seconds the sender should wait before retrying, when we know.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            BridgeError::Twilio(e) => e.retry_after,
            BridgeError::Busy => Some(2),
            BridgeError::Deadline | BridgeError::Store(_) => None,
        }
    }
}

/// Settings for new conversations.
#[derive(Clone, Debug)]
pub struct ConversationSettings {
    pub public_url: PublicUrl,
    /// Who answers a new conversation: the bridge's bot, Flex at once, or a Studio flow.
    pub routing: Routing,
    /// ISO 8601 duration for `Timers.Closed`.
    pub close_after: String,
    /// How long opening a conversation in Twilio may take (shorter than the lease).
    pub set_up_deadline: Duration,
}

impl ConversationSettings {
    pub fn from_env(env: &mut Env) -> Self {
        Self {
            public_url: PublicUrl::from_env(env),
            routing: Routing::from_env(env),
            close_after: env.or_default(&crate::config::schema::CONVERSATION_CLOSE_AFTER),
            set_up_deadline: SET_UP_DEADLINE,
        }
    }
}

/// Whether a conversation's attributes (JSON) mark it as one the bridge opened.
fn is_ours(attributes: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(attributes)
        .is_ok_and(|a| a[crate::flex::BRIDGE_ATTRIBUTE] == serde_json::Value::Bool(true))
}

/// The attributes of a conversation the bridge opens: marked as ours (so a conversation left
/// open in Twilio can be found again), with the customer's platform, identity and handle.
pub fn conversation_attributes(
    platform: Platform,
    identity: &str,
    handle: Option<&str>,
) -> serde_json::Value {
    json!({
        crate::flex::BRIDGE_ATTRIBUTE: true,
        "platform": platform,
        "customer_identity": identity,
        "handle": handle,
    })
}

#[derive(Clone)]
pub struct Conversations {
    pub store: Arc<dyn Store>,
    pub twilio: TwilioClient,
    pub settings: ConversationSettings,
    /// The Media Content Service, when `TWILIO_CHAT_SERVICE_SID` is set: customers' files are
    /// carried; without it they are not.
    pub media: Option<MediaClient>,
}

impl Conversations {
    /// Posts the customer's message into their open conversation (opening one if needed) and
    /// returns the conversation SID. `looked_up`: the customer's record as the caller just read
    /// it, saving a read (X intake reads it first for the satisfaction question).
    pub async fn post_from_customer(
        &self,
        message: &CustomerMessage,
        looked_up: Option<CustomerSlot>,
    ) -> Result<ConversationSid, BridgeError> {
        let identity = message.platform.identity(&message.user_id);
        let customer = self
            .open_conversation_for(message, &identity, looked_up)
            .await?;
        match self.post(&customer, message).await {
            // Closed in Twilio though the store has it open (the close webhook was missed, or
            // never came): forget it, and the message opens a new conversation.
            Err(BridgeError::Twilio(err))
                if twilio::error_code(&err) == Some(twilio::CONVERSATION_CLOSED) =>
            {
                tracing::warn!(conversation_sid = %customer.conversation_sid, "conversation closed in Twilio; opening a new one");
                self.store
                    .end_conversation(&customer.conversation_sid)
                    .await?;
                let customer = self.open_conversation_for(message, &identity, None).await?;
                self.post(&customer, message).await
            }
            posted => posted,
        }
    }

    /// The customer's message into `customer`'s conversation; its SID.
    async fn post(
        &self,
        customer: &Customer,
        message: &CustomerMessage,
    ) -> Result<ConversationSid, BridgeError> {
        let identity = &customer.identity;
        let sid = customer.conversation_sid.clone();
        tracing::Span::current().record("conversation_sid", sid.as_str());
        // A bare number answers the quick replies an agent offered on X.
        let quick_reply = quick_replies::answer(&message.text, &customer.quick_replies);
        let mut attributes = json!({"platform": message.platform, "event_id": message.event_id});
        if quick_reply.is_some() {
            attributes["quick_reply"] = json!(message.text.trim());
        }
        if message.agent_requested {
            attributes["agent_requested"] = json!(true);
        }
        if message.public_post {
            attributes["public_post"] = json!(true);
        }
        let body = quick_reply.unwrap_or_else(|| message.text.clone());
        match (&message.media_sid, &self.media) {
            (Some(media_sid), Some(media)) => {
                media
                    .post_media_message(
                        &sid,
                        &NewMediaMessage {
                            author: identity,
                            body: Some(&body),
                            media_sid,
                            attributes: Some(&attributes),
                            webhooks: true,
                        },
                    )
                    .await?;
            }
            _ => {
                self.twilio
                    .post_message(
                        &sid,
                        &NewMessage {
                            author: identity,
                            body: &body,
                            attributes: Some(&attributes),
                            webhooks: true,
                        },
                    )
                    .await?;
            }
        }
        tracing::info!(conversation_sid = %sid, event_id = %message.event_id, "customer message posted to Flex");
        Ok(sid)
    }

    async fn open_conversation_for(
        &self,
        message: &CustomerMessage,
        identity: &str,
        mut looked_up: Option<CustomerSlot>,
    ) -> Result<Customer, BridgeError> {
        let mut wait = Duration::from_millis(50);
        for _ in 0..WAIT_ROUNDS {
            let slot = match looked_up.take() {
                Some(slot) => slot,
                None => self.store.customer(identity).await?,
            };
            match slot {
                CustomerSlot::Open(customer) => return Ok(customer),
                CustomerSlot::Opening { .. } => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_millis(400));
                }
                CustomerSlot::Returning { .. } | CustomerSlot::Empty => {
                    let owner = uuid::Uuid::new_v4().to_string();
                    if !self
                        .store
                        .lease_customer(identity, &owner, LEASE_SECS)
                        .await?
                    {
                        continue;
                    }
                    let known = slot != CustomerSlot::Empty;
                    match self.open(message, identity, &owner, known).await {
                        Ok(Some(customer)) => return Ok(customer),
                        // The lease ran out and another request took it: post into theirs.
                        Ok(None) => continue,
                        Err(err) => {
                            // Let the next message (or the sender's retry) try again at once.
                            if let Err(err) = self.store.release_lease(identity, &owner).await {
                                tracing::warn!(error = %err, "could not release lease");
                            }
                            return Err(err);
                        }
                    }
                }
            }
        }
        Err(BridgeError::Busy)
    }

    /// Sets up a conversation in Twilio and records it; only the lease holder gets here. The
    /// set-up has a deadline shorter than the lease, so no second request can take the lease
    /// while this one still works; whatever stops it (an error, the deadline, a lease lost all
    /// the same) closes the conversation it created, so none is left without its record.
    /// `Ok(None)`: the lease was lost.
    async fn open(
        &self,
        message: &CustomerMessage,
        identity: &str,
        owner: &str,
        known: bool,
    ) -> Result<Option<Customer>, BridgeError> {
        let mut created = None;
        let set_up = tokio::time::timeout(
            self.settings.set_up_deadline,
            self.find_or_create(message, identity, known, &mut created),
        )
        .await;
        let recorded = match set_up {
            Ok(Ok(sid)) => {
                let customer = Customer {
                    identity: identity.to_owned(),
                    platform: message.platform,
                    address: message.address.clone(),
                    conversation_sid: sid,
                    handle: message.handle.clone(),
                    quick_replies: Vec::new(),
                };
                match self.store.open_conversation(&customer, owner).await {
                    Ok(true) => Ok(Some(customer)),
                    // Refused: the lease was lost, or the write went through and only its answer
                    // was lost (the SDK's retry of it is then refused). Only the record tells.
                    Ok(false) => match self.store.customer(identity).await {
                        Ok(CustomerSlot::Open(found))
                            if found.conversation_sid == customer.conversation_sid =>
                        {
                            Ok(Some(found))
                        }
                        Ok(_) => Ok(None),
                        Err(err) => Err(err.into()),
                    },
                    Err(err) => Err(err.into()),
                }
            }
            Ok(Err(err)) => Err(err),
            Err(_) => Err(BridgeError::Deadline),
        };
        match (&recorded, created) {
            (Ok(Some(customer)), _) => {
                tracing::info!(conversation_sid = %customer.conversation_sid, event_id = %message.event_id, "conversation opened");
            }
            (_, Some(sid)) => self.close_unrecorded(&sid).await,
            _ => {}
        }
        recorded
    }

    /// The conversation to open: one left open in Twilio (only asked for a customer the store
    /// has never seen), or a new one. `created` holds a new one's SID as soon as Twilio made it.
    async fn find_or_create(
        &self,
        message: &CustomerMessage,
        identity: &str,
        known: bool,
        created: &mut Option<ConversationSid>,
    ) -> Result<ConversationSid, BridgeError> {
        if !known {
            if let Some(sid) = self.find_open_in_twilio(identity).await? {
                return Ok(sid);
            }
        }
        let sid = self.create_in_twilio(message, identity).await?;
        *created = Some(sid.clone());
        self.set_up(&sid).await?;
        Ok(sid)
    }

    /// Closes a conversation this request created but could not record, so no one reuses it
    /// (it may lack its webhooks) and it does not linger open in Flex.
    async fn close_unrecorded(&self, sid: &str) {
        match self.twilio.set_state(sid, "closed").await {
            Ok(()) => {
                tracing::warn!(conversation_sid = %sid, "closed a conversation that could not be recorded")
            }
            Err(err) => {
                tracing::error!(conversation_sid = %sid, error = %err, "could not close a conversation that could not be recorded")
            }
        }
    }

    /// A bridge conversation still open in Twilio though the store has none (a restored
    /// table): reuse it rather than open a second one.
    async fn find_open_in_twilio(
        &self,
        identity: &str,
    ) -> Result<Option<ConversationSid>, BridgeError> {
        let found = self.twilio.participant_conversations(identity).await?;
        Ok(found
            .into_iter()
            .find(|c| {
                c.conversation_state.as_deref() != Some("closed")
                    && c.conversation_attributes.as_deref().is_some_and(is_ours)
            })
            .map(|c| c.conversation_sid))
    }

    /// The conversation with the customer as its participant, in one call.
    async fn create_in_twilio(
        &self,
        message: &CustomerMessage,
        identity: &str,
    ) -> Result<ConversationSid, BridgeError> {
        let platform = message.platform;
        let handle = message.handle.as_deref().unwrap_or(identity);
        let attributes = conversation_attributes(platform, identity, message.handle.as_deref());
        let participant = json!({"platform": platform, "handle": message.handle});
        let friendly_name = format!("{} {}", platform.display_name(), handle);
        let conversation = self
            .twilio
            .create_conversation(&NewConversation {
                friendly_name: &friendly_name,
                attributes: &attributes,
                identity,
                participant_attributes: &participant,
                close_after: &self.settings.close_after,
            })
            .await?;
        Ok(conversation.sid.into())
    }

    /// The conversation's webhooks: the agent's side, its state, and who answers first.
    async fn set_up(&self, sid: &str) -> Result<(), BridgeError> {
        let outbound = self.settings.public_url.route(FLEX_OUTBOUND_PATH);
        self.twilio
            .add_webhook(
                sid,
                &ScopedWebhook::Url {
                    url: &outbound,
                    filters: &["onMessageAdded", "onParticipantAdded"],
                },
            )
            .await?;
        let updated = self.settings.public_url.route(CHANNEL_UPDATED_PATH);
        self.twilio
            .add_webhook(
                sid,
                &ScopedWebhook::Url {
                    url: &updated,
                    filters: &["onConversationStateUpdated"],
                },
            )
            .await?;
        match &self.settings.routing {
            Routing::Studio { flow_sid } => {
                self.twilio
                    .add_webhook(sid, &ScopedWebhook::Studio { flow_sid })
                    .await?
            }
            // The chatbot answers (`bot`) or hands off at the first message (`agent`).
            Routing::Bot(_) | Routing::Agent(_) => {
                let chatbot = self.settings.public_url.route(CHATBOT_PATH);
                self.twilio
                    .add_webhook(
                        sid,
                        &ScopedWebhook::Url {
                            url: &chatbot,
                            filters: &["onMessageAdded"],
                        },
                    )
                    .await?
            }
        }
        Ok(())
    }
}
