//! The REST calls the bridge makes with the bot token, and Discord's rate limits.
//!
//! A 429 from Discord carries `{"message", "retry_after": <seconds, float>, "global": bool}`
//! (plus `Retry-After` rounded up to whole seconds, `X-RateLimit-Global`, `X-RateLimit-Scope`).
//! `RetryPolicy::send` only sees the header, and knows nothing of a global limit, so this client
//! runs its own loop with the same budget (attempts, backoff, longest single wait). A global
//! limit holds back every request of this client and its clones until it ends: Discord counts
//! requests sent during a limit against the app, and enough of them get the IP banned.
//!
//! Errors keep Discord's JSON error code in `HttpError::detail` as `code <n>: <message>`.
//!
//! Discord's *invalid request limit*: an IP that gets 10,000 answers of 401, 403 or 429 within
//! 10 minutes is banned by Cloudflare for a while (429s with `X-RateLimit-Scope: shared` do not
//! count). Every such answer is counted (the `DiscordInvalidResponses` metric) and, once this
//! client and its clones have had [`INVALID_REQUEST_LIMIT`] of them in the last
//! [`INVALID_REQUEST_WINDOW`], it sends nothing more until the oldest of them is 10 minutes old:
//! each call fails at once with a 429 and its `retry_after`, so queued work waits on the queue.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, USER_AGENT};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::messages::{AllowedMentions, OutgoingMessage, MAX_CONTENT};
use super::DiscordApiConfig;
use crate::retry::{parse_retry_after, HttpError, RetryPolicy};

const SERVICE: &str = "discord";

/// Discord asks bots to identify themselves as `DiscordBot (url, version)`.
pub const BOT_USER_AGENT: &str = "DiscordBot (https://github.com/flex-bridge, 0.1)";

/// JSON error code "Cannot send messages to this user" (DMs closed, blocked, or no shared
/// server). Retrying will not help.
pub const DMS_CLOSED: i64 = 50007;

/// The error of a request the client held back (its invalid request budget spent): nothing was
/// sent, so its wait can be waited out exactly.
const HELD_BACK: &str = "too many 401/403/429 answers from Discord in 10 minutes (its invalid request limit); request not sent";

/// Whether `err` is a request the client held back rather than an answer of Discord's.
fn is_held_back(err: &HttpError) -> bool {
    err.service == SERVICE && err.detail == HELD_BACK
}

/// A wait of Discord's longer than this is waited for exactly (one queue receive); a shorter
/// one gets the queue's back-off, so a busy route answering "wait 1 s" again and again does not
/// use up the receives in a minute.
const LONG_WAIT_SECS: u64 = 30;

/// When a queue job whose Discord call failed with `err` should be tried again (epoch seconds):
/// at the end of the client's own hold, or of a long wait Discord named; `None` for the
/// queue's usual back-off.
pub fn retry_at(err: &HttpError, now: i64) -> Option<i64> {
    if err.service != SERVICE {
        return None;
    }
    err.retry_after
        .filter(|secs| *secs > LONG_WAIT_SECS || is_held_back(err))
        .map(|secs| now + secs as i64)
}

/// Discord's window for the invalid request limit.
pub const INVALID_REQUEST_WINDOW: Duration = Duration::from_secs(600);
/// How many 401/403/429 answers one process takes in [`INVALID_REQUEST_WINDOW`] before it stops
/// calling Discord: half of Discord's 10,000. The ban is per IP, and the processes behind one IP
/// cannot be known from inside one (Lambda instances may share an egress or NAT address;
/// `discord-worker` and `outbound-delivery` both call Discord), so one process keeps the other
/// half for the rest. The count is not kept in the store: that would cost a write per refused
/// request, at the moment requests are already failing by the thousand. A bridge that works
/// right gets few such answers: rate limits are waited out, and a user whose DMs are closed is
/// not written to again for a day (see `discord::worker::closed_dms`).
pub const INVALID_REQUEST_LIMIT: usize = 5_000;

#[derive(Clone, Debug)]
pub struct DiscordClient {
    http: reqwest::Client,
    config: DiscordApiConfig,
    retry: RetryPolicy,
    /// When the current global rate limit ends; shared by every clone of this client.
    blocked_until: Arc<Mutex<Option<Instant>>>,
    /// The recent 401/403/429 answers; shared by every clone of this client.
    invalid: Arc<std::sync::Mutex<InvalidRequests>>,
}

/// The times of the latest invalid answers (at most `limit` of them, so at most 5,000
/// instants): the window slides exactly, and is spent while `limit` of them are younger than
/// `window`.
#[derive(Debug)]
struct InvalidRequests {
    limit: usize,
    window: Duration,
    at: VecDeque<Instant>,
}

impl InvalidRequests {
    fn new(limit: usize, window: Duration) -> Self {
        Self {
            limit,
            window,
            at: VecDeque::new(),
        }
    }

    fn record(&mut self, now: Instant) {
        self.at.push_back(now);
        while self.at.len() > self.limit {
            self.at.pop_front();
        }
    }

    /// How long until a request may be sent again; `None`: now.
    fn spent_for(&mut self, now: Instant) -> Option<Duration> {
        while self
            .at
            .front()
            .is_some_and(|&oldest| oldest + self.window <= now)
        {
            self.at.pop_front();
        }
        if self.at.len() < self.limit {
            return None;
        }
        self.at.front().map(|&oldest| oldest + self.window - now)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RegisteredCommand {
    pub id: String,
    pub name: String,
}

#[derive(Deserialize)]
struct WithId {
    id: String,
}

/// Discord's error body; a 429's adds `retry_after` and `global`.
#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    errors: Option<serde_json::Value>,
    #[serde(default)]
    retry_after: Option<f64>,
    #[serde(default)]
    global: Option<bool>,
}

/// A failed attempt: the error, how long Discord asked us to wait (precisely), whether the
/// limit is global, and whether the answer counts towards the invalid request limit.
struct Failure {
    error: HttpError,
    wait: Option<Duration>,
    global: bool,
    invalid: bool,
}

/// Which credentials a route takes. Interaction webhooks are authorised by the token in their
/// path and, per Discord, are not subject to the bot's global rate limit.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Auth {
    Bot,
    InteractionToken,
}

impl DiscordClient {
    pub fn new(http: reqwest::Client, config: DiscordApiConfig) -> Self {
        Self {
            http,
            config,
            retry: RetryPolicy::default(),
            blocked_until: Arc::new(Mutex::new(None)),
            invalid: Arc::new(std::sync::Mutex::new(InvalidRequests::new(
                INVALID_REQUEST_LIMIT,
                INVALID_REQUEST_WINDOW,
            ))),
        }
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Stops calling Discord after `limit` invalid answers in `window` (tests use small ones),
    /// counted afresh for this client and its later clones.
    pub fn with_invalid_request_limit(mut self, limit: usize, window: Duration) -> Self {
        self.invalid = Arc::new(std::sync::Mutex::new(InvalidRequests::new(limit, window)));
        self
    }

    /// The DM channel with a user (`POST /users/@me/channels`); Discord returns the existing
    /// one if there is one, so this is safe to repeat.
    pub async fn open_dm(&self, user_id: &str) -> Result<String, HttpError> {
        let url = self.url(&["users", "@me", "channels"])?;
        let body = json!({ "recipient_id": user_id });
        let response = self
            .send(Auth::Bot, || self.http.post(&url).json(&body))
            .await?;
        Ok(read_json::<WithId>(response).await?.id)
    }

    /// Posts a message (`POST /channels/{id}/messages`); returns its id.
    pub async fn send_message(
        &self,
        channel_id: &str,
        message: &OutgoingMessage,
    ) -> Result<String, HttpError> {
        let url = self.url(&["channels", channel_id, "messages"])?;
        let response = self
            .send(Auth::Bot, || self.http.post(&url).json(message))
            .await?;
        Ok(read_json::<WithId>(response).await?.id)
    }

    /// Posts a message with files to a channel (the customer's DM): a multipart
    /// `POST /channels/{id}/messages` with `payload_json` and `files[n]`
    /// ([`super::media::payload_json`]). At most [`super::media::MAX_FILES`] files; each retry
    /// sends the same bytes again. Returns the message's id.
    pub async fn send_files(
        &self,
        channel_id: &str,
        message: &OutgoingMessage,
        files: &[super::media::OutgoingFile],
    ) -> Result<String, HttpError> {
        if files.is_empty() || files.len() > super::media::MAX_FILES {
            return Err(HttpError::unsent(SERVICE, "a message takes 1 to 10 files"));
        }
        let url = self.url(&["channels", channel_id, "messages"])?;
        let payload = super::media::payload_json(message, files).to_string();
        // Checked once here, so building each attempt's form cannot fail.
        super::media::multipart_form(&payload, files)
            .map_err(|_| HttpError::unsent(SERVICE, "a file's content type is not a MIME type"))?;
        let response = self
            .send(Auth::Bot, || {
                let form = super::media::multipart_form(&payload, files)
                    .unwrap_or_else(|_| reqwest::multipart::Form::new());
                self.http.post(&url).multipart(form)
            })
            .await?;
        Ok(read_json::<WithId>(response).await?.id)
    }

    /// A customer's attachment (its `url` from the interaction), streamed: read it with
    /// `chunk()`, or pass the response on. Only Discord's attachment hosts (and the configured
    /// API's own host) are fetched, without the bot token: the URL is signed by Discord.
    pub async fn download_attachment(&self, url: &str) -> Result<Response, HttpError> {
        let origin = reqwest::Url::parse(&self.config.api_url)
            .ok()
            .map(|u| u.origin().ascii_serialization());
        if !super::media::is_attachment_url(url, origin.as_deref()) {
            return Err(HttpError::unsent(SERVICE, "not a Discord attachment URL"));
        }
        self.send(Auth::InteractionToken, || self.http.get(url))
            .await
    }

    /// Replaces the text of a deferred interaction reply
    /// (`PATCH /webhooks/{application_id}/{token}/messages/@original`). The token lasts 15
    /// minutes; it is never written to a log or an error.
    pub async fn edit_original(
        &self,
        application_id: &str,
        token: &str,
        content: &str,
    ) -> Result<(), HttpError> {
        let url = self.url(&["webhooks", application_id, token, "messages", "@original"])?;
        let body = json!({
            "content": super::ids::truncate(content, MAX_CONTENT),
            "allowed_mentions": AllowedMentions::none(),
        });
        self.send(Auth::InteractionToken, || self.http.patch(&url).json(&body))
            .await?;
        Ok(())
    }

    /// Replaces the app's global commands with `definitions`
    /// (`PUT /applications/{id}/commands`, a bulk overwrite).
    pub async fn register_commands(
        &self,
        application_id: &str,
        definitions: &serde_json::Value,
    ) -> Result<Vec<RegisteredCommand>, HttpError> {
        let url = self.url(&["applications", application_id, "commands"])?;
        let response = self
            .send(Auth::Bot, || self.http.put(&url).json(definitions))
            .await?;
        read_json(response).await
    }

    /// `{api_url}/a/b/c`. Segments come from interactions and the store, so each must be a
    /// plain id or token (`[A-Za-z0-9_.@-]`, not all dots): nothing can change the route.
    fn url(&self, segments: &[&str]) -> Result<String, HttpError> {
        let mut url = self.config.api_url.clone();
        for segment in segments {
            let plain = !segment.is_empty()
                && !segment.chars().all(|c| c == '.')
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'));
            if !plain {
                return Err(HttpError::unsent(
                    SERVICE,
                    "refused to build a URL from a malformed id",
                ));
            }
            url.push('/');
            url.push_str(segment);
        }
        Ok(url)
    }

    /// Sends until success, a refusal, or the end of the retry budget, honouring Discord's
    /// `retry_after` and global limits.
    async fn send(
        &self,
        auth: Auth,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Response, HttpError> {
        let authorization = match auth {
            Auth::Bot => Some(self.authorization()?),
            Auth::InteractionToken => None,
        };
        let mut backoff = self.retry.first_backoff;
        let mut attempt = 1;
        loop {
            // Per IP, whatever the credentials: interaction webhooks count too.
            self.check_invalid_requests()?;
            if auth == Auth::Bot {
                self.wait_out_global_limit().await?;
            }
            let mut request = build().header(USER_AGENT, BOT_USER_AGENT);
            if let Some(authorization) = &authorization {
                request = request.header(AUTHORIZATION, authorization.clone());
            }
            let failure = match request.send().await {
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) => failure_from(response).await,
                Err(err) => Failure {
                    error: HttpError {
                        service: SERVICE,
                        status: None,
                        retry_after: None,
                        // Without the URL: an interaction token is part of it.
                        detail: err.without_url().to_string(),
                        unsent: false,
                    },
                    wait: None,
                    global: false,
                    invalid: false,
                },
            };
            if failure.invalid {
                self.invalid_requests().record(Instant::now());
                crate::metrics::count("DiscordInvalidResponses", 1);
            }
            if failure.global {
                if let Some(wait) = failure.wait {
                    self.block_all(wait).await;
                }
            }
            if !failure.error.is_transient() || attempt >= self.retry.attempts {
                return Err(failure.error);
            }
            let wait = failure.wait.unwrap_or(backoff);
            if wait > self.retry.max_wait {
                return Err(failure.error);
            }
            tracing::warn!(
                service = SERVICE,
                attempt,
                status = ?failure.error.status,
                global = failure.global,
                wait_ms = wait.as_millis() as u64,
                "retrying"
            );
            tokio::time::sleep(wait).await;
            backoff = backoff.saturating_mul(2);
            attempt += 1;
        }
    }

    fn authorization(&self) -> Result<HeaderValue, HttpError> {
        let mut value = HeaderValue::from_str(&format!("Bot {}", self.config.bot_token.expose()))
            .map_err(|_| {
            HttpError::unsent(SERVICE, "DISCORD_BOT_TOKEN is not a valid header value")
        })?;
        // Kept out of any debug output of the request.
        value.set_sensitive(true);
        Ok(value)
    }

    fn invalid_requests(&self) -> std::sync::MutexGuard<'_, InvalidRequests> {
        self.invalid
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Fails without sending while the invalid request budget is spent, handing the wait back
    /// like a 429: Discord is not asked again until the oldest counted answer is out of the
    /// window.
    fn check_invalid_requests(&self) -> Result<(), HttpError> {
        let Some(wait) = self.invalid_requests().spent_for(Instant::now()) else {
            return Ok(());
        };
        crate::metrics::count("DiscordRequestsHeldBack", 1);
        tracing::warn!(
            service = SERVICE,
            wait_ms = wait.as_millis() as u64,
            "invalid request budget spent (401/403/429 answers); not calling Discord"
        );
        Err(HttpError {
            service: SERVICE,
            status: Some(StatusCode::TOO_MANY_REQUESTS),
            retry_after: Some(whole_seconds(wait)),
            detail: HELD_BACK.into(),
            unsent: false,
        })
    }

    /// Waits for a global limit to end, or, if it ends later than the budget allows, fails
    /// without sending, handing the wait back like any other 429.
    async fn wait_out_global_limit(&self) -> Result<(), HttpError> {
        let until = *self.blocked_until.lock().await;
        let Some(until) = until else {
            return Ok(());
        };
        let now = Instant::now();
        if until <= now {
            return Ok(());
        }
        let wait = until - now;
        if wait > self.retry.max_wait {
            return Err(HttpError {
                service: SERVICE,
                status: Some(StatusCode::TOO_MANY_REQUESTS),
                retry_after: Some(whole_seconds(wait)),
                detail: "global rate limit in force; request not sent".into(),
                unsent: false,
            });
        }
        tokio::time::sleep(wait).await;
        Ok(())
    }

    async fn block_all(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut blocked = self.blocked_until.lock().await;
        if blocked.is_none_or(|current| current < until) {
            *blocked = Some(until);
        }
        tracing::warn!(
            service = SERVICE,
            wait_ms = wait.as_millis() as u64,
            "global rate limit"
        );
    }
}

async fn failure_from(response: Response) -> Failure {
    let status = response.status();
    let headers = response.headers().clone();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let text = response.text().await.unwrap_or_default();
    let body: ErrorBody = serde_json::from_str(&text).unwrap_or_default();
    // The body's float is precise; the header is rounded up to whole seconds.
    let wait = body
        .retry_after
        .and_then(seconds)
        .or_else(|| {
            header("retry-after")
                .as_deref()
                .and_then(parse_retry_after)
                .map(Duration::from_secs)
        })
        .or_else(|| {
            (status == StatusCode::TOO_MANY_REQUESTS)
                .then(|| header("x-ratelimit-reset-after"))
                .flatten()
                .and_then(|v| v.trim().parse::<f64>().ok())
                .and_then(seconds)
        });
    // Discord: "429 errors returned with X-RateLimit-Scope: shared are not counted".
    let invalid = matches!(status.as_u16(), 401 | 403)
        || (status == StatusCode::TOO_MANY_REQUESTS
            && !header("x-ratelimit-scope").is_some_and(|v| v.eq_ignore_ascii_case("shared")));
    let global = status == StatusCode::TOO_MANY_REQUESTS
        && (body.global == Some(true)
            || header("x-ratelimit-global").is_some_and(|v| v.eq_ignore_ascii_case("true"))
            || header("x-ratelimit-scope").is_some_and(|v| v.eq_ignore_ascii_case("global")));
    let detail = match (body.code, &body.message) {
        (Some(code), Some(message)) => {
            let mut detail = format!("code {code}: {message}");
            if let Some(errors) = &body.errors {
                detail.push_str(&format!(" {errors}"));
            }
            detail
        }
        (None, Some(message)) => message.clone(),
        _ => text,
    };
    Failure {
        error: HttpError {
            service: SERVICE,
            status: Some(status),
            retry_after: wait.map(whole_seconds),
            detail: super::ids::truncate(&detail, 300),
            unsent: false,
        },
        wait,
        global,
        invalid,
    }
}

/// A duration from Discord's float seconds, if sane.
fn seconds(value: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(value).ok()
}

fn whole_seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

async fn read_json<T: for<'de> Deserialize<'de>>(response: Response) -> Result<T, HttpError> {
    let status = response.status();
    response.json().await.map_err(|err| HttpError {
        service: SERVICE,
        status: Some(status),
        retry_after: None,
        detail: format!("unexpected response body: {}", err.without_url()),
        unsent: false,
    })
}

/// Discord's JSON error code of a failed call (e.g. 50007), when it gave one.
pub fn error_code(error: &HttpError) -> Option<i64> {
    if error.service != SERVICE {
        return None;
    }
    let rest = error.detail.strip_prefix("code ")?;
    rest.split(':').next()?.parse().ok()
}

/// The customer cannot be messaged (DMs closed, bot blocked, no shared server): not transient.
pub fn is_dms_closed(error: &HttpError) -> bool {
    error_code(error) == Some(DMS_CLOSED)
}

#[cfg(test)]
mod tests {
    use super::super::messages::agent_message;
    use super::super::test_server::{reply, serve, Canned, TestServer};
    use super::*;
    use crate::config::Secret;

    fn client(server: &TestServer) -> DiscordClient {
        DiscordClient::new(
            flex_bridge_core::http::http_client(),
            DiscordApiConfig {
                bot_token: Secret::new("test-token"),
                api_url: format!("{}/api/v10", server.url),
            },
        )
        .with_retry(RetryPolicy {
            attempts: 3,
            first_backoff: Duration::from_millis(10),
            max_wait: Duration::from_secs(2),
        })
    }

    fn rate_limited(retry_after: f64, global: bool) -> Canned {
        Canned {
            status: 429,
            headers: vec![
                ("retry-after", format!("{}", retry_after.ceil())),
                ("x-ratelimit-global", global.to_string()),
                ("x-ratelimit-scope", if global { "global" } else { "user" }.into()),
            ],
            body: json!({"message": "You are being rate limited.", "retry_after": retry_after, "global": global}).to_string(),
        }
    }

    #[tokio::test]
    async fn open_dm_sends_the_bot_token_and_recipient() {
        let server = serve(vec![reply(
            200,
            json!({"id": "1290000000000000123", "type": 1}),
        )])
        .await;
        let channel = client(&server).open_dm("812345678901234567").await.unwrap();
        assert_eq!(channel, "1290000000000000123");
        let requests = server.requests.lock().await;
        let r = &requests[0];
        assert_eq!(
            (r.method.as_str(), r.path.as_str()),
            ("POST", "/api/v10/users/@me/channels")
        );
        assert_eq!(r.header("authorization"), Some("Bot test-token"));
        assert_eq!(r.header("user-agent"), Some(BOT_USER_AGENT));
        assert_eq!(r.json(), json!({"recipient_id": "812345678901234567"}));
    }

    #[tokio::test]
    async fn messages_mention_nobody() {
        let server = serve(vec![reply(200, json!({"id": "m1"}))]).await;
        let message = &agent_message("Hi @everyone")[0];
        let id = client(&server).send_message("c1", message).await.unwrap();
        assert_eq!(id, "m1");
        let r = &server.requests.lock().await[0];
        assert_eq!(r.path, "/api/v10/channels/c1/messages");
        assert_eq!(r.json()["allowed_mentions"], json!({"parse": []}));
        assert_eq!(
            r.json()["components"][0]["components"][0]["custom_id"],
            "reply"
        );
    }

    #[tokio::test]
    async fn files_go_as_multipart_with_payload_json() {
        use super::super::media::OutgoingFile;
        let server = serve(vec![
            reply(502, json!({"message": "bad gateway"})),
            reply(200, json!({"id": "m7"})),
        ])
        .await;
        let files = [OutgoingFile::new(
            "receipt.png",
            "image/png",
            bytes::Bytes::from_static(b"PNGDATA"),
        )];
        let id = client(&server)
            .send_files("c1", &OutgoingMessage::text("Your receipt"), &files)
            .await
            .unwrap();
        assert_eq!(id, "m7");
        let requests = server.requests.lock().await;
        assert_eq!(requests.len(), 2, "retried with the same parts");
        let r = &requests[1];
        assert_eq!(r.path, "/api/v10/channels/c1/messages");
        assert_eq!(r.header("authorization"), Some("Bot test-token"));
        assert!(r
            .header("content-type")
            .is_some_and(|t| t.starts_with("multipart/form-data; boundary=")));
        assert!(r.body.contains(r#"name="payload_json""#), "{}", r.body);
        assert!(r.body.contains(r#"{"filename":"receipt.png","id":"0"}"#));
        assert!(r
            .body
            .contains(r#"name="files[0]"; filename="receipt.png""#));
        assert!(r.body.contains("PNGDATA"));
        drop(requests);
        let c = client(&server);
        assert!(c
            .send_files("c1", &OutgoingMessage::text("x"), &[])
            .await
            .is_err());
        let foreign = c.download_attachment("https://example.com/a.png").await;
        assert!(foreign.unwrap_err().unsent);
        assert_eq!(server.requests.lock().await.len(), 2);
    }

    #[tokio::test]
    async fn a_rate_limit_is_waited_out_to_the_millisecond() {
        let server = serve(vec![
            rate_limited(0.3, false),
            reply(200, json!({"id": "m2"})),
        ])
        .await;
        let id = client(&server)
            .send_message("c1", &OutgoingMessage::text("hi"))
            .await
            .unwrap();
        assert_eq!(id, "m2");
        let requests = server.requests.lock().await;
        assert_eq!(requests.len(), 2);
        let waited = requests[1].at - requests[0].at;
        // The body's 0.3 s, not the header's rounded-up 1 s.
        assert!(
            waited >= Duration::from_millis(290) && waited < Duration::from_millis(1000),
            "{waited:?}"
        );
    }

    #[tokio::test]
    async fn a_wait_beyond_the_budget_is_handed_back() {
        let server = serve(vec![rate_limited(30.5, false)]).await;
        let err = client(&server)
            .send_message("c1", &OutgoingMessage::text("hi"))
            .await
            .unwrap_err();
        assert!(err.is_status(429) && err.is_transient());
        assert_eq!(err.retry_after, Some(31));
        assert_eq!(server.requests.lock().await.len(), 1);
    }

    #[tokio::test]
    async fn a_global_limit_holds_back_every_clone() {
        let server = serve(vec![
            rate_limited(0.4, true),
            reply(200, json!({"id": "a"})),
            reply(200, json!({"id": "b"})),
        ])
        .await;
        let first = client(&server);
        let second = first.clone();
        let a = tokio::spawn(
            async move { first.send_message("c1", &OutgoingMessage::text("a")).await },
        );
        // The second goes only once the first has met the limit: no race on a busy machine.
        while second.blocked_until.lock().await.is_none() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let b = second.send_message("c2", &OutgoingMessage::text("b")).await;
        assert!(a.await.unwrap().is_ok() && b.is_ok());
        let requests = server.requests.lock().await;
        assert_eq!(requests.len(), 3);
        for later in &requests[1..] {
            let after = later.at - requests[0].at;
            assert!(
                after >= Duration::from_millis(380),
                "{} sent {after:?} into the limit",
                later.path
            );
        }
    }

    #[tokio::test]
    async fn a_long_global_limit_fails_fast_without_sending() {
        let server = serve(vec![rate_limited(60.0, true)]).await;
        let c = client(&server);
        assert!(c.open_dm("1").await.unwrap_err().is_status(429));
        let err = c.clone().open_dm("2").await.unwrap_err();
        assert!(err.is_status(429) && err.detail.contains("not sent"));
        assert!(err.retry_after.is_some_and(|s| (59..=60).contains(&s)));
        assert_eq!(server.requests.lock().await.len(), 1);
    }

    #[tokio::test]
    async fn closed_dms_are_recognised_and_not_retried() {
        let server = serve(vec![reply(
            403,
            json!({"message": "Cannot send messages to this user", "code": 50007}),
        )])
        .await;
        let err = client(&server)
            .send_message("c1", &OutgoingMessage::text("hi"))
            .await
            .unwrap_err();
        assert!(is_dms_closed(&err), "{err}");
        assert!(!err.is_transient());
        assert_eq!(error_code(&err), Some(50007));
        assert_eq!(
            err.to_string(),
            "discord answered 403: code 50007: Cannot send messages to this user"
        );
        assert_eq!(server.requests.lock().await.len(), 1);
        let other = HttpError {
            service: "x",
            status: None,
            retry_after: None,
            detail: "code 50007: x".into(),
            unsent: false,
        };
        assert!(!is_dms_closed(&other));
    }

    fn dms_closed() -> Canned {
        reply(
            403,
            json!({"message": "Cannot send messages to this user", "code": 50007}),
        )
    }

    #[test]
    fn invalid_answers_slide_out_of_the_window() {
        let start = Instant::now();
        let at = |secs: u64| start + Duration::from_secs(secs);
        let mut counted = InvalidRequests::new(3, Duration::from_secs(600));
        for secs in [0, 100, 200] {
            assert_eq!(counted.spent_for(at(secs)), None);
            counted.record(at(secs));
        }
        // Three within 10 minutes: spent until the first is 10 minutes old, then one may go.
        assert_eq!(counted.spent_for(at(200)), Some(Duration::from_secs(400)));
        assert_eq!(counted.spent_for(at(599)), Some(Duration::from_secs(1)));
        assert_eq!(counted.spent_for(at(600)), None);
        counted.record(at(600));
        assert_eq!(counted.spent_for(at(600)), Some(Duration::from_secs(100)));
        // Spread out, any number is fine.
        let mut spread = InvalidRequests::new(3, Duration::from_secs(600));
        for n in 0..10 {
            assert_eq!(spread.spent_for(at(n * 300)), None, "{n}");
            spread.record(at(n * 300));
        }
        assert!(spread.at.len() <= 3);
    }

    #[tokio::test]
    async fn the_invalid_request_budget_stops_calls_until_the_window_ends() {
        let server = serve(vec![
            dms_closed(),
            reply(401, json!({"message": "401: Unauthorized", "code": 0})),
            // Not counted: Discord leaves shared-scope 429s out of the limit.
            Canned {
                status: 429,
                headers: vec![("x-ratelimit-scope", "shared".into())],
                body: json!({"message": "You are being rate limited.", "retry_after": 30.0, "global": false}).to_string(),
            },
            rate_limited(30.0, false),
            reply(200, json!({"id": "never"})),
        ])
        .await;
        let c = client(&server).with_invalid_request_limit(3, Duration::from_secs(600));
        let text = OutgoingMessage::text("hi");
        assert!(is_dms_closed(
            &c.send_message("c1", &text).await.unwrap_err()
        ));
        assert!(c.open_dm("2").await.unwrap_err().is_status(401));
        assert!(c
            .send_message("c3", &text)
            .await
            .unwrap_err()
            .is_status(429));
        assert_eq!(server.requests.lock().await.len(), 3, "not spent yet");
        assert!(c
            .send_message("c4", &text)
            .await
            .unwrap_err()
            .is_status(429));
        // The third counted answer spent it: every clone now fails at once, without sending,
        // with a wait that lets the queue hold the work until the window ends.
        for call in 0..2 {
            let err = c.clone().send_message("c5", &text).await.unwrap_err();
            assert!(err.is_status(429) && err.is_transient(), "{err}");
            assert!(err.detail.contains("not sent"), "{err}");
            assert!(
                err.retry_after.is_some_and(|s| (598..=600).contains(&s)),
                "{call}: {:?}",
                err.retry_after
            );
        }
        let err = c.edit_original("app1", "tok", "done").await.unwrap_err();
        assert!(
            err.detail.contains("not sent"),
            "interaction webhooks too: {err}"
        );
        assert_eq!(server.requests.lock().await.len(), 4);
    }

    #[tokio::test]
    async fn calls_resume_once_the_invalid_answers_are_out_of_the_window() {
        let server = serve(vec![
            dms_closed(),
            dms_closed(),
            reply(200, json!({"id": "m9"})),
        ])
        .await;
        let c = client(&server).with_invalid_request_limit(2, Duration::from_millis(300));
        let text = OutgoingMessage::text("hi");
        for _ in 0..2 {
            assert!(is_dms_closed(
                &c.send_message("c1", &text).await.unwrap_err()
            ));
        }
        let held = c.send_message("c2", &text).await.unwrap_err();
        assert_eq!(held.retry_after, Some(1), "rounded up to a whole second");
        assert_eq!(
            retry_at(&held, 100),
            Some(101),
            "its own hold is waited out exactly"
        );
        let discords = |secs| HttpError {
            service: SERVICE,
            status: Some(StatusCode::TOO_MANY_REQUESTS),
            retry_after: Some(secs),
            detail: "rate limited".into(),
            unsent: false,
        };
        assert_eq!(
            retry_at(&discords(2), 100),
            None,
            "a short wait gets the back-off"
        );
        assert_eq!(retry_at(&discords(60), 100), Some(160));
        let twilio = HttpError {
            service: "twilio",
            ..discords(60)
        };
        assert_eq!(retry_at(&twilio, 100), None);
        assert_eq!(server.requests.lock().await.len(), 2);
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert_eq!(c.send_message("c2", &text).await.unwrap(), "m9");
    }

    #[tokio::test]
    async fn server_errors_are_retried() {
        let server = serve(vec![
            reply(502, json!({"message": "bad gateway"})),
            reply(200, json!({"id": "m3"})),
        ])
        .await;
        let id = client(&server)
            .send_message("c1", &OutgoingMessage::text("hi"))
            .await
            .unwrap();
        assert_eq!(id, "m3");
    }

    #[tokio::test]
    async fn edit_original_uses_the_interaction_token_not_the_bot_token() {
        let server = serve(vec![reply(200, json!({"id": "m4"}))]).await;
        client(&server)
            .edit_original("app1", "tok-EN_1", "Sent to support ✓")
            .await
            .unwrap();
        let r = &server.requests.lock().await[0];
        assert_eq!(
            (r.method.as_str(), r.path.as_str()),
            (
                "PATCH",
                "/api/v10/webhooks/app1/tok-EN_1/messages/@original"
            )
        );
        assert_eq!(r.header("authorization"), None);
        assert_eq!(
            r.json(),
            json!({"content": "Sent to support ✓", "allowed_mentions": {"parse": []}})
        );
    }

    #[tokio::test]
    async fn commands_are_registered_in_bulk() {
        let server = serve(vec![reply(
            200,
            json!([{"id": "9", "name": "helpme", "type": 1}]),
        )])
        .await;
        let registered = client(&server)
            .register_commands("app1", &super::super::commands::definitions())
            .await
            .unwrap();
        assert_eq!(
            registered,
            vec![RegisteredCommand {
                id: "9".into(),
                name: "helpme".into()
            }]
        );
        let r = &server.requests.lock().await[0];
        assert_eq!(
            (r.method.as_str(), r.path.as_str()),
            ("PUT", "/api/v10/applications/app1/commands")
        );
        assert_eq!(r.json(), super::super::commands::definitions());
    }

    #[tokio::test]
    async fn malformed_ids_never_reach_the_network() {
        let server = serve(vec![]).await;
        let c = client(&server);
        for bad in ["", "..", "a/b", "1?x=2", "c 1"] {
            assert!(
                c.send_message(bad, &OutgoingMessage::text("hi"))
                    .await
                    .is_err(),
                "{bad}"
            );
        }
        assert!(server.requests.lock().await.is_empty());
    }

    #[tokio::test]
    async fn validation_errors_keep_discords_details() {
        let body = json!({"code": 50035, "message": "Invalid Form Body", "errors": {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}}});
        let server = serve(vec![reply(400, body)]).await;
        let err = client(&server)
            .send_message("c1", &OutgoingMessage::text("hi"))
            .await
            .unwrap_err();
        assert_eq!(error_code(&err), Some(50035));
        assert!(
            err.detail.contains("BASE_TYPE_MAX_LENGTH"),
            "{}",
            err.detail
        );
    }
}
