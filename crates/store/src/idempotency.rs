//! Doing a piece of work once per key, however often it is asked for (a sender's retry, a
//! queue's redelivery, two invocations at once): claim the key for about one try, do the
//! work, then keep the key for days when it is done, or let it go when it failed, so the retry
//! does it. A claim that lapses (the invocation was killed mid-work) lets the next try in.

use std::future::Future;

use crate::store::{EventLog, StoreError};

/// Every key the bridge claims work under or finds a case by, in one place: a key written in one
/// file and read in another (a hand-off's case) cannot drift apart, and none collides with
/// another kind's. Their text is what deployed tables hold: it does not change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key<'a> {
    /// A customer's X DM, by X's event id: posted to Flex (or answered) once.
    XDm(&'a str),
    /// A public mention, by post id: posted to Flex once.
    XPost(&'a str),
    /// The invitation to DM sent to a mention's author (once per 24 hours).
    XInvite(&'a str),
    /// A chatbot turn, by the customer's message SID.
    BotTurn(&'a str),
    /// A hand-off's attempt at the Interactions API, by conversation SID.
    Interaction(&'a str),
    /// The support case a hand-off opened, by conversation SID (a case source).
    HandoffCase(&'a str),
    /// A delivery job done, by job id.
    Delivered(&'a str),
    /// One part of a long X DM, by job id and part.
    DeliveryPart(&'a str, usize),
    /// File `n` of an agent's message sent (or its refusal told), by job id; `n` = the number
    /// of files: the text sent alone, no file taken.
    DeliveryFile(&'a str, usize),
    /// The chat-ended notice told, by job id (when a transcript follows it).
    ChatEndedTold(&'a str),
    /// A case's transcript sent to its Discord customer (`TRANSCRIPTS=send`), by case id.
    TranscriptSent(&'a str),
    /// "Agent joined" told, by conversation SID and agent identity.
    Joined {
        conversation: &'a str,
        agent: &'a str,
    },
    /// The first agent of a conversation told.
    FirstJoined(&'a str),
    /// A Discord interaction's work, by interaction id; also the case source of its report.
    DiscordInteraction(&'a str),
    /// A Discord interaction's message posted to Flex.
    DiscordPosted(&'a str),
    /// File `n` of a Discord interaction posted to Flex (or its refusal noted); `n` = the
    /// number of files: the text posted alone, every file refused.
    DiscordFile(&'a str, usize),
    /// A Discord user whose DMs refused the bridge (50007), by customer identity.
    DmsClosed(&'a str),
    /// The agent told of closed DMs, once per conversation and mark.
    DmsClosedNoted { conversation: &'a str, until: i64 },
    /// The agent told of a short X DM budget, once per conversation and reset.
    XBudgetNoted { conversation: &'a str, until: i64 },
}

impl std::fmt::Display for Key<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::XDm(event) => write!(f, "x#{event}"),
            Key::XPost(post) => write!(f, "x#post-{post}"),
            Key::XInvite(author) => write!(f, "x-invite#{author}"),
            Key::BotTurn(message) => write!(f, "bot#{message}"),
            Key::Interaction(sid) => write!(f, "interaction#{sid}"),
            Key::HandoffCase(sid) => write!(f, "handoff#{sid}"),
            Key::Delivered(job) => write!(f, "delivered#{job}"),
            Key::DeliveryPart(job, n) => write!(f, "delivery#{job}#part{n}"),
            Key::DeliveryFile(job, n) => write!(f, "delivery#{job}#file{n}"),
            Key::ChatEndedTold(job) => write!(f, "delivery#{job}#ended"),
            Key::TranscriptSent(case) => write!(f, "transcript-sent#{case}"),
            Key::Joined {
                conversation,
                agent,
            } => write!(f, "joined#{conversation}#{agent}"),
            Key::FirstJoined(sid) => write!(f, "joined#{sid}"),
            Key::DiscordInteraction(id) => write!(f, "discord#{id}"),
            Key::DiscordPosted(id) => write!(f, "discord#{id}#posted"),
            Key::DiscordFile(id, n) => write!(f, "discord#{id}#file{n}"),
            Key::DmsClosed(identity) => write!(f, "dms-closed#{identity}"),
            Key::DmsClosedNoted {
                conversation,
                until,
            } => write!(f, "dms-closed-noted#{conversation}#{until}"),
            Key::XBudgetNoted {
                conversation,
                until,
            } => write!(f, "x-budget-noted#{conversation}#{until}"),
        }
    }
}

/// How long a key is held: `claim_secs` while the work runs (longer than one try, shorter than
/// the sender's or the queue's retry delay), `keep_secs` once it is done (longer than any
/// duplicate can arrive). With both equal, the claim is the record: one write, not two (the
/// warm paths of X intake and the chatbot count their DynamoDB operations).
#[derive(Clone, Copy, Debug)]
pub struct Once {
    pub claim_secs: i64,
    pub keep_secs: i64,
}

/// What became of the work.
#[derive(Debug)]
pub enum Outcome<T, E> {
    Done(T),
    /// Done before, or being done right now by another invocation.
    AlreadyDone,
    /// It failed and the key was let go: a retry will do it.
    Failed(E),
}

impl Once {
    /// Runs `work` unless `key` was claimed already. A store failure before the work is an
    /// error (nothing was done); after it, it is only logged (the work is done).
    pub async fn run<T, E, F, Fut>(
        &self,
        store: &dyn EventLog,
        key: &str,
        work: F,
    ) -> Result<Outcome<T, E>, StoreError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if !store.claim_event(key, self.claim_secs).await? {
            tracing::info!(key, "already done");
            return Ok(Outcome::AlreadyDone);
        }
        match work().await {
            // Claimed for good already (a sender that retries within minutes, where a killed
            // try is retried as a failure would be): nothing more to write.
            Ok(value) if self.keep_secs == self.claim_secs => Ok(Outcome::Done(value)),
            Ok(value) => {
                if let Err(err) = store.confirm_event(key, self.keep_secs).await {
                    // Done all the same; only a duplicate arriving after the claim lapses
                    // could repeat it.
                    tracing::warn!(key, error = %err, "could not keep the done record");
                }
                Ok(Outcome::Done(value))
            }
            Err(err) => {
                if let Err(release) = store.release_event(key).await {
                    tracing::error!(key, error = %release, "could not let the claim go");
                }
                Ok(Outcome::Failed(err))
            }
        }
    }
}

/// The steps of a piece of work that a customer or agent sees (a message posted, a DM sent):
/// each done once, so a retry of the whole skips the steps an earlier try completed. Held a
/// week, longer than any retry of the work: about two hours of queue back-off, or a wait of up
/// to a day for X's DM budget to reset between one part of a long DM and the next.
pub const STEP: Once = Once {
    claim_secs: 90,
    keep_secs: 7 * 24 * 3600,
};

impl Once {
    /// Runs one step of a longer piece of work under `key` unless it was done already.
    pub async fn step<E, F, Fut>(&self, store: &dyn EventLog, key: &str, work: F) -> Result<(), E>
    where
        E: From<StoreError>,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(), E>>,
    {
        match self.run(store, key, work).await? {
            Outcome::Done(()) | Outcome::AlreadyDone => Ok(()),
            Outcome::Failed(err) => Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deployed tables hold these: a key's text never changes.
    #[test]
    fn keys_keep_their_text() {
        let keys = [
            (Key::XDm("19"), "x#19"),
            (Key::XPost("18"), "x#post-18"),
            (Key::XInvite("29"), "x-invite#29"),
            (Key::BotTurn("IM1"), "bot#IM1"),
            (Key::Interaction("CH1"), "interaction#CH1"),
            (Key::HandoffCase("CH1"), "handoff#CH1"),
            (Key::Delivered("IM2"), "delivered#IM2"),
            (Key::DeliveryPart("IM2", 1), "delivery#IM2#part1"),
            (Key::DeliveryFile("IM2", 2), "delivery#IM2#file2"),
            (Key::ChatEndedTold("IM3"), "delivery#IM3#ended"),
            (Key::TranscriptSent("CS-1042"), "transcript-sent#CS-1042"),
            (
                Key::Joined {
                    conversation: "CH1",
                    agent: "sam",
                },
                "joined#CH1#sam",
            ),
            (Key::FirstJoined("CH1"), "joined#CH1"),
            (Key::DiscordInteraction("12"), "discord#12"),
            (Key::DiscordPosted("12"), "discord#12#posted"),
            (Key::DiscordFile("12", 1), "discord#12#file1"),
            (Key::DmsClosed("discord-8"), "dms-closed#discord-8"),
            (
                Key::DmsClosedNoted {
                    conversation: "CH1",
                    until: 5,
                },
                "dms-closed-noted#CH1#5",
            ),
            (
                Key::XBudgetNoted {
                    conversation: "CH1",
                    until: 5,
                },
                "x-budget-noted#CH1#5",
            ),
        ];
        for (key, text) in keys {
            assert_eq!(key.to_string(), text);
        }
    }
    use crate::store::{EventLog, MemoryStore};

    const ONCE: Once = Once {
        claim_secs: 60,
        keep_secs: 3600,
    };

    #[tokio::test]
    async fn work_runs_once_and_again_only_after_a_failure() {
        let store = MemoryStore::new();
        let failed = ONCE
            .run(&store, "k", || async { Err::<(), _>("down") })
            .await
            .unwrap();
        assert!(matches!(failed, Outcome::Failed("down")));
        let done = ONCE
            .run(&store, "k", || async { Ok::<_, ()>(1) })
            .await
            .unwrap();
        assert!(matches!(done, Outcome::Done(1)));
        let again = ONCE
            .run(&store, "k", || async { Ok::<_, ()>(2) })
            .await
            .unwrap();
        assert!(matches!(again, Outcome::AlreadyDone));
    }

    #[tokio::test]
    async fn a_claim_as_long_as_the_keep_is_written_once() {
        let store = MemoryStore::new();
        let for_good = Once {
            claim_secs: 3600,
            keep_secs: 3600,
        };
        let done = for_good
            .run(&store, "k", || async { Ok::<_, ()>(()) })
            .await
            .unwrap();
        assert!(matches!(done, Outcome::Done(())));
        let again = for_good
            .run(&store, "k", || async { Ok::<_, ()>(()) })
            .await
            .unwrap();
        assert!(matches!(again, Outcome::AlreadyDone));
    }

    #[tokio::test]
    async fn a_claim_that_lapsed_lets_the_next_try_in() {
        let store = MemoryStore::new();
        let lapsing = Once {
            claim_secs: -1,
            keep_secs: 3600,
        };
        // Killed mid-work: the claim stays, lapsed.
        assert!(store.claim_event("k", lapsing.claim_secs).await.unwrap());
        let retried = ONCE
            .run(&store, "k", || async { Ok::<_, ()>(()) })
            .await
            .unwrap();
        assert!(matches!(retried, Outcome::Done(())));
    }
}
