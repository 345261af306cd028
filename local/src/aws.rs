//! DynamoDB and SQS at `AWS_ENDPOINT_URL` (moto server in tests): fresh resources per run, laid
//! out as `template.yaml` lays them out, and a poller that plays the Lambda SQS event source
//! mapping (batches, partial batch failures, visibility timeout, DLQ after `maxReceiveCount`).

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use flex_bridge::queue::{QueueRecord, SqsQueue};
use flex_bridge::store::DynamoStore;

type Error = Box<dyn std::error::Error>;

#[derive(Clone, Debug)]
pub struct AwsResources {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub table: String,
    pub queue_url: String,
    pub discord_queue_url: String,
    /// The X intake queue (`X_INTAKE_QUEUE_URL`) that `x-worker` consumes.
    pub x_queue_url: String,
}

impl AwsResources {
    pub async fn create(
        prefix: &str,
        max_receives: u32,
        visibility: Duration,
    ) -> Result<Self, Error> {
        if std::env::var("AWS_ENDPOINT_URL").is_err() {
            return Err("AWS_ENDPOINT_URL is not set: run the tests with `make test` (it starts moto server)".into());
        }
        let config = flex_bridge::sdk_http::aws_config().await;
        let dynamodb = aws_sdk_dynamodb::Client::new(&config);
        let sqs = aws_sdk_sqs::Client::new(&config);
        let table = format!("{prefix}-table");
        DynamoStore::create_table(&dynamodb, &table).await?;
        let queue_url = fifo_queue(
            &sqs,
            &format!("{prefix}-delivery"),
            max_receives,
            visibility,
        )
        .await?;
        let discord_queue_url =
            fifo_queue(&sqs, &format!("{prefix}-discord"), max_receives, visibility).await?;
        let x_queue_url = fifo_queue(
            &sqs,
            &format!("{prefix}-x-intake"),
            max_receives,
            visibility,
        )
        .await?;
        Ok(Self {
            dynamodb,
            sqs,
            table,
            queue_url,
            discord_queue_url,
            x_queue_url,
        })
    }

    pub fn store(&self) -> DynamoStore {
        DynamoStore::new(self.dynamodb.clone(), self.table.clone())
    }

    pub fn queue(&self) -> SqsQueue {
        SqsQueue::new(self.sqs.clone(), self.queue_url.clone())
    }

    pub fn discord_queue(&self) -> SqsQueue {
        SqsQueue::new(self.sqs.clone(), self.discord_queue_url.clone())
    }

    pub fn x_queue(&self) -> SqsQueue {
        SqsQueue::new(self.sqs.clone(), self.x_queue_url.clone())
    }
}

/// A FIFO queue with its FIFO dead-letter queue, as `template.yaml` declares them; returns
/// the queue's URL.
async fn fifo_queue(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    max_receives: u32,
    visibility: Duration,
) -> Result<String, Error> {
    let dlq_url = sqs
        .create_queue()
        .queue_name(format!("{name}-dlq.fifo"))
        .attributes(QueueAttributeName::FifoQueue, "true")
        .send()
        .await?
        .queue_url
        .ok_or("no DLQ url")?;
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await?
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .ok_or("no DLQ arn")?;
    let redrive =
        serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives});
    let queue_url = sqs
        .create_queue()
        .queue_name(format!("{name}.fifo"))
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::ContentBasedDeduplication, "false")
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            visibility.as_secs().max(1).to_string(),
        )
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .send()
        .await?
        .queue_url
        .ok_or("no queue url")?;
    Ok(queue_url)
}

/// The event source mapping: receive a batch, invoke the handler, delete what succeeded.
///
/// One message per receive: moto 5 mishandles FIFO groups with several messages in flight (when
/// they turn visible again it skips the group's head while its siblings are still marked
/// pending, and delivers out of order). Real SQS does not; multi-message batches with partial
/// failures are exercised with the in-process queue instead (`Backend::Memory`).
pub async fn consume<F, Fut>(sqs: aws_sdk_sqs::Client, queue_url: String, handle: F)
where
    F: Fn(Vec<QueueRecord>) -> Fut,
    Fut: Future<Output = Vec<flex_bridge::queue::Failure>>,
{
    loop {
        let received = sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(1)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await;
        let messages = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(err) => {
                tracing::warn!(error = %err, "receive failed");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        let mut receipts = HashMap::new();
        let records: Vec<QueueRecord> = messages
            .into_iter()
            .map(|m| {
                let attributes = m.attributes.unwrap_or_default();
                let id = m.message_id.unwrap_or_default();
                receipts.insert(id.clone(), m.receipt_handle.unwrap_or_default());
                QueueRecord {
                    receive_count: attributes
                        .get(&MessageSystemAttributeName::ApproximateReceiveCount)
                        .and_then(|c| c.parse().ok())
                        .unwrap_or(1),
                    group: attributes
                        .get(&MessageSystemAttributeName::MessageGroupId)
                        .cloned(),
                    message_id: id,
                    body: m.body.unwrap_or_default(),
                }
            })
            .collect();
        let failed = handle(records).await;
        for (id, receipt) in receipts {
            match failed.iter().find(|f| f.message_id == id) {
                None => {
                    if let Err(err) = sqs
                        .delete_message()
                        .queue_url(&queue_url)
                        .receipt_handle(receipt)
                        .send()
                        .await
                    {
                        tracing::warn!(error = %err, "delete failed");
                    }
                }
                // As Lambda's run_sqs does: hide it until the time it named.
                Some(failure) if failure.retry_at.is_some() => {
                    let delay = failure.delay(1, flex_bridge::now_epoch());
                    if let Err(err) =
                        flex_bridge::queue::delay_retry(&sqs, &queue_url, &receipt, delay).await
                    {
                        tracing::warn!(error = %err, "could not delay the retry");
                    }
                }
                Some(_) => {}
            }
        }
    }
}
