//! Counters in CloudWatch Embedded Metric Format: one JSON line on stdout, which Lambda sends to
//! CloudWatch Logs and CloudWatch turns into a metric (namespace `FlexBridge`, dimension
//! `Function`) with no API call and no extra permission. Outside Lambda the same count is a
//! debug log line, so tests and `make run` do not print raw metric JSON.

/// The namespace every Flex Bridge metric is published under (the template's dashboard reads it).
pub const NAMESPACE: &str = "FlexBridge";

/// Adds `value` to the metric `name` for this function.
pub fn count(name: &str, value: u64) {
    // Read once per process: the function's name does not change while it runs.
    static FUNCTION: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let function = FUNCTION.get_or_init(|| std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok());
    match function {
        Some(function) => println!("{}", emf_line(name, value, function, crate::now_millis())),
        None => tracing::debug!(metric = name, value, "metric"),
    }
}

/// The EMF document for one count (see the CloudWatch "Embedded metric format specification").
pub fn emf_line(name: &str, value: u64, function: &str, timestamp_ms: i64) -> String {
    let mut line = serde_json::json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Function"]],
                "Metrics": [{"Name": name, "Unit": "Count"}],
            }],
        },
        "Function": function,
    });
    line[name] = value.into();
    line.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_count_is_one_emf_document() {
        let line: serde_json::Value = serde_json::from_str(&emf_line(
            "XChatEvents",
            2,
            "twitter-inbound",
            1_786_000_000_000,
        ))
        .unwrap();
        assert_eq!(
            line,
            serde_json::json!({
                "_aws": {
                    "Timestamp": 1_786_000_000_000i64,
                    "CloudWatchMetrics": [{
                        "Namespace": "FlexBridge",
                        "Dimensions": [["Function"]],
                        "Metrics": [{"Name": "XChatEvents", "Unit": "Count"}],
                    }],
                },
                "Function": "twitter-inbound",
                "XChatEvents": 2,
            })
        );
    }
}
