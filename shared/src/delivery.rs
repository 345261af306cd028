//! The outbound-delivery queue consumer: tells customers what agents wrote, who joined, and that
//! the chat ended, in order per conversation.
//!
//! A message that fails for a passing reason (429, 5xx, timeout) is reported as a batch item
//! failure, and so is every later message of its conversation in the batch, so SQS FIFO retries
//! them in order. A refusal (the customer blocks DMs, say) will not get better: the agent gets a
//! note in the conversation at once. A passing failure that reaches the queue's last attempt also
//! leaves a note, and the message goes on to the DLQ.

use std::sync::Arc;

use serde_json::json;

use crate::bot::{handoff, replies};
use crate::cases::Case;
use crate::config::{ConfigError, Env};
use crate::discord::messages as discord_messages;
use crate::discord::{is_dms_closed, DiscordApiConfig, DiscordClient};
use crate::flex::BRIDGE_ATTRIBUTE;
use crate::lambda::{aws_config, http_client};
use crate::queue::{process_in_order, OutboundJob, OutboundKind, QueueRecord};
use crate::quick_replies;
use crate::retry::HttpError;
use crate::store::{Customer, DynamoStore, Platform, Store};
use crate::twilio::{NewMessage, TwilioClient, TwilioConfig};
use crate::x::{split_for_dm, XApiConfig, XClient};

pub const DISCORD_CHAT_ENDED_TEXT: &str =
    "This chat has ended. Thanks for reaching out! Use /helpme any time to start a new one.";
pub const CHAT_ENDED_TEXT: &str =
    "This chat has ended. Thanks for reaching out! Send us a message any time to start a new one.";
const DELIVERED_TTL_SECS: i64 = 7 * 24 * 3600;
/// Longer than one invocation (the function's timeout), shorter than the queue's visibility
/// timeout: a retry after a killed invocation finds the claim lapsed and delivers.
const IN_PROGRESS_SECS: i64 = 90;
/// How long "this agent's joining was announced" is remembered (a conversation's lifetime).
const JOINED_TTL_SECS: i64 = 30 * 24 * 3600;

pub struct Delivery {
    pub store: Arc<dyn Store>,
    pub twilio: TwilioClient,
    pub x: Option<XClient>,
    pub discord: Option<DiscordClient>,
    /// The queue's `maxReceiveCount`: on that attempt a failure is also noted for the agent.
    pub max_receives: u32,
}

#[derive(Debug, thiserror::Error)]
enum DeliveryError {
    #[error("{0}")]
    Remote(#[from] HttpError),
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
    #[error("{0} delivery is not configured in this deployment")]
    NotConfigured(&'static str),
    #[error("{0}")]
    Handoff(#[from] handoff::HandoffError),
    #[error("the customer's Discord DMs are closed (Discord error 50007); ask them to allow DMs from the server and use /reply")]
    DmsClosed,
}

impl DeliveryError {
    fn is_transient(&self) -> bool {
        match self {
            DeliveryError::Remote(e) => e.is_transient(),
            DeliveryError::Store(_) => true,
            DeliveryError::Handoff(e) => e.is_transient(),
            DeliveryError::NotConfigured(_) | DeliveryError::DmsClosed => false,
        }
    }
}

fn dms_closed_or_remote(err: HttpError) -> DeliveryError {
    if is_dms_closed(&err) {
        DeliveryError::DmsClosed
    } else {
        DeliveryError::Remote(err)
    }
}

/// A job telling a case's reporter `text` on their platform, through the durable lane (an
/// outage delays it, never drops it). `key` makes the job unique (and its retries one).
pub fn case_update_job(case: &Case, key: &str, text: String) -> Option<OutboundJob> {
    let (platform, user_id) = case.reporter.split_once('-')?;
    let platform = match platform {
        "x" => Platform::X,
        "discord" => Platform::Discord,
        _ => return None,
    };
    Some(OutboundJob {
        id: format!("case-{}-{key}", case.id),
        customer: Customer {
            identity: case.reporter.clone(),
            platform,
            address: user_id.to_owned(),
            conversation_sid: case.id.clone(),
            handle: None,
            quick_replies: Vec::new(),
        },
        kind: OutboundKind::CaseUpdate { text },
    })
}

/// The Discord message(s) for what the customer is told.
fn discord_pieces(kind: &OutboundKind) -> Vec<discord_messages::OutgoingMessage> {
    match kind {
        OutboundKind::AgentMessage { body, .. } => discord_messages::agent_message(body),
        OutboundKind::AgentJoined { name, .. } => {
            discord_messages::notice(&format!("{name} joined the chat."))
        }
        OutboundKind::ChatEnded => discord_messages::notice(DISCORD_CHAT_ENDED_TEXT),
        OutboundKind::BotAnswer { suggestions } => discord_messages::bot_answer(suggestions),
        OutboundKind::Notice { text }
        | OutboundKind::Transcript { body: text, .. }
        | OutboundKind::CaseUpdate { text } => discord_messages::notice(text),
        OutboundKind::Handoff { .. } => Vec::new(),
    }
}

impl Delivery {
    /// Everything `outbound-delivery` needs, built once per cold start.
    pub async fn from_env(mut env: Env) -> Result<Self, ConfigError> {
        let table = env.required("TABLE_NAME");
        let twilio = TwilioConfig::from_env(&mut env);
        // A deployment may serve X, Discord or both: a platform is configured when its first
        // credential is set, and then all of its variables are required.
        let x = env
            .optional("X_CONSUMER_KEY")
            .map(|_| XApiConfig::from_env(&mut env));
        let discord = env
            .optional("DISCORD_BOT_TOKEN")
            .map(|_| DiscordApiConfig::from_env(&mut env));
        let max_receives = env.or_default("DELIVERY_MAX_RECEIVES", "5");
        env.finish()?;
        let max_receives = max_receives.parse().map_err(|_| ConfigError::Invalid {
            name: "DELIVERY_MAX_RECEIVES",
            reason: "expected a whole number".into(),
        })?;
        let aws = aws_config().await;
        let http = http_client();
        Ok(Self {
            store: Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), table)),
            twilio: TwilioClient::new(http.clone(), twilio),
            x: x.map(|config| XClient::new(http.clone(), config)),
            discord: discord.map(|config| DiscordClient::new(http.clone(), config)),
            max_receives,
        })
    }

    /// Handles one SQS batch; returns the message ids to report as `batchItemFailures`.
    pub async fn handle_batch(&self, records: Vec<QueueRecord>) -> Vec<String> {
        process_in_order(records, |record| async move { self.handle(&record).await }).await
    }

    /// `true` when the record is done with (delivered, duplicate, or noted as undeliverable).
    async fn handle(&self, record: &QueueRecord) -> bool {
        let job: OutboundJob = match serde_json::from_str(&record.body) {
            Ok(job) => job,
            Err(err) => {
                // Not ours to fix by retrying, but kept: it goes on to the DLQ for a person.
                tracing::error!(message_id = %record.message_id, error = %err, "malformed delivery job");
                return false;
            }
        };
        let span = tracing::info_span!("deliver", conversation_sid = %job.customer.conversation_sid, job = %job.id, attempt = record.receive_count);
        let _entered = span.enter();
        let key = format!("delivered#{}", job.id);
        match self.store.claim_event(&key, IN_PROGRESS_SECS).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::info!("already delivered");
                return true;
            }
            Err(err) => {
                tracing::error!(error = %err, "dedupe claim failed");
                return false;
            }
        }
        match self.deliver(&job).await {
            Ok(()) => {
                tracing::info!("delivered to the customer");
                if let Err(err) = self.store.confirm_event(&key, DELIVERED_TTL_SECS).await {
                    // Delivered all the same; only a duplicate arriving later could repeat it.
                    tracing::warn!(error = %err, "could not confirm the delivery record");
                }
                true
            }
            Err(err) => {
                if let Err(release) = self.store.release_event(&key).await {
                    tracing::error!(error = %release, "could not release the delivery claim");
                }
                let last_attempt = record.receive_count >= self.max_receives;
                tracing::warn!(error = %err, transient = err.is_transient(), last_attempt, "delivery failed");
                if !err.is_transient() || last_attempt {
                    self.note_failure(&job, &err, last_attempt && err.is_transient())
                        .await;
                }
                !err.is_transient()
            }
        }
    }

    async fn deliver(&self, job: &OutboundJob) -> Result<(), DeliveryError> {
        let sid = &job.customer.conversation_sid;
        match &job.kind {
            OutboundKind::Transcript { author, body } => {
                let attributes = json!({ BRIDGE_ATTRIBUTE: { "bot": true } });
                self.twilio
                    .post_message(
                        sid,
                        &NewMessage {
                            author,
                            body,
                            attributes: Some(&attributes),
                            webhooks: false,
                        },
                    )
                    .await?;
                Ok(())
            }
            OutboundKind::Handoff { routing, case_id } => {
                handoff::hand_off(
                    &self.twilio,
                    self.store.as_ref(),
                    &job.customer,
                    routing,
                    case_id.as_deref(),
                )
                .await?;
                Ok(())
            }
            OutboundKind::AgentJoined { identity, .. } => {
                self.announce_once(job, identity, |job| self.send(job, &job.kind))
                    .await
            }
            OutboundKind::AgentMessage { author, .. } => {
                // Flex may add the agent without a conversation-scoped webhook: then the
                // first message of each agent says who joined.
                let joined = OutboundJob {
                    id: format!("{}-joined", job.id),
                    customer: job.customer.clone(),
                    kind: OutboundKind::AgentJoined {
                        name: "An agent".into(),
                        identity: author.clone(),
                    },
                };
                self.announce_once(&joined, author, |joined| self.send(joined, &joined.kind))
                    .await?;
                self.send(job, &job.kind).await
            }
            _ => self.send(job, &job.kind).await,
        }
    }

    /// Sends the joined notice `job` unless one went out for this agent in this conversation.
    async fn announce_once<'a, F, Fut>(
        &self,
        job: &'a OutboundJob,
        identity: &str,
        send: F,
    ) -> Result<(), DeliveryError>
    where
        F: FnOnce(&'a OutboundJob) -> Fut,
        Fut: std::future::Future<Output = Result<(), DeliveryError>>,
    {
        if identity.is_empty() {
            return send(job).await;
        }
        let key = format!("joined#{}#{identity}", job.customer.conversation_sid);
        if !self.store.claim_event(&key, JOINED_TTL_SECS).await? {
            tracing::info!("the customer was already told this agent joined");
            return Ok(());
        }
        let sent = send(job).await;
        if sent.is_err() {
            self.store.release_event(&key).await?;
        }
        sent
    }

    /// Tells the customer on their platform.
    async fn send(&self, job: &OutboundJob, kind: &OutboundKind) -> Result<(), DeliveryError> {
        match job.customer.platform {
            Platform::X => {
                let x = self.x.as_ref().ok_or(DeliveryError::NotConfigured("X"))?;
                let text = self.x_text(job, kind).await?;
                for piece in split_for_dm(&text) {
                    x.send_dm(&job.customer.address, &piece).await?;
                }
                Ok(())
            }
            Platform::Discord => {
                let discord = self
                    .discord
                    .as_ref()
                    .ok_or(DeliveryError::NotConfigured("Discord"))?;
                let channel = match kind {
                    // Opening a DM channel that is open already returns the same channel.
                    OutboundKind::CaseUpdate { .. } => discord
                        .open_dm(&job.customer.address)
                        .await
                        .map_err(dms_closed_or_remote)?,
                    _ => job.customer.address.clone(),
                };
                for (n, piece) in discord_pieces(kind).into_iter().enumerate() {
                    // The nonce makes a retried send after a lost answer post nothing new.
                    let piece = piece.with_nonce(&format!("{}-{n}", job.id));
                    discord
                        .send_message(&channel, &piece)
                        .await
                        .map_err(dms_closed_or_remote)?;
                }
                Ok(())
            }
        }
    }

    /// X has no buttons: quick replies and the bot's suggestions become a numbered list,
    /// remembered so a reply of `2` reaches Flex as option 2.
    async fn x_text(
        &self,
        job: &OutboundJob,
        kind: &OutboundKind,
    ) -> Result<String, DeliveryError> {
        Ok(match kind {
            OutboundKind::AgentMessage { body, .. } => {
                let message = quick_replies::parse(body);
                self.store
                    .set_quick_replies(&job.customer, &quick_replies::labels(&message))
                    .await?;
                quick_replies::numbered_list(&message)
            }
            OutboundKind::BotAnswer { suggestions } => {
                self.store
                    .set_quick_replies(&job.customer, &replies::option_labels(suggestions))
                    .await?;
                replies::answer_text(suggestions)
            }
            OutboundKind::AgentJoined { name, .. } => format!("{name} joined the chat."),
            OutboundKind::ChatEnded => CHAT_ENDED_TEXT.to_owned(),
            OutboundKind::Notice { text }
            | OutboundKind::Transcript { body: text, .. }
            | OutboundKind::CaseUpdate { text } => text.clone(),
            OutboundKind::Handoff { .. } => String::new(),
        })
    }

    /// Tells the agent, inside the conversation, that the customer did not get a message.
    /// Posted without webhooks, and marked, so it never loops back into delivery.
    async fn note_failure(&self, job: &OutboundJob, err: &DeliveryError, to_dlq: bool) {
        let OutboundKind::AgentMessage { body, .. } = &job.kind else {
            return; // notices are ours; the agent need not hear about them
        };
        let excerpt: String = body.chars().take(120).collect();
        let platform = job.customer.platform.display_name();
        let outcome = if to_dlq {
            "kept in the dead-letter queue for replay"
        } else {
            "not retried"
        };
        let note = format!("⚠️ Not delivered to the customer on {platform}: {err} ({outcome}). Message: \"{excerpt}\"");
        let attributes = json!({ BRIDGE_ATTRIBUTE: { "delivery_failed": job.id } });
        let result = self
            .twilio
            .post_message(
                &job.customer.conversation_sid,
                &NewMessage {
                    author: "Flex Bridge",
                    body: &note,
                    attributes: Some(&attributes),
                    webhooks: false,
                },
            )
            .await;
        if let Err(err) = result {
            tracing::error!(error = %err, "could not post the delivery-failure note");
        }
    }
}
