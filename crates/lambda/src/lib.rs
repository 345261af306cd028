//! The Lambda side of every function: build once per cold start (`Aws`: the one HTTP client,
//! the AWS SDK configuration, the stack's secret), then run a handler per event (`run_http`,
//! `run_sqs` with partial batch failures and back-off), and log in JSON (`telemetry`). `main` in
//! each function is a few lines around these.

pub mod secrets;
pub mod telemetry;

use flex_bridge_core::{config, http, now_epoch, web};
use flex_bridge_store::{queue, resources, sdk_http, store};

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use crate::config::{ConfigError, Env};
use crate::http::http_client;
use crate::queue::{backoff, delay_retry, Failure, Queue, SqsQueue};
use crate::resources::Resources;
use crate::sdk_http::aws_config_on;
use crate::store::{DynamoStore, Store};

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_http::{Body, Request, Response};
use lambda_runtime::{service_fn, LambdaEvent};

use crate::queue::QueueRecord;
use crate::web::{respond, ApiError, WebRequest, WebResponse};

pub type Error = lambda_runtime::Error;

/// The configuration of a function that calls no AWS service of its own (`twitter-crc`): the
/// process environment and, when `SECRETS_ARN` names the stack's secret, its variables. Loads
/// the AWS configuration only to read that secret.
pub async fn environment() -> Result<Env, ConfigError> {
    let vars: HashMap<String, String> = std::env::vars().collect();
    if secret_arn(&vars).is_none() {
        return Ok(Env::from_map(vars));
    }
    Aws::load().await.with_secrets(vars).await
}

fn secret_arn(vars: &HashMap<String, String>) -> Option<String> {
    vars.get(secrets::SECRETS_ARN)
        .map(|arn| arn.trim().to_owned())
        .filter(|arn| !arn.is_empty())
}

/// What a cold start builds once and every client is made from: the process's one HTTP client
/// (Twilio, X, Discord and the AWS SDK send through it) and the AWS SDK configuration. The
/// secret, the table and the queues are all reached through these.
#[derive(Clone)]
pub struct Aws {
    pub http: reqwest::Client,
    sdk: aws_config::SdkConfig,
}

impl Aws {
    pub async fn load() -> Self {
        let http = http_client();
        let sdk = aws_config_on(&http).await;
        Self { http, sdk }
    }

    /// The function's configuration: the process environment and, when `SECRETS_ARN` names
    /// the stack's secret, its variables.
    pub async fn environment(&self) -> Result<Env, ConfigError> {
        self.with_secrets(std::env::vars().collect()).await
    }

    /// `vars` and, when they name a secret in `SECRETS_ARN`, its variables (which win: the
    /// template passes credentials only through the secret).
    pub async fn with_secrets(
        &self,
        mut vars: HashMap<String, String>,
    ) -> Result<Env, ConfigError> {
        if let Some(arn) = secret_arn(&vars) {
            let client = aws_sdk_secretsmanager::Client::new(&self.sdk);
            vars.extend(secrets::read(&client, &arn).await?);
        }
        Ok(Env::from_map(vars))
    }

    /// The DynamoDB store on `table`.
    pub fn store(&self, table: String) -> Arc<dyn Store> {
        Arc::new(DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&self.sdk),
            table,
        ))
    }

    /// The SQS queue at `queue_url`.
    pub fn queue(&self, queue_url: String) -> Arc<dyn Queue> {
        Arc::new(SqsQueue::new(self.sqs(), queue_url))
    }

    fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk)
    }
}

impl Resources for Aws {
    fn http(&self) -> &reqwest::Client {
        &self.http
    }

    fn store(&self, table: String) -> Arc<dyn Store> {
        Aws::store(self, table)
    }

    fn queue(&self, queue_url: String) -> Arc<dyn Queue> {
        Aws::queue(self, queue_url)
    }

    #[cfg(feature = "s3")]
    fn transcripts(
        &self,
        bucket: String,
    ) -> Option<Arc<dyn flex_bridge_store::transcripts::TranscriptStore>> {
        Some(Arc::new(
            flex_bridge_store::transcripts::S3Transcripts::from_sdk(&self.sdk, bucket),
        ))
    }
}

pub fn to_web_request(request: Request) -> WebRequest {
    let (parts, body) = request.into_parts();
    let body = match body {
        Body::Empty => bytes::Bytes::new(),
        Body::Text(text) => bytes::Bytes::from(text),
        Body::Binary(bytes) => bytes::Bytes::from(bytes),
        _ => bytes::Bytes::new(),
    };
    WebRequest {
        method: parts.method.to_string(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts.headers,
        body,
    }
}

pub fn to_lambda_response(response: WebResponse) -> Response<Body> {
    let mut builder = Response::builder()
        .status(response.status)
        .header("content-type", response.content_type);
    if let Some(seconds) = response.retry_after {
        builder = builder.header("retry-after", seconds.to_string());
    }
    builder
        .body(Body::Text(response.body))
        .unwrap_or_else(|_| Response::new(Body::Empty))
}

/// Serves an API Gateway HTTP API route with `handler`.
pub async fn run_http<F, Fut>(handler: F) -> Result<(), Error>
where
    F: Fn(WebRequest) -> Fut,
    Fut: Future<Output = Result<WebResponse, ApiError>> + Send,
{
    lambda_http::run(service_fn(|request: Request| {
        let fut = handler(to_web_request(request));
        async move { Ok::<_, Error>(to_lambda_response(respond(fut.await))) }
    }))
    .await
}

/// Consumes an SQS event source with `handler`, which returns the failed messages. Failed
/// messages are hidden for their back-off, or until the time they named, through `aws`.
pub async fn run_sqs<F, Fut>(aws: &Aws, handler: F) -> Result<(), Error>
where
    F: Fn(Vec<QueueRecord>) -> Fut,
    Fut: Future<Output = Vec<Failure>> + Send,
{
    // Built on the first failure only: most invocations never need it.
    let sqs = std::sync::OnceLock::new();
    let sqs = &sqs;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let tries: HashMap<String, Try> = event
            .payload
            .records
            .iter()
            .filter_map(|m| Some((m.message_id.clone()?, Try::of(m))))
            .collect();
        let records = event
            .payload
            .records
            .into_iter()
            .map(QueueRecord::from_sqs)
            .collect();
        let fut = handler(records);
        async move {
            let failed = fut.await;
            if !failed.is_empty() {
                delay_retries(sqs.get_or_init(|| aws.sqs()), &failed, &tries).await;
            }
            let mut response = SqsBatchResponse::default();
            response.batch_item_failures = failed
                .into_iter()
                .map(|failed| {
                    let mut failure = BatchItemFailure::default();
                    failure.item_identifier = failed.message_id;
                    failure
                })
                .collect();
            Ok::<_, Error>(response)
        }
    }))
    .await
}

/// Where a received message came from, to hide it again after a failure.
struct Try {
    queue_url: Option<String>,
    receipt_handle: Option<String>,
    receive_count: u32,
}

impl Try {
    fn of(message: &aws_lambda_events::sqs::SqsMessage) -> Self {
        Self {
            queue_url: message
                .event_source_arn
                .as_deref()
                .and_then(backoff::queue_url_from_arn),
            receipt_handle: message.receipt_handle.clone(),
            receive_count: message
                .attributes
                .get("ApproximateReceiveCount")
                .and_then(|c| c.parse().ok())
                .unwrap_or(1),
        }
    }
}

/// Failed messages wait [`Failure::delay`] before their next try instead of the queue's
/// visibility timeout. If that fails, SQS retries them after the visibility timeout: sooner,
/// never lost.
async fn delay_retries(
    client: &aws_sdk_sqs::Client,
    failed: &[Failure],
    tries: &HashMap<String, Try>,
) {
    let now = crate::now_epoch();
    for failure in failed {
        let id = &failure.message_id;
        let Some(Try {
            queue_url: Some(url),
            receipt_handle: Some(receipt),
            receive_count,
        }) = tries.get(id)
        else {
            continue;
        };
        let delay = failure.delay(*receive_count, now);
        match delay_retry(client, url, receipt, delay).await {
            Ok(()) => {
                tracing::info!(message_id = %id, attempt = receive_count, delay_secs = delay.as_secs(), "retry delayed")
            }
            Err(err) => {
                tracing::warn!(message_id = %id, error = %err, "could not delay the retry; SQS retries after the visibility timeout")
            }
        }
    }
}
