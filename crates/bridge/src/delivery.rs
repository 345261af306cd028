//! The outbound-delivery queue consumer: tells customers what agents wrote, who joined, and that
//! the chat ended, in order per conversation.
//!
//! A message that fails for a passing reason (429, 5xx, timeout) is reported as a batch item
//! failure, and so is every later message of its conversation in the batch, so SQS FIFO retries
//! them in order. A refusal (the customer blocks DMs, say) will not get better: the agent gets a
//! note in the conversation at once. A passing failure that reaches the queue's last attempt also
//! leaves a note, and the message goes on to the DLQ.

use std::sync::Arc;

use tracing::Instrument;

use serde_json::json;

use crate::bot::{handoff, replies};
use crate::cases::{self, views, Case, CaseError, CaseId};
use crate::discord::media::{OutgoingFile, DEFAULT_ATTACHMENT_SIZE_LIMIT};
use crate::discord::messages as discord_messages;
use crate::discord::worker::closed_dms;
use crate::discord::{is_dms_closed, DiscordClient};
use crate::flex::{self, BRIDGE_ATTRIBUTE};
use crate::idempotency::{Key, Once, Outcome, STEP};
use crate::metrics;
use crate::now_epoch;
use crate::queue::AgentFile;
use crate::queue::{process_in_order, Handled, OutboundJob, OutboundKind, QueueRecord};
use crate::quick_replies;
use crate::retry::HttpError;
use crate::store::{Customer, Platform, Store};
use crate::transcripts::{Transcript, TranscriptStore};
use crate::twilio::media::MediaClient;
use crate::twilio::{NewMessage, TwilioClient};
use crate::x::budget::{self, Decision, Priority, Standing};
use crate::x::media::{DmMediaCategory, XMediaClient, XMediaError};
use crate::x::{split_for_dm, XClient};

pub const DISCORD_CHAT_ENDED_TEXT: &str =
    "This chat has ended. Thanks for reaching out! Use /helpme any time to start a new one.";
pub const CHAT_ENDED_TEXT: &str =
    "This chat has ended. Thanks for reaching out! Send us a message any time to start a new one.";
/// A job is claimed for longer than one invocation (the function's timeout) and shorter than
/// the queue's visibility timeout, so a retry after a killed invocation finds the claim lapsed
/// and delivers; once delivered it is kept for a week.
const DELIVER_ONCE: Once = Once {
    claim_secs: 90,
    keep_secs: 7 * 24 * 3600,
};
/// How long "this agent's joining was announced" is remembered (a conversation's lifetime).
const JOINED_TTL_SECS: i64 = 30 * 24 * 3600;

pub struct Delivery {
    pub store: Arc<dyn Store>,
    pub twilio: TwilioClient,
    pub x: Option<XClient>,
    /// Uploads agents' files to X (with the brand's credentials), when X is served.
    pub x_media: Option<XMediaClient>,
    pub discord: Option<DiscordClient>,
    /// The Media Content Service agents' files are fetched from (`TWILIO_CHAT_SERVICE_SID`);
    /// without it a file is noted as not delivered.
    pub media: Option<MediaClient>,
    /// The queue's `maxReceiveCount`: on that attempt a failure is also noted for the agent.
    pub max_receives: u32,
    /// Where a support case's transcript is kept when its conversation closes
    /// (`TRANSCRIPTS_BUCKET`); none, none is kept.
    pub transcripts: Option<Arc<dyn TranscriptStore>>,
    /// `TRANSCRIPTS=send`: a Discord customer also gets the transcript in their DM.
    pub send_transcripts: bool,
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
    #[error("{0}")]
    XMedia(#[from] XMediaError),
    #[error("the customer's Discord DMs are closed (Discord error 50007): this and later messages are not sent to them, nor noted again, until {} UTC, unless they allow DMs from the server and use /helpme", crate::calendar::UtcDateTime::from_epoch(*until).to_minute())]
    DmsClosed { until: i64 },
    #[error("X's DM limit for the brand account is reached: this and later messages to the customer wait on the queue and go out at {} UTC, when X takes DMs again; nothing is lost", crate::calendar::UtcDateTime::from_epoch(*until).to_minute())]
    XBudgetSpent { until: i64 },
}

impl DeliveryError {
    fn is_transient(&self) -> bool {
        match self {
            DeliveryError::Remote(e) => e.is_transient(),
            DeliveryError::XMedia(e) => e.is_transient(),
            DeliveryError::Store(_) => true,
            // A customer waiting for a person must not be dropped: even a refusal (a wrong
            // workspace or workflow SID) is retried, then waits in the DLQ, whose alarm fires,
            // until the configuration is fixed and the job redriven.
            DeliveryError::Handoff(_) | DeliveryError::XBudgetSpent { .. } => true,
            DeliveryError::NotConfigured(_) | DeliveryError::DmsClosed { .. } => false,
        }
    }

    /// When to try again, if the remote said (epoch seconds); `None`: the usual back-off.
    fn retry_at(&self) -> Option<i64> {
        match self {
            // A long Discord wait, or the client's own hold: one receive waits it out.
            DeliveryError::Remote(e) => crate::discord::retry_at(e, now_epoch()),
            // X's DM budget: the job waits for its reset on the queue, in order, and is not
            // tried before then (no retry storm, no receives spent on back-off).
            DeliveryError::XBudgetSpent { until } => Some(*until),
            _ => None,
        }
    }
}

/// The note "this customer's Discord DMs are closed" is posted once per conversation and mark
/// (the mark's end is in its key): later messages are neither sent nor noted.
const DMS_CLOSED_NOTE: Once = Once {
    claim_secs: 90,
    keep_secs: closed_dms::MARK_SECS,
};

/// The note "X's DM limit is reached until …" is posted once per conversation and reset (the
/// reset is in its key), however many messages wait.
const X_BUDGET_NOTE: Once = Once {
    claim_secs: 90,
    keep_secs: 2 * 24 * 3600,
};

/// Whether a weighed DM went out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Weighed {
    Sent,
    /// Not sent, and done with: the budget is kept for what matters more.
    Dropped,
}

/// Why a weighed DM was not sent (yet).
#[derive(Debug)]
pub(crate) enum Unsent {
    /// X's DM budget is short: try again at this epoch second.
    Held {
        until: i64,
    },
    Store(crate::store::StoreError),
    Remote(HttpError),
}

impl From<Unsent> for DeliveryError {
    fn from(unsent: Unsent) -> Self {
        match unsent {
            Unsent::Held { until } => DeliveryError::XBudgetSpent { until },
            Unsent::Store(err) => err.into(),
            Unsent::Remote(err) => err.into(),
        }
    }
}

/// One DM on X to `participant_id`, weighed first against the brand's DM budget as X last
/// reported it (one read; see [`crate::x::budget`]); X's new report is kept when the budget is
/// short (one write), and X's 429 is kept as a refusal until the reset it names, so no other
/// Lambda asks X before then.
pub(crate) async fn send_weighed(
    store: &dyn Store,
    x: &XClient,
    participant_id: &str,
    text: &str,
    priority: Priority,
) -> Result<Weighed, Unsent> {
    send_weighed_with(store, priority, || x.send_dm(participant_id, text)).await
}

/// [`send_weighed`] for any one DM `send` makes (a text, or a file with its text).
pub(crate) async fn send_weighed_with<F, Fut>(
    store: &dyn Store,
    priority: Priority,
    send: F,
) -> Result<Weighed, Unsent>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<crate::x::SentDm, HttpError>>,
{
    let now = now_epoch();
    let stored = store.dm_budget().await.map_err(Unsent::Store)?;
    let standing = stored
        .as_ref()
        .map_or(Standing::Plenty, |budget| budget.standing(now));
    match budget::decide(standing, priority) {
        Decision::Send => {}
        Decision::Drop => {
            tracing::info!(?standing, ?priority, "not sent: X's DM budget is short");
            metrics::count("XDmsDropped", 1);
            return Ok(Weighed::Dropped);
        }
        Decision::WaitUntil(until) => {
            tracing::info!(?standing, ?priority, until, "held: X's DM budget is short");
            return Err(Unsent::Held { until });
        }
    }
    let report = match send().await {
        Ok(sent) if sent.budget.is_reported() => {
            let report = sent.budget.over(stored.as_ref(), now);
            // While it is plentiful, what the store says is good enough: no write.
            (report.standing(now) != Standing::Plenty || standing != Standing::Plenty)
                .then_some(report)
        }
        Ok(_) => None,
        Err(err) if err.is_status(429) => {
            let until = now + err.retry_after.unwrap_or(60).max(1) as i64;
            metrics::count("XDmsRefused", 1);
            let refused = stored
                .unwrap_or_default()
                .refused(until, crate::now_millis());
            if let Err(store_err) = store.record_dm_budget(&refused).await {
                tracing::warn!(error = %store_err, "could not keep X's refusal");
            }
            return Err(Unsent::Held { until });
        }
        Err(err) => return Err(Unsent::Remote(err)),
    };
    if let Some(report) = report {
        // The DM went out: failing now would send it twice.
        if let Err(err) = store.record_dm_budget(&report).await {
            tracing::warn!(error = %err, "could not keep X's DM budget report");
        }
    }
    Ok(Weighed::Sent)
}

/// Why an agent's file is over what Discord takes.
const DISCORD_TOO_LARGE: &str = "it is over Discord's 10 MiB upload limit";

/// Whether the customer's platform takes an agent's file, by what the webhook said of it: X
/// only images, GIFs and videos within its category's size; Discord any file up to 10 MiB.
/// `Err`: why not, for the agent's note.
fn platform_takes(platform: Platform, file: &AgentFile) -> Result<(), String> {
    let size = file.size.unwrap_or(0);
    match platform {
        Platform::X => {
            let content_type = file.content_type.as_deref().unwrap_or_default();
            let category = DmMediaCategory::for_content_type(content_type)
                .ok_or_else(|| format!("X takes no {content_type} in a DM"))?;
            if size > category.max_bytes() {
                return Err(format!(
                    "{size} bytes is over X's {} for {}",
                    category.max_bytes(),
                    category.as_str()
                ));
            }
            Ok(())
        }
        Platform::Discord if size > DEFAULT_ATTACHMENT_SIZE_LIMIT => Err(DISCORD_TOO_LARGE.into()),
        Platform::Discord => Ok(()),
    }
}

/// The Discord message(s) for what the customer is told.
fn discord_pieces(kind: &OutboundKind) -> Vec<discord_messages::OutgoingMessage> {
    match kind {
        OutboundKind::AgentMessage { body, .. } => discord_messages::agent_message(body),
        OutboundKind::AgentJoined { name, .. } => {
            discord_messages::notice(&format!("{name} joined the chat."))
        }
        OutboundKind::ChatEnded => discord_messages::notice(DISCORD_CHAT_ENDED_TEXT),
        OutboundKind::ChatEndedWithSurvey { .. } => {
            let mut pieces = discord_messages::notice(DISCORD_CHAT_ENDED_TEXT);
            pieces.push(discord_messages::rating_request(views::DISCORD_QUESTION));
            pieces
        }
        OutboundKind::BotAnswer { suggestions } => discord_messages::bot_answer(suggestions),
        OutboundKind::Notice { text }
        | OutboundKind::Transcript { body: text, .. }
        | OutboundKind::CaseUpdate { text }
        | OutboundKind::Courtesy { text } => discord_messages::notice(text),
        OutboundKind::Handoff { .. } => Vec::new(),
    }
}

/// Sends `kind` to the customer's Discord DMs.
async fn send_discord(
    discord: &DiscordClient,
    job: &OutboundJob,
    kind: &OutboundKind,
) -> Result<(), HttpError> {
    let channel = match kind {
        // Opening a DM channel that is open already returns the same channel.
        OutboundKind::CaseUpdate { .. } | OutboundKind::Courtesy { .. } => {
            discord.open_dm(&job.customer.address).await?
        }
        _ => job.customer.address.clone(),
    };
    for (n, piece) in discord_pieces(kind).into_iter().enumerate() {
        // The nonce makes a retried send after a lost answer post nothing new.
        let piece = piece.with_nonce(&format!("{}-{n}", job.id));
        discord.send_message(&channel, &piece).await?;
    }
    Ok(())
}

impl Delivery {
    /// Handles one SQS batch; returns the message ids to report as `batchItemFailures`.
    pub async fn handle_batch(&self, records: Vec<QueueRecord>) -> Vec<crate::queue::Failure> {
        process_in_order(records, |record| async move { self.handle(&record).await }).await
    }

    /// Done when the record is done with (delivered, duplicate, or noted as undeliverable).
    async fn handle(&self, record: &QueueRecord) -> Handled {
        let Some(job) = record.job::<OutboundJob>("delivery") else {
            return Handled::Retry;
        };
        let span = tracing::info_span!("deliver", conversation_sid = %job.customer.conversation_sid, job = %job.id, attempt = record.receive_count);
        self.handle_job(record, &job).instrument(span).await
    }

    async fn handle_job(&self, record: &QueueRecord, job: &OutboundJob) -> Handled {
        let key = Key::Delivered(&job.id).to_string();
        let outcome = DELIVER_ONCE
            .run(self.store.as_ref(), &key, || self.deliver(job))
            .await;
        match outcome {
            Err(err) => {
                tracing::error!(error = %err, "dedupe claim failed");
                Handled::Retry
            }
            Ok(Outcome::AlreadyDone) => Handled::Done,
            Ok(Outcome::Done(())) => {
                tracing::info!("delivered to the customer");
                Handled::Done
            }
            Ok(Outcome::Failed(err @ DeliveryError::XBudgetSpent { until })) => {
                // A wait spends one receive per 11.5 hours; if those ran out, SQS parks the job
                // in the DLQ after this try, and the agent hears so instead.
                let last_attempt = record.receive_count >= self.max_receives;
                tracing::info!(until, last_attempt, "X's DM budget is short: the job waits");
                self.note_failure(job, &err, last_attempt).await;
                Handled::RetryAt(until)
            }
            Ok(Outcome::Failed(err)) => {
                let last_attempt = record.receive_count >= self.max_receives;
                tracing::warn!(error = %crate::web::chain(&err), transient = err.is_transient(), last_attempt, "delivery failed");
                if !err.is_transient() || last_attempt {
                    self.note_failure(job, &err, last_attempt && err.is_transient())
                        .await;
                }
                match err.retry_at() {
                    _ if !err.is_transient() => Handled::Done,
                    Some(at) => Handled::RetryAt(at),
                    None => Handled::Retry,
                }
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
                    case_id.as_ref(),
                )
                .await?;
                Ok(())
            }
            OutboundKind::AgentJoined { identity, name } => {
                self.announce_once(job, identity).await?;
                self.case_in_progress(&job.customer, name).await
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
                if self.announce_once(&joined, author).await? {
                    self.case_in_progress(&job.customer, "An agent").await?;
                }
                match &job.kind {
                    OutboundKind::AgentMessage { media, .. } if !media.is_empty() => {
                        self.send_files(job, media).await
                    }
                    _ => self.send(job, &job.kind).await,
                }
            }
            OutboundKind::ChatEnded => {
                // One read of the conversation's case, for its transcript and its close.
                let case = self.support_case(&job.customer).await?;
                let case = case.as_ref();
                let kept = self.keep_transcript(&job.customer, case).await?;
                // Never to an X customer: a file they did not ask for.
                let to_send = kept.filter(|_| {
                    self.send_transcripts && job.customer.platform == Platform::Discord
                });
                let Some(transcript) = to_send else {
                    return self.chat_ended(job, case).await;
                };
                // Two sends in one job: each its own step, so a retry repeats neither.
                let store = self.store.as_ref();
                let told = Key::ChatEndedTold(&job.id).to_string();
                STEP.step(store, &told, || self.chat_ended(job, case))
                    .await?;
                let sent = Key::TranscriptSent(&transcript.case_id).to_string();
                STEP.step(store, &sent, || self.send_transcript(job, &transcript))
                    .await
            }
            _ => self.send(job, &job.kind).await,
        }
    }

    /// The chat-ended notice, with the rating question when the case asks for one.
    async fn chat_ended(
        &self,
        job: &OutboundJob,
        case: Option<&Case>,
    ) -> Result<(), DeliveryError> {
        match self.close_case(&job.customer, case).await? {
            Some(case_id) => {
                self.send(job, &OutboundKind::ChatEndedWithSurvey { case_id })
                    .await
            }
            None => self.send(job, &job.kind).await,
        }
    }

    /// The closed conversation's transcript, for its support case, read page by page and kept
    /// once (a retried close writes nothing twice). A failure retries the job, before the
    /// customer is told the chat ended.
    async fn keep_transcript(
        &self,
        customer: &Customer,
        case: Option<&Case>,
    ) -> Result<Option<Transcript>, DeliveryError> {
        let (Some(transcripts), Some(case)) = (&self.transcripts, case) else {
            return Ok(None);
        };
        let sid = &customer.conversation_sid;
        let mut transcript =
            Transcript::new(case.id.clone(), sid.clone(), customer.identity.clone());
        let mut next = None;
        loop {
            let page = self.twilio.message_page(sid, next.as_deref()).await?;
            for message in &page.messages {
                transcript.add(message);
            }
            next = page.meta.next_page_url;
            if next.is_none() {
                break;
            }
        }
        if transcripts.put_once(&transcript).await? {
            tracing::info!(case_id = %case.id, lines = transcript.lines.len(), "transcript kept");
        }
        Ok(Some(transcript))
    }

    /// The transcript as a text file on the Discord customer's DM.
    async fn send_transcript(
        &self,
        job: &OutboundJob,
        transcript: &Transcript,
    ) -> Result<(), DeliveryError> {
        let case_id = &transcript.case_id;
        let file = OutgoingFile::new(
            &format!("{case_id}-transcript.txt"),
            "text/plain",
            bytes::Bytes::from(transcript.text()),
        );
        let message = discord_messages::OutgoingMessage::text(&format!(
            "The transcript of your chat ({case_id}) is attached."
        ))
        .with_nonce(&format!("{}-transcript", job.id));
        self.to_discord(job, |discord| async move {
            discord
                .send_files(&job.customer.address, &message, std::slice::from_ref(&file))
                .await
                .map(drop)
        })
        .await?;
        tracing::info!(case_id = %case_id, "transcript sent to the customer");
        Ok(())
    }

    /// Sends the joined notice `job` unless one went out for this agent in this conversation;
    /// `true` when it went out now.
    async fn announce_once(
        &self,
        job: &OutboundJob,
        identity: &str,
    ) -> Result<bool, DeliveryError> {
        if identity.is_empty() {
            self.send(job, &job.kind).await?;
            return Ok(true);
        }
        let sid = &job.customer.conversation_sid;
        let key = Key::Joined {
            conversation: sid,
            agent: identity,
        }
        .to_string();
        if !self.store.claim_event(&key, JOINED_TTL_SECS).await? {
            tracing::info!("the customer was already told this agent joined");
            return Ok(false);
        }
        // A transfer's second agent: on X, when the DM budget is short, the customer can do
        // without hearing of it (the first agent's claim tells which is which).
        let first_key = Key::FirstJoined(sid).to_string();
        let first = job.customer.platform != Platform::X
            || self.store.claim_event(&first_key, JOINED_TTL_SECS).await?;
        // The first agent's "joined" goes with the agent's messages (it is queued before them,
        // so holding it would hold them).
        let priority = if first {
            Priority::Agent
        } else {
            Priority::Optional
        };
        if let Err(err) = self.send_with(job, &job.kind, priority).await {
            self.store.release_event(&key).await?;
            if first && job.customer.platform == Platform::X {
                self.store.release_event(&first_key).await?;
            }
            return Err(err);
        }
        Ok(true)
    }

    /// The support case of the conversation, if the hand-off opened one.
    async fn support_case(&self, customer: &Customer) -> Result<Option<Case>, DeliveryError> {
        let source = Key::HandoffCase(&customer.conversation_sid).to_string();
        Ok(self.store.case_for_source(&source).await?)
    }

    /// An agent joined: the conversation's case is in progress (if it was not already).
    async fn case_in_progress(
        &self,
        customer: &Customer,
        agent: &str,
    ) -> Result<(), DeliveryError> {
        let Some(case) = self.support_case(customer).await? else {
            return Ok(());
        };
        match cases::start(self.store.as_ref(), &case.id, agent).await {
            Ok(_) => tracing::info!(case_id = %case.id, "case in progress"),
            Err(CaseError::Store(err)) => return Err(err.into()),
            Err(other) => tracing::debug!(case_id = %case.id, reason = %other, "case not started"),
        }
        Ok(())
    }

    /// The chat closed: its case is resolved; when an agent handled it, the customer is asked
    /// how it went (once: the question stands for 24 hours). Returns the case to rate.
    async fn close_case(
        &self,
        customer: &Customer,
        case: Option<&Case>,
    ) -> Result<Option<CaseId>, DeliveryError> {
        let Some(case) = case else {
            return Ok(None);
        };
        match cases::resolve(self.store.as_ref(), &case.id, cases::BRIDGE, "chat closed").await {
            Ok(_) => tracing::info!(case_id = %case.id, "case resolved"),
            Err(CaseError::Store(err)) => return Err(err.into()),
            Err(other) => tracing::debug!(case_id = %case.id, reason = %other, "case not resolved"),
        }
        if !case.had_agent() || case.satisfaction.is_some() {
            return Ok(None);
        }
        let until = now_epoch() + views::QUESTION_SECS;
        let asked = self
            .store
            .ask_rating(
                &customer.identity,
                &customer.conversation_sid,
                &case.id.to_string(),
                until,
            )
            .await?;
        // Not asked when the customer is in (or past) a newer chat: a digit belongs there.
        Ok(asked.then(|| case.id.clone()))
    }

    /// Tells the customer on their platform.
    async fn send(&self, job: &OutboundJob, kind: &OutboundKind) -> Result<(), DeliveryError> {
        let priority = match kind {
            OutboundKind::AgentMessage { .. } => Priority::Agent,
            OutboundKind::Courtesy { .. } => Priority::Optional,
            // The Flex task may be queued behind them: never held.
            OutboundKind::BotAnswer { .. } | OutboundKind::Notice { .. } => Priority::Passing,
            _ => Priority::Notice,
        };
        self.send_with(job, kind, priority).await
    }

    /// Tells the customer on their platform; on X, `priority` weighs it against the DM budget.
    async fn send_with(
        &self,
        job: &OutboundJob,
        kind: &OutboundKind,
        priority: Priority,
    ) -> Result<(), DeliveryError> {
        match job.customer.platform {
            Platform::X => {
                let x = self.x.as_ref().ok_or(DeliveryError::NotConfigured("X"))?;
                let text = self.x_text(job, kind).await?;
                let pieces = split_for_dm(&text);
                if let [only] = pieces.as_slice() {
                    return self.send_x_dm(x, job, priority, only).await;
                }
                // A retry after a later part failed does not send the earlier parts again.
                for (n, piece) in pieces.iter().enumerate() {
                    let part = Key::DeliveryPart(&job.id, n).to_string();
                    STEP.step(self.store.as_ref(), &part, || {
                        self.send_x_dm(x, job, priority, piece)
                    })
                    .await?;
                }
                Ok(())
            }
            Platform::Discord => {
                self.to_discord(job, |discord| send_discord(discord, job, kind))
                    .await
            }
        }
    }

    /// Sends to the customer's Discord DMs with `send`, unless they are known to be closed.
    async fn to_discord<'a, F, Fut>(
        &'a self,
        job: &OutboundJob,
        send: F,
    ) -> Result<(), DeliveryError>
    where
        F: FnOnce(&'a DiscordClient) -> Fut,
        Fut: std::future::Future<Output = Result<(), HttpError>>,
    {
        let discord = self
            .discord
            .as_ref()
            .ok_or(DeliveryError::NotConfigured("Discord"))?;
        let store = self.store.as_ref();
        let identity = &job.customer.identity;
        // A user whose DMs refused a message is not asked again (each refusal is a 403
        // towards Discord's invalid request limit) until the mark lapses.
        if let Some(until) = closed_dms::until(store, identity).await? {
            tracing::info!(until, "the customer's Discord DMs are closed: not sent");
            return Err(DeliveryError::DmsClosed { until });
        }
        match send(discord).await {
            Err(err) if is_dms_closed(&err) => {
                let until = closed_dms::mark(store, identity)
                    .await
                    .unwrap_or_else(|err| {
                        tracing::warn!(error = %err, "could not mark the customer's DMs closed");
                        now_epoch() + closed_dms::MARK_SECS
                    });
                Err(DeliveryError::DmsClosed { until })
            }
            result => Ok(result?),
        }
    }

    /// One DM to the customer on X, weighed against the brand's DM budget.
    async fn send_x_dm(
        &self,
        x: &XClient,
        job: &OutboundJob,
        priority: Priority,
        text: &str,
    ) -> Result<(), DeliveryError> {
        send_weighed(
            self.store.as_ref(),
            x,
            &job.customer.address,
            text,
            priority,
        )
        .await?;
        Ok(())
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
            OutboundKind::ChatEndedWithSurvey { .. } => {
                format!("{CHAT_ENDED_TEXT}\n\n{}", views::QUESTION)
            }
            OutboundKind::Notice { text }
            | OutboundKind::Transcript { body: text, .. }
            | OutboundKind::CaseUpdate { text }
            | OutboundKind::Courtesy { text } => text.clone(),
            OutboundKind::Handoff { .. } => String::new(),
        })
    }

    /// An agent's message with files: each file its own DM or message, in order, the text
    /// with the first the platform takes (alone, first, when it takes none). Each file is a
    /// step ([`Key::DeliveryFile`]), so a retry after a later one failed sends none twice. A
    /// file the platform cannot take is replaced by a notice to the customer and a note for
    /// the agent; the rest still go.
    async fn send_files(
        &self,
        job: &OutboundJob,
        files: &[AgentFile],
    ) -> Result<(), DeliveryError> {
        let platform = job.customer.platform;
        // Decided from what the webhook said of each file, so every retry decides the same.
        let verdicts: Vec<Result<(), String>> = files
            .iter()
            .map(|file| platform_takes(platform, file))
            .collect();
        let has_text =
            matches!(&job.kind, OutboundKind::AgentMessage { body, .. } if !body.trim().is_empty());
        let first = verdicts.iter().position(Result::is_ok);
        let store = self.store.as_ref();
        if first.is_none() && has_text {
            let key = Key::DeliveryFile(&job.id, files.len()).to_string();
            STEP.step(store, &key, || self.send(job, &job.kind)).await?;
        }
        for (n, (file, verdict)) in files.iter().zip(&verdicts).enumerate() {
            let key = Key::DeliveryFile(&job.id, n).to_string();
            let with_text = Some(n) == first;
            STEP.step(store, &key, || async {
                let refused = match verdict {
                    Ok(()) => self.send_file(job, n, file, with_text).await?.err(),
                    Err(reason) => Some(reason.clone()),
                };
                if let Some(reason) = refused {
                    if with_text && has_text {
                        self.send(job, &job.kind).await?;
                    }
                    self.file_undelivered(job, n, file, &reason).await?;
                }
                Ok::<_, DeliveryError>(())
            })
            .await?;
        }
        Ok(())
    }

    /// One of an agent's files to the customer, fetched from MCS; `Ok(Err(why))` when the
    /// platform refused it for good.
    async fn send_file(
        &self,
        job: &OutboundJob,
        n: usize,
        file: &AgentFile,
        with_text: bool,
    ) -> Result<Result<(), String>, DeliveryError> {
        let mcs = self.media.as_ref().ok_or(DeliveryError::NotConfigured(
            "Media (TWILIO_CHAT_SERVICE_SID)",
        ))?;
        let (media, content) = mcs.fetch_content(&file.sid).await?;
        let content_type = file
            .content_type
            .clone()
            .or(media.content_type)
            .or(content.content_type.clone())
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        match job.customer.platform {
            Platform::X => {
                let x_media = self
                    .x_media
                    .as_ref()
                    .ok_or(DeliveryError::NotConfigured("X"))?;
                let mut caption = None;
                if with_text {
                    let text = self.x_text(job, &job.kind).await?;
                    // A text longer than one DM goes first in its parts; the file alone after.
                    match split_for_dm(&text).as_slice() {
                        [_] => caption = Some(text),
                        [] => {}
                        _ => self.send(job, &job.kind).await?,
                    }
                }
                let Some(total) = content.content_length.or(media.size).or(file.size) else {
                    return Ok(Err("MCS did not say how large it is".into()));
                };
                let mut body = content.response;
                let uploaded = match x_media
                    .upload_dm_media(&content_type, total, &mut body)
                    .await
                {
                    Ok(uploaded) => uploaded,
                    Err(err) if !err.is_transient() => return Ok(Err(err.to_string())),
                    Err(err) => return Err(err.into()),
                };
                send_weighed_with(self.store.as_ref(), Priority::Agent, || {
                    x_media.send_media_dm(
                        &job.customer.address,
                        caption.as_deref(),
                        &uploaded.media_id,
                    )
                })
                .await?;
                Ok(Ok(()))
            }
            Platform::Discord => {
                let bytes = match content.bytes_at_most(DEFAULT_ATTACHMENT_SIZE_LIMIT).await {
                    Ok(bytes) => bytes,
                    // Refused as it arrived: longer than Discord takes.
                    Err(err) if err.unsent => return Ok(Err(DISCORD_TOO_LARGE.into())),
                    Err(err) => return Err(err.into()),
                };
                let outgoing = [OutgoingFile::new(file.name(), &content_type, bytes)];
                let mut pieces = match (&job.kind, with_text) {
                    (OutboundKind::AgentMessage { body, .. }, true) if !body.is_empty() => {
                        discord_messages::agent_message(body)
                    }
                    _ => Vec::new(),
                };
                let last = pieces
                    .pop()
                    .unwrap_or_else(|| discord_messages::OutgoingMessage::text(""));
                let sent = self
                    .to_discord(job, |discord| async move {
                        let channel = &job.customer.address;
                        for (k, piece) in pieces.into_iter().enumerate() {
                            let piece = piece.with_nonce(&format!("{}-file{n}-{k}", job.id));
                            discord.send_message(channel, &piece).await?;
                        }
                        let last = last.with_nonce(&format!("{}-file{n}", job.id));
                        discord
                            .send_files(channel, &last, &outgoing)
                            .await
                            .map(drop)
                    })
                    .await;
                match sent {
                    Err(DeliveryError::Remote(err)) if err.is_status(413) => {
                        Ok(Err(DISCORD_TOO_LARGE.into()))
                    }
                    sent => sent.map(Ok),
                }
            }
        }
    }

    /// A file the customer's platform did not take: the customer hears that a file could not
    /// be delivered, the agent which and why.
    async fn file_undelivered(
        &self,
        job: &OutboundJob,
        n: usize,
        file: &AgentFile,
        reason: &str,
    ) -> Result<(), DeliveryError> {
        let name = file.name();
        let notice = OutboundJob {
            // Its own id: a Discord nonce of its own, apart from the message's.
            id: format!("{}-file{n}-undelivered", job.id),
            customer: job.customer.clone(),
            kind: OutboundKind::Notice {
                text: format!("A file from the agent ({name}) could not be delivered here."),
            },
        };
        self.send(&notice, &notice.kind).await?;
        let platform = job.customer.platform.display_name();
        let note = format!("⚠️ {name} was not delivered to the customer on {platform}: {reason}.");
        flex::post_note(
            &self.twilio,
            &job.customer.conversation_sid,
            &note,
            "file_undelivered",
            &job.id,
        )
        .await?;
        tracing::info!(file = name, reason, "agent's file not delivered");
        Ok(())
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
        let note = match err {
            DeliveryError::XBudgetSpent { .. } if !to_dlq => {
                format!("⏳ Not delivered to the customer on {platform} yet: {err}. Message: \"{excerpt}\"")
            }
            _ => format!("⚠️ Not delivered to the customer on {platform}: {err} ({outcome}). Message: \"{excerpt}\""),
        };
        let sid = &job.customer.conversation_sid;
        let post = || flex::post_note(&self.twilio, sid, &note, "delivery_failed", &job.id);
        let once = match err {
            DeliveryError::DmsClosed { until } => {
                let key = Key::DmsClosedNoted {
                    conversation: sid,
                    until: *until,
                };
                Some((DMS_CLOSED_NOTE, key.to_string()))
            }
            DeliveryError::XBudgetSpent { until } if !to_dlq => {
                let key = Key::XBudgetNoted {
                    conversation: sid,
                    until: *until,
                };
                Some((X_BUDGET_NOTE, key.to_string()))
            }
            _ => None,
        };
        let result = match once {
            Some((once, key)) => match once.run(self.store.as_ref(), &key, post).await {
                Ok(Outcome::Done(())) => Ok(()),
                Ok(Outcome::AlreadyDone) => {
                    tracing::info!("the agent was told already");
                    Ok(())
                }
                Ok(Outcome::Failed(err)) => Err(err),
                Err(err) => {
                    tracing::error!(error = %err, "could not post the delivery-failure note");
                    return;
                }
            },
            None => post().await,
        };
        if let Err(err) = result {
            tracing::error!(error = %err, "could not post the delivery-failure note");
        }
    }
}
