//! `flex-bridge`, the operator CLI: one binary for the set-up chores, the knowledge base and
//! the cases.
//! [`run`] is the whole program but printing to the terminal, so tests drive it directly.

pub mod cases;
pub mod discord;
pub mod dlq;
pub mod doctor;
pub mod kb;
pub mod x;

use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use flex_bridge_core::config::Env;

#[derive(Debug, Parser)]
#[command(name = "flex-bridge", version, about = "Flex Bridge operator CLI")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The Discord app
    #[command(subcommand)]
    Discord(DiscordCommand),
    /// The virtual agent's knowledge base
    #[command(subcommand)]
    Kb(KbCommand),
    /// Cases: support hand-offs, bug reports and feature requests
    ///
    /// List, show, resolve and reopen the cases in the bridge's DynamoDB table. Reads
    /// TABLE_NAME (all subcommands) and DELIVERY_QUEUE_URL (resolve), AWS region and
    /// credentials as the AWS CLI does (AWS_REGION, AWS_PROFILE, AWS_ACCESS_KEY_ID, ...), and
    /// AWS_ENDPOINT_URL for an emulator.
    #[command(subcommand)]
    Cases(CasesCommand),
    /// X (Twitter): the bridge's webhook, the subscriptions that feed it DMs, and replays
    ///
    /// OAuth 1.0a user-context calls read X_CONSUMER_KEY, X_CONSUMER_SECRET, X_ACCESS_TOKEN and
    /// X_ACCESS_TOKEN_SECRET (the brand account's token); app-only calls read X_BEARER_TOKEN.
    /// All read X_API_URL (default https://api.x.com).
    #[command(subcommand)]
    X(XCommand),
    /// The dead-letter queues: what is waiting there, and moving it back once fixed
    ///
    /// A queued message (a DM for Flex, an agent reply for a customer, a Discord command)
    /// lands in its queue's DLQ after all its tries failed, with growing waits in between
    /// (about two hours with the default 8 tries). Reads the work queues from --queue or from
    /// DELIVERY_QUEUE_URL, X_INTAKE_QUEUE_URL and DISCORD_QUEUE_URL (the stack's outputs); each
    /// one's DLQ from its RedrivePolicy. AWS region and credentials as the AWS CLI does, and
    /// AWS_ENDPOINT_URL for an emulator.
    #[command(subcommand)]
    Dlq(DlqCommand),
    /// Check a deployment from the outside: configuration, reachability and every webhook's
    /// signature check
    ///
    /// Reads the configuration from the environment (the variables of the Configuration table in
    /// docs/deploy-and-configuration.md) and prints one line per check, `ok`, `FAIL` (with what to fix) or `skip` (a
    /// platform that is not configured), then a summary; exit code 1 if any check failed. X:
    /// the CRC answer and x-twitter-webhooks-signature (a signed empty delivery gets 200, a
    /// flipped signature 401). Twilio: an ignored event signed with TWILIO_AUTH_TOKEN for the
    /// exact public URL is accepted and a forged one refused, on /twilio/flex-outbound,
    /// /twilio/channel-updated and (ROUTING bot or agent) /twilio/chatbot. Discord: a PING
    /// with a forged signature gets 401. X's side (only reads): the webhook for
    /// <PUBLIC_BASE_URL>/twitter/webhook is registered and valid (GET /2/webhooks, needs
    /// X_BEARER_TOKEN, else skipped), and a dm.received X Activity subscription for
    /// X_ACCOUNT_ID delivers to it (GET /2/activity/subscriptions, OAuth 1.0a), and a
    /// post.mention.create one when X_MENTIONS is notify or reply. Nothing the requests carry
    /// changes any state. Each request times out after 5 s.
    ///
    /// With --stack NAME, the deployed stack's outputs (CloudFormation DescribeStacks) give the
    /// public URL (ApiBaseUrl), the table and the queues, which are checked too (DescribeTable,
    /// GetQueueAttributes); the secrets still come from the environment. Reads AWS region and
    /// credentials as the AWS CLI does, and AWS_ENDPOINT_URL for an emulator.
    Doctor {
        /// The API's public URL, instead of PUBLIC_BASE_URL
        #[arg(long, value_name = "PUBLIC_BASE_URL", conflicts_with = "stack")]
        url: Option<String>,
        /// Read the public URL, table and queues from this deployed CloudFormation stack's
        /// outputs (the stack_name `sam deploy` used)
        #[arg(long, value_name = "NAME")]
        stack: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// How many messages wait in each work queue's DLQ
    Status {
        /// A work queue's URL (repeatable); default: every queue the environment names
        #[arg(long = "queue", value_name = "URL")]
        queues: Vec<String>,
    },
    /// Move the messages of each DLQ back to its work queue, once the cause is fixed
    ///
    /// One SQS StartMessageMoveTask per DLQ that has messages; SQS moves them in the
    /// background. Messages the bridge had in fact handled are dropped by its dedupe, so a
    /// redrive never doubles what a customer or agent sees.
    Redrive {
        /// A work queue's URL (repeatable); default: every queue the environment names
        #[arg(long = "queue", value_name = "URL")]
        queues: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum XCommand {
    /// Register, list or delete the app's webhooks (X API v2 /2/webhooks)
    #[command(subcommand)]
    Webhook(XWebhookCommand),
    /// Have the brand account's DMs (and, with --mentions, public mentions) delivered to the
    /// webhook
    ///
    /// By default creates the X Activity API subscription (POST /2/activity/subscriptions):
    /// event dm.received, filter {user_id: X_ACCOUNT_ID, direction: inbound}, delivered to the
    /// webhook. With --mentions, also post.mention.create, filter {user_id: X_ACCOUNT_ID} (and
    /// keyword with --keyword), for X_MENTIONS=notify or reply. The existing subscriptions are
    /// listed first (GET /2/activity/subscriptions): an identical one (same event type, filter
    /// and webhook) is reported and not created again. With --account-activity, subscribes the
    /// brand account with the Account Activity API instead (POST
    /// /2/account_activity/webhooks/{id}/subscriptions/all), which X ends on 2027-01-01. Signed
    /// with OAuth 1.0a as the brand account: reads X_CONSUMER_KEY, X_CONSUMER_SECRET,
    /// X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET, X_ACCOUNT_ID (not with --account-activity) and
    /// X_API_URL. Without --webhook-id the only registered webhook is used, which takes
    /// X_BEARER_TOKEN to look up.
    Subscribe {
        /// Subscribe with the Account Activity API instead of the X Activity API
        #[arg(long, conflicts_with = "mentions")]
        account_activity: bool,
        /// The webhook to deliver to (default: the only registered one)
        #[arg(long, value_name = "ID")]
        webhook_id: Option<String>,
        /// Also subscribe to public posts that mention the brand (post.mention.create)
        #[arg(long)]
        mentions: bool,
        /// Only mentions that contain this keyword (1 to 150 characters)
        #[arg(long, value_name = "W", requires = "mentions")]
        keyword: Option<String>,
    },
    /// List or delete the app's X Activity API subscriptions
    #[command(subcommand)]
    Subscriptions(XSubscriptionsCommand),
    /// Ask X to deliver again the webhook events of a time window (at most the past 24 hours)
    ///
    /// Creates a replay job (POST /2/webhooks/replay); X sends the events to the webhook again
    /// and the bridge drops those it already handled. Times are RFC 3339
    /// (2025-06-01T12:30:00Z, 2025-06-01T14:30:00+02:00) or YYYYMMDDHHmm in UTC, to the
    /// minute. Reads X_BEARER_TOKEN and X_API_URL.
    Replay {
        /// Start of the window (inclusive)
        #[arg(long, value_name = "TIME")]
        from: String,
        /// End of the window (inclusive; default: now)
        #[arg(long, value_name = "TIME")]
        to: Option<String>,
        /// The webhook to replay to (default: the only registered one)
        #[arg(long, value_name = "ID")]
        webhook_id: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum XSubscriptionsCommand {
    /// List the X Activity API subscriptions: id, event type, filter, webhook, tag
    ///
    /// GET /2/activity/subscriptions (every page), signed with OAuth 1.0a as the brand account:
    /// reads X_CONSUMER_KEY, X_CONSUMER_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET and
    /// X_API_URL.
    List,
    /// Delete an X Activity API subscription
    ///
    /// DELETE /2/activity/subscriptions/{subscription_id}, which takes the app-only bearer
    /// token: reads X_BEARER_TOKEN and X_API_URL.
    Delete {
        /// The subscription id (see `flex-bridge x subscriptions list`)
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum XWebhookCommand {
    /// Register the bridge's webhook URL with X
    ///
    /// POST /2/webhooks, signed with OAuth 1.0a. X checks the URL at once with a CRC
    /// challenge, so the bridge must already be deployed there. Prints the webhook's id, url,
    /// valid and created_at. Reads X_CONSUMER_KEY, X_CONSUMER_SECRET, X_ACCESS_TOKEN,
    /// X_ACCESS_TOKEN_SECRET and X_API_URL.
    Register {
        /// The webhook URL, e.g. https://<bridge host>/twitter/webhook
        url: String,
    },
    /// List the app's webhooks: id, url, valid, created_at
    ///
    /// GET /2/webhooks, which takes the app-only bearer token: reads X_BEARER_TOKEN and
    /// X_API_URL.
    List,
    /// Delete a webhook (and, at X, the subscriptions that deliver to it)
    ///
    /// DELETE /2/webhooks/{id}, signed with OAuth 1.0a. Reads X_CONSUMER_KEY,
    /// X_CONSUMER_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET and X_API_URL.
    Delete {
        /// The webhook id (see `flex-bridge x webhook list`)
        id: String,
    },
}

/// Cases per page of `cases list`, unless `--limit` says otherwise.
pub const DEFAULT_CASES_LIMIT: u32 = 50;

#[derive(Debug, Subcommand)]
pub enum CasesCommand {
    /// List cases, newest first, a page at a time
    ///
    /// Prints a table (id, kind, status, reporter, last update in UTC, satisfaction score,
    /// title) and, when there are more, the command for the next page. Filters combine. Newest
    /// first means by case number; without --status or --customer the cases come status by
    /// status (open, in progress, reopened, then resolved), newest first within each. Reads
    /// TABLE_NAME, AWS region and credentials, and AWS_ENDPOINT_URL for an emulator.
    List {
        /// Only cases in this status: open, in_progress, resolved or reopened
        #[arg(long)]
        status: Option<String>,
        /// Only cases of this kind: support, bug or feature
        #[arg(long)]
        kind: Option<String>,
        /// Only the cases one customer reported, by identity (discord-<user id> or x-<user id>)
        #[arg(long, value_name = "IDENTITY")]
        customer: Option<String>,
        /// Cases per page (1 to 1000)
        #[arg(long, default_value_t = DEFAULT_CASES_LIMIT,
              value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
        /// Go on from where a previous page stopped (the token it printed)
        #[arg(long, value_name = "TOKEN")]
        page: Option<String>,
        /// Print one JSON object instead: {"cases": [every case in full], "next": token or null}
        #[arg(long)]
        json: bool,
    },
    /// Show one case: what was reported, by whom, its timeline and satisfaction score
    ///
    /// Reads TABLE_NAME, AWS region and credentials, and AWS_ENDPOINT_URL for an emulator.
    Show {
        /// The case id, e.g. CS-1042
        id: String,
        /// Print the case as JSON, timeline and satisfaction included
        #[arg(long)]
        json: bool,
    },
    /// Resolve a case (open, in progress or reopened) with a note for its timeline
    ///
    /// The reporter of a bug report or feature request is told on their platform ("Your bug
    /// report CS-1042 is resolved: <note>") through the delivery queue, so an outage of Discord
    /// or X delays the message but never drops it; support cases send nothing. Reads
    /// TABLE_NAME, DELIVERY_QUEUE_URL, AWS region and credentials, and AWS_ENDPOINT_URL for an
    /// emulator.
    Resolve {
        /// The case id, e.g. CS-1042
        id: String,
        /// What was done, e.g. "fixed in 1.2" (the timeline keeps it; bug and feature
        /// reporters read it)
        #[arg(long)]
        note: String,
    },
    /// Print a case's transcript: every message of the conversation it was handled in, with
    /// times (UTC), authors and files by name
    ///
    /// A transcript is written once, when the conversation closes. Reads TRANSCRIPTS_BUCKET,
    /// AWS region and credentials, and AWS_ENDPOINT_URL for an emulator.
    Transcript {
        /// The case id, e.g. CS-1042
        id: String,
        /// Print a self-contained HTML page instead of text
        #[arg(long)]
        html: bool,
    },
    /// Reopen a resolved case, with a note for its timeline
    ///
    /// The reporter is not told. Reads TABLE_NAME, AWS region and credentials, and
    /// AWS_ENDPOINT_URL for an emulator.
    Reopen {
        /// The case id, e.g. CS-1042
        id: String,
        /// Why it is reopened (the timeline keeps it)
        #[arg(long)]
        note: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DiscordCommand {
    /// Make the app's global slash commands exactly /helpme, /reply, /bug, /new_feature and
    /// /cases (one bulk overwrite). Reads DISCORD_APPLICATION_ID (Developer Portal > General Information),
    /// DISCORD_BOT_TOKEN (Developer Portal > Bot) and optionally DISCORD_API_URL.
    RegisterCommands {
        /// Print the JSON that would be sent, and send nothing (needs no variables)
        #[arg(long, short = 'n')]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KbCommand {
    /// Rank the articles for a question and say whether the bot would answer
    Search {
        /// The question, as a customer would write it
        #[arg(required = true)]
        question: Vec<String>,
        /// How many articles to list
        #[arg(long, default_value_t = 5)]
        top: usize,
        /// A folder of articles to index now, instead of the compiled-in base
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// For each question on standard input (one per line), print a JSON array of the top K
    /// article ids, ranked with no confidence cut-off, from a folder of articles indexed now
    Rank {
        /// The folder of articles (Markdown with front matter; synonyms.txt if present)
        #[arg(long)]
        dir: PathBuf,
        /// How many ids per question
        #[arg(long, default_value_t = 3)]
        top: usize,
    },
    /// Measure the ranking on labelled questions (`article-id<TAB>question`, `-` for none):
    /// hit@1, hit@3, MRR and the false-answer rate
    Eval {
        /// The labelled questions, e.g. knowledge-base/eval/questions.tsv
        #[arg(long)]
        questions: PathBuf,
        /// A folder of articles to index now, instead of the compiled-in base
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Also list every question the ranking got wrong
        #[arg(long, short)]
        verbose: bool,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Discord(#[from] discord::Error),
    #[error(transparent)]
    Kb(#[from] kb::Error),
    #[error(transparent)]
    Cases(#[from] cases::Error),
    #[error(transparent)]
    X(#[from] x::Error),
    #[error(transparent)]
    Doctor(#[from] doctor::Error),
    #[error(transparent)]
    Dlq(#[from] dlq::Error),
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

/// Runs one command: reads `input` (standard input) where the command does, writes what it
/// prints to `out`.
pub async fn run(
    cli: Cli,
    env: Env,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<(), Error> {
    match cli.command {
        Command::Discord(DiscordCommand::RegisterCommands { dry_run: true }) => {
            write!(out, "{}", discord::dry_run())?
        }
        Command::Discord(DiscordCommand::RegisterCommands { dry_run: false }) => {
            write!(out, "{}", discord::register(env).await?.report())?
        }
        Command::Kb(KbCommand::Search { question, top, dir }) => {
            kb::search(&question.join(" "), top, dir.as_deref(), out)?
        }
        Command::Kb(KbCommand::Rank { dir, top }) => kb::rank(&dir, top, input, out)?,
        Command::Kb(KbCommand::Eval {
            questions,
            dir,
            verbose,
        }) => kb::eval(&questions, dir.as_deref(), verbose, out)?,
        Command::Cases(command) => cases::run(command, env, out).await?,
        Command::X(command) => x::run(command, env, out).await?,
        Command::Dlq(DlqCommand::Status { queues }) => {
            let queues = dlq::queues(env, queues)?;
            dlq::status(&dlq::client().await?, &queues, out).await?
        }
        Command::Dlq(DlqCommand::Redrive { queues }) => {
            let queues = dlq::queues(env, queues)?;
            dlq::redrive(&dlq::client().await?, &queues, out).await?
        }
        Command::Doctor { url, stack } => doctor::run(env, url, stack, out).await?,
    }
    Ok(())
}
