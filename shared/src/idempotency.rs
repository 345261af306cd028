//! Doing a piece of work once per key, however often it is asked for (a sender's retry, a
//! queue's redelivery, two invocations at once): claim the key for about one try, do the
//! work, then keep the key for days when it is done, or let it go when it failed, so the retry
//! does it. A claim that lapses (the invocation was killed mid-work) lets the next try in.

use std::future::Future;

use crate::store::{Store, StoreError};

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
        store: &dyn Store,
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
    pub async fn step<E, F, Fut>(&self, store: &dyn Store, key: &str, work: F) -> Result<(), E>
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
    use crate::store::MemoryStore;

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
