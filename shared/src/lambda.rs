//! The Lambda side of every function: build once per cold start, then run a handler per event.
//! `main` in each function is three lines around these.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::queue::{Queue, SqsQueue};
use crate::store::{DynamoStore, Store};

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_http::{Body, Request, Response};
use lambda_runtime::{service_fn, LambdaEvent};

use crate::queue::QueueRecord;
use crate::web::{respond, ApiError, WebRequest, WebResponse};

pub type Error = lambda_runtime::Error;

/// Shared AWS configuration (region, credentials, and `AWS_ENDPOINT_URL` for emulators).
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// The AWS back end of a function: the DynamoDB store on `table` and, when it sends work, the
/// SQS queue at `queue_url`, both on one AWS configuration.
pub struct Aws {
    pub store: Arc<dyn Store>,
    sdk: aws_config::SdkConfig,
}

impl Aws {
    pub async fn new(table: String) -> Self {
        let sdk = aws_config().await;
        let store = Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), table));
        Self { store, sdk }
    }

    pub fn queue(&self, queue_url: String) -> Arc<dyn Queue> {
        Arc::new(SqsQueue::new(
            aws_sdk_sqs::Client::new(&self.sdk),
            queue_url,
        ))
    }
}

/// The one HTTP client for Twilio, X and Discord. Its timeout stays well under the functions'
/// Lambda timeout, so a hung remote becomes a retry, not a killed invocation.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(3))
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
        .expect("TLS backend available")
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

/// Consumes an SQS event source with `handler`, which returns the ids of failed messages.
pub async fn run_sqs<F, Fut>(handler: F) -> Result<(), Error>
where
    F: Fn(Vec<QueueRecord>) -> Fut,
    Fut: Future<Output = Vec<String>> + Send,
{
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let records = event
            .payload
            .records
            .into_iter()
            .map(QueueRecord::from_sqs)
            .collect();
        let fut = handler(records);
        async move {
            let failed = fut.await;
            let mut response = SqsBatchResponse::default();
            response.batch_item_failures = failed
                .into_iter()
                .map(|id| {
                    let mut failure = BatchItemFailure::default();
                    failure.item_identifier = id;
                    failure
                })
                .collect();
            Ok::<_, Error>(response)
        }
    }))
    .await
}
