//! `flex-bridge kb search | rank | eval`, run as the shell would.

use clap::Parser;
use flex_bridge_cli::Cli;
use flex_bridge_core::config::Env;

async fn run(args: &[&str], stdin: &str) -> Result<String, flex_bridge_cli::Error> {
    let cli = Cli::try_parse_from(std::iter::once("flex-bridge").chain(args.iter().copied()))
        .expect("valid arguments");
    let mut out = Vec::new();
    flex_bridge_cli::run(cli, Env::from_pairs(&[]), &mut stdin.as_bytes(), &mut out).await?;
    Ok(String::from_utf8(out).unwrap())
}

fn article(dir: &std::path::Path, id: &str, title: &str, tags: &str, body: &str) {
    let text = format!("---\nid: {id}\ntitle: {title}\ntags: [{tags}]\n---\n{body}\n");
    std::fs::write(dir.join(format!("{id}.md")), text).unwrap();
}

fn sample_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    article(
        dir.path(),
        "pizza",
        "Order a pizza",
        "food, delivery",
        "Pick a pizza and pay at the door.",
    );
    article(
        dir.path(),
        "bike",
        "Fix a flat bike tyre",
        "bike, repair",
        "Patch the inner tube, then pump it up.",
    );
    article(
        dir.path(),
        "tea",
        "Brew green tea",
        "drinks",
        "Water at 80 degrees, two minutes.",
    );
    std::fs::write(dir.path().join("synonyms.txt"), "tyre: tire, puncture\n").unwrap();
    dir
}

#[tokio::test]
async fn search_lists_the_compiled_in_articles_with_a_verdict() {
    let out = run(&["kb", "search", "forgot", "my", "password"], "")
        .await
        .unwrap();
    assert!(out.starts_with("confident ("), "{out}");
    assert!(
        out.lines().nth(1).unwrap().contains("reset-password"),
        "{out}"
    );
    let out = run(&["kb", "search", "best pizza in naples"], "")
        .await
        .unwrap();
    assert!(out.starts_with("not confident ("), "{out}");
}

#[tokio::test]
async fn rank_prints_one_json_array_per_question_from_a_folder() {
    let dir = sample_folder();
    let path = dir.path().to_str().unwrap();
    let out = run(
        &["kb", "rank", "--dir", path, "--top", "2"],
        "my tire is flat\npizza delivery\n\nquantum physics\n",
    )
    .await
    .unwrap();
    let lines: Vec<Vec<String>> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(lines[0][0], "bike", "synonyms.txt of the folder is used");
    assert_eq!(lines[1], ["pizza"]);
    assert!(lines[2].is_empty() && lines[3].is_empty());
    let out = run(&["kb", "rank", "--dir", path], "tea\n").await.unwrap();
    assert_eq!(out, "[\"tea\"]\n");
}

#[tokio::test]
async fn rank_names_the_bad_article() {
    let dir = sample_folder();
    std::fs::write(dir.path().join("broken.md"), "---\ntitle: no id\n---\nbody").unwrap();
    let err = run(&["kb", "rank", "--dir", dir.path().to_str().unwrap()], "")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("broken.md: missing `id`"), "{err}");
}

#[tokio::test]
async fn eval_reports_the_figures_and_refuses_unknown_ids() {
    let dir = sample_folder();
    let questions = dir.path().join("questions.tsv");
    std::fs::write(
        &questions,
        "# labelled\nbike\tpuncture on my bike\npizza\tpizza please\n-\tweather tomorrow\n",
    )
    .unwrap();
    let (d, q) = (dir.path().to_str().unwrap(), questions.to_str().unwrap());
    let out = run(&["kb", "eval", "--dir", d, "--questions", q], "")
        .await
        .unwrap();
    assert!(out.contains("answerable questions    2"), "{out}");
    assert!(out.contains("hit@1                   1.000"), "{out}");
    assert!(out.contains("hit@3                   1.000"), "{out}");
    assert!(out.contains("MRR                     1.000"), "{out}");
    assert!(out.contains("false-answer rate       0.000"), "{out}");

    std::fs::write(&questions, "nope\tsomething\n").unwrap();
    let err = run(&["kb", "eval", "--dir", d, "--questions", q], "")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line 1: no article has the id `nope`"),
        "{err}"
    );
}
