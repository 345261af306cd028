//! `flex-bridge cases list | show | resolve | reopen` against DynamoDB and SQS on moto server
//! (`scripts/with-moto.sh` sets `AWS_ENDPOINT_URL`, dummy credentials and the region). Each
//! test has its own table and queues, so case ids start at CS-1001 in every one.

use std::collections::HashSet;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_sqs::types::MessageSystemAttributeName;
use clap::Parser;
use flex_bridge_cli::Cli;
use flex_bridge_core::config::Env;
use flex_bridge_store::cases::{self, Case, CaseKind, CaseStatus, CaseStore, NewCase};
use flex_bridge_store::queue::{OutboundJob, OutboundKind};
use flex_bridge_store::store::{DynamoStore, Platform};
use local::AwsResources;
use serde_json::Value;

async fn resources(name: &str) -> AwsResources {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    AwsResources::create(
        &format!("cli-{name}-{nanos:08x}"),
        5,
        Duration::from_secs(1),
    )
    .await
    .expect("moto server: run under scripts/with-moto.sh")
}

/// The variables the CLI reads: the table, the delivery queue, and AWS_* as the process has
/// them (the SDK itself reads the process environment).
fn vars(aws: &AwsResources) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = std::env::vars()
        .filter(|(name, _)| name.starts_with("AWS_"))
        .collect();
    vars.push(("TABLE_NAME".into(), aws.table.clone()));
    vars.push(("DELIVERY_QUEUE_URL".into(), aws.queue_url.clone()));
    vars
}

fn env(aws: &AwsResources) -> Env {
    Env::from_map(vars(aws).into_iter().collect())
}

async fn run_with(args: &[&str], env: Env) -> Result<String, flex_bridge_cli::Error> {
    let cli = Cli::try_parse_from(std::iter::once("flex-bridge").chain(args.iter().copied()))
        .expect("valid arguments");
    let mut out = Vec::new();
    flex_bridge_cli::run(cli, env, &mut "".as_bytes(), &mut out).await?;
    Ok(String::from_utf8(out).unwrap())
}

async fn run(aws: &AwsResources, args: &[&str]) -> String {
    run_with(args, env(aws))
        .await
        .unwrap_or_else(|err| panic!("flex-bridge {args:?}: {err}"))
}

async fn fails(aws: &AwsResources, args: &[&str]) -> String {
    match run_with(args, env(aws)).await {
        Ok(out) => panic!("flex-bridge {args:?} succeeded: {out}"),
        Err(err) => err.to_string(),
    }
}

async fn file(store: &DynamoStore, kind: CaseKind, reporter: &str, title: &str) -> Case {
    let source = format!("test#{}", uuid_ish());
    cases::file(
        store,
        &source,
        NewCase {
            kind,
            title: title.into(),
            details: format!("{title}, in detail.\nSecond line."),
            steps: (kind == CaseKind::Bug).then(|| "1. Open the app\n2. Tap login".into()),
            reporter: reporter.into(),
            conversation: (kind == CaseKind::Support).then(|| "CH0001".into()),
        },
    )
    .await
    .unwrap()
}

fn uuid_ish() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed).to_string()
}

/// The ids in a table's rows, top to bottom.
fn ids(table: &str) -> Vec<String> {
    table
        .lines()
        .filter(|line| line.starts_with("CS-"))
        .map(|line| line.split_whitespace().next().unwrap().to_owned())
        .collect()
}

/// The arguments of the `next page:` command, if the output offers one.
fn next_page(table: &str) -> Option<Vec<String>> {
    let command = table.lines().find_map(|l| l.strip_prefix("next page: "))?;
    let mut words = command.split_whitespace().map(str::to_owned);
    assert_eq!(words.next().as_deref(), Some("flex-bridge"));
    Some(words.collect())
}

/// What is on the delivery queue (each message with its group), received and deleted.
async fn queued(aws: &AwsResources) -> Vec<(String, OutboundJob)> {
    let received = aws
        .sqs
        .receive_message()
        .queue_url(&aws.queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
        .send()
        .await
        .unwrap();
    let mut jobs = Vec::new();
    for message in received.messages.unwrap_or_default() {
        aws.sqs
            .delete_message()
            .queue_url(&aws.queue_url)
            .receipt_handle(message.receipt_handle.clone().unwrap())
            .send()
            .await
            .unwrap();
        let group = message
            .attributes
            .unwrap_or_default()
            .get(&MessageSystemAttributeName::MessageGroupId)
            .cloned()
            .unwrap_or_default();
        jobs.push((
            group,
            serde_json::from_str(message.body.as_deref().unwrap()).unwrap(),
        ));
    }
    jobs
}

#[tokio::test]
async fn list_filters_pages_and_prints_json() {
    let aws = resources("list").await;
    let store = aws.store();
    let a = file(&store, CaseKind::Bug, "discord-1", "Crash on login").await;
    let b = file(&store, CaseKind::Feature, "discord-1", "Dark mode").await;
    let c = file(
        &store,
        CaseKind::Support,
        "x-7",
        "Refund for a double charge",
    )
    .await;
    let d = file(&store, CaseKind::Bug, "discord-2", "Sound cuts out").await;
    let e = file(
        &store,
        CaseKind::Bug,
        "discord-1",
        "The inventory screen freezes after a long raid with a full backpack",
    )
    .await;
    cases::resolve(&store, &d.id, "operator", "fixed in 1.2")
        .await
        .unwrap();
    cases::start(&store, &c.id, "Sam").await.unwrap();
    assert!(cases::rate(&store, &c.id, 4, "x-7").await.unwrap());

    let all = run(&aws, &["cases", "list"]).await;
    let header = all.lines().next().unwrap();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["ID", "KIND", "STATUS", "REPORTER", "UPDATED", "(UTC)", "CSAT", "TITLE"],
        "{all}"
    );
    assert_eq!(
        ids(&all).into_iter().collect::<HashSet<_>>(),
        HashSet::from([
            a.id.to_string(),
            b.id.to_string(),
            c.id.to_string(),
            d.id.to_string(),
            e.id.to_string()
        ]),
        "{all}"
    );
    assert!(!all.contains("next page"), "{all}");
    let row = |id: &str| {
        all.lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap()
            .to_owned()
    };
    let support = row(&c.id);
    assert!(support.contains(" support "), "{support}");
    assert!(support.contains(" in_progress "), "{support}");
    assert!(support.contains(" x-7 "), "{support}");
    assert!(support.contains(" 4/5 "), "{support}");
    assert!(support.ends_with("Refund for a double charge"), "{support}");
    let long = row(&e.id);
    assert!(
        long.ends_with("The inventory screen freezes after a long raid…"),
        "titles are cut: {long}"
    );
    assert!(long.contains(" -  "), "no score: {long}");
    let updated = long.split_whitespace().nth(4).unwrap();
    assert!(
        updated.len() == 10 && updated.starts_with("20") && updated.as_bytes()[4] == b'-',
        "{long}"
    );

    let resolved = run(&aws, &["cases", "list", "--status", "resolved"]).await;
    assert_eq!(ids(&resolved), [d.id.as_str()], "{resolved}");
    let in_progress = run(&aws, &["cases", "list", "--status", "in progress"]).await;
    assert_eq!(ids(&in_progress), [c.id.as_str()], "{in_progress}");
    let bugs = run(&aws, &["cases", "list", "--kind", "bug"]).await;
    assert_eq!(
        ids(&bugs).into_iter().collect::<HashSet<_>>(),
        HashSet::from([a.id.to_string(), d.id.to_string(), e.id.to_string()]),
        "{bugs}"
    );
    let mine = run(&aws, &["cases", "list", "--customer", "discord-1"]).await;
    assert_eq!(
        ids(&mine),
        [e.id.as_str(), b.id.as_str(), a.id.as_str()],
        "newest first: {mine}"
    );
    let open_bugs = run(
        &aws,
        &["cases", "list", "--status", "open", "--kind", "bug"],
    )
    .await;
    assert_eq!(
        ids(&open_bugs),
        [e.id.as_str(), a.id.as_str()],
        "{open_bugs}"
    );
    let nobody = run(&aws, &["cases", "list", "--customer", "discord-404"]).await;
    assert_eq!(nobody, "no cases\n");

    // Two at a time, following the printed command, until no page is offered.
    let mut args = vec![
        "cases".to_owned(),
        "list".into(),
        "--limit".into(),
        "2".into(),
    ];
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let args_ref: Vec<&str> = args.iter().map(String::as_str).collect();
        let page = run(&aws, &args_ref).await;
        pages += 1;
        let listed = ids(&page);
        assert!(listed.len() <= 2, "{page}");
        seen.extend(listed);
        match next_page(&page) {
            Some(next) => {
                assert_eq!(&next[..4], ["cases", "list", "--limit", "2"], "{page}");
                assert_eq!(next[4], "--page", "{page}");
                args = next;
            }
            None => break,
        }
        assert!(pages < 10, "the pages never end");
    }
    assert!(pages >= 3, "{pages} pages");
    assert_eq!(seen.len(), 5, "each case once: {seen:?}");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 5, "{seen:?}");

    // Filters carry over to the next page's command.
    let first = run(
        &aws,
        &["cases", "list", "--customer", "discord-1", "--limit", "2"],
    )
    .await;
    assert_eq!(ids(&first), [e.id.as_str(), b.id.as_str()]);
    let next = next_page(&first).expect("a next page");
    assert_eq!(
        &next[..6],
        ["cases", "list", "--customer", "discord-1", "--limit", "2"]
    );
    let next_ref: Vec<&str> = next.iter().map(String::as_str).collect();
    let second = run(&aws, &next_ref).await;
    assert_eq!(ids(&second), [a.id.as_str()], "{second}");

    // JSON: every case in full, and the token to go on with.
    let json: Value = serde_json::from_str(&run(&aws, &["cases", "list", "--json"]).await).unwrap();
    assert_eq!(json["next"], Value::Null);
    let listed: Vec<Case> = serde_json::from_value(json["cases"].clone()).unwrap();
    assert_eq!(listed.len(), 5);
    let rated = listed.iter().find(|case| case.id == c.id).unwrap();
    assert_eq!(rated, &store.case(&c.id).await.unwrap().unwrap());
    assert_eq!(rated.satisfaction.map(|s| s.score), Some(4));
    assert_eq!(
        rated
            .timeline
            .iter()
            .map(|t| t.event.as_str())
            .collect::<Vec<_>>(),
        [
            "Support request opened",
            "Sam joined the chat",
            "satisfaction 4/5"
        ]
    );
    let page: Value = serde_json::from_str(
        &run(
            &aws,
            &[
                "cases",
                "list",
                "--customer",
                "discord-1",
                "--limit",
                "2",
                "--json",
            ],
        )
        .await,
    )
    .unwrap();
    assert_eq!(page["cases"].as_array().unwrap().len(), 2);
    let token = page["next"].as_str().expect("a token");
    let rest: Value = serde_json::from_str(
        &run(
            &aws,
            &[
                "cases",
                "list",
                "--customer",
                "discord-1",
                "--limit",
                "2",
                "--page",
                token,
                "--json",
            ],
        )
        .await,
    )
    .unwrap();
    assert_eq!(rest["cases"][0]["id"], a.id.as_str());

    assert_eq!(
        fails(&aws, &["cases", "list", "--status", "closed"]).await,
        "unknown status \"closed\" (open, in_progress, resolved, reopened)"
    );
    assert_eq!(
        fails(&aws, &["cases", "list", "--kind", "question"]).await,
        "unknown kind \"question\" (support, bug, feature)"
    );
}

#[tokio::test]
async fn show_prints_the_case_its_timeline_and_satisfaction() {
    let aws = resources("show").await;
    let store = aws.store();
    let bug = file(&store, CaseKind::Bug, "discord-1", "Crash on login").await;
    let support = file(&store, CaseKind::Support, "x-7", "Refund").await;
    cases::start(&store, &support.id, "Sam").await.unwrap();
    cases::resolve(&store, &support.id, cases::BRIDGE, "chat closed")
        .await
        .unwrap();
    assert!(cases::rate(&store, &support.id, 4, "x-7").await.unwrap());

    let text = run(&aws, &["cases", "show", &support.id]).await;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .unwrap_or_else(|| panic!("no {name} in {text}"))
            .trim()
            .to_owned()
    };
    assert_eq!(field("Case"), support.id);
    assert_eq!(field("Kind"), "Support request");
    assert_eq!(field("Status"), "resolved");
    assert_eq!(field("Title"), "Refund");
    assert_eq!(field("Reporter"), "x-7");
    assert_eq!(field("Platform"), "x");
    assert!(field("Opened").ends_with(" UTC"), "{text}");
    assert!(field("Updated").ends_with(" UTC"), "{text}");
    assert_eq!(field("Conversations"), "CH0001");
    let satisfaction = field("Satisfaction");
    assert!(
        satisfaction.starts_with("4/5 at 20") && satisfaction.ends_with(" UTC"),
        "{satisfaction}"
    );
    assert!(
        text.contains("\nDetails:\n  Refund, in detail.\n  Second line.\n"),
        "{text}"
    );
    let timeline = text
        .split("\nTimeline (UTC):\n")
        .nth(1)
        .expect("a timeline");
    let events: Vec<&str> = timeline.lines().collect();
    assert_eq!(events.len(), 4, "{timeline}");
    for (line, (event, by)) in events.iter().zip([
        ("Support request opened", "Flex Bridge"),
        ("Sam joined the chat", "Sam"),
        ("resolved: chat closed", "Flex Bridge"),
        ("satisfaction 4/5", "x-7"),
    ]) {
        assert!(line.starts_with("  20"), "{line}");
        assert!(line.contains(&format!("  {event}  ")), "{line}");
        assert!(line.ends_with(&format!("  {by}")), "{line}");
    }

    let text = run(&aws, &["cases", "show", &bug.id.to_lowercase()]).await;
    assert!(
        text.starts_with(&format!("Case:          {}\n", bug.id)),
        "{text}"
    );
    assert!(text.contains("Kind:          Bug report\n"), "{text}");
    assert!(text.contains("Satisfaction:  not rated\n"), "{text}");
    assert!(text.contains("Conversations: none\n"), "{text}");
    assert!(
        text.contains("\nSteps to reproduce:\n  1. Open the app\n  2. Tap login\n"),
        "{text}"
    );

    let json = run(&aws, &["cases", "show", &support.id, "--json"]).await;
    assert!(
        json.starts_with(&format!("{{\n  \"id\": \"{}\",\n  \"kind\"", support.id)),
        "fields in their declared order: {json}"
    );
    let shown: Case = serde_json::from_str(&json).unwrap();
    assert_eq!(shown, store.case(&support.id).await.unwrap().unwrap());
    assert_eq!(shown.timeline.len(), 4);
    assert_eq!(shown.satisfaction.map(|s| s.score), Some(4));
    let raw: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(raw["satisfaction"]["score"], 4);
    assert_eq!(raw["timeline"][1]["by"], "Sam");
}

#[tokio::test]
async fn resolving_a_bug_or_feature_tells_the_reporter_through_the_delivery_queue() {
    let aws = resources("resolve").await;
    let store = aws.store();
    let bug = file(&store, CaseKind::Bug, "discord-111", "Crash on login").await;
    let feature = file(&store, CaseKind::Feature, "x-222", "Dark mode").await;

    let out = run(
        &aws,
        &["cases", "resolve", &bug.id, "--note", "fixed in 1.2"],
    )
    .await;
    assert_eq!(
        out,
        format!(
            "{} resolved (the reporter will be told on discord)\n",
            bug.id
        )
    );
    let stored = store.case(&bug.id).await.unwrap().unwrap();
    assert_eq!(stored.status, CaseStatus::Resolved);
    let last = stored.timeline.last().unwrap();
    assert_eq!(
        (last.event.as_str(), last.by.as_str()),
        ("resolved: fixed in 1.2", "operator")
    );
    let jobs = queued(&aws).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let (group, job) = &jobs[0];
    assert_eq!(group, "discord-111", "the reporter's lane");
    assert_eq!(job.id, format!("case-{}-resolved-2", bug.id));
    assert_eq!(job.customer.identity, "discord-111");
    assert_eq!(job.customer.platform, Platform::Discord);
    assert_eq!(job.customer.address, "111");
    assert_eq!(
        job.kind,
        OutboundKind::CaseUpdate {
            text: format!("Your bug report {} is resolved: fixed in 1.2", bug.id)
        }
    );

    let out = run(
        &aws,
        &["cases", "resolve", &feature.id, "--note", "shipped in 1.3"],
    )
    .await;
    assert_eq!(
        out,
        format!("{} resolved (the reporter will be told on x)\n", feature.id)
    );
    let jobs = queued(&aws).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0].1.customer.platform, Platform::X);
    assert_eq!(jobs[0].1.customer.address, "222");
    assert_eq!(
        jobs[0].1.kind,
        OutboundKind::CaseUpdate {
            text: format!(
                "Your feature request {} is resolved: shipped in 1.3",
                feature.id
            )
        }
    );

    // Resolved already: refused, and nobody is told twice.
    assert_eq!(
        fails(&aws, &["cases", "resolve", &bug.id, "--note", "again"]).await,
        format!("{} is resolved: it cannot be resolved", bug.id)
    );
    assert!(queued(&aws).await.is_empty());
}

#[tokio::test]
async fn resolving_a_support_case_sends_nothing() {
    let aws = resources("support").await;
    let store = aws.store();
    let support = file(&store, CaseKind::Support, "discord-5", "Refund").await;
    let out = run(
        &aws,
        &["cases", "resolve", &support.id, "--note", "refunded"],
    )
    .await;
    assert_eq!(out, format!("{} resolved\n", support.id));
    assert_eq!(
        store.case(&support.id).await.unwrap().unwrap().status,
        CaseStatus::Resolved
    );
    assert!(queued(&aws).await.is_empty());
}

#[tokio::test]
async fn reopen_puts_a_resolved_case_back() {
    let aws = resources("reopen").await;
    let store = aws.store();
    let bug = file(&store, CaseKind::Bug, "discord-1", "Crash on login").await;
    assert_eq!(
        fails(&aws, &["cases", "reopen", &bug.id, "--note", "why"]).await,
        format!("{} is open: it cannot be reopened", bug.id)
    );
    cases::resolve(&store, &bug.id, "operator", "fixed in 1.2")
        .await
        .unwrap();
    let out = run(
        &aws,
        &["cases", "reopen", &bug.id, "--note", "still crashes on 1.2"],
    )
    .await;
    assert_eq!(out, format!("{} reopened\n", bug.id));
    let stored = store.case(&bug.id).await.unwrap().unwrap();
    assert_eq!(stored.status, CaseStatus::Reopened);
    let last = stored.timeline.last().unwrap();
    assert_eq!(
        (last.event.as_str(), last.by.as_str()),
        ("reopened: still crashes on 1.2", "operator")
    );
    assert!(queued(&aws).await.is_empty(), "the reporter is not told");
    let listed = run(&aws, &["cases", "list", "--status", "reopened"]).await;
    assert_eq!(ids(&listed), [bug.id.as_str()]);
}

#[tokio::test]
async fn errors_say_what_is_wrong() {
    let aws = resources("errors").await;
    assert_eq!(
        fails(&aws, &["cases", "show", "CS-9999"]).await,
        "no case CS-9999"
    );
    assert_eq!(
        fails(&aws, &["cases", "resolve", "CS-9999", "--note", "x"]).await,
        "no case CS-9999"
    );
    assert_eq!(
        fails(&aws, &["cases", "reopen", "cs-9999", "--note", "x"]).await,
        "no case CS-9999"
    );
    assert_eq!(
        fails(&aws, &["cases", "show", "1042x"]).await,
        "not a case id: 1042x (expected CS-1042)"
    );
    assert_eq!(
        fails(&aws, &["cases", "resolve", "CS-10x", "--note", "x"]).await,
        "not a case id: CS-10x (expected CS-1042)"
    );
    assert_eq!(
        fails(&aws, &["cases", "resolve", "CS-1001", "--note", "  "]).await,
        "--note is empty: the timeline keeps it, so say what was done or why"
    );
    assert!(queued(&aws).await.is_empty());

    let no_table = |args: &'static [&'static str], env: Env| async move {
        run_with(args, env).await.unwrap_err().to_string()
    };
    assert_eq!(
        no_table(&["cases", "list"], Env::from_pairs(&[])).await,
        "missing environment variable(s): TABLE_NAME"
    );
    assert_eq!(
        no_table(&["cases", "show", "CS-1001"], Env::from_pairs(&[])).await,
        "missing environment variable(s): TABLE_NAME"
    );
    assert_eq!(
        no_table(
            &["cases", "resolve", "CS-1001", "--note", "x"],
            Env::from_pairs(&[])
        )
        .await,
        "missing environment variable(s): TABLE_NAME, DELIVERY_QUEUE_URL"
    );
    assert_eq!(
        no_table(
            &["cases", "resolve", "CS-1001", "--note", "x"],
            Env::from_pairs(&[("TABLE_NAME", &aws.table)])
        )
        .await,
        "missing environment variable(s): DELIVERY_QUEUE_URL"
    );
    assert_eq!(
        no_table(
            &["cases", "reopen", "CS-1001", "--note", "x"],
            Env::from_pairs(&[("DELIVERY_QUEUE_URL", &aws.queue_url)])
        )
        .await,
        "missing environment variable(s): TABLE_NAME"
    );
}

/// The binary: one line on stderr and exit code 1 for its errors, 2 for usage errors.
#[tokio::test]
async fn the_binary_prints_one_line_and_exits_1() {
    let aws = resources("binary").await;
    let store = aws.store();
    let bug = file(&store, CaseKind::Bug, "discord-1", "Crash on login").await;
    let flex_bridge = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_flex-bridge"));
        command.args(args).env_clear();
        for (name, value) in vars(&aws) {
            command.env(name, value);
        }
        command
    };
    let output = flex_bridge(&["cases", "show", "CS-9999"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "flex-bridge: no case CS-9999\n"
    );
    assert!(output.stdout.is_empty());

    let output = flex_bridge(&["cases", "list", "--kind", "idea"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "flex-bridge: unknown kind \"idea\" (support, bug, feature)\n"
    );

    let output = flex_bridge(&["cases", "show", "1042x"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "flex-bridge: not a case id: 1042x (expected CS-1042)\n"
    );

    let output = flex_bridge(&["cases", "list"])
        .env_remove("TABLE_NAME")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "flex-bridge: missing environment variable(s): TABLE_NAME\n"
    );

    let output = flex_bridge(&["cases", "resolve", &bug.id, "--note", "fixed"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!(
            "{} resolved (the reporter will be told on discord)\n",
            bug.id
        )
    );
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = flex_bridge(&["cases", "resolve", &bug.id, "--note", "fixed"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!(
            "flex-bridge: {} is resolved: it cannot be resolved\n",
            bug.id
        )
    );

    // No region: said once, without the SDK's own warnings, and nothing on stdout.
    let home = tempfile::tempdir().unwrap();
    let output = flex_bridge(&["cases", "list", "--json"])
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env("HOME", home.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "flex-bridge: no AWS region: set AWS_REGION (or AWS_PROFILE with a region)\n"
    );
    assert!(output.stdout.is_empty());

    let output = flex_bridge(&["cases", "list", "--limit", "0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "clap's usage error");
    let output = flex_bridge(&["cases", "resolve", &bug.id])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "--note is required");
}

#[test]
fn every_subcommand_says_what_it_does_and_reads() {
    for (subcommand, reads) in [
        ("list", &["TABLE_NAME", "AWS_ENDPOINT_URL"][..]),
        ("show", &["TABLE_NAME"][..]),
        ("resolve", &["TABLE_NAME", "DELIVERY_QUEUE_URL"][..]),
        ("reopen", &["TABLE_NAME"][..]),
        ("transcript", &["TRANSCRIPTS_BUCKET"][..]),
    ] {
        let err = Cli::try_parse_from(["flex-bridge", "cases", subcommand, "--help"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::DisplayHelp);
        let help = err.to_string();
        for name in reads {
            assert!(help.contains(name), "{subcommand} --help: {help}");
        }
    }
    let err = Cli::try_parse_from(["flex-bridge", "cases", "--help"]).unwrap_err();
    let help = err.to_string();
    for subcommand in ["list", "show", "resolve", "reopen"] {
        assert!(help.contains(subcommand), "{help}");
    }
    assert!(help.contains("DELIVERY_QUEUE_URL"), "{help}");
}

/// `cases transcript` prints the transcript the close wrote, as text or HTML, from S3 (moto).
#[tokio::test]
async fn a_transcript_prints_as_text_or_html() {
    use flex_bridge_store::transcripts::{contract, S3Transcripts, TranscriptStore};
    let sdk = flex_bridge_store::sdk_http::aws_config().await;
    let bucket = format!(
        "cli-transcripts-{}",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let store = S3Transcripts::from_sdk(&sdk, &bucket);
    store
        .create_bucket()
        .await
        .expect("moto server: run under scripts/with-moto.sh");
    let transcript = contract::sample(1042);
    assert!(store.put_once(&transcript).await.unwrap());
    let env = || {
        let mut vars: Vec<(String, String)> = std::env::vars()
            .filter(|(name, _)| name.starts_with("AWS_"))
            .collect();
        vars.push(("TRANSCRIPTS_BUCKET".into(), bucket.clone()));
        Env::from_map(vars.into_iter().collect())
    };
    let text = run_with(&["cases", "transcript", "cs-1042"], env())
        .await
        .unwrap();
    assert_eq!(text, transcript.text());
    assert!(
        text.contains("x-7 (customer): my game keeps crashing"),
        "{text}"
    );
    let html = run_with(&["cases", "transcript", "CS-1042", "--html"], env())
        .await
        .unwrap();
    assert!(html.starts_with("<!doctype html>"), "{html}");
    let missing = run_with(&["cases", "transcript", "CS-7"], env())
        .await
        .unwrap_err();
    assert_eq!(
        missing.to_string(),
        "CS-7 has no transcript (one is written when its conversation closes)"
    );
}
