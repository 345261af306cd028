//! The AWS SDK's HTTP client: the process's reqwest client. DynamoDB, SQS, Twilio, X and Discord
//! then share one HTTP/TLS stack (hyper 1, rustls 0.23 with ring), one set of root certificates
//! and one connection pool, instead of the SDK bringing a second stack that loads the system's
//! certificates again at cold start.
//!
//! The SDK hands over a request whose body is already in memory (DynamoDB and SQS calls are JSON
//! documents); the response body is read whole, as the SDK's deserializers do anyway.

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::ErrorKind;
use http;

/// An SDK [`HttpClient`] that sends through a [`reqwest::Client`].
#[derive(Clone, Debug)]
pub struct SdkHttpClient {
    http: reqwest::Client,
}

impl SdkHttpClient {
    pub fn new(http: reqwest::Client) -> Self {
        Self { http }
    }
}

impl HttpClient for SdkHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(Connector {
            http: self.http.clone(),
            // The SDK's read timeout bounds the whole exchange here; the client's own
            // timeouts (lambda::http_client) still apply when the SDK sets none.
            timeout: settings.read_timeout(),
        })
    }
}

#[derive(Clone, Debug)]
struct Connector {
    http: reqwest::Client,
    timeout: Option<std::time::Duration>,
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let connector = self.clone();
        HttpConnectorFuture::new(async move { connector.send(request).await })
    }
}

impl Connector {
    async fn send(self, request: HttpRequest) -> Result<HttpResponse, ConnectorError> {
        let request = request
            .try_into_http1x()
            .map_err(|e| ConnectorError::user(e.into()))?;
        let (parts, body) = request.into_parts();
        let body = body
            .bytes()
            .ok_or_else(|| {
                ConnectorError::user("streaming request bodies are not supported".into())
            })?
            .to_vec();
        let mut outgoing = self
            .http
            .request(parts.method, parts.uri.to_string())
            .headers(parts.headers)
            .body(body);
        if let Some(timeout) = self.timeout {
            outgoing = outgoing.timeout(timeout);
        }
        let response = outgoing.send().await.map_err(connector_error)?;
        let mut builder = http::Response::builder().status(response.status());
        if let Some(headers) = builder.headers_mut() {
            *headers = response.headers().clone();
        }
        let body = response.bytes().await.map_err(connector_error)?;
        let response = builder
            .body(SdkBody::from(body))
            .map_err(|e| ConnectorError::other(e.into(), None))?;
        HttpResponse::try_from(response).map_err(|e| ConnectorError::other(e.into(), None))
    }
}

/// Timeouts and I/O failures are transient for the SDK's retry strategy, as they are with its
/// own client; anything else (a malformed request) is not retried.
fn connector_error(err: reqwest::Error) -> ConnectorError {
    if err.is_timeout() {
        ConnectorError::timeout(err.into())
    } else if err.is_connect() || err.is_request() || err.is_body() {
        ConnectorError::io(err.into())
    } else {
        ConnectorError::other(err.into(), Some(ErrorKind::TransientError))
    }
}

/// Shared AWS configuration (region, credentials, and `AWS_ENDPOINT_URL` for emulators), for a
/// process that calls only AWS.
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config_on(&crate::http::http_client()).await
}

/// The same, sending through `http`, the process's one HTTP client.
pub async fn aws_config_on(http: &reqwest::Client) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(SdkHttpClient::new(http.clone()))
        .load()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A refused connection is an I/O error the SDK retries, not a user error.
    #[tokio::test]
    async fn a_refused_connection_is_transient() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let connector = Connector {
            http: crate::http::http_client(),
            timeout: Some(Duration::from_secs(2)),
        };
        let request = HttpRequest::try_from(
            http::Request::builder()
                .method("POST")
                .uri(format!("http://127.0.0.1:{port}/"))
                .body(SdkBody::from("{}"))
                .unwrap(),
        )
        .unwrap();
        let err = connector.send(request).await.unwrap_err();
        assert!(err.is_io(), "{err:?}");
    }
}
