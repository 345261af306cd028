//! `flex-bridge doctor [--url PUBLIC_BASE_URL | --stack NAME]`: checks a deployment from the
//! outside, with the configuration it was deployed with (the variables of the Configuration
//! table in docs/deploy-and-configuration.md). With `--stack`, the deployed stack's outputs (CloudFormation `DescribeStacks`) give
//! the public URL, the table and the queues ([`from_stack_outputs`]); the secrets still come from
//! the environment (the stack's parameters are `NoEcho`).
//!
//! One line per check, `ok   <check>`, `FAIL <check>: <what is wrong and how to fix it>` or
//! `skip <check>: <why>`, then a summary; any failure makes the command fail (exit code 1).
//!
//! | check | how |
//! | --- | --- |
//! | stack (`--stack`) | the stack exists and has the outputs doctor reads |
//! | configuration | every missing or malformed value, named; with `--stack`, webhook outputs that are not the base URL + their route |
//! | table and queues (`--stack`) | the stack's table and queues answer `DescribeTable` / `GetQueueAttributes` |
//! | public URL answers | `GET /twitter/webhook` without a token: any HTTP answer will do |
//! | X CRC | `GET /twitter/webhook?crc_token=<random>` answers `crc_response_token(secret, token)` |
//! | X signature | a minimal Account Activity body, signed: 200; with a flipped signature: 401 |
//! | Twilio signature | an ignored `onConversationStateUpdated`, signed for the exact public URL: 2xx; forged: 401 |
//! | Discord signature | a PING with a forged signature: 401 (only Discord can sign a good one) |
//! | X webhook (`X_BEARER_TOKEN`) | `GET /2/webhooks` lists `<public URL>/twitter/webhook` with `valid: true` |
//! | X subscription dm.received | `GET /2/activity/subscriptions` (OAuth 1.0a) has `dm.received` for `filter.user_id` = X_ACCOUNT_ID (direction absent or inbound), to that webhook |
//! | X subscription post.mention.create (X_MENTIONS notify or reply) | the same for `post.mention.create` |
//!
//! Nothing here changes the deployment's state: every request is one the handlers verify and
//! then acknowledge and ignore.

use std::collections::HashMap;

use flex_bridge_core::routes;
use std::io::Write;
use std::time::Duration;

use flex_bridge_core::config::{schema, Env};
use flex_bridge_discord::DiscordInteractionsConfig;

/// Each request's limit: a deployment that takes longer would time out X, Twilio and Discord.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// The stack outputs `--stack` reads: each one's variable, and whether a stack must have it.
pub const STACK_OUTPUTS: [(&str, &str, bool); 5] = [
    ("ApiBaseUrl", "PUBLIC_BASE_URL", true),
    ("TableName", "TABLE_NAME", true),
    ("DeliveryQueueUrl", "DELIVERY_QUEUE_URL", true),
    ("DiscordQueueUrl", "DISCORD_QUEUE_URL", false),
    ("XIntakeQueueUrl", "X_INTAKE_QUEUE_URL", false),
];

/// The stack outputs that are `ApiBaseUrl` + a route.
pub const STACK_ROUTE_OUTPUTS: [(&str, &str); 5] = [
    ("TwitterWebhookUrl", routes::TWITTER_WEBHOOK_PATH),
    ("FlexOutboundWebhookUrl", routes::FLEX_OUTBOUND_PATH),
    ("ChannelUpdatedWebhookUrl", routes::CHANNEL_UPDATED_PATH),
    ("ChatbotWebhookUrl", routes::CHATBOT_PATH),
    ("DiscordInteractionsUrl", routes::DISCORD_INTERACTIONS_PATH),
];

const CHECK_STACK: &str = "stack";
const CHECK_CONFIG: &str = "configuration";
const CHECK_RESOURCES: &str = "table and queues";
const CHECK_REACHABLE: &str = "public URL answers";
const CHECK_X_CRC: &str = "X CRC";
const CHECK_X_SIGNATURE: &str = "X signature";
const CHECK_DISCORD: &str = "Discord signature";
const CHECK_X_WEBHOOK: &str = "X webhook";
const CHECK_X_DM_SUBSCRIPTION: &str = "X subscription dm.received";
const CHECK_X_MENTION_SUBSCRIPTION: &str = "X subscription post.mention.create";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{failed} check(s) failed")]
    Failed { failed: usize },
    /// `--stack`: the stack or one of its outputs cannot be read (one line, with what to do).
    #[error("{0}")]
    Stack(String),
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

/// What a deployed stack tells doctor: its outputs as the variables they stand for, and the
/// outputs that disagree with `ApiBaseUrl`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackConfig {
    /// `(variable, value)`, e.g. `("PUBLIC_BASE_URL", "https://…/Prod")`, in [`STACK_OUTPUTS`]'s
    /// order.
    pub vars: Vec<(&'static str, String)>,
    pub problems: Vec<String>,
}

impl StackConfig {
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Maps the outputs of stack `stack` (`OutputKey` → `OutputValue`) to the configuration doctor
/// checks. A missing required output is an error naming it (and every other missing one).
pub fn from_stack_outputs(
    stack: &str,
    outputs: &HashMap<String, String>,
) -> Result<StackConfig, Error> {
    let value = |key: &str| {
        outputs
            .get(key)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let missing: Vec<&str> = STACK_OUTPUTS
        .iter()
        .filter(|(key, _, required)| *required && value(key).is_none())
        .map(|(key, _, _)| *key)
        .collect();
    if !missing.is_empty() {
        return Err(Error::Stack(format!(
            "stack {stack} has no output {}: is it a Flex Bridge stack? Deploy it with this \
             repository's template.yaml (sam deploy), or pass the bridge's stack name",
            missing.join(", ")
        )));
    }
    let vars: Vec<(&'static str, String)> = STACK_OUTPUTS
        .iter()
        .filter_map(|(key, var, _)| value(key).map(|v| (*var, v)))
        .collect();
    let base = value("ApiBaseUrl")
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_owned();
    let problems = STACK_ROUTE_OUTPUTS
        .iter()
        .filter_map(|(key, route)| {
            let given = value(key)?;
            (given.trim_end_matches('/') != format!("{base}{route}")).then(|| {
                format!(
                    "stack output {key} is {given:?}, not ApiBaseUrl + {route}: the stack was \
                     deployed from another template; deploy it again with this repository's \
                     template.yaml"
                )
            })
        })
        .collect();
    Ok(StackConfig { vars, problems })
}

/// An AWS error in one line: its code and message, or what kept the request from AWS.
fn aws_problem<E>(err: &E) -> String
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata + std::error::Error,
{
    match (err.code(), err.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => aws_sdk_sqs::error::DisplayErrorContext(err)
            .to_string()
            .replace('\n', " "),
    }
}

/// The outputs of stack `name`, by `DescribeStacks`.
async fn stack_outputs(
    sdk: &aws_config::SdkConfig,
    name: &str,
) -> Result<HashMap<String, String>, Error> {
    use aws_sdk_cloudformation::error::ProvideErrorMetadata;
    let region = sdk.region().map(|r| r.to_string()).ok_or_else(|| {
        Error::Stack(format!(
            "cannot look up stack {name}: no AWS region; set AWS_REGION (or AWS_PROFILE) \
                 to the region it is deployed in"
        ))
    })?;
    let client = aws_sdk_cloudformation::Client::new(sdk);
    let answer = client.describe_stacks().stack_name(name).send().await;
    let stacks = match answer {
        Ok(answer) => answer.stacks.unwrap_or_default(),
        Err(err) if err.message().is_some_and(|m| m.contains("does not exist")) => {
            return Err(Error::Stack(format!(
                "stack {name} does not exist in {region}: check the name (samconfig.toml's \
                 stack_name) and the region (AWS_REGION, AWS_PROFILE), or deploy it (sam deploy)"
            )))
        }
        Err(err) => {
            let why = aws_problem(&err);
            return Err(Error::Stack(format!(
                "cannot read stack {name} in {region}: {why}; check the AWS credentials \
                 (AWS_PROFILE, AWS_ACCESS_KEY_ID) allow cloudformation:DescribeStacks"
            )));
        }
    };
    let stack = stacks.into_iter().next().ok_or_else(|| {
        Error::Stack(format!(
            "stack {name} does not exist in {region}: check the name and the region, or deploy \
             it (sam deploy)"
        ))
    })?;
    Ok(stack
        .outputs
        .unwrap_or_default()
        .into_iter()
        .filter_map(|o| Some((o.output_key?, o.output_value?)))
        .collect())
}

/// The stack's table and queues answer.
async fn resources(sdk: &aws_config::SdkConfig, stack: &StackConfig) -> Result<String, String> {
    let mut problems = Vec::new();
    if let Some(table) = stack.var("TABLE_NAME") {
        let client = aws_sdk_dynamodb::Client::new(sdk);
        if let Err(err) = client.describe_table().table_name(table).send().await {
            problems.push(format!("table {table}: {}", aws_problem(&err)));
        }
    }
    let client = aws_sdk_sqs::Client::new(sdk);
    let mut queues = 0;
    for name in [
        "DELIVERY_QUEUE_URL",
        "DISCORD_QUEUE_URL",
        "X_INTAKE_QUEUE_URL",
    ] {
        let Some(url) = stack.var(name) else { continue };
        queues += 1;
        let answer = client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await;
        if let Err(err) = answer {
            problems.push(format!("queue {url}: {}", aws_problem(&err)));
        }
    }
    if problems.is_empty() {
        Ok(format!("the table and {queues} queue(s) answer"))
    } else {
        Err(format!(
            "{}; check the AWS credentials can read them (dynamodb:DescribeTable, \
             sqs:GetQueueAttributes)",
            problems.join("; ")
        ))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    Fail,
    Skip,
}

/// Prints each check's line as it is decided and counts them.
struct Report<'a> {
    out: &'a mut dyn Write,
    ok: usize,
    failed: usize,
    skipped: usize,
}

impl Report<'_> {
    fn line(&mut self, status: Status, check: &str, detail: &str) -> std::io::Result<()> {
        match status {
            Status::Ok => {
                self.ok += 1;
                if detail.is_empty() {
                    writeln!(self.out, "ok   {check}")
                } else {
                    writeln!(self.out, "ok   {check} ({detail})")
                }
            }
            Status::Fail => {
                self.failed += 1;
                writeln!(self.out, "FAIL {check}: {detail}")
            }
            Status::Skip => {
                self.skipped += 1;
                writeln!(self.out, "skip {check}: {detail}")
            }
        }
    }

    fn outcome(&mut self, check: &str, outcome: Result<String, String>) -> std::io::Result<()> {
        match outcome {
            Ok(detail) => self.line(Status::Ok, check, &detail),
            Err(problem) => self.line(Status::Fail, check, &problem),
        }
    }
}

/// What the checks need from the configuration.
struct Config {
    /// PUBLIC_BASE_URL without its trailing slash, when it is usable.
    base: Option<String>,
    x_secret: Option<String>,
    twilio_token: Option<String>,
    discord_key: Option<String>,
    /// Whether `/twilio/chatbot` is in use (ROUTING bot or agent).
    chatbot: bool,
    problems: Vec<String>,
}

/// Reads and checks the configuration as a deployment, by the one schema the functions read it
/// with ([`schema::check_deployment`]); `url` (`--url`, or the stack's) wins over
/// `PUBLIC_BASE_URL`.
fn read_config(env: &Env, url: Option<String>) -> Config {
    let mut env = match url.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()) {
        Some(url) => env.clone().with(schema::PUBLIC_BASE_URL.name, url),
        None => env.clone(),
    };
    schema::check_deployment(&mut env);
    let base = env.optional(&schema::PUBLIC_BASE_URL);
    let discord_key = env.optional(&schema::DISCORD_PUBLIC_KEY);
    if let Some(key) = &discord_key {
        // 64 hex digits that are not a point on the curve verify nothing either.
        if DiscordInteractionsConfig::new(key.clone())
            .validate()
            .is_err()
        {
            env.invalid(
                schema::DISCORD_PUBLIC_KEY.name,
                "is not an Ed25519 public key",
            );
        }
    }
    let x_secret = env.optional(&schema::X_CONSUMER_SECRET);
    let twilio_token = env.optional(&schema::TWILIO_AUTH_TOKEN);
    let chatbot = !env
        .or_default(&schema::ROUTING)
        .eq_ignore_ascii_case("studio");
    let (base, problems) = match env.finish() {
        Ok(()) => (base, Vec::new()),
        Err(err) => (
            base.filter(|_| !err.names(schema::PUBLIC_BASE_URL.name)),
            err.lines(),
        ),
    };
    Config {
        base,
        x_secret,
        twilio_token,
        discord_key,
        chatbot,
        problems,
    }
}

fn http_client() -> reqwest::Client {
    flex_bridge_core::http::http_client_builder()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        // A redirect is an answer to report: X, Twilio and Discord do not follow them.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("TLS backend available")
}

/// A transport failure, said plainly.
fn transport(method: &str, url: &str, err: &reqwest::Error) -> String {
    let what = if err.is_timeout() {
        format!("no answer within {} s", TIMEOUT.as_secs())
    } else if err.is_connect() {
        let mut cause = String::new();
        let mut source = std::error::Error::source(err);
        while let Some(inner) = source {
            cause = inner.to_string();
            source = inner.source();
        }
        if cause.is_empty() {
            "cannot connect".to_owned()
        } else {
            format!("cannot connect ({cause})")
        }
    } else {
        err.to_string()
    };
    format!(
        "{method} {url}: {what}; check PUBLIC_BASE_URL (or --url) is the deployed API's URL (the \
         stack outputs list it) and that it is reachable from here"
    )
}

/// At most 200 characters of a body, on one line.
fn snippet(body: &str) -> String {
    let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(200) {
        Some((end, _)) => format!("{}…", &one_line[..end]),
        None => one_line,
    }
}

/// Status and body of an answer; a redirect says where to.
async fn answer(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .map(str::to_owned);
    let body = response.text().await.unwrap_or_default();
    match location {
        Some(location) => (
            status,
            format!("a redirect to {location}: set PUBLIC_BASE_URL to where it ends"),
        ),
        None => (status, snippet(&body)),
    }
}

async fn reachable(client: &reqwest::Client, base: &str) -> Result<String, String> {
    let url = format!("{base}/twitter/webhook");
    match client.get(&url).send().await {
        Ok(response) => Ok(format!("GET {url} answered {}", response.status().as_u16())),
        Err(err) => Err(transport("GET", &url, &err)),
    }
}

fn random_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

async fn x_crc(client: &reqwest::Client, base: &str, secret: &str) -> Result<String, String> {
    let url = format!("{base}/twitter/webhook");
    let token = random_token();
    let response = client
        .get(&url)
        .query(&[("crc_token", &token)])
        .send()
        .await
        .map_err(|err| transport("GET", &url, &err))?;
    let (status, body) = answer(response).await;
    if status != 200 {
        return Err(format!(
            "GET {url}?crc_token=… answered {status} ({body}), not 200: X would refuse the \
             webhook; read twitter-crc's logs"
        ));
    }
    let expected = flex_bridge_x::signature::crc_response_token(secret, &token);
    let given = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("response_token")?.as_str().map(str::to_owned));
    match given {
        Some(given) if given == expected => Ok(String::new()),
        Some(_) => Err(
            "the bridge answered the CRC with another response_token: X_CONSUMER_SECRET here \
             is not the secret the deployment has (XConsumerSecret); deploy with the app's \
             consumer secret, or fix X_CONSUMER_SECRET here"
                .into(),
        ),
        None => Err(format!(
            "the CRC answer has no response_token: {body}; is PUBLIC_BASE_URL this bridge?"
        )),
    }
}

/// `signature` with one character of its base64 or hex part changed.
fn flipped(signature: &str) -> String {
    let mut chars: Vec<char> = signature.chars().collect();
    if let Some(last) = chars.iter().rposition(|c| c.is_ascii_alphanumeric()) {
        chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
    }
    chars.into_iter().collect()
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    headers: &[(&str, &str)],
    content_type: &str,
    body: &str,
) -> Result<(u16, String), String> {
    let mut request = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request
        .send()
        .await
        .map_err(|err| transport("POST", url, &err))?;
    Ok(answer(response).await)
}

async fn x_signature(
    client: &reqwest::Client,
    base: &str,
    secret: &str,
    account_id: &str,
) -> Result<String, String> {
    use flex_bridge_x::signature::{sign, HEADER};
    let url = format!("{base}/twitter/webhook");
    // An Account Activity delivery with no events: verified, parsed, and nothing to do.
    let body =
        serde_json::json!({"for_user_id": account_id, "direct_message_events": []}).to_string();
    let signature = sign(secret, body.as_bytes());
    let json = "application/json";
    let (status, answer) = post(client, &url, &[(HEADER, &signature)], json, &body).await?;
    match status {
        200..=299 => {}
        401 => {
            return Err(format!(
                "POST {url} signed with X_CONSUMER_SECRET got 401: the deployment checks \
                 x-twitter-webhooks-signature with another secret; deploy with the app's \
                 consumer secret (XConsumerSecret), or fix X_CONSUMER_SECRET here"
            ))
        }
        _ => {
            return Err(format!(
                "POST {url} (signed) answered {status} ({answer}), not 200: read \
                 twitter-inbound's logs"
            ))
        }
    }
    let forged = flipped(&signature);
    let (status, answer) = post(client, &url, &[(HEADER, &forged)], json, &body).await?;
    if status != 401 {
        return Err(format!(
            "POST {url} with a flipped signature answered {status} ({answer}), not 401: the \
             deployment does not check x-twitter-webhooks-signature"
        ));
    }
    Ok(String::new())
}

/// Whether X_MENTIONS asks for public mentions (`notify` or `reply`).
fn x_mentions(env: &Env) -> bool {
    env.get(&schema::X_MENTIONS)
        .is_some_and(|m| matches!(m.to_ascii_lowercase().as_str(), "notify" | "reply"))
}

/// The checks of X's side of the set-up, in order (for the lines that skip them).
fn x_setup_checks(env: &Env) -> Vec<&'static str> {
    let mut checks = vec![CHECK_X_WEBHOOK, CHECK_X_DM_SUBSCRIPTION];
    if x_mentions(env) {
        checks.push(CHECK_X_MENTION_SUBSCRIPTION);
    }
    checks
}

/// An X command's error on one line.
fn one_line(err: &crate::x::Error) -> String {
    err.to_string().replace('\n', " ")
}

/// X's side of the set-up: the bridge's webhook is registered and valid (`GET /2/webhooks`,
/// which takes the app's bearer token) and the X Activity subscriptions deliver the brand's
/// DMs (and mentions, when X_MENTIONS is on) to it (`GET /2/activity/subscriptions`, OAuth
/// 1.0a). Only reads.
async fn x_setup(
    report: &mut Report<'_>,
    env: &Env,
    client: &reqwest::Client,
    base: &str,
) -> Result<(), Error> {
    use crate::x::{Clients, Subscription, DM_RECEIVED, POST_MENTION_CREATE};
    use flex_bridge_core::config::Secret;
    use flex_bridge_x::{XApiConfig, XClient};

    let webhook_url = format!("{base}/twitter/webhook");
    let bearer = env.get(&schema::X_BEARER_TOKEN).map(Secret::new);
    let oauth = [
        &schema::X_CONSUMER_KEY,
        &schema::X_CONSUMER_SECRET,
        &schema::X_ACCESS_TOKEN,
        &schema::X_ACCESS_TOKEN_SECRET,
    ]
    .map(|var| env.get(var));
    let user_context = oauth.iter().all(Option::is_some);
    let [key, secret, token, token_secret] = oauth.map(Option::unwrap_or_default);
    let config = XApiConfig {
        consumer_key: key,
        consumer_secret: Secret::new(secret),
        access_token: token,
        access_token_secret: Secret::new(token_secret),
        api_url: env.get(&schema::X_API_URL).unwrap_or_default(),
    };
    let clients = Clients::new(XClient::new(client.clone(), config), bearer.clone());

    // The webhook: registered for the public URL, and valid.
    let mut webhook_id = None;
    if bearer.is_none() {
        report.line(
            Status::Skip,
            CHECK_X_WEBHOOK,
            "X_BEARER_TOKEN is not set: GET /2/webhooks takes the app's bearer token \
             (Developer Portal > your app > Keys and tokens > Bearer Token)",
        )?;
    } else {
        let outcome = match clients.webhooks().await {
            Err(err) => Err(one_line(&err)),
            Ok(webhooks) => {
                let found = webhooks
                    .iter()
                    .find(|w| w.url.trim_end_matches('/') == webhook_url);
                match found {
                    None => {
                        let registered = if webhooks.is_empty() {
                            "none is registered".to_owned()
                        } else {
                            let urls: Vec<String> = webhooks
                                .iter()
                                .map(|w| format!("{} {}", w.id, w.url))
                                .collect();
                            format!("registered: {}", urls.join(", "))
                        };
                        Err(format!(
                            "no webhook of the app is {webhook_url} ({registered}): register it \
                             with `flex-bridge x webhook register {webhook_url}`"
                        ))
                    }
                    Some(w) => {
                        webhook_id = Some(w.id.clone());
                        if w.valid == Some(true) {
                            Ok(format!("webhook {} for {webhook_url} is valid", w.id))
                        } else {
                            Err(format!(
                                "webhook {} for {webhook_url} is not valid: X's last CRC check \
                                 of it failed and X delivers nothing to it until one passes; \
                                 fix the X CRC check, then have X check again (PUT \
                                 /2/webhooks/{}) or register it again",
                                w.id, w.id
                            ))
                        }
                    }
                }
            }
        };
        report.outcome(CHECK_X_WEBHOOK, outcome)?;
    }

    // The subscriptions: dm.received (and post.mention.create) for the brand, to that webhook.
    let mut wanted = vec![(
        CHECK_X_DM_SUBSCRIPTION,
        DM_RECEIVED,
        "`flex-bridge x subscribe`",
    )];
    if x_mentions(env) {
        wanted.push((
            CHECK_X_MENTION_SUBSCRIPTION,
            POST_MENTION_CREATE,
            "`flex-bridge x subscribe --mentions` (X_MENTIONS is on)",
        ));
    }
    let account = env
        .get(&schema::X_ACCOUNT_ID)
        .filter(|id| flex_bridge_core::config::is_numeric_id(id));
    let (account, listed) = match account {
        Some(account) if user_context => (account, clients.subscriptions().await),
        _ => {
            for (check, _, _) in &wanted {
                report.line(
                    Status::Skip,
                    check,
                    "the X credentials or X_ACCOUNT_ID are missing (see configuration)",
                )?;
            }
            return Ok(());
        }
    };
    for (check, event_type, fix) in wanted {
        let outcome = match &listed {
            Err(err) => Err(one_line(err)),
            Ok(subscriptions) => {
                let for_brand = |s: &&Subscription| {
                    s.event_type == event_type
                        && s.filter.user_id.as_deref() == Some(account.as_str())
                        && (event_type != DM_RECEIVED
                            || matches!(s.filter.direction.as_deref(), None | Some("inbound")))
                };
                let to_webhook = |s: &&Subscription| match &webhook_id {
                    Some(id) => s.webhook_id.as_ref() == Some(id),
                    None => true,
                };
                let found = subscriptions.iter().filter(for_brand).find(to_webhook);
                match found {
                    Some(s) => {
                        let webhook = s.webhook_id.as_deref().unwrap_or("-");
                        let unchecked = if webhook_id.is_none() && bearer.is_none() {
                            "; the webhook is not checked without X_BEARER_TOKEN"
                        } else {
                            ""
                        };
                        Ok(format!(
                            "subscription {} ({}) to webhook {webhook}{unchecked}",
                            s.id, s.filter
                        ))
                    }
                    None => {
                        let elsewhere: Vec<String> = subscriptions
                            .iter()
                            .filter(for_brand)
                            .map(|s| {
                                format!(
                                    "{} delivers to webhook {}",
                                    s.id,
                                    s.webhook_id.as_deref().unwrap_or("-")
                                )
                            })
                            .collect();
                        let target = match &webhook_id {
                            Some(id) => format!(" to webhook {id}"),
                            None => String::new(),
                        };
                        let elsewhere = if elsewhere.is_empty() {
                            String::new()
                        } else {
                            format!(" (subscription {})", elsewhere.join(", "))
                        };
                        let cutover = if event_type == DM_RECEIVED {
                            "; Account Activity deliveries end on 2027-01-01, after which DMs \
                             arrive only through this subscription"
                        } else {
                            ""
                        };
                        Err(format!(
                            "no {event_type} subscription for the brand account (X_ACCOUNT_ID \
                             {account}){target}{elsewhere}: create it with {fix}{cutover}"
                        ))
                    }
                }
            }
        };
        report.outcome(check, outcome)?;
    }
    Ok(())
}

async fn twilio_signature(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    path: &str,
) -> Result<String, String> {
    use flex_bridge_twilio::signature::{sign, HEADER};
    let url = format!("{base}{path}");
    // An event every Twilio handler verifies, then acknowledges and ignores.
    let params: Vec<(String, String)> = [
        ("EventType", "onConversationStateUpdated"),
        ("ConversationSid", "CH00000000000000000000000000000000"),
        ("StateTo", "active"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish();
    let form = "application/x-www-form-urlencoded";
    let signature = sign(token, &url, &params);
    let (status, answer) = post(client, &url, &[(HEADER, &signature)], form, &body).await?;
    match status {
        200..=299 => {}
        401 => {
            return Err(format!(
                "POST {url} signed with TWILIO_AUTH_TOKEN for exactly that URL got 401: this \
                 usually means PUBLIC_BASE_URL is not exactly the URL Twilio calls (a custom \
                 domain, CloudFront or a proxy that rewrites the host: deploy with \
                 PublicBaseUrl=<that URL>) or the auth token is wrong (TwilioAuthToken must be \
                 this account's, not a sub-account's)"
            ))
        }
        _ => {
            return Err(format!(
                "POST {url} (signed) answered {status} ({answer}), not 200: read the \
                 function's logs"
            ))
        }
    }
    let forged = flipped(&signature);
    let (status, answer) = post(client, &url, &[(HEADER, &forged)], form, &body).await?;
    if status != 401 {
        return Err(format!(
            "POST {url} with a forged X-Twilio-Signature answered {status} ({answer}), not \
             401: the deployment does not check Twilio's signature"
        ));
    }
    Ok(String::new())
}

/// A well-formed Discord signature (hex Ed25519 over timestamp + body, as Discord signs) by a
/// random key that is not the app's: the deployment must refuse it. Signed here with
/// ed25519-dalek rather than the Discord crate's test-only signer, which normal builds leave out.
fn forged_discord_signature(timestamp: &str, body: &[u8]) -> String {
    let mut seed = [0u8; 32];
    seed[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    seed[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    discord_signature_by(&seed, timestamp, body)
}

/// Discord's signature of `timestamp` + `body` by the key of `seed`, in hex.
fn discord_signature_by(seed: &[u8; 32], timestamp: &str, body: &[u8]) -> String {
    use ed25519_dalek::{Signer, SigningKey};
    let mut message = Vec::with_capacity(timestamp.len() + body.len());
    message.extend_from_slice(timestamp.as_bytes());
    message.extend_from_slice(body);
    let signature = SigningKey::from_bytes(seed).sign(&message).to_bytes();
    signature.iter().map(|b| format!("{b:02x}")).collect()
}

async fn discord_signature(client: &reqwest::Client, base: &str) -> Result<String, String> {
    use flex_bridge_discord::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER};
    let url = format!("{base}/discord/interactions");
    let body = r#"{"type":1}"#;
    let timestamp = flex_bridge_core::now_epoch().to_string();
    let forged = forged_discord_signature(&timestamp, body.as_bytes());
    let headers = [
        (SIGNATURE_HEADER, forged.as_str()),
        (TIMESTAMP_HEADER, timestamp.as_str()),
    ];
    let (status, answer) = post(client, &url, &headers, "application/json", body).await?;
    if status != 401 {
        return Err(format!(
            "POST {url}, a PING with a forged signature, answered {status} ({answer}), not \
             401: Discord will refuse the Interactions Endpoint URL; check \
             DISCORD_PUBLIC_KEY and read discord-interactions' logs"
        ));
    }
    Ok(
        "a forged PING gets 401; a signed PING can only come from Discord: save the \
         Interactions Endpoint URL in the Developer Portal to finish the check"
            .into(),
    )
}

/// Runs every check, printing one line each and a summary. With `stack`, its outputs give the
/// public URL (instead of `url` or PUBLIC_BASE_URL), the table and the queues.
pub async fn run(
    env: Env,
    url: Option<String>,
    stack: Option<String>,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let from_stack = match &stack {
        Some(name) => {
            let sdk = flex_bridge_store::sdk_http::aws_config().await;
            let outputs = stack_outputs(&sdk, name).await?;
            Some((name, sdk, from_stack_outputs(name, &outputs)?))
        }
        None => None,
    };
    let url = match &from_stack {
        Some((_, _, stack)) => stack.var("PUBLIC_BASE_URL").map(str::to_owned),
        None => url,
    };
    let mut config = read_config(&env, url);
    let mut report = Report {
        out,
        ok: 0,
        failed: 0,
        skipped: 0,
    };
    if let Some((name, sdk, stack)) = &from_stack {
        let base = stack.var("PUBLIC_BASE_URL").unwrap_or_default();
        let check = format!("{CHECK_STACK} {name}");
        report.line(Status::Ok, &check, &format!("ApiBaseUrl {base}"))?;
        let outcome = resources(sdk, stack).await;
        report.outcome(CHECK_RESOURCES, outcome)?;
        config.problems.extend(stack.problems.iter().cloned());
    }
    if config.problems.is_empty() {
        report.line(Status::Ok, CHECK_CONFIG, "")?;
    } else {
        report.line(Status::Fail, CHECK_CONFIG, &config.problems.join("; "))?;
    }

    let mut twilio_paths = vec![
        flex_bridge_core::routes::FLEX_OUTBOUND_PATH,
        flex_bridge_core::routes::CHANNEL_UPDATED_PATH,
    ];
    if config.chatbot {
        twilio_paths.push(flex_bridge_core::routes::CHATBOT_PATH);
    }
    let twilio_check = |path: &str| format!("Twilio signature {path}");

    // Without a base URL that answers, the platform checks cannot run: say why once each.
    let base = match &config.base {
        None => Err("no usable PUBLIC_BASE_URL (see configuration)".to_owned()),
        Some(base) => {
            let client = http_client();
            let outcome = reachable(&client, base).await;
            let answers = outcome.is_ok();
            report.outcome(CHECK_REACHABLE, outcome)?;
            if answers {
                Ok((client, base.clone()))
            } else {
                Err("the public URL does not answer".to_owned())
            }
        }
    };
    let (client, base) = match base {
        Ok(found) => found,
        Err(why) => {
            if config.base.is_none() {
                report.line(Status::Skip, CHECK_REACHABLE, &why)?;
            }
            for check in [CHECK_X_CRC, CHECK_X_SIGNATURE] {
                report.line(Status::Skip, check, &why)?;
            }
            if config.x_secret.is_some() {
                for check in x_setup_checks(&env) {
                    report.line(Status::Skip, check, &why)?;
                }
            }
            for path in &twilio_paths {
                report.line(Status::Skip, &twilio_check(path), &why)?;
            }
            report.line(Status::Skip, CHECK_DISCORD, &why)?;
            return finish(report);
        }
    };

    match &config.x_secret {
        Some(secret) => {
            let outcome = x_crc(&client, &base, secret).await;
            report.outcome(CHECK_X_CRC, outcome)?;
            let account = env.get(&schema::X_ACCOUNT_ID).unwrap_or_default();
            let outcome = x_signature(&client, &base, secret, &account).await;
            report.outcome(CHECK_X_SIGNATURE, outcome)?;
            x_setup(&mut report, &env, &client, &base).await?;
        }
        None => {
            for check in [CHECK_X_CRC, CHECK_X_SIGNATURE] {
                report.line(Status::Skip, check, "X_CONSUMER_SECRET is not set (no X)")?;
            }
        }
    }

    for path in &twilio_paths {
        let check = twilio_check(path);
        match &config.twilio_token {
            Some(token) => {
                let outcome = twilio_signature(&client, &base, token, path).await;
                report.outcome(&check, outcome)?;
            }
            None => report.line(Status::Skip, &check, "TWILIO_AUTH_TOKEN is not set")?,
        }
    }

    match &config.discord_key {
        Some(_) => {
            let outcome = discord_signature(&client, &base).await;
            report.outcome(CHECK_DISCORD, outcome)?;
        }
        None => report.line(
            Status::Skip,
            CHECK_DISCORD,
            "DISCORD_PUBLIC_KEY is not set (no Discord)",
        )?,
    }
    finish(report)
}

fn finish(report: Report<'_>) -> Result<(), Error> {
    writeln!(
        report.out,
        "{} ok, {} failed, {} skipped",
        report.ok, report.failed, report.skipped
    )?;
    if report.failed > 0 {
        return Err(Error::Failed {
            failed: report.failed,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://abc123.execute-api.eu-west-1.amazonaws.com";

    fn outputs(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Every output `template.yaml` declares, as a deployed stack has them.
    fn deployed() -> HashMap<String, String> {
        let mut all = outputs(&[
            ("ApiBaseUrl", BASE),
            ("ExecuteApiUrl", BASE),
            ("TableName", "flex-bridge-BridgeTable-1A2B"),
            (
                "DeliveryQueueUrl",
                "https://sqs.eu-west-1.amazonaws.com/1/flex-bridge-delivery.fifo",
            ),
            (
                "DiscordQueueUrl",
                "https://sqs.eu-west-1.amazonaws.com/1/flex-bridge-discord.fifo",
            ),
            (
                "XIntakeQueueUrl",
                "https://sqs.eu-west-1.amazonaws.com/1/flex-bridge-x.fifo",
            ),
            (
                "DeliveryDlqUrl",
                "https://sqs.eu-west-1.amazonaws.com/1/flex-bridge-dlq.fifo",
            ),
        ]);
        for (key, route) in STACK_ROUTE_OUTPUTS {
            all.insert(key.into(), format!("{BASE}{route}"));
        }
        all
    }

    #[test]
    fn the_forged_discord_signature_is_well_formed_but_not_the_apps() {
        use flex_bridge_discord::signature::verify;
        let seed = [7u8; 32];
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let public_hex: String = key
            .verifying_key()
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let body = br#"{"type":1}"#;
        let signature = discord_signature_by(&seed, "1700000000", body);
        assert_eq!(signature.len(), 128);
        // Discord's own check accepts it for the signing key: the refusal doctor expects can
        // only come from the deployment's key being another one.
        assert!(verify(
            &public_hex,
            Some(&signature),
            Some("1700000000"),
            body
        ));
        assert!(!verify(
            &public_hex,
            Some(&signature),
            Some("1700000001"),
            body
        ));
        let forged = forged_discord_signature("1700000000", body);
        assert_eq!(forged.len(), 128);
        assert!(!verify(
            &public_hex,
            Some(&forged),
            Some("1700000000"),
            body
        ));
    }

    #[test]
    fn outputs_map_to_the_variables_doctor_reads() {
        let stack = from_stack_outputs("flex-bridge", &deployed()).unwrap();
        assert_eq!(stack.problems, Vec::<String>::new());
        assert_eq!(stack.var("PUBLIC_BASE_URL"), Some(BASE));
        assert_eq!(
            stack.var("TABLE_NAME"),
            Some("flex-bridge-BridgeTable-1A2B")
        );
        assert!(stack
            .var("DELIVERY_QUEUE_URL")
            .unwrap()
            .ends_with("delivery.fifo"));
        assert!(stack
            .var("DISCORD_QUEUE_URL")
            .unwrap()
            .ends_with("discord.fifo"));
        assert!(stack.var("X_INTAKE_QUEUE_URL").unwrap().ends_with("x.fifo"));
        // A custom domain with a path and a trailing slash.
        let mut custom = deployed();
        custom.insert(
            "ApiBaseUrl".into(),
            "https://support.example.com/bridge/".into(),
        );
        for (key, route) in STACK_ROUTE_OUTPUTS {
            custom.insert(
                key.into(),
                format!("https://support.example.com/bridge{route}"),
            );
        }
        assert_eq!(from_stack_outputs("s", &custom).unwrap().problems.len(), 0);
    }

    #[test]
    fn a_missing_output_is_one_line_naming_it() {
        let mut partial = deployed();
        partial.remove("ApiBaseUrl");
        partial.remove("TableName");
        let err = from_stack_outputs("flex-bridge", &partial)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("stack flex-bridge has no output ApiBaseUrl, TableName"),
            "{err}"
        );
        assert!(err.contains("sam deploy"), "{err}");
        assert!(!err.contains('\n'), "{err}");
        // The optional ones may be missing (a stack from before they existed).
        let mut older = deployed();
        older.remove("XIntakeQueueUrl");
        older.remove("DiscordQueueUrl");
        let stack = from_stack_outputs("s", &older).unwrap();
        assert_eq!(stack.var("X_INTAKE_QUEUE_URL"), None);
    }

    #[test]
    fn a_webhook_output_off_the_base_url_is_a_problem_naming_it() {
        let mut stale = deployed();
        stale.insert(
            "DiscordInteractionsUrl".into(),
            "https://old.example.com/discord/interactions".into(),
        );
        let stack = from_stack_outputs("s", &stale).unwrap();
        assert_eq!(stack.problems.len(), 1, "{:?}", stack.problems);
        assert!(stack.problems[0].starts_with("stack output DiscordInteractionsUrl"));
    }
}
