//! Discord over HTTP only, with no gateway connection: interactions come in signed
//! ([`signature`], [`interactions`]) and are answered within 3 seconds ([`responses`]); agent
//! messages and cases go out over REST with the bot token ([`DiscordClient`], [`messages`]).
//! Slash commands are data ([`commands`]); every name and `custom_id` is in [`ids`].

mod client;
pub mod commands;
pub mod components;
pub mod ids;
pub mod interactions;
pub mod media;
pub mod messages;
pub mod responses;
pub mod signature;
#[cfg(test)]
mod test_server;

use flex_bridge_core::{config, metrics, quick_replies, retry, vocabulary};

pub use client::{
    error_code, is_dms_closed, retry_at, DiscordClient, RegisteredCommand, DMS_CLOSED,
};

use crate::config::{schema as vars, ConfigError, Env, Secret};

pub const DEFAULT_API_URL: &str = vars::DISCORD_API_URL.default_value();

/// What `discord-interactions` needs: the app's public key checks every request.
#[derive(Clone, Debug)]
pub struct DiscordInteractionsConfig {
    /// Hex, as shown in the Developer Portal. Public, so not a [`Secret`].
    pub public_key: String,
    /// Interactions signed further than this from now are refused as replays: Discord signs
    /// each delivery when it sends it, and a recorded one must not be accepted once its dedupe
    /// record has expired.
    pub max_clock_skew_secs: i64,
}

/// Five minutes either way, as Discord's and Slack's docs suggest.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

impl DiscordInteractionsConfig {
    pub fn new(public_key: impl Into<String>) -> Self {
        Self {
            public_key: public_key.into(),
            max_clock_skew_secs: MAX_CLOCK_SKEW_SECS,
        }
    }

    pub fn from_env(env: &mut Env) -> Self {
        let config = Self::new(env.required(&vars::DISCORD_PUBLIC_KEY));
        // 64 hex digits that are not a point on the curve verify nothing either.
        if env.is_set(&vars::DISCORD_PUBLIC_KEY) && config.validate().is_err() {
            env.invalid(
                vars::DISCORD_PUBLIC_KEY.name,
                "is not 64 hex digits of an Ed25519 public key",
            );
        }
        config
    }

    /// A key that can never verify anything is a deploy mistake: say so at start-up, not as a
    /// 401 on every request.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match signature::parse_public_key(&self.public_key) {
            Some(_) => Ok(()),
            None => Err(ConfigError::invalid(
                vars::DISCORD_PUBLIC_KEY.name,
                "expected 64 hex digits of an Ed25519 public key",
            )),
        }
    }
}

/// What calling Discord's REST API needs (delivering agent messages, the worker).
#[derive(Clone, Debug)]
pub struct DiscordApiConfig {
    pub bot_token: Secret,
    pub api_url: String,
}

impl DiscordApiConfig {
    pub fn from_env(env: &mut Env) -> Self {
        Self {
            bot_token: env.secret(&vars::DISCORD_BOT_TOKEN),
            api_url: env.required(&vars::DISCORD_API_URL),
        }
    }
}

/// What `discord-worker` needs besides the API: the app's id (to edit interaction replies and
/// register commands) and where cases are posted.
#[derive(Clone, Debug)]
pub struct DiscordAppConfig {
    pub application_id: String,
    pub bug_channel_id: String,
    pub feature_channel_id: String,
}

impl DiscordAppConfig {
    pub fn from_env(env: &mut Env) -> Self {
        Self {
            application_id: env.required(&vars::DISCORD_APPLICATION_ID),
            bug_channel_id: env.required(&vars::DISCORD_BUG_CHANNEL_ID),
            feature_channel_id: env.required(&vars::DISCORD_FEATURE_CHANNEL_ID),
        }
    }

    /// The channel a case of `kind` is posted to.
    /// Support cases stay in Flex; they are not posted to a channel.
    pub fn case_channel(&self, kind: messages::CaseKind) -> Option<&str> {
        match kind {
            messages::CaseKind::Bug => Some(&self.bug_channel_id),
            messages::CaseKind::Feature => Some(&self.feature_channel_id),
            messages::CaseKind::Support => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_piece_reads_only_its_variables() {
        let mut e = Env::from_pairs(&[
            ("DISCORD_BOT_TOKEN", "t"),
            ("DISCORD_API_URL", "http://127.0.0.1:9/api/"),
        ]);
        let api = DiscordApiConfig::from_env(&mut e);
        assert!(e.finish().is_ok());
        assert_eq!(api.api_url, "http://127.0.0.1:9/api");
        assert!(!format!("{api:?}").contains("\"t\""));

        let mut e = Env::from_pairs(&[("DISCORD_BOT_TOKEN", "t")]);
        assert_eq!(DiscordApiConfig::from_env(&mut e).api_url, DEFAULT_API_URL);

        let mut e = Env::from_pairs(&[]);
        DiscordInteractionsConfig::from_env(&mut e);
        DiscordApiConfig::from_env(&mut e);
        DiscordAppConfig::from_env(&mut e);
        assert_eq!(
            e.finish().unwrap_err().to_string(),
            "missing environment variable(s): DISCORD_PUBLIC_KEY, DISCORD_BOT_TOKEN, \
             DISCORD_APPLICATION_ID, DISCORD_BUG_CHANNEL_ID, DISCORD_FEATURE_CHANNEL_ID"
        );
    }

    #[test]
    fn a_bad_public_key_fails_at_start_up() {
        let good = DiscordInteractionsConfig::new(
            "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8",
        );
        assert!(good.validate().is_ok());
        let bad = DiscordInteractionsConfig::new("nope");
        assert!(matches!(
            bad.validate(),
            Err(err) if err.names("DISCORD_PUBLIC_KEY")
        ));
    }

    #[test]
    fn cases_go_to_their_channels() {
        let app = DiscordAppConfig {
            application_id: "1".into(),
            bug_channel_id: "2".into(),
            feature_channel_id: "3".into(),
        };
        assert_eq!(app.case_channel(messages::CaseKind::Bug), Some("2"));
        assert_eq!(app.case_channel(messages::CaseKind::Feature), Some("3"));
        assert_eq!(app.case_channel(messages::CaseKind::Support), None);
    }
}
