//! `flex-bridge discord register-commands`: makes the Discord app's global slash commands
//! exactly the list in `crates/discord/src/commands.json`, with one bulk overwrite
//! (`PUT /applications/{id}/commands`). Running it again is harmless: Discord keeps the ids of
//! commands whose names did not change.
//!
//! Reads `DISCORD_APPLICATION_ID`, `DISCORD_BOT_TOKEN` and optionally `DISCORD_API_URL`.
//! `--dry-run` prints the JSON it would send and needs no variables.

use flex_bridge_core::config::{schema, ConfigError, Env};
use flex_bridge_core::retry::HttpError;
use flex_bridge_discord::commands;
use flex_bridge_discord::{DiscordApiConfig, DiscordClient, RegisteredCommand};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("Discord refused the registration: {error}{hint}")]
    Discord {
        error: HttpError,
        hint: &'static str,
    },
}

/// The commands as they will be registered: `commands.json` as written (the request body is
/// the same JSON, compacted).
pub fn dry_run() -> String {
    let mut out = commands::COMMANDS_JSON.trim_end().to_owned();
    out.push('\n');
    out
}

/// The app and what Discord registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub application_id: String,
    pub commands: Vec<RegisteredCommand>,
}

impl Registered {
    /// One line per command: its name and id.
    pub fn report(&self) -> String {
        let mut out = format!(
            "Registered {} global command(s) for application {}:\n",
            self.commands.len(),
            self.application_id
        );
        let width = self
            .commands
            .iter()
            .map(|c| c.name.chars().count())
            .max()
            .unwrap_or(0);
        for command in &self.commands {
            out.push_str(&format!(
                "  /{:<width$}  {}\n",
                command.name,
                command.id,
                width = width
            ));
        }
        out
    }
}

/// Reads the configuration (one error naming every missing variable) and registers the
/// commands.
pub async fn register(mut env: Env) -> Result<Registered, Error> {
    let application_id = env.required(&schema::DISCORD_APPLICATION_ID);
    let api = DiscordApiConfig::from_env(&mut env);
    env.finish()?;
    let client = DiscordClient::new(flex_bridge_core::http::http_client(), api);
    let commands = client
        .register_commands(&application_id, &commands::definitions())
        .await
        .map_err(|error| {
            let hint = hint(&error);
            Error::Discord { error, hint }
        })?;
    Ok(Registered {
        application_id,
        commands,
    })
}

/// What to check for the usual failures.
fn hint(error: &HttpError) -> &'static str {
    if error.is_status(401) {
        "\nCheck DISCORD_BOT_TOKEN: Developer Portal > Bot > Reset Token, and pass the token itself (no \"Bot \" prefix)."
    } else if error.is_status(403) || error.is_status(404) {
        "\nCheck DISCORD_APPLICATION_ID: it must be the Application ID of the app whose bot token you use."
    } else if error.is_status(400) {
        "\nDiscord did not accept crates/discord/src/commands.json; its message above names the field."
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dry_run_is_the_command_list() {
        let printed: serde_json::Value = serde_json::from_str(&dry_run()).unwrap();
        assert_eq!(printed, commands::definitions());
        let names: Vec<&str> = printed
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["helpme", "reply", "bug", "new_feature", "cases"]);
    }

    #[tokio::test]
    async fn every_missing_variable_is_named_at_once() {
        let err = register(Env::from_map(Default::default()))
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing environment variable(s): DISCORD_APPLICATION_ID, DISCORD_BOT_TOKEN"
        );
    }

    #[test]
    fn the_report_lists_names_and_ids() {
        let registered = Registered {
            application_id: "1395501276284469329".into(),
            commands: vec![
                RegisteredCommand {
                    id: "1".into(),
                    name: "helpme".into(),
                },
                RegisteredCommand {
                    id: "22".into(),
                    name: "new_feature".into(),
                },
            ],
        };
        assert_eq!(
            registered.report(),
            "Registered 2 global command(s) for application 1395501276284469329:\n  \
             /helpme       1\n  /new_feature  22\n"
        );
    }
}
