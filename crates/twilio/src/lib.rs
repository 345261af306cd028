//! Twilio: the Conversations API subset Flex Bridge calls, webhook signatures and webhook events.
//!
//! Requests are form-encoded with the exact field names of Twilio's Conversations v1 OpenAPI
//! spec (`Timers.Closed`, `Configuration.Filters`, ...); repeated fields are sent once per value.

pub mod events;
pub mod media;
pub mod signature;

use flex_bridge_core::{config, retry};

use flex_bridge_core::ids::ConversationSid;
use serde::Deserialize;

use crate::config::{schema as vars, Env, Secret};

pub use crate::config::is_sid;
use crate::retry::{HttpError, RetryPolicy};

pub const DEFAULT_CONVERSATIONS_URL: &str = vars::TWILIO_CONVERSATIONS_URL.default_value();
pub const DEFAULT_FLEX_URL: &str = vars::TWILIO_FLEX_URL.default_value();
pub const DEFAULT_TASKROUTER_URL: &str = vars::TWILIO_TASKROUTER_URL.default_value();

/// The header that makes a REST-posted message fire webhooks (and so run Studio), as an SDK
/// client's would.
pub const WEBHOOK_ENABLED_HEADER: &str = "X-Twilio-Webhook-Enabled";

/// Twilio error 50377: the conversation is closed and takes no more messages.
pub const CONVERSATION_CLOSED: u64 = 50377;

/// The Twilio error code in a refusal's body (`{"code": 50377, ...}`), if any.
pub fn error_code(err: &HttpError) -> Option<u64> {
    serde_json::from_str::<serde_json::Value>(&err.detail)
        .ok()?
        .get("code")?
        .as_u64()
}

#[derive(Clone, Debug)]
pub struct TwilioConfig {
    pub account_sid: String,
    pub auth_token: Secret,
    pub conversations_url: String,
    /// The Interactions API's host (`TWILIO_FLEX_URL`).
    pub flex_url: String,
    /// TaskRouter's host (`TWILIO_TASKROUTER_URL`), to find a task after an ambiguous failure.
    pub taskrouter_url: String,
}

impl TwilioConfig {
    pub fn from_env(env: &mut Env) -> Self {
        Self {
            account_sid: env.required(&vars::TWILIO_ACCOUNT_SID),
            auth_token: env.secret(&vars::TWILIO_AUTH_TOKEN),
            conversations_url: env.required(&vars::TWILIO_CONVERSATIONS_URL),
            flex_url: env.required(&vars::TWILIO_FLEX_URL),
            taskrouter_url: env.required(&vars::TWILIO_TASKROUTER_URL),
        }
    }

    /// Every API at one base URL (the sandbox).
    pub fn at(base_url: &str, account_sid: &str, auth_token: Secret) -> Self {
        let base = base_url.trim_end_matches('/').to_owned();
        Self {
            account_sid: account_sid.to_owned(),
            auth_token,
            conversations_url: base.clone(),
            flex_url: base.clone(),
            taskrouter_url: base,
        }
    }
}

#[derive(Clone, Debug)]
pub struct TwilioClient {
    http: reqwest::Client,
    config: TwilioConfig,
    retry: RetryPolicy,
}

#[derive(Debug, Deserialize)]
pub struct Conversation {
    pub sid: String,
    #[serde(default)]
    pub state: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Message {
    pub sid: String,
}

/// A message as the Conversations API lists it (the fields a transcript needs).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ConversationMessage {
    pub sid: String,
    #[serde(default)]
    pub index: u64,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    /// ISO 8601, as Twilio writes it.
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub attributes: Option<String>,
    /// The files the message carries, by name.
    #[serde(default)]
    pub media: Option<Vec<MessageMedia>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct MessageMedia {
    #[serde(default)]
    pub sid: Option<String>,
    #[serde(default)]
    pub filename: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
}

/// One page of `GET /v1/Conversations/{Sid}/Messages`.
#[derive(Debug, Deserialize)]
pub struct MessagePage {
    pub messages: Vec<ConversationMessage>,
    pub meta: PageMeta,
}

#[derive(Debug, Deserialize)]
pub struct PageMeta {
    #[serde(default)]
    pub next_page_url: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ParticipantConversation {
    pub conversation_sid: ConversationSid,
    #[serde(default)]
    pub conversation_state: Option<String>,
    #[serde(default)]
    pub conversation_attributes: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ParticipantConversationPage {
    conversations: Vec<ParticipantConversation>,
}

/// A Flex interaction as created: its SID and the task's.
#[derive(Debug, Deserialize)]
pub struct Interaction {
    pub sid: String,
}

#[derive(Debug, Deserialize)]
struct TaskPage {
    tasks: Vec<Task>,
}

#[derive(Debug, Deserialize)]
pub struct Task {
    pub sid: String,
}

/// A Flex task for a conversation, created with the Interactions API.
#[derive(Debug)]
pub struct NewInteraction<'a> {
    pub conversation_sid: &'a str,
    pub workspace_sid: &'a str,
    pub workflow_sid: &'a str,
    /// The task's attributes (customer name and address, channel, case id, ...).
    pub attributes: &'a serde_json::Value,
}

/// What a new conversation is created with.
#[derive(Debug)]
pub struct NewConversation<'a> {
    pub friendly_name: &'a str,
    pub attributes: &'a serde_json::Value,
    /// The customer, its only participant at creation.
    pub identity: &'a str,
    pub participant_attributes: &'a serde_json::Value,
    /// ISO 8601 duration after which Twilio closes an idle conversation, e.g. `PT24H`.
    pub close_after: &'a str,
}

/// A message to post. `webhooks` decides `X-Twilio-Webhook-Enabled`.
#[derive(Debug)]
pub struct NewMessage<'a> {
    pub author: &'a str,
    pub body: &'a str,
    pub attributes: Option<&'a serde_json::Value>,
    pub webhooks: bool,
}

/// A conversation-scoped webhook.
#[derive(Debug)]
pub enum ScopedWebhook<'a> {
    Url {
        url: &'a str,
        filters: &'a [&'a str],
    },
    Studio {
        flow_sid: &'a str,
    },
}

impl TwilioClient {
    pub fn new(http: reqwest::Client, config: TwilioConfig) -> Self {
        Self {
            http,
            config,
            retry: RetryPolicy::default(),
        }
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    async fn post_form<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        form: &[(&str, String)],
        webhook_enabled: Option<bool>,
    ) -> Result<T, HttpError> {
        let url = format!("{}{}", self.config.conversations_url, path);
        self.post_form_to(&url, form, webhook_enabled, &self.retry)
            .await
    }

    async fn post_form_to<T: for<'de> Deserialize<'de>>(
        &self,
        url: &str,
        form: &[(&str, String)],
        webhook_enabled: Option<bool>,
        retry: &RetryPolicy,
    ) -> Result<T, HttpError> {
        let response = retry
            .send("twilio", || {
                let mut request = self
                    .http
                    .post(url)
                    .basic_auth(
                        &self.config.account_sid,
                        Some(self.config.auth_token.expose()),
                    )
                    .form(form);
                if let Some(enabled) = webhook_enabled {
                    request = request.header(WEBHOOK_ENABLED_HEADER, enabled.to_string());
                }
                request
            })
            .await?;
        decode(response).await
    }

    async fn get_query<T: for<'de> Deserialize<'de>>(
        &self,
        url: &str,
        query: &[(&str, &str)],
    ) -> Result<T, HttpError> {
        let response = self
            .retry
            .send("twilio", || {
                self.http
                    .get(url)
                    .basic_auth(
                        &self.config.account_sid,
                        Some(self.config.auth_token.expose()),
                    )
                    .query(query)
            })
            .await?;
        decode(response).await
    }

    /// `POST /v1/Conversations`
    /// `POST /v1/ConversationWithParticipants`: the conversation and its customer, a chat
    /// participant with `identity`, in one call.
    pub async fn create_conversation(
        &self,
        new: &NewConversation<'_>,
    ) -> Result<Conversation, HttpError> {
        let participant = serde_json::json!({
            "identity": new.identity,
            "attributes": new.participant_attributes.to_string(),
        });
        let form = [
            ("FriendlyName", new.friendly_name.to_owned()),
            ("Attributes", new.attributes.to_string()),
            ("Timers.Closed", new.close_after.to_owned()),
            ("Participant", participant.to_string()),
        ];
        self.post_form("/v1/ConversationWithParticipants", &form, None)
            .await
    }

    /// `POST /v1/Conversations/{ConversationSid}/Webhooks`
    pub async fn add_webhook(
        &self,
        conversation_sid: &str,
        webhook: &ScopedWebhook<'_>,
    ) -> Result<(), HttpError> {
        let form: Vec<(&str, String)> = match webhook {
            ScopedWebhook::Url { url, filters } => {
                let mut form = vec![
                    ("Target", "webhook".to_owned()),
                    ("Configuration.Url", (*url).to_owned()),
                    ("Configuration.Method", "post".to_owned()),
                ];
                form.extend(
                    filters
                        .iter()
                        .map(|f| ("Configuration.Filters", (*f).to_owned())),
                );
                form
            }
            ScopedWebhook::Studio { flow_sid } => vec![
                ("Target", "studio".to_owned()),
                ("Configuration.FlowSid", (*flow_sid).to_owned()),
                ("Configuration.Filters", "onMessageAdded".to_owned()),
            ],
        };
        let path = format!("/v1/Conversations/{conversation_sid}/Webhooks");
        self.post_form::<serde_json::Value>(&path, &form, None)
            .await
            .map(drop)
    }

    /// `POST /v1/Conversations/{ConversationSid}/Messages`
    pub async fn post_message(
        &self,
        conversation_sid: &str,
        message: &NewMessage<'_>,
    ) -> Result<Message, HttpError> {
        let mut form = vec![
            ("Author", message.author.to_owned()),
            ("Body", message.body.to_owned()),
        ];
        if let Some(attributes) = message.attributes {
            form.push(("Attributes", attributes.to_string()));
        }
        let path = format!("/v1/Conversations/{conversation_sid}/Messages");
        self.post_form(&path, &form, Some(message.webhooks)).await
    }

    /// `POST /v1/Conversations/{Sid}` with `State`.
    pub async fn set_state(&self, conversation_sid: &str, state: &str) -> Result<(), HttpError> {
        let path = format!("/v1/Conversations/{conversation_sid}");
        self.post_form::<Conversation>(&path, &[("State", state.to_owned())], None)
            .await
            .map(drop)
    }

    /// One page of a conversation's messages, oldest first (`GET
    /// /v1/Conversations/{Sid}/Messages`, 100 a page, Twilio's maximum). `next`: the previous
    /// page's `meta.next_page_url`, absolute, as Twilio gives it; `None` for the first page. A
    /// long conversation is read page by page, never whole.
    pub async fn message_page(
        &self,
        conversation_sid: &str,
        next: Option<&str>,
    ) -> Result<MessagePage, HttpError> {
        match next {
            // Only a page of this API: the URL comes from Twilio's answer, and the account's
            // credentials must not follow it elsewhere.
            Some(url) if url.starts_with(&self.config.conversations_url) => {
                self.get_query(url, &[]).await
            }
            Some(url) => Err(HttpError::unsent(
                "twilio",
                format!("next page {url:?} is not on the Conversations API"),
            )),
            None => {
                let url = format!(
                    "{}/v1/Conversations/{conversation_sid}/Messages",
                    self.config.conversations_url
                );
                self.get_query(&url, &[("Order", "asc"), ("PageSize", "100")])
                    .await
            }
        }
    }

    /// `GET /v1/ParticipantConversations?Identity=...`: the conversations a customer is in.
    pub async fn participant_conversations(
        &self,
        identity: &str,
    ) -> Result<Vec<ParticipantConversation>, HttpError> {
        let url = format!(
            "{}/v1/ParticipantConversations",
            self.config.conversations_url
        );
        let page: ParticipantConversationPage = self
            .get_query(&url, &[("Identity", identity), ("PageSize", "50")])
            .await?;
        Ok(page.conversations)
    }

    /// `POST /v1/Conversations/{Sid}` with `Attributes` (they are replaced whole).
    pub async fn set_attributes(
        &self,
        conversation_sid: &str,
        attributes: &serde_json::Value,
    ) -> Result<(), HttpError> {
        let path = format!("/v1/Conversations/{conversation_sid}");
        self.post_form::<Conversation>(&path, &[("Attributes", attributes.to_string())], None)
            .await
            .map(drop)
    }

    /// `POST https://flex-api.twilio.com/v1/Interactions`: a Flex task for the conversation
    /// (`Channel` and `Routing` are JSON in form fields, as the Flex v1 spec says). Sent once,
    /// never retried here: after a 5xx the task may exist, so the caller looks for it with
    /// [`Self::tasks_for_conversation`] before trying again.
    pub async fn create_interaction(
        &self,
        new: &NewInteraction<'_>,
    ) -> Result<Interaction, HttpError> {
        let channel = serde_json::json!({
            "type": "chat",
            "initiated_by": "customer",
            "properties": {"media_channel_sid": new.conversation_sid},
        });
        let routing = serde_json::json!({
            "properties": {
                "workspace_sid": new.workspace_sid,
                "workflow_sid": new.workflow_sid,
                "task_channel_unique_name": "chat",
                "attributes": new.attributes,
            }
        });
        let url = format!("{}/v1/Interactions", self.config.flex_url);
        let form = [
            ("Channel", channel.to_string()),
            ("Routing", routing.to_string()),
        ];
        let once = RetryPolicy {
            attempts: 1,
            ..self.retry
        };
        self.post_form_to(&url, &form, None, &once).await
    }

    /// `GET https://taskrouter.twilio.com/v1/Workspaces/{WS}/Tasks` with
    /// `EvaluateTaskAttributes=conversationSid == "CH…"`: the tasks Flex has for a conversation.
    pub async fn tasks_for_conversation(
        &self,
        workspace_sid: &str,
        conversation_sid: &str,
    ) -> Result<Vec<Task>, HttpError> {
        let url = format!(
            "{}/v1/Workspaces/{workspace_sid}/Tasks",
            self.config.taskrouter_url
        );
        let expression = format!("conversationSid == \"{conversation_sid}\"");
        let page: TaskPage = self
            .get_query(
                &url,
                &[("EvaluateTaskAttributes", &expression), ("PageSize", "20")],
            )
            .await?;
        Ok(page.tasks)
    }
}

async fn decode<T: for<'de> Deserialize<'de>>(response: reqwest::Response) -> Result<T, HttpError> {
    let status = response.status();
    response.json::<T>().await.map_err(|err| HttpError {
        service: "twilio",
        status: Some(status),
        retry_after: None,
        detail: format!("unexpected response body: {err}"),
        unsent: false,
    })
}
