//! Public mentions (`post.mention.create`): off unless `X_MENTIONS` is `notify` or `reply`.
//!
//! A post naming the brand joins its author's conversation in Flex (opened if needed, identity
//! `x-<id>`), marked as public with its link, so an agent reads it with the rest of the
//! customer's history. `twitter-inbound` queues it on the X intake queue like a DM (grouped by
//! the author, deduplicated by the post id); `x-worker` posts it once per post id, then invites
//! the author to DM, once per author per 24 h:
//! - `notify`: one DM. X refuses DMs to a user who does not accept them (403): the agent gets
//!   one note in the conversation and nothing is retried. A passing failure (429, 5xx) hands the
//!   invitation to the delivery lane, which retries it without holding the author's DMs back.
//! - `reply`: one public reply to the post (`POST /2/tweets`), with a configured text that
//!   holds no URL (a post with a URL costs far more). Agent and bot messages are only ever
//!   sent by DM: this text is the only thing the bridge ever posts publicly.

use serde_json::json;

use crate::config::Env;
use crate::delivery;
use crate::flex;
use crate::idempotency::{Key, Once, Outcome};
use crate::metrics;
use crate::retry::HttpError;
use crate::store::{CustomerSlot, Platform};

use super::webhook::XJob;
use super::worker::{WorkError, XWorker, FORWARD_ONCE};
use super::{budget, Method, XApiConfig, XAuth, XClient};

use crate::config::schema::{X_MENTIONS, X_MENTION_DM_TEXT, X_MENTION_REPLY_TEXT};

const REPLY_TEXT_VAR: &str = X_MENTION_REPLY_TEXT.name;
pub const DEFAULT_REPLY_TEXT: &str = X_MENTION_REPLY_TEXT.default_value();
pub const DEFAULT_DM_TEXT: &str = X_MENTION_DM_TEXT.default_value();

/// A post's own page, whoever wrote it.
pub fn post_link(post_id: &str) -> String {
    format!("https://x.com/i/web/status/{post_id}")
}

/// What the agent reads in Flex for a public post.
pub fn flex_text(post_id: &str, text: &str) -> String {
    format!("[Public post on X: {}] {text}", post_link(post_id))
}

/// What the bridge does with a public mention.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MentionMode {
    /// Mentions are acknowledged and dropped.
    #[default]
    Off,
    /// Posted to Flex; the author is invited by DM.
    Notify,
    /// Posted to Flex; the author is invited by one public reply.
    Reply,
}

impl MentionMode {
    /// `X_MENTIONS`: unset, empty or `off`; `notify`; `reply`. Anything else is a config error
    /// naming the variable.
    pub fn from_env(env: &mut Env) -> Self {
        // Anything but the three words is recorded by the reader.
        match env.or_default(&X_MENTIONS).to_ascii_lowercase().as_str() {
            "notify" => Self::Notify,
            "reply" => Self::Reply,
            _ => Self::Off,
        }
    }

    pub fn is_on(self) -> bool {
        self != Self::Off
    }
}

/// Whether `text` holds something X would turn into a link: a scheme, `www.`, or a
/// domain-like word (`acme.com`, `help.acme.co/x`).
pub fn has_url(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    if lower.contains("://") || lower.contains("www.") {
        return true;
    }
    lower.split_whitespace().any(|word| {
        let word = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        let bytes = word.as_bytes();
        bytes.iter().enumerate().any(|(i, &b)| {
            b == b'.'
                && i > 0
                && bytes[i - 1].is_ascii_alphanumeric()
                && bytes[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .count()
                    >= 2
        })
    })
}

/// X's limit for a post's text (weighted characters; plain text here).
const MAX_POST_CHARS: usize = 280;

/// `x-worker`'s part: how the author of a mention is invited to DM.
#[derive(Clone, Debug)]
pub struct Invitations {
    /// `Notify` or `Reply` (never `Off`).
    pub mode: MentionMode,
    /// The public reply's text (`reply`): no URL.
    pub reply_text: String,
    /// The DM's text (`notify`).
    pub dm_text: String,
    /// Sends the DM or the reply as the brand (OAuth 1.0a user context).
    pub x: XClient,
}

impl Invitations {
    /// `None` when mentions are off. On, it needs the brand's X credentials, and a reply text
    /// with a URL or over 280 characters is refused at start-up.
    pub fn from_env(env: &mut Env, http: &reqwest::Client) -> Option<Self> {
        let mode = MentionMode::from_env(env);
        if !mode.is_on() {
            return None;
        }
        let reply_text = env.or_default(&X_MENTION_REPLY_TEXT);
        if let Some(reason) = reply_text_problem(&reply_text) {
            env.invalid(REPLY_TEXT_VAR, reason);
        }
        let dm_text = env.or_default(&X_MENTION_DM_TEXT);
        let config = XApiConfig::from_env(env);
        Some(Self {
            mode,
            reply_text,
            dm_text,
            x: XClient::new(http.clone(), config),
        })
    }

    /// For a bridge wired by hand (the local server, tests): `mode` with the default texts.
    pub fn new(mode: MentionMode, x: XClient) -> Option<Self> {
        mode.is_on().then(|| Self {
            mode,
            reply_text: DEFAULT_REPLY_TEXT.into(),
            dm_text: DEFAULT_DM_TEXT.into(),
            x,
        })
    }
}

/// What is wrong with a public reply's text, if anything: it must not be empty, must fit in
/// one post (280 characters) and must hold no URL.
pub fn reply_text_problem(text: &str) -> Option<&'static str> {
    if text.trim().is_empty() {
        Some("must not be empty")
    } else if text.chars().count() > MAX_POST_CHARS {
        Some("must fit in one post (280 characters)")
    } else if has_url(text) {
        Some("must not contain a URL or a domain (a post with a link costs far more)")
    } else {
        None
    }
}

/// One invitation per author per 24 h, however many mentions they post. Claimed for about one
/// try (a killed invocation's retry invites), then kept a day.
const INVITE_ONCE: Once = Once {
    claim_secs: 90,
    keep_secs: 24 * 3600,
};

/// Why the author could not be invited, for the agent's note.
enum Refused {
    DmsClosed(HttpError),
    Reply(HttpError),
    Dm(HttpError),
}

impl XWorker {
    /// A public mention: posted to the author's conversation once per post, then the author
    /// is invited to DM once per 24 h.
    pub(super) async fn mention(&self, job: &XJob) -> Result<(), WorkError> {
        let store = self.conversations.store.as_ref();
        let key = Key::XPost(&job.event_id).to_string();
        FORWARD_ONCE
            .step(store, &key, || self.post_mention(job))
            .await?;
        let Some(invitations) = &self.mentions else {
            return Ok(());
        };
        let key = Key::XInvite(&job.sender_id).to_string();
        match INVITE_ONCE
            .run(store, &key, || self.invite(invitations, job))
            .await?
        {
            Outcome::Done(()) => Ok(()),
            Outcome::AlreadyDone => {
                tracing::info!("the author was invited to DM in the last 24 hours");
                Ok(())
            }
            // X is down or throttling a reply: the mention is in Flex; the author's next
            // mention tries again (the claim was let go). Their DMs are not held back for it.
            Outcome::Failed(WorkError::Invite(err)) => {
                tracing::warn!(error = %err, "could not invite the author; not retried");
                metrics::count("XMentionInviteFailed", 1);
                Ok(())
            }
            Outcome::Failed(err) => Err(err),
        }
    }

    async fn post_mention(&self, job: &XJob) -> Result<(), WorkError> {
        let message = crate::conversations::CustomerMessage {
            platform: Platform::X,
            address: job.sender_id.clone(),
            user_id: job.sender_id.clone(),
            handle: job.handle.clone(),
            text: flex_text(&job.event_id, &job.text),
            event_id: format!("post-{}", job.event_id),
            agent_requested: false,
            public_post: true,
            media_sid: None,
        };
        self.conversations
            .post_from_customer(&message, None)
            .await?;
        metrics::count("XMentionsPosted", 1);
        Ok(())
    }

    /// Invites the author. Ok when done with (invited, or refused for good and noted); a
    /// passing failure of a reply is an [`WorkError::Invite`]; a note that could not be posted
    /// is an error the queue retries (the claim is let go, so the retry invites again).
    async fn invite(&self, invitations: &Invitations, job: &XJob) -> Result<(), WorkError> {
        let refused = match invitations.mode {
            MentionMode::Off => return Ok(()),
            MentionMode::Notify => {
                let store = self.conversations.store.as_ref();
                // The brand's DM budget is shared with agents: an invitation is worth sending
                // only now, and is dropped when the budget is short.
                let sent = delivery::send_weighed(
                    store,
                    &invitations.x,
                    &job.sender_id,
                    &invitations.dm_text,
                    budget::Priority::Passing,
                )
                .await;
                match sent {
                    Ok(delivery::Weighed::Sent) => {
                        tracing::info!("author invited to DM by DM");
                        return Ok(());
                    }
                    Ok(delivery::Weighed::Dropped) => {
                        tracing::info!("author not invited: the DM budget is short");
                        return Ok(());
                    }
                    Err(delivery::Unsent::Held { .. }) => {
                        return self
                            .invite_through_the_lane(invitations, job, "X refused: 429")
                            .await;
                    }
                    Err(delivery::Unsent::Store(err)) => return Err(err.into()),
                    // X refuses DMs to a user who does not accept them from the brand.
                    Err(delivery::Unsent::Remote(err)) if err.is_status(403) => {
                        Refused::DmsClosed(err)
                    }
                    Err(delivery::Unsent::Remote(err)) if err.is_transient() => {
                        return self
                            .invite_through_the_lane(invitations, job, &err.to_string())
                            .await;
                    }
                    Err(delivery::Unsent::Remote(err)) => Refused::Dm(err),
                }
            }
            MentionMode::Reply => {
                let body = json!({
                    "text": invitations.reply_text,
                    "reply": {"in_reply_to_tweet_id": job.event_id},
                });
                match invitations
                    .x
                    .call_json(Method::POST, "/2/tweets", &[], Some(&body), XAuth::User)
                    .await
                {
                    Ok(created) => {
                        tracing::info!(reply_id = ?created["data"]["id"], "author invited to DM by a public reply");
                        return Ok(());
                    }
                    Err(err) if err.is_transient() => return Err(WorkError::Invite(err)),
                    Err(err) => Refused::Reply(err),
                }
            }
        };
        metrics::count("XMentionInviteRefused", 1);
        self.note_refusal(job, refused).await
    }

    /// The delivery lane retries the DM invitation, within the DM budget, without holding the
    /// author's DMs back on the intake queue.
    async fn invite_through_the_lane(
        &self,
        invitations: &Invitations,
        job: &XJob,
        why: &str,
    ) -> Result<(), WorkError> {
        let identity = Platform::X.identity(&job.sender_id);
        let id = format!("x-invite-{}", job.event_id);
        let notice = crate::queue::notice_for(&identity, &id, invitations.dm_text.clone())
            .ok_or(WorkError::Identity)?;
        notice.enqueue(self.queue.as_ref()).await?;
        tracing::info!(why, "DM invitation handed to the delivery lane");
        Ok(())
    }

    /// One note in the author's conversation: the agent knows the author was not invited.
    async fn note_refusal(&self, job: &XJob, refused: Refused) -> Result<(), WorkError> {
        let who = job.handle.as_deref().unwrap_or("The customer");
        let link = post_link(&job.event_id);
        let note = match &refused {
            Refused::DmsClosed(err) => format!(
                "⚠️ {who} wrote publicly on X ({link}) but could not be invited to a DM: X refused the DM ({err}), their DMs are closed to the brand. Messages from this conversation are sent by DM only, so they may not reach them; not retried."
            ),
            Refused::Dm(err) => format!(
                "⚠️ {who} wrote publicly on X ({link}) but could not be invited to a DM: X refused it ({err}); not retried."
            ),
            Refused::Reply(err) => format!(
                "⚠️ {who} wrote publicly on X ({link}) but the public reply inviting them to DM was refused by X ({err}); not retried."
            ),
        };
        tracing::warn!(%note, "author not invited");
        let identity = Platform::X.identity(&job.sender_id);
        let store = self.conversations.store.as_ref();
        let CustomerSlot::Open(customer) = store.customer(&identity).await? else {
            tracing::warn!("the author's conversation is no longer open: no note");
            return Ok(());
        };
        let sid = &customer.conversation_sid;
        let mark = "mention_invite_refused";
        flex::post_note(&self.conversations.twilio, sid, &note, mark, &job.event_id)
            .await
            .map_err(|err| WorkError::Bridge(err.into()))
    }
}

#[cfg(test)]
mod tests {
    const MENTIONS_VAR: &str = super::X_MENTIONS.name;
    use super::*;

    #[test]
    fn x_mentions_is_off_notify_or_reply() {
        for (value, mode) in [
            ("", MentionMode::Off),
            ("off", MentionMode::Off),
            ("notify", MentionMode::Notify),
            ("Reply", MentionMode::Reply),
        ] {
            let mut env = Env::from_pairs(&[(MENTIONS_VAR, value)]);
            assert_eq!(MentionMode::from_env(&mut env), mode, "{value:?}");
            env.finish().unwrap();
        }
        let mut env = Env::from_pairs(&[]);
        assert_eq!(MentionMode::from_env(&mut env), MentionMode::Off);
        let mut env = Env::from_pairs(&[(MENTIONS_VAR, "yes")]);
        MentionMode::from_env(&mut env);
        assert!(matches!(env.finish(), Err(err) if err.names(MENTIONS_VAR)));
    }

    fn credentials(extra: &[(&'static str, &'static str)]) -> Env {
        let mut pairs = vec![
            ("X_CONSUMER_KEY", "TEST_ONLY_key"),
            ("X_CONSUMER_SECRET", "TEST_ONLY_secret"),
            ("X_ACCESS_TOKEN", "TEST_ONLY_token"),
            ("X_ACCESS_TOKEN_SECRET", "TEST_ONLY_token_secret"),
        ];
        pairs.extend_from_slice(extra);
        Env::from_pairs(&pairs)
    }

    #[test]
    fn invitations_need_credentials_and_a_reply_text_without_a_url() {
        let http = crate::http::http_client();
        let mut env = Env::from_pairs(&[]);
        assert!(Invitations::from_env(&mut env, &http).is_none());
        env.finish().expect("off needs nothing");

        let mut env = Env::from_pairs(&[(MENTIONS_VAR, "notify")]);
        Invitations::from_env(&mut env, &http);
        assert!(matches!(env.finish(), Err(err) if err.missing().contains(&"X_ACCESS_TOKEN")));

        let mut env = credentials(&[(MENTIONS_VAR, "reply")]);
        let invitations = Invitations::from_env(&mut env, &http).expect("on");
        env.finish().unwrap();
        assert_eq!(invitations.mode, MentionMode::Reply);
        assert_eq!(invitations.reply_text, DEFAULT_REPLY_TEXT);
        assert!(!has_url(DEFAULT_REPLY_TEXT) && !has_url(DEFAULT_DM_TEXT));

        for text in [
            "DM us or see https://acme.example/help",
            "Visit acme.com for help",
            "Help: www.acme",
            "Write to help.acme.co/support.",
        ] {
            let mut env = credentials(&[(MENTIONS_VAR, "reply"), (REPLY_TEXT_VAR, text)]);
            Invitations::from_env(&mut env, &http);
            assert!(
                matches!(env.finish(), Err(err) if err.names(REPLY_TEXT_VAR)),
                "{text}"
            );
        }
        let long = "a".repeat(281);
        let long: &'static str = Box::leak(long.into_boxed_str());
        let mut env = credentials(&[(MENTIONS_VAR, "reply"), (REPLY_TEXT_VAR, long)]);
        Invitations::from_env(&mut env, &http);
        assert!(env.finish().is_err());
    }

    #[test]
    fn what_counts_as_a_url() {
        for plain in [
            "Thanks! Please DM us.",
            "e.g. your order number...",
            "We're here 9-5. Send a DM",
            "Hi...there",
        ] {
            assert!(!has_url(plain), "{plain}");
        }
        for linked in ["http://x", "acme.io", "see Acme.Example!", "www.acme"] {
            assert!(has_url(linked), "{linked}");
        }
    }

    #[test]
    fn the_agent_reads_a_public_post_with_its_link() {
        assert_eq!(
            flex_text("1960000000000000001", "@AcmeSupport help"),
            "[Public post on X: https://x.com/i/web/status/1960000000000000001] @AcmeSupport help"
        );
    }
}
