//! `discord-worker` (SQS): the slow half of an interaction. Opens the customer's DM channel,
//! finds or opens their conversation and posts to Flex, files bug reports and feature requests,
//! then finishes the deferred reply by editing `@original`. Idempotent per interaction id.

use tracing::Instrument;

use super::media::Attachment;
use super::messages::{case_embed, case_message, OutgoingMessage};
use super::webhook::DiscordJob;
use super::{is_dms_closed, DiscordAppConfig, DiscordClient};
use crate::cases::views::{self, CaseQuery};
use crate::cases::{self, number_of, CaseKind, NewCase};
use crate::conversations::{BridgeError, Conversations, CustomerMessage};
use crate::idempotency::{Key, Once, Outcome, STEP};
use crate::ids::ConversationSid;
use crate::queue::{process_in_order, Handled, QueueRecord};
use crate::retry::HttpError;
use crate::store::{CustomerSlot, Platform, StoreError};
use crate::twilio::media::MediaClient;

/// An interaction is claimed for longer than one invocation (the function's timeout) and
/// shorter than the queue's visibility timeout, so a retry after a killed invocation finds the
/// claim lapsed and does the work; once done it is kept for a day.
const WORK_ONCE: Once = Once {
    claim_secs: 90,
    keep_secs: 24 * 3600,
};

/// How to open DMs, for customers whose settings refuse them (Discord error 50007). `/helpme`,
/// not `/reply`: its confirmation DM is what shows the bridge the DMs are open again.
pub const DMS_CLOSED_HELP: &str = "I couldn't send you a direct message, so replies from our team can't reach you. \
In this server's menu open Privacy Settings and turn on Direct Messages (or User Settings › Privacy & Safety › \
Allow direct messages from server members), then send /helpme with your message.";

/// Discord users whose DMs refused a message (error 50007), remembered in the store for a day
/// so no Lambda spends another 403 on them (Discord bans an IP after 10,000 401/403/429 answers
/// in 10 minutes): agent messages and notices to them are not sent while the mark stands. A
/// customer's `/reply` does not lift it (their DMs may still be closed); it lapses after
/// [`closed_dms::MARK_SECS`], or when a `/helpme` confirmation DM gets through.
pub mod closed_dms {
    use crate::idempotency::Key;
    use crate::store::{EventLog, StoreError};

    /// How long a refusal is believed.
    pub const MARK_SECS: i64 = 24 * 3600;

    /// The mark's event key in the store.
    pub fn key(identity: &str) -> String {
        Key::DmsClosed(identity).to_string()
    }

    /// Until when (epoch seconds) the customer `identity` (`discord-<user id>`) is not written
    /// to; `None`: their DMs are not known to be closed.
    pub async fn until(store: &dyn EventLog, identity: &str) -> Result<Option<i64>, StoreError> {
        store.event_until(&key(identity)).await
    }

    /// Discord refused a DM to `identity` with 50007. A mark already standing is kept (it lapses
    /// a day after the first refusal); returns when it lapses, as stored (the second every
    /// reader sees: the agent's note is keyed by it).
    pub async fn mark(store: &dyn EventLog, identity: &str) -> Result<i64, StoreError> {
        let until = crate::now_epoch() + MARK_SECS;
        if store.claim_event(&key(identity), MARK_SECS).await? {
            tracing::info!(
                until,
                "the customer's Discord DMs are closed: not writing to them for a day"
            );
        }
        Ok(store.event_until(&key(identity)).await?.unwrap_or(until))
    }

    /// A DM to `identity` got through: their DMs are open.
    pub async fn clear(store: &dyn EventLog, identity: &str) -> Result<(), StoreError> {
        store.release_event(&key(identity)).await
    }
}

pub struct DiscordWorker {
    pub conversations: Conversations,
    pub discord: DiscordClient,
    pub app: DiscordAppConfig,
}

#[derive(Debug, thiserror::Error)]
enum WorkError {
    #[error(transparent)]
    Bridge(#[from] BridgeError),
    #[error(transparent)]
    Discord(#[from] HttpError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file's step found no open conversation (it was closed between two steps): retried.
    #[error("the customer has no open conversation")]
    NoConversation,
}

impl WorkError {
    fn is_transient(&self) -> bool {
        match self {
            WorkError::Bridge(BridgeError::Twilio(e)) | WorkError::Discord(e) => e.is_transient(),
            WorkError::Bridge(_) | WorkError::Store(_) | WorkError::NoConversation => true,
        }
    }
}

impl DiscordWorker {
    pub async fn handle_batch(&self, records: Vec<QueueRecord>) -> Vec<crate::queue::Failure> {
        process_in_order(records, |record| async move { self.handle(&record).await }).await
    }

    async fn handle(&self, record: &QueueRecord) -> Handled {
        let Some(job) = record.job::<DiscordJob>("discord") else {
            return Handled::Retry;
        };
        let span = tracing::info_span!("discord_work", event_id = %job.context.interaction_id, conversation_sid = tracing::field::Empty);
        // Boxed: nested in the Lambda runtime's futures, the job's future is deeper than rustc's
        // default recursion limit lets it lay out discord-worker's `main`.
        Box::pin(self.handle_job(job)).instrument(span).await
    }

    async fn handle_job(&self, job: DiscordJob) -> Handled {
        let key = Key::DiscordInteraction(&job.context.interaction_id).to_string();
        let outcome = WORK_ONCE
            .run(self.conversations.store.as_ref(), &key, || self.work(&job))
            .await;
        match outcome {
            Err(err) => {
                tracing::error!(error = %err, "dedupe claim failed");
                Handled::Retry
            }
            Ok(Outcome::AlreadyDone) => Handled::Done,
            Ok(Outcome::Done(reply)) => {
                self.reply(&job, &reply).await;
                Handled::Done
            }
            Ok(Outcome::Failed(err)) if err.is_transient() => {
                tracing::warn!(error = %crate::web::chain(&err), "interaction work failed; SQS will retry");
                // Discord said how long (a long rate limit, or the client's own hold): one
                // receive waits it out; otherwise the back-off.
                match &err {
                    WorkError::Discord(err) => crate::discord::retry_at(err, crate::now_epoch())
                        .map_or(Handled::Retry, Handled::RetryAt),
                    _ => Handled::Retry,
                }
            }
            Ok(Outcome::Failed(err)) => {
                tracing::error!(error = %crate::web::chain(&err), "interaction work failed for good");
                self.reply(
                    &job,
                    "Sorry, something went wrong on our side. Please try again in a few minutes.",
                )
                .await;
                Handled::Done
            }
        }
    }

    /// Finishes the deferred ephemeral reply. The token lasts 15 minutes; a late edit fails
    /// harmlessly (logged), the work itself is done.
    async fn reply(&self, job: &DiscordJob, content: &str) {
        let context = &job.context;
        if let Err(err) = self
            .discord
            .edit_original(&context.application_id, &context.token, content)
            .await
        {
            tracing::warn!(error = %err, "could not edit the interaction reply");
        }
    }

    /// Does the work; returns what the ephemeral reply should say.
    async fn work(&self, job: &DiscordJob) -> Result<String, WorkError> {
        use super::interactions::Action;
        let context = &job.context;
        match &job.action {
            Action::HelpMe { question } => self.help_me(job, question).await,
            Action::Reply { .. } | Action::QuickReply { .. } | Action::TalkToAgent => {
                let identity = Platform::Discord.identity(&context.user_id);
                let CustomerSlot::Open(customer) =
                    self.conversations.store.customer(&identity).await?
                else {
                    return Ok(
                        "You have no open conversation with us. Start one with /helpme.".into(),
                    );
                };
                let text = job.action.customer_text().unwrap_or_default();
                self.post(job, &customer.address, text).await?;
                Ok(match job.action {
                    Action::TalkToAgent => {
                        "Thanks, we've asked for an agent to join. They'll answer in your DMs."
                            .into()
                    }
                    _ => format!(
                        "Sent! Replies will arrive in your DMs.{}",
                        self.refusal_lines(job)
                    ),
                })
            }
            Action::Cases { id } => {
                let identity = Platform::Discord.identity(&context.user_id);
                let query = match id {
                    Some(id) => match number_of(id) {
                        Some(n) => CaseQuery::One(cases::CaseId::new(n)),
                        None => return Ok(format!("Case {id} not found.")),
                    },
                    None => CaseQuery::List,
                };
                let store = self.conversations.store.as_ref();
                Ok(views::answer_query(store, &identity, &query).await?)
            }
            Action::Rate { score } => {
                let identity = Platform::Discord.identity(&context.user_id);
                let store = self.conversations.store.as_ref();
                match store.customer(&identity).await?.asked_to_rate() {
                    Some(case_id) => {
                        Ok(views::answer_rating(store, &case_id, *score, &identity).await?)
                    }
                    None => Ok("Thanks! This survey has closed.".into()),
                }
            }
            Action::BugReport {
                title,
                details,
                steps,
            } => {
                self.file_case(job, CaseKind::Bug, title, details, steps.clone())
                    .await
            }
            Action::FeatureRequest { title, details } => {
                self.file_case(job, CaseKind::Feature, title, details, None)
                    .await
            }
            Action::ModalSubmit { .. }
            | Action::Unknown { .. }
            | Action::Bug
            | Action::NewFeature
            | Action::ReplyButton
            | Action::Helped => Ok("Sorry, I don't know that one. Try /helpme.".into()),
        }
    }

    /// The customer's text and files into their conversation. The text goes with the first
    /// file carried (alone when none is); each file is its own step, so a retry after a later
    /// file failed posts none twice. A file refused is named to the agent in a note (the
    /// customer reads why in the interaction's reply: [`Self::refusal_lines`]).
    async fn post(&self, job: &DiscordJob, dm_channel: &str, text: &str) -> Result<(), WorkError> {
        let (Some(mcs), false) = (&self.conversations.media, job.files.files.is_empty()) else {
            return self.post_one(job, dm_channel, text, None).await.map(drop);
        };
        let store = self.conversations.store.as_ref();
        let id = &job.context.interaction_id;
        let checked = self.checked_files(job);
        let first_carried = checked.iter().position(|(_, check)| check.is_ok());
        if first_carried.is_none() {
            let key = Key::DiscordFile(id, checked.len()).to_string();
            STEP.step(store, &key, || async {
                self.post_one(job, dm_channel, text, None).await.map(drop)
            })
            .await?;
        }
        for (n, (file, check)) in checked.iter().enumerate() {
            let key = Key::DiscordFile(id, n).to_string();
            match check {
                Ok(()) => {
                    let text = if Some(n) == first_carried { text } else { "" };
                    STEP.step(store, &key, || async {
                        let media_sid = self.carry(mcs, file).await?;
                        self.post_one(job, dm_channel, text, Some(media_sid))
                            .await
                            .map(drop)
                    })
                    .await?;
                }
                Err(refusal) => {
                    STEP.step(store, &key, || async {
                        let conversation_sid = self.conversation_of(job).await?;
                        crate::flex::post_note(
                            &self.conversations.twilio,
                            &conversation_sid,
                            &refusal.agent_note(&file.filename),
                            "file_refused",
                            id,
                        )
                        .await?;
                        tracing::info!(filename = %file.filename, ?refusal, "customer's file refused");
                        Ok::<_, WorkError>(())
                    })
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// Each of the job's files with the allow-list's verdict: decided by what the interaction
    /// says of it (type, name, size), so every retry decides the same.
    fn checked_files<'a>(
        &self,
        job: &'a DiscordJob,
    ) -> Vec<(&'a Attachment, Result<(), crate::files::Refusal>)> {
        job.files
            .files
            .iter()
            .map(|file| {
                let content_type = file.content_type.as_deref().unwrap_or_default();
                let check = crate::files::check(
                    &file.filename,
                    content_type,
                    Some(file.size),
                    job.files.size_limit,
                );
                (file, check)
            })
            .collect()
    }

    /// The lines telling the customer which of their files were not passed on, and why (none
    /// when files are not carried at all).
    fn refusal_lines(&self, job: &DiscordJob) -> String {
        if self.conversations.media.is_none() {
            return String::new();
        }
        self.checked_files(job)
            .into_iter()
            .filter_map(|(file, check)| check.err().map(|r| r.customer_line(&file.filename)))
            .map(|line| format!("\n{line}"))
            .collect()
    }

    /// Downloads a file from Discord's CDN and streams it into MCS; its Media SID.
    async fn carry(&self, mcs: &MediaClient, file: &Attachment) -> Result<String, WorkError> {
        let response = self.discord.download_attachment(&file.url).await?;
        let download = crate::files::Download {
            filename: file.filename.clone(),
            content_type: file.content_type.clone().unwrap_or_default(),
            content_length: response.content_length(),
            response,
        };
        let media = crate::files::upload(mcs, download, file.size).await?;
        Ok(media.sid)
    }

    /// The customer's open conversation (their message was posted to it a step before).
    async fn conversation_of(&self, job: &DiscordJob) -> Result<ConversationSid, WorkError> {
        let identity = Platform::Discord.identity(&job.context.user_id);
        match self.conversations.store.customer(&identity).await? {
            CustomerSlot::Open(customer) => Ok(customer.conversation_sid),
            _ => Err(WorkError::NoConversation),
        }
    }

    async fn post_one(
        &self,
        job: &DiscordJob,
        dm_channel: &str,
        text: &str,
        media_sid: Option<String>,
    ) -> Result<ConversationSid, WorkError> {
        let context = &job.context;
        let message = CustomerMessage {
            platform: Platform::Discord,
            user_id: context.user_id.clone(),
            address: dm_channel.to_owned(),
            handle: Some(format!("@{}", context.username)),
            text: text.to_owned(),
            event_id: context.interaction_id.clone(),
            agent_requested: matches!(job.action, super::interactions::Action::TalkToAgent),
            public_post: false,
            media_sid,
        };
        Ok(self
            .conversations
            .post_from_customer(&message, None)
            .await?)
    }

    /// `/helpme`: the DM channel is where agents answer, so open it first, then post the
    /// question, then prove the DM works with a short confirmation there.
    /// A retry after a failed confirmation does not post the question to Flex again.
    async fn help_me(&self, job: &DiscordJob, question: &str) -> Result<String, WorkError> {
        let dm_channel = self.discord.open_dm(&job.context.user_id).await?;
        let posted = Key::DiscordPosted(&job.context.interaction_id).to_string();
        STEP.step(self.conversations.store.as_ref(), &posted, || async {
            self.post(job, &dm_channel, question).await
        })
        .await?;
        let confirmation = OutgoingMessage::text(&format!(
            "Thanks, we've got your question:\n> {}\nWe'll answer here. Use the Reply button or /reply to add more.",
            question.lines().next().unwrap_or_default()
        ))
        .with_nonce(&job.context.interaction_id);
        let store = self.conversations.store.as_ref();
        let identity = Platform::Discord.identity(&job.context.user_id);
        match self.discord.send_message(&dm_channel, &confirmation).await {
            Ok(_) => {
                // Agents' messages may go out again (a failure here only leaves them held
                // back until the mark lapses).
                if let Err(err) = closed_dms::clear(store, &identity).await {
                    tracing::warn!(error = %err, "could not clear the closed-DMs mark");
                }
                Ok(format!(
                    "Thanks! We'll answer in your DMs.{}",
                    self.refusal_lines(job)
                ))
            }
            Err(err) if is_dms_closed(&err) => {
                tracing::info!("customer's DMs are closed");
                if let Err(err) = closed_dms::mark(store, &identity).await {
                    // The next agent message finds out again, and marks it.
                    tracing::warn!(error = %err, "could not mark the customer's DMs closed");
                }
                Ok(DMS_CLOSED_HELP.into())
            }
            Err(err) => Err(err.into()),
        }
    }

    async fn file_case(
        &self,
        job: &DiscordJob,
        kind: CaseKind,
        title: &str,
        details: &str,
        steps: Option<String>,
    ) -> Result<String, WorkError> {
        let context = &job.context;
        let reporter = Platform::Discord.identity(&context.user_id);
        let source = Key::DiscordInteraction(&context.interaction_id).to_string();
        let new = NewCase {
            kind,
            title: title.to_owned(),
            details: details.to_owned(),
            steps,
            reporter,
            conversation: None,
        };
        let case = cases::file(self.conversations.store.as_ref(), &source, new).await?;
        tracing::info!(case = %case.id, "case filed");
        if let Some(channel) = self.app.case_channel(kind) {
            let embed = case_embed(
                &case.id.to_string(),
                kind,
                &case.title,
                &case.details,
                case.steps.as_deref(),
                &format!("<@{}>", context.user_id),
            );
            self.discord
                .send_message(channel, &case_message(embed).with_nonce(&source))
                .await?;
        }
        Ok(format!(
            "Thanks! {} {} filed. We'll keep you posted.",
            kind.display_name(),
            case.id
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::closed_dms;
    use crate::now_epoch;
    use crate::store::{EventLog, MemoryStore};

    #[tokio::test]
    async fn a_closed_dms_mark_stands_for_a_day_then_lapses() {
        let store = MemoryStore::new();
        let user = "discord-1";
        assert_eq!(closed_dms::until(&store, user).await.unwrap(), None);
        let until = closed_dms::mark(&store, user).await.unwrap();
        assert!((until - now_epoch() - closed_dms::MARK_SECS).abs() <= 1);
        assert_eq!(closed_dms::until(&store, user).await.unwrap(), Some(until));
        // A second refusal keeps the first mark's end: a day after the first refusal.
        assert_eq!(closed_dms::mark(&store, user).await.unwrap(), until);
        assert_eq!(closed_dms::until(&store, "discord-2").await.unwrap(), None);
        // Lapsed (as the store reads a record whose TTL has passed): written to again, and the
        // next refusal marks a new day.
        store
            .confirm_event(&closed_dms::key(user), -1)
            .await
            .unwrap();
        assert_eq!(closed_dms::until(&store, user).await.unwrap(), None);
        assert!(closed_dms::mark(&store, user).await.unwrap() >= until);
        closed_dms::clear(&store, user).await.unwrap();
        assert_eq!(closed_dms::until(&store, user).await.unwrap(), None);
    }
}
