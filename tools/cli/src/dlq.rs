//! `flex-bridge dlq status | redrive`: the dead-letter queues behind the bridge's work queues.
//! A message lands in a DLQ after its tries (with growing waits, about two hours by default)
//! all failed; once the cause is fixed, `redrive` moves the DLQ's messages back to the queue
//! they came from with SQS `StartMessageMoveTask`, and the bridge's dedupe makes a message
//! that was in fact handled harmless.

use std::io::Write;

use aws_sdk_sqs::types::QueueAttributeName;
use aws_sdk_sqs::Client;
use flex_bridge_core::config::{schema, ConfigError, Env, Var};

/// The work queues the bridge has, by the variable that names each.
pub const QUEUE_VARIABLES: [&Var; 3] = [
    &schema::DELIVERY_QUEUE_URL,
    &schema::X_INTAKE_QUEUE_URL,
    &schema::DISCORD_QUEUE_URL,
];

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(
        "no queue: set DELIVERY_QUEUE_URL, X_INTAKE_QUEUE_URL or DISCORD_QUEUE_URL (the stack's outputs), or pass --queue URL"
    )]
    NoQueue,
    #[error("no AWS region: set AWS_REGION (or AWS_PROFILE with a region)")]
    NoRegion,
    #[error("{queue} has no dead-letter queue (no RedrivePolicy): is it the bridge's work queue, not its DLQ?")]
    NoDeadLetterQueue { queue: String },
    #[error("SQS {action} on {queue}: {reason}")]
    Sqs {
        action: &'static str,
        queue: String,
        reason: String,
    },
}

/// A work queue and its DLQ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetters {
    pub queue_url: String,
    pub queue_arn: String,
    pub dlq_url: String,
    pub dlq_arn: String,
    /// Messages waiting in the DLQ (approximate, as SQS counts).
    pub waiting: u64,
}

/// The queues to look at: `--queue` URLs, or every work queue the environment names.
pub fn queues(mut env: Env, given: Vec<String>) -> Result<Vec<String>, Error> {
    let queues: Vec<String> = if given.is_empty() {
        QUEUE_VARIABLES
            .iter()
            .filter_map(|var| env.optional(var))
            .collect()
    } else {
        given
    };
    env.finish()?;
    if queues.is_empty() {
        return Err(Error::NoQueue);
    }
    Ok(queues)
}

pub async fn client() -> Result<Client, Error> {
    let config = flex_bridge_store::sdk_http::aws_config().await;
    if config.region().is_none() {
        return Err(Error::NoRegion);
    }
    Ok(Client::new(&config))
}

fn sqs_error(action: &'static str, queue: &str, err: impl std::fmt::Display) -> Error {
    Error::Sqs {
        action,
        queue: queue.to_owned(),
        reason: err.to_string(),
    }
}

/// A queue's DLQ, from its `RedrivePolicy`, with the DLQ's message count.
pub async fn dead_letters(sqs: &Client, queue_url: &str) -> Result<DeadLetters, Error> {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .attribute_names(QueueAttributeName::RedrivePolicy)
        .send()
        .await
        .map_err(|e| sqs_error("GetQueueAttributes", queue_url, e.into_service_error()))?
        .attributes
        .unwrap_or_default();
    let queue_arn = attributes
        .get(&QueueAttributeName::QueueArn)
        .cloned()
        .unwrap_or_default();
    let dlq_arn = attributes
        .get(&QueueAttributeName::RedrivePolicy)
        .and_then(|policy| serde_json::from_str::<serde_json::Value>(policy).ok())
        .and_then(|policy| policy["deadLetterTargetArn"].as_str().map(str::to_owned))
        .ok_or_else(|| Error::NoDeadLetterQueue {
            queue: queue_url.to_owned(),
        })?;
    // arn:aws:sqs:REGION:ACCOUNT:NAME
    let mut parts = dlq_arn.rsplitn(3, ':');
    let (name, account) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let dlq_url = sqs
        .get_queue_url()
        .queue_name(name)
        .queue_owner_aws_account_id(account)
        .send()
        .await
        .map_err(|e| sqs_error("GetQueueUrl", &dlq_arn, e.into_service_error()))?
        .queue_url
        .unwrap_or_default();
    let waiting = sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .map_err(|e| sqs_error("GetQueueAttributes", &dlq_url, e.into_service_error()))?
        .attributes
        .and_then(|a| {
            a.get(&QueueAttributeName::ApproximateNumberOfMessages)
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0);
    Ok(DeadLetters {
        queue_url: queue_url.to_owned(),
        queue_arn,
        dlq_url,
        dlq_arn,
        waiting,
    })
}

/// One line per work queue: its DLQ and how many messages wait there.
pub async fn status(sqs: &Client, queues: &[String], out: &mut dyn Write) -> Result<(), Error> {
    for queue in queues {
        let dead = dead_letters(sqs, queue).await?;
        let _ = writeln!(
            out,
            "{}  {} message(s) in {}",
            name_of(&dead.queue_arn, queue),
            dead.waiting,
            name_of(&dead.dlq_arn, &dead.dlq_url),
        );
    }
    Ok(())
}

/// Moves every DLQ's messages back to its work queue (one `StartMessageMoveTask` per DLQ that
/// has any); SQS moves them in the background, oldest first.
pub async fn redrive(sqs: &Client, queues: &[String], out: &mut dyn Write) -> Result<(), Error> {
    for queue in queues {
        let dead = dead_letters(sqs, queue).await?;
        let name = name_of(&dead.queue_arn, queue);
        if dead.waiting == 0 {
            let _ = writeln!(out, "{name}  nothing to redrive");
            continue;
        }
        let task = sqs
            .start_message_move_task()
            .source_arn(&dead.dlq_arn)
            .destination_arn(&dead.queue_arn)
            .send()
            .await
            .map_err(|e| {
                sqs_error(
                    "StartMessageMoveTask",
                    &dead.dlq_arn,
                    e.into_service_error(),
                )
            })?;
        let _ = writeln!(
            out,
            "{name}  moving {} message(s) back from {} (task {})",
            dead.waiting,
            name_of(&dead.dlq_arn, &dead.dlq_url),
            task.task_handle.unwrap_or_default(),
        );
    }
    Ok(())
}

/// The queue's name, from its ARN (or URL).
fn name_of<'a>(arn: &'a str, fallback: &'a str) -> &'a str {
    let source = if arn.is_empty() { fallback } else { arn };
    source
        .rsplit([':', '/'])
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or(source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_come_from_the_flags_or_the_environment() {
        let env = |pairs: &[(&str, &str)]| {
            Env::from_map(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        };
        let (d, w) = ("https://sqs/1/d.fifo", "https://sqs/1/w.fifo");
        assert_eq!(
            queues(
                env(&[("DELIVERY_QUEUE_URL", d), ("DISCORD_QUEUE_URL", w)]),
                vec![]
            )
            .unwrap(),
            [d, w]
        );
        assert_eq!(
            queues(env(&[("DELIVERY_QUEUE_URL", d)]), vec!["q".into()]).unwrap(),
            ["q"]
        );
        // Checked by the schema, like every variable.
        assert!(matches!(
            queues(env(&[("DELIVERY_QUEUE_URL", "d")]), vec![]),
            Err(Error::Config(_))
        ));
        assert!(matches!(queues(env(&[]), vec![]), Err(Error::NoQueue)));
        assert_eq!(
            name_of("arn:aws:sqs:eu-west-1:1:bridge-delivery.fifo", ""),
            "bridge-delivery.fifo"
        );
        assert_eq!(name_of("", "https://sqs/1/q-dlq.fifo"), "q-dlq.fifo");
    }
}
