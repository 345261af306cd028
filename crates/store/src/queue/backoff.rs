//! Growing waits between the tries of a failed queue message. SQS would retry a failed message
//! as soon as its visibility timeout ends, so a few minutes of rate limit or outage would use up
//! its receives and send it to the DLQ. Each failure instead hides the message for longer
//! (`ChangeMessageVisibility`): 30 s, doubling per receive, at most an hour. With the template's
//! default of 8 receives a message outlasts about two hours of upstream outage before the DLQ.

use std::time::Duration;

const FIRST: Duration = Duration::from_secs(30);
const LONGEST: Duration = Duration::from_secs(3600);

/// The wait after the `receive_count`-th try failed (1 for the first).
pub fn retry_delay(receive_count: u32) -> Duration {
    let doublings = receive_count.saturating_sub(1).min(16);
    (FIRST * 2u32.pow(doublings)).min(LONGEST)
}

/// How long a message that always fails waits before it reaches the DLQ, with the queue's
/// `maxReceiveCount`: the sum of the waits after each of its tries.
pub fn patience(max_receives: u32) -> Duration {
    (1..=max_receives).map(retry_delay).sum()
}

/// The queue URL of a queue ARN (`arn:aws:sqs:REGION:ACCOUNT:NAME`), as the Lambda SQS event
/// names its source.
pub fn queue_url_from_arn(arn: &str) -> Option<String> {
    let mut parts = arn.split(':');
    let (Some("arn"), Some(partition), Some("sqs"), Some(region), Some(account), Some(name), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let domain = if partition == "aws-cn" {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    Some(format!("https://sqs.{region}.{domain}/{account}/{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_an_hour() {
        let secs: Vec<u64> = (1..=9).map(|n| retry_delay(n).as_secs()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(retry_delay(0), FIRST);
        assert_eq!(retry_delay(u32::MAX), LONGEST);
    }

    #[test]
    fn the_default_receives_outlast_an_hour_of_outage() {
        // template.yaml's DeliveryMaxReceiveCount default.
        assert!(
            patience(8) >= Duration::from_secs(2 * 3600),
            "{:?}",
            patience(8)
        );
        assert!(patience(7) >= Duration::from_secs(3600));
        assert!(
            patience(5) < Duration::from_secs(3600),
            "why the default is not 5"
        );
    }

    #[test]
    fn queue_urls_come_from_arns() {
        assert_eq!(
            queue_url_from_arn("arn:aws:sqs:eu-west-1:123456789012:flex-bridge-delivery.fifo")
                .as_deref(),
            Some("https://sqs.eu-west-1.amazonaws.com/123456789012/flex-bridge-delivery.fifo")
        );
        assert_eq!(
            queue_url_from_arn("arn:aws-cn:sqs:cn-north-1:123456789012:q").as_deref(),
            Some("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q")
        );
        for bad in [
            "",
            "arn:aws:sns:eu-west-1:1:q",
            "arn:aws:sqs:eu-west-1:1",
            "a:b:c:d:e:f:g",
        ] {
            assert_eq!(queue_url_from_arn(bad), None, "{bad}");
        }
    }
}
