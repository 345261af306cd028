//! Typed configuration from environment variables.
//!
//! Every variable is declared once, in [`schema`], with its kind; [`Env`]'s readers take those
//! declarations and check each value by its kind. A function reads only the variables it needs,
//! and every missing or invalid one is collected and reported in a single error at start-up, so
//! a deploy with three unset variables and a bad SID fails once, naming all four.

pub mod schema;

use std::collections::HashMap;
use std::fmt;

pub use schema::{is_numeric_id, is_sid, Kind, Var};

/// Reads variables and remembers every problem found.
#[derive(Clone)]
pub struct Env {
    vars: HashMap<String, String>,
    problems: Vec<Problem>,
}

/// One thing wrong with a configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A required variable is unset or empty.
    Missing(&'static Var),
    /// A variable holds a value that cannot be used.
    Invalid { name: &'static str, reason: String },
    /// Variables that do not fit together (a platform half configured).
    Deployment(String),
}

impl PartialEq for Var {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Var {}

impl Problem {
    fn name(&self) -> Option<&'static str> {
        match self {
            Problem::Missing(var) => Some(var.name),
            Problem::Invalid { name, .. } => Some(name),
            Problem::Deployment(_) => None,
        }
    }

    /// One line for an operator, with where to find the value.
    pub fn line(&self) -> String {
        match self {
            Problem::Missing(var) => match schema::platform_of(var) {
                Some(platform) => format!(
                    "{} is missing ({}; {platform} needs all of its variables, or none)",
                    var.name, var.hint
                ),
                None => format!("{} is missing ({})", var.name, var.hint),
            },
            Problem::Invalid { name, reason } => match schema::ALL.iter().find(|v| v.name == *name)
            {
                Some(var) => format!("{name} {reason} ({})", var.hint),
                None => format!("{name} {reason}"),
            },
            Problem::Deployment(text) => text.clone(),
        }
    }
}

/// Everything wrong with a configuration, reported at once.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub struct ConfigError {
    pub problems: Vec<Problem>,
}

impl ConfigError {
    pub fn invalid(name: &'static str, reason: impl Into<String>) -> Self {
        Self {
            problems: vec![Problem::Invalid {
                name,
                reason: reason.into(),
            }],
        }
    }

    /// The names of the missing variables, in the order they were read.
    pub fn missing(&self) -> Vec<&'static str> {
        self.problems
            .iter()
            .filter_map(|p| match p {
                Problem::Missing(var) => Some(var.name),
                _ => None,
            })
            .collect()
    }

    /// Whether `name` is missing or invalid.
    pub fn names(&self, name: &str) -> bool {
        self.problems.iter().any(|p| p.name() == Some(name))
    }

    /// One line per problem, for `doctor` and `make run`.
    pub fn lines(&self) -> Vec<String> {
        self.problems.iter().map(Problem::line).collect()
    }
}

impl ConfigError {
    /// The missing variables in one part, then each other problem: what [`fmt::Display`] joins
    /// into one line, as a Lambda's start-up error shows it.
    pub fn parts(&self) -> Vec<String> {
        let mut parts = Vec::new();
        let missing = self.missing();
        if !missing.is_empty() {
            parts.push(format!(
                "missing environment variable(s): {}",
                missing.join(", ")
            ));
        }
        for problem in &self.problems {
            match problem {
                Problem::Missing(_) => {}
                Problem::Invalid { name, reason } => {
                    parts.push(format!("environment variable {name} is invalid: {reason}"))
                }
                Problem::Deployment(text) => parts.push(text.clone()),
            }
        }
        parts
    }
}

impl fmt::Display for ConfigError {
    /// `missing environment variable(s): A, B; environment variable C is invalid: …`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.parts().join("; "))
    }
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
            problems: Vec::new(),
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

    /// `name` set to `value`, over what the environment holds (a command-line flag).
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.vars.insert(name.to_owned(), value.into());
        self
    }

    fn value(&self, name: &str) -> Option<String> {
        self.vars
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// Whether `var` holds a value.
    pub fn is_set(&self, var: &Var) -> bool {
        self.value(var.name).is_some()
    }

    /// `var`'s value as set, or its default, without checking it: for code that runs after the
    /// configuration was checked (`doctor`'s later steps). A URL loses its trailing slash.
    pub fn get(&self, var: &'static Var) -> Option<String> {
        let value = self.value(var.name).or(var.default.map(str::to_owned))?;
        Some(match var.kind {
            Kind::Url | Kind::BaseUrl => value.trim_end_matches('/').to_owned(),
            _ => value,
        })
    }

    /// `var`'s value, checked by its kind; a URL loses its trailing slash. Unset, it is `None`
    /// (not a problem); invalid, the problem is recorded.
    pub fn optional(&mut self, var: &'static Var) -> Option<String> {
        let value = self.value(var.name)?;
        if let Some(reason) = var.problem(&value) {
            self.problem(Problem::Invalid {
                name: var.name,
                reason,
            });
        }
        Some(match var.kind {
            Kind::Url | Kind::BaseUrl => value.trim_end_matches('/').to_owned(),
            _ => value,
        })
    }

    /// `var`'s value; recorded as missing when it is unset and has no default.
    pub fn required(&mut self, var: &'static Var) -> String {
        match self
            .optional(var)
            .or_else(|| var.default.map(str::to_owned))
        {
            Some(value) => value,
            None => {
                self.problem(Problem::Missing(var));
                String::new()
            }
        }
    }

    /// `var`'s value, or its default.
    pub fn or_default(&mut self, var: &'static Var) -> String {
        self.optional(var)
            .unwrap_or_else(|| var.default_value().to_owned())
    }

    pub fn secret(&mut self, var: &'static Var) -> Secret {
        Secret(self.required(var))
    }

    /// A [`Kind::WholeNumber`]: its value or default (0 when invalid, which is recorded).
    pub fn number(&mut self, var: &'static Var) -> u32 {
        self.or_default(var).parse().unwrap_or(0)
    }

    /// Records that `name` holds a value that cannot be used, for checks beyond the kind.
    pub fn invalid(&mut self, name: &'static str, reason: impl Into<String>) {
        self.problem(Problem::Invalid {
            name,
            reason: reason.into(),
        });
    }

    /// Records `problem`, once.
    pub fn problem(&mut self, problem: Problem) {
        let seen = self
            .problems
            .iter()
            .any(|p| match (p.name(), problem.name()) {
                (Some(a), Some(b)) => a == b,
                _ => *p == problem,
            });
        if !seen {
            self.problems.push(problem);
        }
    }

    /// Every problem recorded, or `Ok`.
    pub fn finish(self) -> Result<(), ConfigError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError {
                problems: self.problems,
            })
        }
    }
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
        Self(env.required(&schema::PUBLIC_BASE_URL))
    }

    pub fn new(base: impl Into<String>) -> Self {
        Self(base.into().trim_end_matches('/').to_owned())
    }

    /// The public URL of one of our routes, e.g. `route("/twilio/flex-outbound")`.
    pub fn route(&self, path: &str) -> String {
        format!("{}{}", self.0, path)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::schema::*;
    use super::*;

    #[test]
    fn every_missing_and_invalid_variable_is_named_once() {
        let mut e = Env::from_pairs(&[
            ("TABLE_NAME", "t"),
            ("DELIVERY_QUEUE_URL", "  "),
            ("X_ACCOUNT_ID", "@acme"),
        ]);
        assert_eq!(e.required(&TABLE_NAME), "t");
        e.required(&TWILIO_ACCOUNT_SID);
        e.required(&DELIVERY_QUEUE_URL);
        e.required(&TWILIO_ACCOUNT_SID);
        e.required(&X_ACCOUNT_ID);
        e.required(&X_ACCOUNT_ID);
        assert_eq!(
            e.finish().unwrap_err().to_string(),
            "missing environment variable(s): TWILIO_ACCOUNT_SID, DELIVERY_QUEUE_URL; \
             environment variable X_ACCOUNT_ID is invalid: is not a numeric id"
        );
    }

    #[test]
    fn defaults_fill_what_is_unset() {
        let mut e = Env::from_pairs(&[("X_API_URL", "http://127.0.0.1:9/")]);
        assert_eq!(e.required(&X_API_URL), "http://127.0.0.1:9");
        assert_eq!(e.required(&DISCORD_API_URL), "https://discord.com/api/v10");
        assert_eq!(e.number(&DELIVERY_MAX_RECEIVES), 8);
        assert!(e.finish().is_ok());
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        let mut e = Env::from_pairs(&[("TWILIO_AUTH_TOKEN", "hunter2")]);
        assert_eq!(e.secret(&TWILIO_AUTH_TOKEN).expose(), "hunter2");
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
