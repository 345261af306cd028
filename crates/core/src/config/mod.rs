//! Typed configuration from environment variables.
//!
//! A function reads only the variables it needs. Every missing one is collected and reported in a
//! single error at start-up, so a deploy with three unset variables fails once, naming all three.

use std::collections::HashMap;
use std::fmt;

/// Reads variables and remembers which required ones were missing.
pub struct Env {
    vars: HashMap<String, String>,
    missing: Vec<&'static str>,
    invalid: Option<(&'static str, String)>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("missing environment variable(s): {}", .0.join(", "))]
    Missing(Vec<&'static str>),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl Env {
    /// The process environment.
    pub fn from_process() -> Self {
        Self::from_map(std::env::vars().collect())
    }

    /// A given set of variables (tests and the local server).
    pub fn from_map(vars: HashMap<String, String>) -> Self {
        Self {
            vars,
            missing: Vec::new(),
            invalid: None,
        }
    }

    /// A few variables written inline (tests).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Self::from_map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    pub fn required(&mut self, name: &'static str) -> String {
        match self.optional(name) {
            Some(value) => value,
            None => {
                if !self.missing.contains(&name) {
                    self.missing.push(name);
                }
                String::new()
            }
        }
    }

    pub fn required_secret(&mut self, name: &'static str) -> Secret {
        Secret(self.required(name))
    }

    pub fn optional(&self, name: &str) -> Option<String> {
        self.vars
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    pub fn or_default(&self, name: &str, default: &str) -> String {
        self.optional(name).unwrap_or_else(|| default.to_owned())
    }

    /// A URL without its trailing slash, so paths can be appended with `format!("{base}/path")`.
    pub fn url_or_default(&self, name: &str, default: &str) -> String {
        self.or_default(name, default)
            .trim_end_matches('/')
            .to_owned()
    }

    /// Records that `name` holds a value that cannot be used; [`Self::finish`] reports it (after
    /// any missing variables).
    pub fn invalid(&mut self, name: &'static str, reason: impl Into<String>) {
        self.invalid.get_or_insert((name, reason.into()));
    }

    pub fn finish(self) -> Result<(), ConfigError> {
        if !self.missing.is_empty() {
            return Err(ConfigError::Missing(self.missing));
        }
        match self.invalid {
            Some((name, reason)) => Err(ConfigError::Invalid { name, reason }),
            None => Ok(()),
        }
    }
}

/// Whether `value` is a numeric platform id (an X user id, a Discord snowflake): 1 to 20
/// digits.
pub fn is_numeric_id(value: &str) -> bool {
    !value.is_empty() && value.len() <= 20 && value.bytes().all(|b| b.is_ascii_digit())
}

/// A credential. Its `Debug` and `Display` never print the value, so it cannot leak into logs.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where webhooks reach this deployment, as configured in `PUBLIC_BASE_URL`.
#[derive(Clone, Debug)]
pub struct PublicUrl(String);

impl PublicUrl {
    pub fn from_env(env: &mut Env) -> Self {
        Self(
            env.required("PUBLIC_BASE_URL")
                .trim_end_matches('/')
                .to_owned(),
        )
    }

    pub fn new(base: impl Into<String>) -> Self {
        Self(base.into().trim_end_matches('/').to_owned())
    }

    /// The public URL of one of our routes, e.g. `route("/twilio/flex-outbound")`.
    pub fn route(&self, path: &str) -> String {
        format!("{}{}", self.0, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_missing_variable_is_named_once() {
        let mut e = Env::from_pairs(&[("A", "1"), ("EMPTY", "  ")]);
        assert_eq!(e.required("A"), "1");
        e.required("B");
        e.required("EMPTY");
        e.required("B");
        assert_eq!(
            e.finish().unwrap_err().to_string(),
            "missing environment variable(s): B, EMPTY"
        );
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
    }

    #[test]
    fn public_url_drops_trailing_slash() {
        let u = PublicUrl::from_env(&mut Env::from_pairs(&[(
            "PUBLIC_BASE_URL",
            "https://x.example/",
        )]));
        assert_eq!(
            u.route("/twitter/webhook"),
            "https://x.example/twitter/webhook"
        );
    }
}
