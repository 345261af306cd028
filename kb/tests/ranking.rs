//! What the ranking does with the ways customers write, on the compiled-in sample base.

use kb::Index;

fn top(question: &str) -> Vec<String> {
    Index::builtin()
        .rank(question, 3)
        .hits
        .iter()
        .map(|h| h.article.id.to_string())
        .collect()
}

#[test]
fn slang_goes_through_the_synonym_map() {
    assert_eq!(top("forgot my pw")[0], "reset-password");
    assert_eq!(top("i want my money back")[0], "refund-policy");
}

#[test]
fn one_typo_is_tolerated_including_swapped_letters() {
    assert_eq!(top("how do i get a refnud")[0], "refund-policy");
    assert_eq!(top("game crashs on startup")[0], "game-crashes-on-launch");
}

#[test]
fn a_confident_answer_offers_one_to_three_articles() {
    let ranking = Index::builtin().rank("how do i reset my password", 10);
    assert!(ranking.is_confident(), "{}", ranking.confidence);
    let suggestions = ranking.suggestions();
    assert!((1..=3).contains(&suggestions.len()));
    assert_eq!(suggestions[0].article.id, "reset-password");
    assert!(suggestions[0].article.url.is_some());
}

#[test]
fn questions_about_something_else_are_not_answered() {
    for question in ["whats the best pizza in naples", "hi", "", "?!"] {
        let ranking = Index::builtin().rank(question, 3);
        assert!(
            !ranking.is_confident(),
            "{question:?}: {}",
            ranking.confidence
        );
        assert!(ranking.suggestions().is_empty());
    }
}
