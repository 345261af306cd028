//! How a new conversation reaches a person (`ROUTING`):
//!
//! | value | what happens |
//! | --- | --- |
//! | `bot` (default) | the virtual agent answers first; it hands off with the Interactions API |
//! | `agent` | no bot: the first message creates the Flex task at once (Interactions API) |
//! | `studio` | the conversation gets the team's Studio flow (`STUDIO_FLOW_SID`), which routes it |

use serde::{Deserialize, Serialize};

use crate::config::schema::{FLEX_WORKFLOW_SID, FLEX_WORKSPACE_SID, ROUTING, STUDIO_FLOW_SID};
use crate::config::Env;

/// The TaskRouter workspace and workflow that the Interactions API routes tasks to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlexTaskRouting {
    pub workspace_sid: String,
    pub workflow_sid: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Routing {
    Bot(FlexTaskRouting),
    Agent(FlexTaskRouting),
    Studio { flow_sid: String },
}

impl Routing {
    /// Reads `ROUTING` and the SIDs its mode needs; an unknown mode or a missing SID is named
    /// by `env.finish()`.
    pub fn from_env(env: &mut Env) -> Self {
        let flex = |env: &mut Env| FlexTaskRouting {
            workspace_sid: env.required(&FLEX_WORKSPACE_SID),
            workflow_sid: env.required(&FLEX_WORKFLOW_SID),
        };
        // An unknown mode is recorded by the reader; the Flex SIDs are still checked.
        match env.or_default(&ROUTING).to_ascii_lowercase().as_str() {
            "agent" => Routing::Agent(flex(env)),
            "studio" => Routing::Studio {
                flow_sid: env.required(&STUDIO_FLOW_SID),
            },
            _ => Routing::Bot(flex(env)),
        }
    }

    /// The Flex workspace and workflow, unless a Studio flow routes.
    pub fn flex(&self) -> Option<&FlexTaskRouting> {
        match self {
            Routing::Bot(flex) | Routing::Agent(flex) => Some(flex),
            Routing::Studio { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigError;

    fn read(pairs: &[(&str, &str)]) -> Result<Routing, ConfigError> {
        let mut env = Env::from_pairs(pairs);
        let routing = Routing::from_env(&mut env);
        env.finish().map(|()| routing)
    }

    const FLEX: [(&str, &str); 2] = [
        ("FLEX_WORKSPACE_SID", "WS00000000000000000000000000000001"),
        ("FLEX_WORKFLOW_SID", "WW00000000000000000000000000000001"),
    ];

    #[test]
    fn bot_is_the_default_and_needs_the_flex_sids() {
        assert!(matches!(read(&FLEX), Ok(Routing::Bot(_))));
        assert_eq!(
            read(&[]).unwrap_err().missing(),
            vec!["FLEX_WORKSPACE_SID", "FLEX_WORKFLOW_SID"]
        );
        let agent = [FLEX[0], FLEX[1], ("ROUTING", "agent")];
        assert!(matches!(read(&agent), Ok(Routing::Agent(_))));
    }

    const STUDIO: &str = "FW00000000000000000000000000000001";

    #[test]
    fn studio_needs_its_flow_and_unknown_modes_are_named() {
        assert_eq!(
            read(&[("ROUTING", "studio")]).unwrap_err().missing(),
            vec!["STUDIO_FLOW_SID"]
        );
        assert_eq!(
            read(&[("ROUTING", "studio"), ("STUDIO_FLOW_SID", STUDIO)]).unwrap(),
            Routing::Studio {
                flow_sid: STUDIO.into()
            }
        );
        let err = read(&[FLEX[0], FLEX[1], ("ROUTING", "robot")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable ROUTING is invalid: is not one of bot, agent, studio"
        );
    }
}
