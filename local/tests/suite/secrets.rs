//! Credentials from the stack's Secrets Manager secret (moto server): read once at cold start
//! into the configuration the functions already read; errors name the secret, never a value.

use std::collections::HashMap;

use flex_bridge::config::schema;
use flex_bridge_lambda::secrets::SECRETS_ARN;
use flex_bridge_lambda::Aws;

async fn secret(name: &str, text: &str) -> String {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "AWS_ENDPOINT_URL is not set: run the tests with `make test` (it starts moto server)"
    );
    let client = aws_sdk_secretsmanager::Client::new(&flex_bridge::sdk_http::aws_config().await);
    let name = format!("{name}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    client
        .create_secret()
        .name(&name)
        .secret_string(text)
        .send()
        .await
        .unwrap()
        .arn
        .unwrap()
}

fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn the_secrets_join_the_configuration_the_functions_read() {
    let arn = secret(
        "bridge",
        r#"{"TWILIO_AUTH_TOKEN":"TEST_ONLY_token","X_CONSUMER_KEY":"","DISCORD_BOT_TOKEN":"TEST_ONLY_bot"}"#,
    )
    .await;
    let mut env = Aws::load()
        .await
        .with_secrets(vars(&[
            (SECRETS_ARN, &arn),
            ("TABLE_NAME", "bridge-table"),
            ("TWILIO_AUTH_TOKEN", "stale"),
        ]))
        .await
        .unwrap();
    assert_eq!(
        env.secret(&schema::TWILIO_AUTH_TOKEN).expose(),
        "TEST_ONLY_token"
    );
    assert_eq!(env.required(&schema::DISCORD_BOT_TOKEN), "TEST_ONLY_bot");
    assert_eq!(env.required(&schema::TABLE_NAME), "bridge-table");
    // An unconfigured platform's empty value reads as unset, as an absent variable would.
    assert_eq!(env.optional(&schema::X_CONSUMER_KEY), None);
    env.finish().unwrap();

    // No SECRETS_ARN (local runs, tests): the variables as given, nothing read.
    let mut env = Aws::load()
        .await
        .with_secrets(vars(&[("TWILIO_AUTH_TOKEN", "local")]))
        .await
        .unwrap();
    assert_eq!(env.required(&schema::TWILIO_AUTH_TOKEN), "local");
}

#[tokio::test]
async fn a_bad_secret_stops_the_cold_start_naming_it_not_its_values() {
    for text in [
        r#"["TEST_ONLY_value"]"#,
        r#"{"TWILIO_AUTH_TOKEN": 42}"#,
        "TEST_ONLY_value",
    ] {
        let arn = secret("bad", text).await;
        let err = Aws::load()
            .await
            .with_secrets(vars(&[(SECRETS_ARN, &arn)]))
            .await
            .err()
            .expect("refused");
        let message = err.to_string();
        assert!(err.names("SECRETS_ARN"), "{message}");
        assert!(message.contains(&arn), "{message}");
        assert!(!message.contains("TEST_ONLY_value"), "{message}");
    }
    let missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf";
    let err = Aws::load()
        .await
        .with_secrets(vars(&[(SECRETS_ARN, missing)]))
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("cannot read the secret"), "{err}");
}
