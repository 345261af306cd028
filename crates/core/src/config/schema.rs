//! Every variable a deployment reads, declared once: its name, what kind of value it holds (and
//! so how it is checked), its default and where an operator finds it. The functions' readers
//! ([`super::Env`]), `make run` with real accounts and `flex-bridge doctor` all check a value by
//! this table, so the three cannot disagree about what is valid.

use super::{Env, Problem};
use crate::routes;

/// One environment variable.
#[derive(Debug)]
pub struct Var {
    pub name: &'static str,
    pub kind: Kind,
    /// Used when the variable is unset or empty.
    pub default: Option<&'static str>,
    /// Where to find the value, for the message naming it missing or invalid.
    pub hint: &'static str,
}

/// What a variable holds, and so how its value is checked.
#[derive(Debug)]
pub enum Kind {
    /// Any text.
    Text,
    /// A credential: never printed.
    Secret,
    /// A Twilio SID: this two-letter prefix and 32 hex digits.
    Sid(&'static str),
    /// An http(s) URL with a host, no query or fragment; the trailing slash is dropped.
    Url,
    /// [`Kind::Url`] that is the API's base, not one of its webhook routes.
    BaseUrl,
    /// An X user id or a Discord snowflake: 1 to 20 digits.
    NumericId,
    /// A whole number of at least this.
    WholeNumber { min: u32 },
    /// One of these words (compared lowercase).
    Choice(&'static [&'static str]),
    /// An ISO 8601 duration, as Twilio's `Timers.Closed` takes it (`PT24H`, `P1D`).
    Duration,
    /// An Ed25519 public key: 64 hex digits.
    PublicKey,
}

impl Var {
    const fn new(name: &'static str, kind: Kind, hint: &'static str) -> Self {
        Self {
            name,
            kind,
            default: None,
            hint,
        }
    }

    const fn or(self, default: &'static str) -> Self {
        Self {
            default: Some(default),
            ..self
        }
    }

    /// The default, for constants such as an API's production URL.
    pub const fn default_value(&self) -> &'static str {
        match self.default {
            Some(value) => value,
            None => "",
        }
    }

    /// Why `value` cannot be used, or `None` when it can. Never quotes the value: a secret
    /// pasted into the wrong variable must not reach a log.
    pub fn problem(&self, value: &str) -> Option<String> {
        match &self.kind {
            Kind::Text | Kind::Secret => None,
            Kind::Sid(prefix) => (!is_sid(value, prefix))
                .then(|| format!("is not {prefix} followed by 32 hex digits")),
            Kind::Url => url_problem(value),
            Kind::BaseUrl => url_problem(value).or_else(|| {
                let path = value.trim_end_matches('/');
                routes::ALL
                    .iter()
                    .find(|route| path.ends_with(*route))
                    .map(|route| format!("is a webhook's URL, not the API's base: drop {route}"))
            }),
            Kind::NumericId => (!is_numeric_id(value)).then(|| "is not a numeric id".to_owned()),
            Kind::WholeNumber { min } => (!value.parse::<u32>().is_ok_and(|n| n >= *min))
                .then(|| format!("is not a whole number of at least {min}")),
            Kind::Choice(words) => (!words.contains(&value.to_ascii_lowercase().as_str()))
                .then(|| format!("is not one of {}", words.join(", "))),
            Kind::Duration => (!is_duration(value))
                .then(|| "is not an ISO 8601 duration such as PT24H".to_owned()),
            Kind::PublicKey => (value.len() != 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| "is not 64 hex digits of an Ed25519 public key".to_owned()),
        }
    }
}

/// Whether `value` is a Twilio SID with `prefix` (`AC`, `WS`, `FW`, …): 34 characters, the
/// prefix then 32 hex digits.
pub fn is_sid(value: &str, prefix: &str) -> bool {
    value.len() == 34
        && value.starts_with(prefix)
        && value[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `value` is a numeric platform id (an X user id, a Discord snowflake): 1 to 20
/// digits.
pub fn is_numeric_id(value: &str) -> bool {
    !value.is_empty() && value.len() <= 20 && value.bytes().all(|b| b.is_ascii_digit())
}

fn is_duration(value: &str) -> bool {
    let Some(rest) = value.strip_prefix('P') else {
        return false;
    };
    !rest.is_empty()
        && rest.bytes().any(|b| b.is_ascii_digit())
        && rest
            .bytes()
            .all(|b| b.is_ascii_digit() || b"YMWDTHS".contains(&b))
}

fn url_problem(value: &str) -> Option<String> {
    let parsed = match url::Url::parse(value) {
        Ok(parsed) => parsed,
        Err(err) => return Some(format!("is not a URL ({err})")),
    };
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Some("is not an http(s) URL with a host".to_owned());
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Some("has a query or fragment: drop it".to_owned());
    }
    None
}

pub const PUBLIC_BASE_URL: Var = Var::new(
    "PUBLIC_BASE_URL",
    Kind::BaseUrl,
    "the API's public URL, e.g. the stack's base URL \
     https://<api id>.execute-api.<region>.amazonaws.com/Prod",
);
pub const TWILIO_ACCOUNT_SID: Var = Var::new(
    "TWILIO_ACCOUNT_SID",
    Kind::Sid("AC"),
    "Twilio Console > Account Info: AC followed by 32 hex digits",
);
pub const TWILIO_AUTH_TOKEN: Var = Var::new(
    "TWILIO_AUTH_TOKEN",
    Kind::Secret,
    "Twilio Console > Account Info: the account's auth token",
);
pub const TWILIO_CONVERSATIONS_URL: Var = Var::new(
    "TWILIO_CONVERSATIONS_URL",
    Kind::Url,
    "leave it unset for the real API",
)
.or("https://conversations.twilio.com");
pub const TWILIO_CHAT_SERVICE_SID: Var = Var::new(
    "TWILIO_CHAT_SERVICE_SID",
    Kind::Sid("IS"),
    "Twilio Console > Conversations > Services: the service's SID (IS…), where files live; \
     unset: files are not carried",
);
pub const TWILIO_MEDIA_URL: Var = Var::new(
    "TWILIO_MEDIA_URL",
    Kind::Url,
    "leave it unset for the real Media Content Service",
)
.or("https://mcs.us1.twilio.com");
pub const TWILIO_FLEX_URL: Var = Var::new(
    "TWILIO_FLEX_URL",
    Kind::Url,
    "leave it unset for the real API",
)
.or("https://flex-api.twilio.com");
pub const TWILIO_TASKROUTER_URL: Var = Var::new(
    "TWILIO_TASKROUTER_URL",
    Kind::Url,
    "leave it unset for the real API",
)
.or("https://taskrouter.twilio.com");
pub const ROUTING: Var = Var::new(
    "ROUTING",
    Kind::Choice(&["bot", "agent", "studio"]),
    "who answers a new conversation; unset means bot",
)
.or("bot");
pub const FLEX_WORKSPACE_SID: Var = Var::new(
    "FLEX_WORKSPACE_SID",
    Kind::Sid("WS"),
    "TaskRouter > Workspaces > Flex Task Assignment",
);
pub const FLEX_WORKFLOW_SID: Var = Var::new(
    "FLEX_WORKFLOW_SID",
    Kind::Sid("WW"),
    "the workspace's Workflows, e.g. Assign to Anyone",
);
pub const STUDIO_FLOW_SID: Var = Var::new("STUDIO_FLOW_SID", Kind::Sid("FW"), "Studio > Flows");
pub const CONVERSATION_CLOSE_AFTER: Var = Var::new(
    "CONVERSATION_CLOSE_AFTER",
    Kind::Duration,
    "how long an idle conversation stays open (Twilio's Timers.Closed)",
)
.or("PT24H");
pub const BOT_NAME: Var = Var::new(
    "BOT_NAME",
    Kind::Text,
    "the name the virtual agent signs with",
)
.or("Virtual agent");
pub const DELIVERY_MAX_RECEIVES: Var = Var::new(
    "DELIVERY_MAX_RECEIVES",
    Kind::WholeNumber { min: 1 },
    "the delivery queue's maxReceiveCount (the template sets both)",
)
.or("8");
pub const TABLE_NAME: Var = Var::new("TABLE_NAME", Kind::Text, "the stack's table (outputs)");
pub const DELIVERY_QUEUE_URL: Var = Var::new(
    "DELIVERY_QUEUE_URL",
    Kind::Url,
    "the stack's delivery queue (outputs)",
);
pub const X_INTAKE_QUEUE_URL: Var = Var::new(
    "X_INTAKE_QUEUE_URL",
    Kind::Url,
    "the stack's X intake queue (outputs)",
);
pub const DISCORD_QUEUE_URL: Var = Var::new(
    "DISCORD_QUEUE_URL",
    Kind::Url,
    "the stack's Discord queue (outputs)",
);
pub const TRANSCRIPTS_BUCKET: Var = Var::new(
    "TRANSCRIPTS_BUCKET",
    Kind::Text,
    "the stack's transcripts bucket (outputs)",
);
pub const TRANSCRIPTS: Var = Var::new(
    "TRANSCRIPTS",
    Kind::Choice(&["keep", "send"]),
    "keep: transcripts stay in the bucket; send: a Discord customer also gets theirs as a file \
     in their DM after the close (an X customer never gets a file unasked)",
)
.or("keep");
/// Set by the template on the functions that need credentials; local runs set them directly.
pub const SECRETS_ARN: Var = Var::new(
    "SECRETS_ARN",
    Kind::Text,
    "the stack's secret (a JSON object of the credentials below)",
);

pub const X_CONSUMER_KEY: Var = Var::new(
    "X_CONSUMER_KEY",
    Kind::Text,
    "X Developer Portal > your app > Keys and tokens: API Key",
);
pub const X_CONSUMER_SECRET: Var = Var::new(
    "X_CONSUMER_SECRET",
    Kind::Secret,
    "X Developer Portal > your app > Keys and tokens: API Key Secret",
);
pub const X_ACCESS_TOKEN: Var = Var::new(
    "X_ACCESS_TOKEN",
    Kind::Text,
    "X Developer Portal > Keys and tokens: the brand account's Access Token",
);
pub const X_ACCESS_TOKEN_SECRET: Var = Var::new(
    "X_ACCESS_TOKEN_SECRET",
    Kind::Secret,
    "X Developer Portal > Keys and tokens: the brand account's Access Token Secret",
);
pub const X_ACCOUNT_ID: Var = Var::new(
    "X_ACCOUNT_ID",
    Kind::NumericId,
    "the brand account's numeric X user id, not its @handle",
);
pub const X_BEARER_TOKEN: Var = Var::new(
    "X_BEARER_TOKEN",
    Kind::Secret,
    "X Developer Portal > Keys and tokens: Bearer Token (app-only calls)",
);
pub const X_API_URL: Var =
    Var::new("X_API_URL", Kind::Url, "leave it unset for the real API").or("https://api.x.com");
pub const X_MENTIONS: Var = Var::new(
    "X_MENTIONS",
    Kind::Choice(&["off", "notify", "reply"]),
    "public mentions of the brand: off, notify (invite by DM) or reply (one public reply)",
)
.or("off");
pub const X_MENTION_REPLY_TEXT: Var = Var::new(
    "X_MENTION_REPLY_TEXT",
    Kind::Text,
    "the public reply inviting a mention's author (X_MENTIONS=reply): no URL",
)
.or("Thanks for reaching out! Please send us a Direct Message so we can help.");
pub const X_MENTION_DM_TEXT: Var = Var::new(
    "X_MENTION_DM_TEXT",
    Kind::Text,
    "the DM inviting a mention's author (X_MENTIONS=notify)",
)
.or("Thanks for reaching out on X! Reply to this message and we will help you here.");

pub const DISCORD_PUBLIC_KEY: Var = Var::new(
    "DISCORD_PUBLIC_KEY",
    Kind::PublicKey,
    "Developer Portal > General Information > Public Key",
);
pub const DISCORD_BOT_TOKEN: Var = Var::new(
    "DISCORD_BOT_TOKEN",
    Kind::Secret,
    "Developer Portal > Bot > Reset Token",
);
pub const DISCORD_APPLICATION_ID: Var = Var::new(
    "DISCORD_APPLICATION_ID",
    Kind::NumericId,
    "Developer Portal > General Information > Application ID",
);
pub const DISCORD_BUG_CHANNEL_ID: Var = Var::new(
    "DISCORD_BUG_CHANNEL_ID",
    Kind::NumericId,
    "the channel bug reports are posted to (Developer Mode > Copy ID)",
);
pub const DISCORD_FEATURE_CHANNEL_ID: Var = Var::new(
    "DISCORD_FEATURE_CHANNEL_ID",
    Kind::NumericId,
    "the channel feature requests are posted to (Developer Mode > Copy ID)",
);
pub const DISCORD_API_URL: Var = Var::new(
    "DISCORD_API_URL",
    Kind::Url,
    "leave it unset for the real API",
)
.or("https://discord.com/api/v10");

/// What a deployment with X sets: all of these, or none (a Discord-only deployment).
pub const X_PLATFORM: [&Var; 5] = [
    &X_CONSUMER_KEY,
    &X_CONSUMER_SECRET,
    &X_ACCESS_TOKEN,
    &X_ACCESS_TOKEN_SECRET,
    &X_ACCOUNT_ID,
];

/// What a deployment with Discord sets: all of these, or none (an X-only deployment).
pub const DISCORD_PLATFORM: [&Var; 5] = [
    &DISCORD_PUBLIC_KEY,
    &DISCORD_BOT_TOKEN,
    &DISCORD_APPLICATION_ID,
    &DISCORD_BUG_CHANNEL_ID,
    &DISCORD_FEATURE_CHANNEL_ID,
];

/// Every variable, in the order the docs list them.
pub const ALL: [&Var; 38] = [
    &PUBLIC_BASE_URL,
    &TWILIO_ACCOUNT_SID,
    &TWILIO_AUTH_TOKEN,
    &TWILIO_CONVERSATIONS_URL,
    &TWILIO_CHAT_SERVICE_SID,
    &TWILIO_MEDIA_URL,
    &TWILIO_FLEX_URL,
    &TWILIO_TASKROUTER_URL,
    &ROUTING,
    &FLEX_WORKSPACE_SID,
    &FLEX_WORKFLOW_SID,
    &STUDIO_FLOW_SID,
    &CONVERSATION_CLOSE_AFTER,
    &BOT_NAME,
    &DELIVERY_MAX_RECEIVES,
    &TABLE_NAME,
    &DELIVERY_QUEUE_URL,
    &X_INTAKE_QUEUE_URL,
    &DISCORD_QUEUE_URL,
    &TRANSCRIPTS_BUCKET,
    &TRANSCRIPTS,
    &SECRETS_ARN,
    &X_CONSUMER_KEY,
    &X_CONSUMER_SECRET,
    &X_ACCESS_TOKEN,
    &X_ACCESS_TOKEN_SECRET,
    &X_ACCOUNT_ID,
    &X_BEARER_TOKEN,
    &X_API_URL,
    &X_MENTIONS,
    &X_MENTION_REPLY_TEXT,
    &X_MENTION_DM_TEXT,
    &DISCORD_PUBLIC_KEY,
    &DISCORD_BOT_TOKEN,
    &DISCORD_APPLICATION_ID,
    &DISCORD_BUG_CHANNEL_ID,
    &DISCORD_FEATURE_CHANNEL_ID,
    &DISCORD_API_URL,
];

/// Which platforms a deployment serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Platforms {
    pub x: bool,
    pub discord: bool,
}

/// Which platform `var` belongs to, if it is one of a platform's all-or-nothing variables.
pub fn platform_of(var: &Var) -> Option<&'static str> {
    if X_PLATFORM.contains(&var) {
        Some("X")
    } else if DISCORD_PLATFORM.contains(&var) {
        Some("Discord")
    } else {
        None
    }
}

/// Checks a whole deployment's configuration at once, as `make run` with real accounts and
/// `flex-bridge doctor` need it: the webhook base and Twilio; the SIDs `ROUTING` needs; each
/// platform all or nothing, and at least one; every other variable that is set, by its kind.
/// Every problem is recorded in `env`; [`Env::finish`] reports them all.
pub fn check_deployment(env: &mut Env) -> Platforms {
    env.required(&PUBLIC_BASE_URL);
    env.required(&TWILIO_ACCOUNT_SID);
    env.required(&TWILIO_AUTH_TOKEN);
    match env.or_default(&ROUTING).to_ascii_lowercase().as_str() {
        "studio" => {
            env.required(&STUDIO_FLOW_SID);
        }
        _ => {
            env.required(&FLEX_WORKSPACE_SID);
            env.required(&FLEX_WORKFLOW_SID);
        }
    }
    // A platform is all or nothing: once one of its variables is set, the rest are missing.
    let mut platform = |variables: [&'static Var; 5]| {
        let absent: Vec<&'static Var> = variables.into_iter().filter(|v| !env.is_set(v)).collect();
        if absent.len() < variables.len() {
            for var in &absent {
                env.problem(Problem::Missing(var));
            }
        }
        absent.is_empty()
    };
    let platforms = Platforms {
        x: platform(X_PLATFORM),
        discord: platform(DISCORD_PLATFORM),
    };
    let any = |variables: [&'static Var; 5], env: &Env| variables.iter().any(|v| env.is_set(v));
    if !any(X_PLATFORM, env) && !any(DISCORD_PLATFORM, env) {
        env.problem(Problem::Deployment(format!(
            "neither X nor Discord is configured: set {} or {}",
            names(&X_PLATFORM),
            names(&DISCORD_PLATFORM)
        )));
    }
    for var in ALL {
        env.optional(var);
    }
    platforms
}

fn names(variables: &[&Var]) -> String {
    variables
        .iter()
        .map(|v| v.name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_refuses_what_it_cannot_use() {
        assert_eq!(
            TWILIO_ACCOUNT_SID.problem(&format!("AC{}", "0".repeat(32))),
            None
        );
        assert_eq!(
            FLEX_WORKFLOW_SID.problem("WW123").unwrap(),
            "is not WW followed by 32 hex digits"
        );
        assert!(X_API_URL.problem("ftp://x").is_some());
        assert!(X_API_URL.problem("http://127.0.0.1:9/x?y=1").is_some());
        assert_eq!(X_API_URL.problem("http://127.0.0.1:9/api/"), None);
        assert!(PUBLIC_BASE_URL
            .problem("https://a.example/Prod/twitter/webhook")
            .unwrap()
            .contains("drop /twitter/webhook"));
        assert_eq!(X_ACCOUNT_ID.problem("1234"), None);
        assert!(X_ACCOUNT_ID.problem("@acme").is_some());
        assert!(DELIVERY_MAX_RECEIVES.problem("0").is_some());
        assert_eq!(ROUTING.problem("Studio"), None);
        assert!(ROUTING.problem("robot").is_some());
        assert_eq!(CONVERSATION_CLOSE_AFTER.problem("P1DT12H"), None);
        assert!(CONVERSATION_CLOSE_AFTER.problem("24h").is_some());
        assert!(DISCORD_PUBLIC_KEY.problem("nope").is_some());
        assert_eq!(X_CONSUMER_SECRET.problem("anything"), None);
    }

    #[test]
    fn every_variable_is_listed_once() {
        let mut names: Vec<&str> = ALL.iter().map(|v| v.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        for var in ALL {
            if let Some(default) = var.default {
                assert_eq!(var.problem(default), None, "{}'s default", var.name);
            }
        }
    }

    #[test]
    fn every_variable_is_documented() {
        let page = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/deploy-and-configuration.md"
        );
        let page = std::fs::read_to_string(page).expect("docs/deploy-and-configuration.md");
        for var in ALL {
            let row = format!("`{}`", var.name);
            assert!(
                page.lines().any(|l| l.starts_with('|') && l.contains(&row)),
                "{} is not in the configuration table",
                var.name
            );
        }
    }

    #[test]
    fn a_deployment_is_checked_whole() {
        let mut env = Env::from_pairs(&[
            ("PUBLIC_BASE_URL", "https://a.example/Prod/twilio/chatbot"),
            ("FLEX_WORKFLOW_SID", "WW123"),
            ("X_ACCOUNT_ID", "@acme"),
            ("X_CONSUMER_KEY", "k"),
        ]);
        let platforms = check_deployment(&mut env);
        assert_eq!(
            platforms,
            Platforms {
                x: false,
                discord: false
            }
        );
        let lines = env.finish().unwrap_err().lines();
        let has = |text: &str| lines.iter().any(|l| l.contains(text));
        assert!(has("TWILIO_ACCOUNT_SID is missing"), "{lines:?}");
        assert!(has("TWILIO_AUTH_TOKEN is missing"), "{lines:?}");
        assert!(has("FLEX_WORKSPACE_SID is missing"), "{lines:?}");
        assert!(has("FLEX_WORKFLOW_SID is not WW"), "{lines:?}");
        assert!(has("drop /twilio/chatbot"), "{lines:?}");
        assert!(has("X_ACCOUNT_ID is not a numeric id"), "{lines:?}");
        assert!(!lines
            .iter()
            .any(|l| l.contains("WW123") || l.contains("@acme")));
        assert!(has("X_ACCOUNT_ID is not a numeric id"), "{lines:?}");
        assert!(has("X_CONSUMER_SECRET is missing"), "{lines:?}");
        assert!(has("X needs all of its variables"), "{lines:?}");
        assert!(!has("neither X nor Discord"), "{lines:?}");
    }
}
