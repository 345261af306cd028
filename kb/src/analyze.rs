//! Text to terms: lower-case words, English stop words dropped, Snowball (Porter 2) stems. The
//! same analysis runs on articles when the index is built and on questions when they are ranked.

use rust_stemmers::{Algorithm, Stemmer};

/// The lower-case words of `text`: runs of letters and digits. An apostrophe inside a word is
/// dropped, so "can't" is `cant` and "player's" is `players`.
pub fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        } else if matches!(c, '\'' | '’')
            && !word.is_empty()
            && chars.peek().is_some_and(|n| n.is_alphanumeric())
        {
            continue;
        } else if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Words that say nothing about which article answers: function words, and the greetings and
/// politeness of a support chat. Sorted, for binary search.
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "actually",
    "after",
    "again",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "anyone",
    "anything",
    "are",
    "as",
    "asap",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "bro",
    "but",
    "by",
    "can",
    "cant",
    "could",
    "couldnt",
    "did",
    "didnt",
    "do",
    "does",
    "doesnt",
    "doing",
    "dont",
    "down",
    "dude",
    "during",
    "each",
    "either",
    "else",
    "etc",
    "even",
    "ever",
    "every",
    "few",
    "for",
    "from",
    "further",
    "get",
    "gets",
    "getting",
    "going",
    "gonna",
    "got",
    "guys",
    "had",
    "happen",
    "happened",
    "happening",
    "has",
    "have",
    "having",
    "he",
    "hello",
    "help",
    "her",
    "here",
    "hers",
    "hey",
    "hi",
    "him",
    "his",
    "how",
    "i",
    "id",
    "idk",
    "if",
    "im",
    "in",
    "into",
    "is",
    "isnt",
    "it",
    "its",
    "ive",
    "just",
    "keep",
    "keeps",
    "know",
    "let",
    "lets",
    "like",
    "literally",
    "lol",
    "man",
    "me",
    "might",
    "more",
    "most",
    "much",
    "must",
    "my",
    "myself",
    "need",
    "needs",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "ok",
    "okay",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "out",
    "over",
    "own",
    "please",
    "pls",
    "plz",
    "really",
    "rn",
    "same",
    "she",
    "should",
    "so",
    "some",
    "someone",
    "something",
    "still",
    "stuff",
    "such",
    "tell",
    "than",
    "thank",
    "thanks",
    "that",
    "thats",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "thing",
    "things",
    "this",
    "those",
    "through",
    "thx",
    "times",
    "to",
    "too",
    "tried",
    "try",
    "trying",
    "u",
    "under",
    "until",
    "up",
    "ur",
    "us",
    "very",
    "wanna",
    "want",
    "was",
    "wasnt",
    "way",
    "we",
    "were",
    "what",
    "whats",
    "when",
    "where",
    "which",
    "while",
    "who",
    "why",
    "will",
    "with",
    "won",
    "wont",
    "work",
    "worked",
    "working",
    "works",
    "would",
    "wouldnt",
    "yes",
    "yo",
    "you",
    "your",
    "yours",
];

pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.binary_search(&word).is_ok()
}

/// Stems words the way the index was built.
pub struct Analyzer {
    stemmer: Stemmer,
}

impl Default for Analyzer {
    fn default() -> Self {
        Self {
            stemmer: Stemmer::create(Algorithm::English),
        }
    }
}

impl Analyzer {
    pub fn stem(&self, word: &str) -> String {
        self.stemmer.stem(word).into_owned()
    }

    /// The terms of `text`: its words less stop words, stemmed.
    pub fn terms(&self, text: &str) -> Vec<String> {
        words(text)
            .into_iter()
            .filter(|w| !is_stop_word(w))
            .map(|w| self.stem(&w))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_are_sorted_for_binary_search() {
        assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn words_lowercase_and_join_apostrophes() {
        assert_eq!(
            words("Can't LOG-IN: player's acc (2FA)!"),
            ["cant", "log", "in", "players", "acc", "2fa"]
        );
        assert_eq!(words("’quoted’ it’s"), ["quoted", "its"]);
    }

    #[test]
    fn terms_drop_stop_words_and_stem() {
        let analyzer = Analyzer::default();
        assert_eq!(
            analyzer.terms("How do I get my refunds for purchases?"),
            ["refund", "purchas"]
        );
    }
}
