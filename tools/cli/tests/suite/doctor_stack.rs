//! `flex-bridge doctor --stack NAME` against CloudFormation, DynamoDB and SQS on moto server
//! (`scripts/with-moto.sh` sets `AWS_ENDPOINT_URL`, dummy credentials and the region): a small
//! plain (non-SAM) stack with the output names of `template.yaml`, whose `ApiBaseUrl` is the
//! local bridge. Without `AWS_ENDPOINT_URL` the moto tests say why and pass.

use std::collections::HashMap;

use aws_sdk_cloudformation::types::StackStatus;
use clap::Parser;
use flex_bridge_cli::Cli;
use flex_bridge_core::config::Env;
use local::test_secrets::*;
use local::{Backend, LocalBridge, Options};
use serde_json::json;

/// Whether moto is there; if not, says so (the test then passes without running).
fn moto(test: &str) -> bool {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        eprintln!(
            "skipping {test}: AWS_ENDPOINT_URL is not set (run under scripts/with-moto.sh or make test)"
        );
        return false;
    }
    true
}

/// The bridge's configuration but PUBLIC_BASE_URL: the stack gives it.
fn env(bridge: &LocalBridge) -> Env {
    let mut vars: HashMap<String, String> = local::environment(&bridge.url, &bridge.sandbox.url());
    vars.remove("PUBLIC_BASE_URL");
    for (name, value) in [
        (
            "DISCORD_PUBLIC_KEY",
            bridge.sandbox.discord_public_key_hex(),
        ),
        ("X_BEARER_TOKEN", bridge.sandbox.x_bearer_token()),
        ("DISCORD_BOT_TOKEN", DISCORD_BOT_TOKEN.to_owned()),
        ("DISCORD_APPLICATION_ID", DISCORD_APPLICATION_ID.to_owned()),
        ("DISCORD_BUG_CHANNEL_ID", DISCORD_BUG_CHANNEL_ID.to_owned()),
        (
            "DISCORD_FEATURE_CHANNEL_ID",
            DISCORD_FEATURE_CHANNEL_ID.to_owned(),
        ),
    ] {
        vars.insert(name.to_owned(), value);
    }
    Env::from_map(vars)
}

async fn doctor(args: &[&str], env: Env) -> (String, Result<(), flex_bridge_cli::Error>) {
    let cli = Cli::try_parse_from(
        ["flex-bridge", "doctor"]
            .into_iter()
            .chain(args.iter().copied()),
    )
    .expect("valid arguments");
    let mut out = Vec::new();
    let result = flex_bridge_cli::run(cli, env, &mut std::io::empty(), &mut out).await;
    let out = String::from_utf8(out).unwrap();
    println!(
        "$ flex-bridge doctor {}\n{out}-> {result:?}\n",
        args.join(" ")
    );
    (out, result)
}

fn line<'a>(out: &'a str, check: &str) -> &'a str {
    out.lines()
        .find(|l| l.get(5..).is_some_and(|rest| rest.starts_with(check)))
        .unwrap_or_else(|| panic!("no line for {check:?} in:\n{out}"))
}

fn unique(name: &str) -> String {
    format!(
        "doctor-{name}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// The webhook outputs of `template.yaml`, on `base`.
fn route_outputs(base: &str) -> serde_json::Map<String, serde_json::Value> {
    flex_bridge_cli::doctor::STACK_ROUTE_OUTPUTS
        .iter()
        .map(|(key, route)| {
            (
                key.to_string(),
                json!({ "Value": format!("{base}{route}") }),
            )
        })
        .collect()
}

/// Creates stack `name` from `template` on moto and waits for it.
async fn create_stack(name: &str, template: serde_json::Value) {
    let sdk = flex_bridge_store::sdk_http::aws_config().await;
    let cfn = aws_sdk_cloudformation::Client::new(&sdk);
    cfn.create_stack()
        .stack_name(name)
        .template_body(template.to_string())
        .send()
        .await
        .expect("moto creates the stack");
    for _ in 0..100 {
        let stacks = cfn
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .unwrap()
            .stacks
            .unwrap_or_default();
        if stacks[0].stack_status == Some(StackStatus::CreateComplete) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("stack {name} not created");
}

/// A plain stack like the bridge's: a table, the three FIFO queues, and the outputs.
fn bridge_stack(base: &str) -> serde_json::Value {
    let fifo = |name: &str| {
        json!({ "Type": "AWS::SQS::Queue",
                "Properties": { "QueueName": format!("{}.fifo", unique(name)), "FifoQueue": true } })
    };
    let mut outputs = route_outputs(base);
    for (key, value) in [
        ("ApiBaseUrl", json!(base)),
        ("TableName", json!({ "Ref": "BridgeTable" })),
        ("DeliveryQueueUrl", json!({ "Ref": "DeliveryQueue" })),
        ("DiscordQueueUrl", json!({ "Ref": "DiscordQueue" })),
        ("XIntakeQueueUrl", json!({ "Ref": "XIntakeQueue" })),
    ] {
        outputs.insert(key.into(), json!({ "Value": value }));
    }
    json!({
        "Resources": {
            "BridgeTable": { "Type": "AWS::DynamoDB::Table", "Properties": {
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [
                    { "AttributeName": "pk", "AttributeType": "S" },
                    { "AttributeName": "sk", "AttributeType": "S" }],
                "KeySchema": [
                    { "AttributeName": "pk", "KeyType": "HASH" },
                    { "AttributeName": "sk", "KeyType": "RANGE" }] } },
            "DeliveryQueue": fifo("delivery"),
            "DiscordQueue": fifo("discord"),
            "XIntakeQueue": fifo("x"),
        },
        "Outputs": outputs,
    })
}

/// The local bridge, with X's side set up as `flex-bridge x webhook register` and
/// `x subscribe` leave it: its webhook and the brand's dm.received subscription.
async fn bridge() -> LocalBridge {
    let bridge = LocalBridge::start(Backend::Memory, Options::default())
        .await
        .expect("local bridge starts");
    let webhook = bridge
        .sandbox
        .add_x_webhook(&format!("{}/twitter/webhook", bridge.url));
    bridge.sandbox.add_x_activity_subscription(
        "dm.received",
        json!({"user_id": X_ACCOUNT_ID, "direction": "inbound"}),
        Some(&webhook),
    );
    bridge
}

#[tokio::test]
async fn a_deployed_stack_gives_the_url_table_and_queues() {
    if !moto("a_deployed_stack_gives_the_url_table_and_queues") {
        return;
    }
    let bridge = bridge().await;
    let name = unique("ok");
    create_stack(&name, bridge_stack(&bridge.url)).await;
    let (out, result) = doctor(&["--stack", &name], env(&bridge)).await;
    result.expect("doctor succeeds");
    assert_eq!(
        line(&out, &format!("stack {name}")),
        format!("ok   stack {name} (ApiBaseUrl {})", bridge.url)
    );
    assert!(
        line(&out, "table and queues")
            .starts_with("ok   table and queues (the table and 3 queue(s) answer)"),
        "{out}"
    );
    assert!(out.ends_with("12 ok, 0 failed, 0 skipped\n"), "{out}");
}

#[tokio::test]
async fn a_missing_stack_is_one_line_naming_it() {
    if !moto("a_missing_stack_is_one_line_naming_it") {
        return;
    }
    let bridge = bridge().await;
    let name = unique("absent");
    let (out, result) = doctor(&["--stack", &name], env(&bridge)).await;
    let err = result.unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("stack {name} does not exist in us-east-1")),
        "{err}"
    );
    assert!(err.contains("sam deploy"), "{err}");
    assert!(!err.contains('\n'), "{err}");
    assert_eq!(out, "");
}

#[tokio::test]
async fn a_stack_without_the_outputs_is_one_line_naming_them() {
    if !moto("a_stack_without_the_outputs_is_one_line_naming_them") {
        return;
    }
    let bridge = bridge().await;
    let name = unique("bare");
    let mut template = bridge_stack(&bridge.url);
    let outputs = template["Outputs"].as_object_mut().unwrap();
    outputs.remove("ApiBaseUrl");
    outputs.remove("DeliveryQueueUrl");
    create_stack(&name, template).await;
    let (_, result) = doctor(&["--stack", &name], env(&bridge)).await;
    let err = result.unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "stack {name} has no output ApiBaseUrl, DeliveryQueueUrl"
        )),
        "{err}"
    );
    assert!(!err.contains('\n'), "{err}");
}

#[tokio::test]
async fn a_queue_that_is_gone_and_a_stale_webhook_output_fail_their_checks() {
    if !moto("a_queue_that_is_gone_and_a_stale_webhook_output_fail_their_checks") {
        return;
    }
    let bridge = bridge().await;
    let name = unique("broken");
    let mut template = bridge_stack(&bridge.url);
    let gone = "https://sqs.us-east-1.amazonaws.com/123456789012/deleted-long-ago.fifo";
    template["Outputs"]["DeliveryQueueUrl"] = json!({ "Value": gone });
    template["Outputs"]["TwitterWebhookUrl"] =
        json!({ "Value": "https://old.example.com/twitter/webhook" });
    create_stack(&name, template).await;
    let (out, result) = doctor(&["--stack", &name], env(&bridge)).await;
    assert!(result.is_err());
    let resources = line(&out, "table and queues");
    assert!(resources.starts_with("FAIL "), "{out}");
    assert!(
        resources.contains(&format!("queue {gone}: ")) && resources.contains("does not exist"),
        "{out}"
    );
    let config = line(&out, "configuration");
    assert!(
        config.starts_with("FAIL configuration: stack output TwitterWebhookUrl"),
        "{out}"
    );
    assert!(out.ends_with("10 ok, 2 failed, 0 skipped\n"), "{out}");
}

#[test]
fn stack_and_url_do_not_go_together() {
    let err = Cli::try_parse_from([
        "flex-bridge",
        "doctor",
        "--stack",
        "s",
        "--url",
        "https://x.example",
    ])
    .unwrap_err();
    assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
}
