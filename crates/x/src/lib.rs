//! The X (Twitter) API as the bridge uses it: webhook signatures and payloads (Account Activity
//! and the X Activity API), the brand's DM budget as X reports it, and the DM client. Nothing
//! about the store or the bridge's flow: the handlers are in the `flex-bridge` crate.
//!
//! DMs are sent with `POST /2/dm_conversations/with/{participant_id}/messages` (JSON `{"text"}`)
//! in OAuth 1.0a user context, signed by the `oauth1-request` crate. A JSON body is not part of
//! the OAuth signature base string, so only the method and URL are signed.

pub mod budget;
pub mod events;
pub mod media;
pub mod signature;

use flex_bridge_core::{config, retry};

use serde::Deserialize;

pub use reqwest::Method;

use crate::config::{schema as vars, Env, Secret};
use crate::retry::{HttpError, RetryPolicy};

pub const DEFAULT_API_URL: &str = vars::X_API_URL.default_value();

/// X refuses DM text longer than this many characters; longer agent messages are split.
pub const MAX_DM_CHARS: usize = 10_000;

/// What the webhook functions need: the consumer secret signs CRCs and payloads, and the brand's
/// account id tells its own DMs (echoes) from customers'.
#[derive(Clone, Debug)]
pub struct XWebhookConfig {
    pub consumer_secret: Secret,
    pub account_id: String,
}

impl XWebhookConfig {
    pub fn from_env(env: &mut Env) -> Self {
        Self {
            consumer_secret: env.secret(&vars::X_CONSUMER_SECRET),
            account_id: env.required(&vars::X_ACCOUNT_ID),
        }
    }
}

/// What sending DMs needs: the app's and the brand account's OAuth 1.0a credentials.
#[derive(Clone, Debug)]
pub struct XApiConfig {
    pub consumer_key: String,
    pub consumer_secret: Secret,
    pub access_token: String,
    pub access_token_secret: Secret,
    pub api_url: String,
}

impl XApiConfig {
    pub fn from_env(env: &mut Env) -> Self {
        Self {
            consumer_key: env.required(&vars::X_CONSUMER_KEY),
            consumer_secret: env.secret(&vars::X_CONSUMER_SECRET),
            access_token: env.required(&vars::X_ACCESS_TOKEN),
            access_token_secret: env.secret(&vars::X_ACCESS_TOKEN_SECRET),
            api_url: env.required(&vars::X_API_URL),
        }
    }
}

#[derive(Clone, Debug)]
pub struct XClient {
    http: reqwest::Client,
    config: XApiConfig,
    retry: RetryPolicy,
}

#[derive(Debug, Deserialize)]
pub struct SentDm {
    pub dm_event_id: String,
    /// Where the brand's DM windows stand after this DM, from X's headers.
    #[serde(skip)]
    pub budget: budget::DmBudget,
}

#[derive(Deserialize)]
struct SentDmResponse {
    data: SentDm,
}

impl XClient {
    pub fn new(http: reqwest::Client, config: XApiConfig) -> Self {
        Self {
            http,
            config,
            retry: RetryPolicy::default(),
        }
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sends one DM to `participant_id` (the customer's numeric X user id).
    pub async fn send_dm(&self, participant_id: &str, text: &str) -> Result<SentDm, HttpError> {
        let url = format!(
            "{}/2/dm_conversations/with/{participant_id}/messages",
            self.config.api_url
        );
        let token = oauth1_request::Token::from_parts(
            self.config.consumer_key.as_str(),
            self.config.consumer_secret.expose(),
            self.config.access_token.as_str(),
            self.config.access_token_secret.expose(),
        );
        let body = serde_json::json!({ "text": text });
        let response = self
            .retry
            .send("x", || {
                // A fresh nonce and timestamp per attempt: X refuses a replayed nonce.
                let authorization =
                    oauth1_request::post(url.as_str(), &(), &token, oauth1_request::HMAC_SHA1);
                self.http
                    .post(&url)
                    .header(reqwest::header::AUTHORIZATION, authorization)
                    .json(&body)
            })
            .await?;
        let status = response.status();
        let budget =
            budget::DmBudget::from_headers(response.headers(), flex_bridge_core::now_millis());
        let sent: SentDmResponse = response.json().await.map_err(|err| HttpError {
            service: "x",
            status: Some(status),
            retry_after: None,
            detail: format!("unexpected response body: {err}"),
            unsent: false,
        })?;
        Ok(SentDm {
            budget,
            ..sent.data
        })
    }
}

/// How an [`XClient::call_json`] request is authenticated.
#[derive(Clone, Copy, Debug)]
pub enum XAuth<'a> {
    /// OAuth 1.0a user context: the app's consumer key and the brand account's access token.
    User,
    /// OAuth 2.0 app-only: `Authorization: Bearer <app bearer token>`.
    App(&'a Secret),
}

impl XClient {
    /// One call to any X API path (`/2/webhooks`), with query parameters and an optional JSON
    /// body; returns the answer's JSON (`Null` for an empty body). 429 and 5xx are retried like
    /// DM sends; any other non-2xx is an [`HttpError`] with X's body as its detail.
    pub async fn call_json(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
        auth: XAuth<'_>,
    ) -> Result<serde_json::Value, HttpError> {
        let url = format!("{}{path}", self.config.api_url);
        let token = oauth1_request::Token::from_parts(
            self.config.consumer_key.as_str(),
            self.config.consumer_secret.expose(),
            self.config.access_token.as_str(),
            self.config.access_token_secret.expose(),
        );
        let response = self
            .retry
            .send("x", || {
                let mut request = self.http.request(method.clone(), &url);
                if !query.is_empty() {
                    request = request.query(query);
                }
                request = match auth {
                    // Query parameters are signed; a JSON body is not. A fresh nonce per attempt.
                    XAuth::User => request.header(
                        reqwest::header::AUTHORIZATION,
                        oauth1_request::authorize(
                            method.as_str(),
                            url.as_str(),
                            &oauth1_request::ParameterList::new(query.to_vec()),
                            &token,
                            oauth1_request::HMAC_SHA1,
                        ),
                    ),
                    XAuth::App(bearer) => request.bearer_auth(bearer.expose()),
                };
                match body {
                    Some(body) => request.json(body),
                    None => request,
                }
            })
            .await?;
        let status = response.status();
        let text = response.text().await.map_err(|err| HttpError {
            service: "x",
            status: Some(status),
            retry_after: None,
            detail: format!("unreadable response body: {err}"),
            unsent: false,
        })?;
        if text.trim().is_empty() {
            return Ok(serde_json::Value::Null);
        }
        serde_json::from_str(&text).map_err(|err| HttpError {
            service: "x",
            status: Some(status),
            retry_after: None,
            detail: format!("unexpected response body: {err}"),
            unsent: false,
        })
    }
}

/// Splits text into DM-sized pieces on character boundaries.
pub fn split_for_dm(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(MAX_DM_CHARS)
        .map(|c| c.iter().collect())
        .collect()
}
