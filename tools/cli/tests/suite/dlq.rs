//! `flex-bridge dlq status | redrive`. Finding each work queue's DLQ and counting what waits
//! there runs against moto server. moto (5.2) does not implement `StartMessageMoveTask`, so the
//! redrive's request is checked against a small stand-in for SQS's JSON protocol instead.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Json;
use clap::Parser;
use flex_bridge_cli::{dlq, Cli};
use flex_bridge_core::config::Env;
use local::AwsResources;
use serde_json::{json, Value};

async fn run(args: &[&str], env: Env) -> Result<String, flex_bridge_cli::Error> {
    let cli = Cli::try_parse_from(std::iter::once("flex-bridge").chain(args.iter().copied()))
        .expect("valid arguments");
    let mut out = Vec::new();
    flex_bridge_cli::run(cli, env, &mut "".as_bytes(), &mut out).await?;
    Ok(String::from_utf8(out).unwrap())
}

#[tokio::test]
async fn status_counts_what_waits_in_each_dlq() {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let aws = AwsResources::create(&format!("cli-dlq-{nanos:08x}"), 5, Duration::from_secs(1))
        .await
        .expect("moto server: run under scripts/with-moto.sh");
    let dead = dlq::dead_letters(&aws.sqs, &aws.queue_url).await.unwrap();
    assert!(dead.dlq_arn.ends_with("-delivery-dlq.fifo"), "{dead:?}");
    for i in 0..2 {
        aws.sqs
            .send_message()
            .queue_url(&dead.dlq_url)
            .message_body("{}")
            .message_group_id("CH1")
            .message_deduplication_id(format!("dead-{i}"))
            .send()
            .await
            .unwrap();
    }
    let vars: Vec<(String, String)> = std::env::vars()
        .filter(|(name, _)| name.starts_with("AWS_"))
        .chain([
            ("DELIVERY_QUEUE_URL".to_owned(), aws.queue_url.clone()),
            (
                "DISCORD_QUEUE_URL".to_owned(),
                aws.discord_queue_url.clone(),
            ),
        ])
        .collect();
    let printed = run(
        &["dlq", "status"],
        Env::from_map(vars.into_iter().collect()),
    )
    .await
    .unwrap();
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 2, "{printed}");
    assert!(
        lines[0].contains("2 message(s) in") && lines[0].contains("-delivery-dlq.fifo"),
        "{printed}"
    );
    assert!(lines[1].contains("0 message(s) in"), "{printed}");

    // A DLQ itself has no DLQ: said plainly.
    let err = dlq::dead_letters(&aws.sqs, &dead.dlq_url)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no dead-letter queue"), "{err}");
}

#[tokio::test]
async fn no_queue_is_an_error_that_says_what_to_set() {
    let err = run(&["dlq", "redrive"], Env::from_map(Default::default()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("DELIVERY_QUEUE_URL"), "{err}");
}

const WORK_URL: &str = "https://sqs.eu-west-1.amazonaws.com/123456789012/bridge-delivery.fifo";
const WORK_ARN: &str = "arn:aws:sqs:eu-west-1:123456789012:bridge-delivery.fifo";
const DLQ_URL: &str = "https://sqs.eu-west-1.amazonaws.com/123456789012/bridge-delivery-dlq.fifo";
const DLQ_ARN: &str = "arn:aws:sqs:eu-west-1:123456789012:bridge-delivery-dlq.fifo";

/// SQS's JSON protocol for the four calls a redrive makes; records StartMessageMoveTask.
async fn fake_sqs(waiting: u64) -> (String, Arc<Mutex<Vec<Value>>>) {
    let moves = Arc::new(Mutex::new(Vec::new()));
    let recorded = moves.clone();
    let app = axum::Router::new().route(
        "/",
        post(move |headers: HeaderMap, body: String| {
            let moves = recorded.clone();
            async move {
                let target = headers["x-amz-target"].to_str().unwrap().to_owned();
                let body: Value = serde_json::from_str(&body).unwrap();
                let answer = match target.as_str() {
                    "AmazonSQS.GetQueueAttributes" if body["QueueUrl"] == WORK_URL => json!({
                        "Attributes": {
                            "QueueArn": WORK_ARN,
                            "RedrivePolicy": json!({"deadLetterTargetArn": DLQ_ARN, "maxReceiveCount": 8}).to_string(),
                        }
                    }),
                    "AmazonSQS.GetQueueAttributes" => json!({
                        "Attributes": {"ApproximateNumberOfMessages": waiting.to_string()}
                    }),
                    "AmazonSQS.GetQueueUrl" => {
                        assert_eq!(body["QueueName"], "bridge-delivery-dlq.fifo");
                        assert_eq!(body["QueueOwnerAWSAccountId"], "123456789012");
                        json!({"QueueUrl": DLQ_URL})
                    }
                    "AmazonSQS.StartMessageMoveTask" => {
                        moves.lock().unwrap().push(body);
                        json!({"TaskHandle": "task-1"})
                    }
                    other => panic!("unexpected {other}"),
                };
                (
                    [("content-type", "application/x-amz-json-1.0")],
                    Json(answer),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, moves)
}

fn client(endpoint: &str) -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(endpoint)
        .http_client(flex_bridge_store::sdk_http::SdkHttpClient::new(
            flex_bridge_core::http::http_client(),
        ))
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

#[tokio::test]
async fn redrive_moves_each_dlq_back_to_its_own_queue() {
    let (endpoint, moves) = fake_sqs(3).await;
    let mut out = Vec::new();
    dlq::redrive(&client(&endpoint), &[WORK_URL.to_owned()], &mut out)
        .await
        .unwrap();
    assert_eq!(
        *moves.lock().unwrap(),
        [json!({"SourceArn": DLQ_ARN, "DestinationArn": WORK_ARN})]
    );
    let printed = String::from_utf8(out).unwrap();
    assert!(
        printed.contains("bridge-delivery.fifo  moving 3 message(s) back from bridge-delivery-dlq.fifo (task task-1)"),
        "{printed}"
    );
}

#[tokio::test]
async fn an_empty_dlq_is_not_redriven() {
    let (endpoint, moves) = fake_sqs(0).await;
    let mut out = Vec::new();
    dlq::redrive(&client(&endpoint), &[WORK_URL.to_owned()], &mut out)
        .await
        .unwrap();
    assert!(moves.lock().unwrap().is_empty());
    assert!(String::from_utf8(out)
        .unwrap()
        .contains("nothing to redrive"));
}
