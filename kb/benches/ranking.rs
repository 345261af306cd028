//! `cargo bench -p kb --bench ranking` (`make bench-kb`): ranking time per question and the
//! cost of building the index from a folder at run time (what `flex-bridge kb rank --dir`
//! pays), with the sample base (compiled in, and read from its folder) and with a generated
//! base of 5,000 articles. Prints a table; asserts nothing.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kb::article::load_dir;
use kb::Index;

const LARGE: usize = 5_000;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let base = root.join("knowledge-base");
    let questions: Vec<String> = std::fs::read_to_string(base.join("eval/questions.tsv"))
        .expect("knowledge-base/eval/questions.tsv")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t').map(|(_, q)| q.to_owned()))
        .collect();

    let large = tempfile::tempdir().expect("temp dir");
    generate(&base, large.path(), LARGE);

    println!(
        "| base | articles | build from folder (median of 5) | rank one question (median) | p95 |"
    );
    println!("| --- | --- | --- | --- | --- |");
    let builtin = Index::builtin();
    let (p50, p95) = rank_times(builtin, &questions);
    println!(
        "| sample, compiled in | {} | none (built at compile time) | {} | {} |",
        builtin.articles().len(),
        us(p50),
        us(p95)
    );
    for (name, dir) in [
        ("sample, from its folder", base.as_path()),
        ("generated", large.path()),
    ] {
        let (build, index) = build_time(dir);
        let (p50, p95) = rank_times(&index, &questions);
        println!(
            "| {name} | {} | {} | {} | {} |",
            index.articles().len(),
            ms(build),
            us(p50),
            us(p95)
        );
    }
}

fn build_time(dir: &Path) -> (Duration, Index) {
    let mut times = Vec::new();
    let mut index = None;
    for _ in 0..5 {
        let start = Instant::now();
        let built = Index::from_folder(load_dir(dir).expect("articles"));
        times.push(start.elapsed());
        index = Some(built);
    }
    times.sort();
    (times[times.len() / 2], index.expect("built"))
}

/// Each question ranked 20 times; the median and 95th percentile of one ranking.
fn rank_times(index: &Index, questions: &[String]) -> (Duration, Duration) {
    let mut times = Vec::with_capacity(questions.len() * 20);
    for _ in 0..20 {
        for q in questions {
            let start = Instant::now();
            std::hint::black_box(index.rank(q, 3));
            times.push(start.elapsed());
        }
    }
    times.sort();
    (times[times.len() / 2], times[times.len() * 95 / 100])
}

/// `count` articles: the sample base's, then made-up ones whose titles, tags and bodies are
/// drawn from the sample base's own words (so questions find many partial matches, the slow
/// case), with a fixed seed.
fn generate(base: &Path, out: &Path, count: usize) {
    let folder = load_dir(base).expect("sample base");
    let mut words: Vec<String> = folder
        .articles
        .iter()
        .flat_map(|a| kb::analyze::words(&format!("{} {}", a.title, a.body)))
        .filter(|w| w.len() > 2)
        .collect();
    words.sort();
    words.dedup();
    std::fs::copy(base.join("synonyms.txt"), out.join("synonyms.txt")).expect("copy synonyms");
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = |n: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % n as u64) as usize
    };
    for (i, article) in folder.articles.iter().enumerate() {
        let text = format!(
            "---\nid: {}\ntitle: {:?}\ntags: {:?}\n---\n{}\n",
            article.id, article.title, article.tags, article.body
        );
        std::fs::write(out.join(format!("{i:05}.md")), text).expect("write");
    }
    for i in folder.articles.len()..count {
        let mut pick = |n: usize| {
            (0..n)
                .map(|_| words[next(words.len())].as_str())
                .collect::<Vec<_>>()
        };
        let title = pick(5).join(" ");
        let tags = pick(3);
        let body = pick(150).join(" ");
        let text =
            format!("---\nid: generated-{i}\ntitle: {title}\ntags: {tags:?}\n---\n{body}.\n");
        std::fs::write(out.join(format!("{i:05}.md")), text).expect("write");
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}
