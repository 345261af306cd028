//! The global slash commands, kept as data in `commands.json` and registered with one bulk
//! overwrite (`PUT /applications/{id}/commands`): the list there becomes the app's whole list.
//!
//! Each is a slash command (`type: 1`), installed with the app to a server
//! (`integration_types: [0]`, GUILD_INSTALL), and usable in a server and in the bot's DM
//! (`contexts: [0, 1]`: GUILD, BOT_DM; 2 would be other private channels), so a customer can
//! talk to support without anyone else seeing it.

/// The command list as registered.
pub const COMMANDS_JSON: &str = include_str!("commands.json");

/// The command list, ready for [`super::DiscordClient::register_commands`].
pub fn definitions() -> serde_json::Value {
    // The file is part of the build and checked by the tests below: failing to parse is a
    // bug in this crate, never something a request can cause.
    serde_json::from_str(COMMANDS_JSON).expect("commands.json is valid JSON")
}

#[cfg(test)]
mod tests {
    use super::super::ids;
    use super::*;
    use serde_json::{json, Value};

    fn valid_name(name: &str) -> bool {
        (1..=32).contains(&name.chars().count())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    }

    #[test]
    fn every_command_is_well_formed() {
        let commands = definitions();
        let commands = commands.as_array().expect("a list");
        let names: Vec<&str> = commands
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                ids::COMMAND_HELPME,
                ids::COMMAND_REPLY,
                ids::COMMAND_BUG,
                ids::COMMAND_NEW_FEATURE,
                ids::COMMAND_CASES
            ]
        );
        for command in commands {
            let name = command["name"].as_str().unwrap();
            assert!(valid_name(name), "{name}");
            let description = command["description"].as_str().unwrap();
            assert!((1..=100).contains(&description.chars().count()), "{name}");
            assert_eq!(command["type"], 1, "{name}");
            assert_eq!(command["contexts"], json!([0, 1]), "{name}");
            assert_eq!(command["integration_types"], json!([0]), "{name}");
            for option in command["options"].as_array().into_iter().flatten() {
                let option_name = option["name"].as_str().unwrap();
                assert!(valid_name(option_name), "{name} {option_name}");
                let described = option["description"].as_str().unwrap().chars().count();
                assert!((1..=100).contains(&described), "{name} {option_name}");
                match option["type"].as_u64() {
                    Some(3) => assert!(option["max_length"].as_u64().unwrap() <= 6000),
                    // A file is never required, so it comes after the required text.
                    Some(11) => assert_eq!(option["required"], false, "{name} {option_name}"),
                    other => panic!("{name} {option_name}: option type {other:?}"),
                }
            }
        }
    }

    #[test]
    fn options_are_the_ones_the_parser_reads() {
        let commands = definitions();
        let option = |command: &str| -> Value {
            commands
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == command)
                .unwrap()["options"][0]
                .clone()
        };
        assert_eq!(option(ids::COMMAND_HELPME)["name"], ids::OPTION_QUESTION);
        assert_eq!(option(ids::COMMAND_REPLY)["name"], ids::OPTION_MESSAGE);
        for command in [ids::COMMAND_HELPME, ids::COMMAND_REPLY] {
            assert_eq!(option(command)["type"], 3, "a string");
            assert_eq!(option(command)["required"], true);
            let file = commands
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == command)
                .unwrap()["options"][1]
                .clone();
            assert_eq!(file["name"], "attachment", "{command}");
            assert_eq!(
                file["type"],
                crate::media::ATTACHMENT_OPTION,
                "what interaction_files reads"
            );
        }
    }

    #[test]
    fn same_shape_as_the_sample_registration() {
        let path = format!(
            "{}/../../fixtures/discord/responses/register-commands-global.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let sample: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let keys = |v: &Value| -> Vec<String> {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        let ours = definitions();
        assert_eq!(keys(&ours[0]), keys(&sample[0]));
        assert_eq!(keys(&ours[0]["options"][0]), keys(&sample[0]["options"][0]));
        assert_eq!(ours[0]["contexts"], sample[0]["contexts"]);
        assert_eq!(ours[0]["integration_types"], sample[0]["integration_types"]);
    }
}
