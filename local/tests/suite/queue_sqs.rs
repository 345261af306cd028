//! Retry back-off on a real SQS API (moto server): a failed message is hidden for its delay with
//! `ChangeMessageVisibility`, on the queue URL the Lambda runtime derives from the event's ARN.

use std::time::Duration;

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use flex_bridge::queue::backoff::queue_url_from_arn;
use flex_bridge::queue::delay_retry;

async fn receive(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    sqs.receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default()
}

#[tokio::test]
async fn a_failed_message_waits_its_back_off_not_the_visibility_timeout() {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "AWS_ENDPOINT_URL is not set: run the tests with `make test` (it starts moto server)"
    );
    let sqs = aws_sdk_sqs::Client::new(&flex_bridge::sdk_http::aws_config().await);
    let name = format!(
        "backoff-{}.fifo",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let created_url = sqs
        .create_queue()
        .queue_name(&name)
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::VisibilityTimeout, "1")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&created_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&QueueAttributeName::QueueArn]
        .clone();
    // The URL as the Lambda runtime builds it from the SQS event's eventSourceARN.
    let url = queue_url_from_arn(&arn).expect("an SQS ARN");
    sqs.send_message()
        .queue_url(&created_url)
        .message_body("job")
        .message_group_id("CH1")
        .message_deduplication_id("job-1")
        .send()
        .await
        .unwrap();

    let first = receive(&sqs, &created_url).await;
    assert_eq!(first.len(), 1);
    let receipt = first[0].receipt_handle.as_deref().unwrap();
    delay_retry(&sqs, &url, receipt, Duration::from_secs(3))
        .await
        .unwrap();

    // Past the queue's 1 s visibility timeout, the message is still hidden...
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(receive(&sqs, &created_url).await.is_empty());
    // ...and back once its 3 s back-off is over, as its second try.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let second = receive(&sqs, &created_url).await;
    assert_eq!(second.len(), 1);
    let count = second[0]
        .attributes
        .as_ref()
        .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
        .cloned();
    assert_eq!(count.as_deref(), Some("2"));
}
