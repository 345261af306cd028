//! An index built at run time from a folder ranks exactly as the compiled-in one: the build
//! script and `flex-bridge kb rank --dir` share the indexer.

use std::path::PathBuf;

use kb::article::load_dir;
use kb::Index;

fn sample_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../knowledge-base")
}

#[test]
fn a_folder_indexed_at_run_time_ranks_as_the_compiled_in_base() {
    let built = Index::from_folder(load_dir(&sample_dir()).unwrap());
    let builtin = Index::builtin();
    assert_eq!(built.articles(), builtin.articles());
    let questions = std::fs::read_to_string(sample_dir().join("eval/questions.tsv")).unwrap();
    for line in questions.lines().filter(|l| !l.starts_with('#')) {
        let Some((_, question)) = line.split_once('\t') else {
            continue;
        };
        let (a, b) = (built.rank(question, 5), builtin.rank(question, 5));
        let ids = |r: &kb::Ranking| {
            r.hits
                .iter()
                .map(|h| h.article.id.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&a), ids(&b), "{question}");
        assert_eq!(a.confidence, b.confidence, "{question}");
    }
}
