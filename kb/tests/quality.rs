//! The ranking's quality on the labelled questions of `knowledge-base/eval/questions.tsv`,
//! against the compiled-in sample base. Fails below hit@3 = 0.90; prints every figure
//! (`cargo test -p kb --test quality -- --nocapture`).

use kb::eval::{evaluate, parse_questions};
use kb::Index;

const QUESTIONS: &str = include_str!("../../knowledge-base/eval/questions.tsv");

#[test]
fn hit_at_3_is_at_least_0_90_on_the_labelled_questions() {
    let index = Index::builtin();
    let questions = parse_questions(QUESTIONS, index).expect("questions.tsv is well formed");
    assert!(
        questions.len() >= 80,
        "the set has {} questions",
        questions.len()
    );
    let report = evaluate(index, &questions);
    println!("{report}");
    for miss in &report.misses {
        println!(
            "  miss: expected {:?} got {:?} ({:.2}) {}",
            miss.expected, miss.got, miss.confidence, miss.question
        );
    }
    assert!(report.hit_at_3 >= 0.90, "hit@3 = {:.3}", report.hit_at_3);
    assert!(
        report.unanswerable > 0,
        "the set must hold unanswerable questions"
    );
}

#[test]
fn the_sample_base_is_compiled_in() {
    let index = Index::builtin();
    assert!(
        index.articles().len() >= 40,
        "{} articles",
        index.articles().len()
    );
    for article in index.articles() {
        assert!(
            !article.title.is_empty() && !article.snippet.is_empty(),
            "{}",
            article.id
        );
    }
}
