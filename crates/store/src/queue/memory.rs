//! An in-process FIFO queue with SQS's delivery rules, for the local all-in-one server:
//! per-group order, five-minute deduplication, a visibility delay before a failed message is
//! retried, and a dead-letter list after `max_receives`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::Notify;

use super::{Failure, Lane, Queue, QueueError, QueueRecord};

const DEDUPE_WINDOW: Duration = Duration::from_secs(300);

pub struct MemoryQueue {
    state: Mutex<State>,
    ready: Notify,
    max_receives: u32,
    retry_delay: Duration,
}

#[derive(Default)]
struct State {
    next_id: u64,
    /// Waiting messages, oldest first, with the instant they become visible.
    waiting: Vec<(QueueRecord, Instant)>,
    in_flight_groups: Vec<String>,
    seen: HashMap<String, Instant>,
    dead: Vec<QueueRecord>,
}

impl MemoryQueue {
    pub fn new(max_receives: u32, retry_delay: Duration) -> Self {
        Self {
            state: Mutex::new(State::default()),
            ready: Notify::new(),
            max_receives,
            retry_delay,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for up to `max` visible messages, in order. Like SQS FIFO, a group with a message in
    /// flight, or whose head is still invisible after a failure, gives out nothing else.
    pub async fn receive(&self, max: usize) -> Vec<QueueRecord> {
        loop {
            let notified = self.ready.notified();
            let (batch, next_visible) = {
                let mut state = self.state();
                let now = Instant::now();
                let mut batch = Vec::new();
                let mut blocked: Vec<String> = state.in_flight_groups.clone();
                let mut next_visible: Option<Instant> = None;
                let mut index = 0;
                while index < state.waiting.len() && batch.len() < max {
                    let (record, visible_at) = &state.waiting[index];
                    let group = record.group.clone().unwrap_or_default();
                    if blocked.contains(&group) {
                        index += 1;
                    } else if *visible_at > now {
                        next_visible =
                            Some(next_visible.map_or(*visible_at, |n| n.min(*visible_at)));
                        blocked.push(group);
                        index += 1;
                    } else {
                        let (mut record, _) = state.waiting.remove(index);
                        record.receive_count += 1;
                        batch.push(record);
                    }
                }
                for record in &batch {
                    let group = record.group.clone().unwrap_or_default();
                    if !state.in_flight_groups.contains(&group) {
                        state.in_flight_groups.push(group);
                    }
                }
                (batch, next_visible)
            };
            if !batch.is_empty() {
                return batch;
            }
            match next_visible {
                Some(at) => {
                    let _ = tokio::time::timeout(
                        at.saturating_duration_since(Instant::now()),
                        notified,
                    )
                    .await;
                }
                None => notified.await,
            }
        }
    }

    /// Settles a received batch: `failed` records go back (in order, after the queue's delay or
    /// at their `retry_at`) or to the DLQ.
    pub fn settle(&self, batch: Vec<QueueRecord>, failed: &[Failure]) {
        let mut state = self.state();
        let mut retry = Vec::new();
        for record in batch {
            let group = record.group.clone().unwrap_or_default();
            state.in_flight_groups.retain(|g| *g != group);
            let Some(failure) = failed.iter().find(|f| f.message_id == record.message_id) else {
                continue;
            };
            if record.receive_count >= self.max_receives {
                state.dead.push(record);
            } else {
                let delay = match failure.retry_at {
                    Some(at) => Duration::from_secs((at - crate::now_epoch()).max(0) as u64),
                    None => self.retry_delay,
                };
                retry.push((record, Instant::now() + delay));
            }
        }
        // Failed messages go back in front of their groups' later messages.
        for (offset, entry) in retry.into_iter().enumerate() {
            state.waiting.insert(offset, entry);
        }
        drop(state);
        self.ready.notify_waiters();
    }

    pub fn dead_letters(&self) -> Vec<QueueRecord> {
        self.state().dead.clone()
    }

    pub fn is_idle(&self) -> bool {
        let state = self.state();
        state.waiting.is_empty() && state.in_flight_groups.is_empty()
    }
}

#[async_trait]
impl Queue for MemoryQueue {
    async fn send(&self, lane: &Lane, dedupe_id: &str, body: &str) -> Result<(), QueueError> {
        let mut state = self.state();
        let now = Instant::now();
        state
            .seen
            .retain(|_, at| now.duration_since(*at) < DEDUPE_WINDOW);
        if state.seen.contains_key(dedupe_id) {
            return Ok(());
        }
        state.seen.insert(dedupe_id.to_owned(), now);
        state.next_id += 1;
        let record = QueueRecord {
            message_id: format!("local-{}", state.next_id),
            body: body.to_owned(),
            receive_count: 0,
            group: Some(lane.as_str().to_owned()),
        };
        state.waiting.push((record, now));
        drop(state);
        self.ready.notify_waiters();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keeps_group_order_across_retries_and_dead_letters() {
        let queue = MemoryQueue::new(2, Duration::from_millis(10));
        queue
            .send(&Lane::platform_user("g"), "1", "first")
            .await
            .unwrap();
        queue
            .send(&Lane::platform_user("g"), "1", "first again")
            .await
            .unwrap();
        queue
            .send(&Lane::platform_user("g"), "2", "second")
            .await
            .unwrap();
        let batch = queue.receive(10).await;
        let bodies: Vec<_> = batch.iter().map(|r| r.body.as_str()).collect();
        assert_eq!(bodies, ["first", "second"], "deduplicated, in order");
        let ids: Vec<_> = batch.iter().map(|r| retry(&r.message_id)).collect();
        queue.settle(batch, &ids);
        let batch = queue.receive(10).await;
        assert_eq!(
            (batch[0].body.as_str(), batch[0].receive_count),
            ("first", 2)
        );
        assert_eq!(batch[1].body, "second");
        let first = retry(&batch[0].message_id);
        queue.settle(batch, &[first]);
        assert_eq!(queue.dead_letters()[0].body, "first");
        assert!(queue.is_idle());
    }

    fn retry(id: &str) -> Failure {
        Failure {
            message_id: id.into(),
            retry_at: None,
        }
    }

    #[tokio::test]
    async fn a_failure_with_a_time_waits_until_then_and_holds_its_group() {
        let queue = MemoryQueue::new(5, Duration::from_millis(10));
        queue
            .send(&Lane::platform_user("g"), "1", "first")
            .await
            .unwrap();
        queue
            .send(&Lane::platform_user("g"), "2", "second")
            .await
            .unwrap();
        let batch = queue.receive(1).await;
        let wait = Failure {
            message_id: batch[0].message_id.clone(),
            retry_at: Some(crate::now_epoch() + 2),
        };
        queue.settle(batch, &[wait]);
        let early = tokio::time::timeout(Duration::from_millis(500), queue.receive(10)).await;
        assert!(
            early.is_err(),
            "nothing of the group before its head's time"
        );
        let batch = tokio::time::timeout(Duration::from_secs(5), queue.receive(10))
            .await
            .expect("at its time");
        assert_eq!(batch[0].body, "first");
    }
}
