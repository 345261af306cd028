//! The logs an operator reads to follow one conversation: two customers' DMs and their agents'
//! replies run interleaved on the same worker threads, and every line written inside a DM's or a
//! delivery's span names that work's own conversation (a span entered across an `.await` would
//! lend its fields to whatever task the thread polls next).

#[path = "suite/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use local::wait_for;

#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// One worker thread: every task of the bridge, the sandbox and the test is polled on it, so a
// span left entered across an `.await` would be current for whichever task runs next.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn every_line_of_interleaved_work_carries_its_own_conversation() {
    let lines = Lines::default();
    let writer = lines.clone();
    tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_env_filter("info")
        .with_writer(move || writer.clone())
        .init();

    // The in-process queues (strict FIFO, quick retries): what is checked is the logs, and moto's
    // FIFO emulation may hand out a group's later messages while a retried head waits.
    let bridge = local::LocalBridge::start(local::Backend::Memory, studio())
        .await
        .expect("the bridge starts");
    let sandbox = &bridge.sandbox;
    let customers = ["2900000001", "2900000002"];
    let mut dm_events = HashMap::new();
    for (n, customer) in customers.iter().enumerate() {
        let sent = sandbox
            .customer_dm(customer, &format!("customer{n}"), "hello")
            .await;
        dm_events.insert(sent.event_id, format!("x-{customer}"));
    }
    let sid_of = |identity: &str| {
        let identity = identity.to_owned();
        move || {
            sandbox
                .conversations()
                .into_iter()
                .find(|c| c.participants.iter().any(|p| p.identity == identity))
                .map(|c| c.sid)
        }
    };
    let mut sids = HashMap::new();
    for customer in customers {
        let identity = format!("x-{customer}");
        let sid = wait_for(WAIT, sid_of(&identity))
            .await
            .expect("conversation");
        sids.insert(identity, sid);
    }
    // Both agents write at once, again and again.
    let rounds = 6;
    for round in 0..rounds {
        let text = format!("reply {round}");
        let sends = sids
            .values()
            .map(|sid| sandbox.agent_message(sid, "sam@acme.example", &text));
        for sent in futures_util::future::join_all(sends).await {
            sent.unwrap();
        }
    }
    for customer in customers {
        // The first reply also tells the customer an agent joined.
        dms(&bridge, customer, rounds + 1).await;
    }

    let mut conversation_of_message = HashMap::new();
    for conversation in sandbox.conversations() {
        for message in conversation.messages {
            conversation_of_message.insert(message.sid, conversation.sid.clone());
        }
    }
    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    let (mut deliveries, mut dms_seen) = (0, 0);
    for line in text.lines() {
        let line: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        let span = &line["span"];
        let sid = span["conversation_sid"].as_str();
        let target = line["target"].as_str().unwrap_or_default();
        // What the line itself says of its conversation, when it names one.
        if let (Some(own), Some(sid)) = (line["fields"]["conversation_sid"].as_str(), sid) {
            assert_eq!(own, sid, "a line under another conversation's span: {line}");
        }
        let foreign = |owners: &[&str]| {
            target.starts_with("sandbox") || owners.iter().any(|o| target.starts_with(o))
        };
        match span["name"].as_str() {
            Some("deliver") => {
                assert!(
                    !foreign(&[
                        "flex_bridge::flex",
                        "flex_bridge::x::worker",
                        "flex_bridge::conversations"
                    ]),
                    "another task's line under a delivery's span: {line}"
                );
                let job = span["job"].as_str().unwrap();
                if let Some(expected) = conversation_of_message.get(job) {
                    assert_eq!(sid, Some(expected.as_str()), "{line}");
                    deliveries += 1;
                }
            }
            Some("x_dm") => {
                assert!(
                    !foreign(&["flex_bridge::flex", "flex_bridge::delivery"]),
                    "another task's line under a DM's span: {line}"
                );
                let identity = &dm_events[span["event_id"].as_str().unwrap()];
                if let Some(sid) = sid {
                    assert_eq!(sid, sids[identity], "{line}");
                    dms_seen += 1;
                }
            }
            _ => {}
        }
    }
    assert!(
        deliveries >= 2 * rounds,
        "{deliveries} delivery lines checked"
    );
    assert!(dms_seen >= 2, "{dms_seen} DM lines checked");
}
