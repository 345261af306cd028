//! The deployment's credentials, kept in one AWS Secrets Manager secret rather than in the
//! functions' configuration (where anyone allowed to read a function's settings would see them).
//! `template.yaml` creates the secret from the same NoEcho parameters and hands each function
//! that needs it `SECRETS_ARN` and the right to read that one secret. At cold start the secret
//! (a JSON object of variable names to values) is read once and its values join the
//! environment, so the rest of the code reads `TWILIO_AUTH_TOKEN` as before. Local runs and
//! tests set the variables directly and no `SECRETS_ARN`.

use std::collections::HashMap;

use crate::config::{schema, ConfigError};

/// The variable naming the secret.
pub const SECRETS_ARN: &str = schema::SECRETS_ARN.name;

/// The secret's variables. Errors name the secret, never a value.
pub async fn read(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
) -> Result<HashMap<String, String>, ConfigError> {
    let invalid = |reason: String| ConfigError::invalid(SECRETS_ARN, reason);
    let value = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| {
            let e = e.into_service_error();
            invalid(format!("cannot read the secret {arn}: {}", error_code(&e)))
        })?;
    let text = value
        .secret_string()
        .ok_or_else(|| invalid(format!("the secret {arn} holds no text")))?;
    let vars: HashMap<String, serde_json::Value> = serde_json::from_str(text)
        .map_err(|_| invalid(format!("the secret {arn} is not a JSON object")))?;
    vars.into_iter()
        .map(|(name, value)| match value {
            serde_json::Value::String(text) => Ok((name, text)),
            _ => Err(invalid(format!("the secret {arn}: {name} is not a string"))),
        })
        .collect()
}

/// The error's code and message from Secrets Manager (no secret value is ever in them).
fn error_code(
    err: &aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError,
) -> String {
    use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
    match (err.code(), err.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => err.to_string(),
    }
}
