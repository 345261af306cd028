//! Ranking: field-weighted BM25 (BM25F: title above tags above body) over the question's
//! words, read through the synonym map, stemmed, and matched with one typo of tolerance; and a
//! confidence that says whether the best article answers the question at all.

use fst::{automaton::Levenshtein, IntoStreamer, Streamer};

use crate::analyze::{is_stop_word, words, Analyzer};
use crate::index::Index;
use crate::model::{ArticleMeta, FIELDS};
use crate::synonyms::MAX_VARIANT_WORDS;

/// BM25's term-frequency saturation: high, so a title match keeps its lead over passing
/// mentions in several bodies.
const K1: f32 = 4.0;
/// How much a term counts in the title, the tags and the body.
const FIELD_WEIGHTS: [f32; FIELDS] = [6.0, 3.0, 1.0];
/// BM25's length normalisation per field: titles and tag lists are short by nature.
const FIELD_B: [f32; FIELDS] = [0.5, 0.5, 0.75];
/// A word matched only through a one-letter typo counts a little less.
const TYPO_WEIGHT: f32 = 0.8;
/// Words shorter than this are never read as typos: `cat`/`car`/`bat` are too close.
const TYPO_MIN_CHARS: usize = 4;
/// A word the base has never seen weighs this share of the rarest term's idf in the
/// confidence: a question about something else is mostly made of such words.
const UNKNOWN_WORD_WEIGHT: f32 = 0.6;
/// The confidence is coverage^1 × strength^0.3: coverage (the idf-weighted share of the
/// question's words the best article has) says most; strength (its score over the most it
/// could score) tells a title match from a passing mention in a body. Tuned on
/// `knowledge-base/eval/questions.tsv`; checked on the held-out `holdout.tsv`.
const COVERAGE_POW: f32 = 1.0;
const STRENGTH_POW: f32 = 0.3;
/// The confidence at or above which the best article is offered as an answer.
pub const CONFIDENT_AT: f32 = 0.35;
/// Answers offer at most this many articles, each scoring at least this share of the best.
pub const MAX_SUGGESTIONS: usize = 3;
const SUGGEST_WITHIN: f32 = 0.6;

/// One ranked article.
#[derive(Clone, Copy, Debug)]
pub struct Hit<'i> {
    pub article: &'i ArticleMeta,
    pub score: f32,
}

/// The articles for a question, best first, and how sure the best one answers it.
#[derive(Clone, Debug)]
pub struct Ranking<'i> {
    pub hits: Vec<Hit<'i>>,
    /// How surely the best article answers the question, in 0..=1 (see [`CONFIDENT_AT`]).
    pub confidence: f32,
}

impl<'i> Ranking<'i> {
    pub fn is_confident(&self) -> bool {
        !self.hits.is_empty() && self.confidence >= CONFIDENT_AT
    }

    /// What the bot offers: when confident, the best article and up to two more that score
    /// close to it; otherwise nothing.
    pub fn suggestions(&self) -> &[Hit<'i>] {
        if !self.is_confident() {
            return &[];
        }
        let cutoff = self.hits[0].score * SUGGEST_WITHIN;
        let n = self
            .hits
            .iter()
            .take(MAX_SUGGESTIONS)
            .take_while(|h| h.score >= cutoff)
            .count();
        &self.hits[..n]
    }
}

/// One word of the question: the terms that may stand for it, with their weights.
#[derive(Debug)]
struct Slot {
    terms: Vec<(u32, f32)>,
    /// Its weight in the confidence: the idf of its best term, or [`UNKNOWN_WORD_WEIGHT`] of
    /// the highest idf when the base does not know it.
    weight: f32,
}

impl Index {
    /// The `top` articles for `question` by score (ties by base order), and the confidence.
    pub fn rank(&self, question: &str, top: usize) -> Ranking<'_> {
        let slots = self.read_question(question);
        let n = self.article_count();
        let mut scores = vec![0f32; n];
        let mut covered = vec![0f32; n];
        let mut best = vec![0f32; n];
        let mut touched: Vec<u32> = Vec::new();
        for slot in &slots {
            for &(term, weight) in &slot.terms {
                let idf = self.idf(term);
                for posting in self.postings(term) {
                    let tf = self.field_weighted_tf(posting.doc, &posting.tf);
                    let score = weight * idf * tf / (K1 + tf);
                    let b = &mut best[posting.doc as usize];
                    if *b == 0.0 {
                        touched.push(posting.doc);
                    }
                    *b = b.max(score);
                }
            }
            for doc in touched.drain(..) {
                let d = doc as usize;
                scores[d] += std::mem::take(&mut best[d]);
                covered[d] += slot.weight;
            }
        }
        let mut ranked: Vec<u32> = (0..n as u32)
            .filter(|&d| scores[d as usize] > 0.0)
            .collect();
        ranked.sort_by(|&a, &b| {
            scores[b as usize]
                .total_cmp(&scores[a as usize])
                .then(a.cmp(&b))
        });
        ranked.truncate(top);
        let total: f32 = slots.iter().map(|s| s.weight).sum();
        let confidence = match ranked.first() {
            Some(&d) if total > 0.0 => {
                let coverage = (covered[d as usize] / total).min(1.0);
                let strength = (scores[d as usize] / total).min(1.0);
                coverage.powf(COVERAGE_POW) * strength.powf(STRENGTH_POW)
            }
            _ => 0.0,
        };
        let articles = self.articles();
        Ranking {
            hits: ranked
                .into_iter()
                .map(|d| Hit {
                    article: &articles[d as usize],
                    score: scores[d as usize],
                })
                .collect(),
            confidence,
        }
    }

    /// The question's words as slots: synonyms read (longest variant first), stop words
    /// dropped, each word's stem looked up, and a one-typo neighbour tried for unknown words.
    fn read_question(&self, question: &str) -> Vec<Slot> {
        let analyzer = Analyzer::default();
        let words = words(question);
        let mut slots: Vec<Slot> = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let longest = MAX_VARIANT_WORDS.min(words.len() - i);
            let synonym = (1..=longest).rev().find_map(|len| {
                let variant = words[i..i + len].join(" ");
                self.canonical(&variant).map(|c| (len, c))
            });
            let mut candidates: Vec<Vec<String>> = Vec::new();
            match synonym {
                Some((len, canonical)) => {
                    for word in canonical.split(' ').filter(|w| !is_stop_word(w)) {
                        candidates.push(vec![word.to_owned()]);
                    }
                    // A one-word variant may be a word the articles use too ("hacked").
                    if len == 1 && !candidates.is_empty() {
                        candidates[0].push(words[i].clone());
                    }
                    i += len;
                }
                None => {
                    if !is_stop_word(&words[i]) {
                        candidates.push(vec![words[i].clone()]);
                    }
                    i += 1;
                }
            }
            for alternatives in candidates {
                let slot = self.slot(&analyzer, &alternatives);
                let repeated = slot.terms.first().is_some_and(|first| {
                    slots
                        .iter()
                        .any(|s| s.terms.first().map(|t| t.0) == Some(first.0))
                });
                if !repeated {
                    slots.push(slot);
                }
            }
        }
        slots
    }

    fn slot(&self, analyzer: &Analyzer, alternatives: &[String]) -> Slot {
        let mut terms: Vec<(u32, f32)> = alternatives
            .iter()
            .filter_map(|w| self.term(&analyzer.stem(w)))
            .map(|t| (t, 1.0))
            .collect();
        if terms.is_empty() {
            terms.extend(
                self.typo_neighbour(analyzer, &alternatives[0])
                    .map(|t| (t, TYPO_WEIGHT)),
            );
        }
        terms.dedup_by_key(|t| t.0);
        let weight = terms
            .iter()
            .map(|&(t, _)| self.idf(t))
            .fold(None, |m: Option<f32>, idf| {
                Some(m.map_or(idf, |m| m.max(idf)))
            })
            .unwrap_or(UNKNOWN_WORD_WEIGHT * self.max_idf());
        Slot { terms, weight }
    }

    /// The commonest term one edit (insertion, deletion, substitution or swap of neighbours)
    /// away from `word` or from its stem.
    fn typo_neighbour(&self, analyzer: &Analyzer, word: &str) -> Option<u32> {
        if word.chars().count() < TYPO_MIN_CHARS || word.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let stem = analyzer.stem(word);
        let first = word.chars().next();
        // People rarely mistype a word's first letter: such neighbours come first, then the
        // commonest (a typo is likelier of a common word than of a rare one).
        let mut best: Option<((bool, usize), u32)> = None;
        let mut consider = |term: u32, text: &[u8]| {
            let rank = (
                std::str::from_utf8(text)
                    .ok()
                    .and_then(|t| t.chars().next())
                    == first,
                self.postings(term).len(),
            );
            if best.is_none_or(|(r, t)| rank > r || (rank == r && term < t)) {
                best = Some((rank, term));
            }
        };
        for form in [word, stem.as_str()] {
            if let Ok(automaton) = Levenshtein::new(form, 1) {
                let mut stream = self.vocabulary().search(automaton).into_stream();
                while let Some((text, id)) = stream.next() {
                    consider(id as u32, text);
                }
            }
            for swapped in adjacent_swaps(form) {
                if let Some(id) = self.term(&swapped) {
                    consider(id, swapped.as_bytes());
                }
            }
        }
        best.map(|(_, t)| t)
    }

    fn idf(&self, term: u32) -> f32 {
        let n = self.article_count() as f32;
        let df = self.postings(term).len() as f32;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    /// The idf of a term found in one article: the highest there is.
    fn max_idf(&self) -> f32 {
        let n = self.article_count() as f32;
        (1.0 + (n - 0.5) / 1.5).ln()
    }

    fn field_weighted_tf(&self, doc: u32, tf: &[u16; FIELDS]) -> f32 {
        let lengths = self.lengths(doc);
        let averages = self.average_lengths();
        (0..FIELDS)
            .filter(|&f| tf[f] > 0)
            .map(|f| {
                let norm = 1.0 - FIELD_B[f] + FIELD_B[f] * f32::from(lengths[f]) / averages[f];
                FIELD_WEIGHTS[f] * f32::from(tf[f]) / norm
            })
            .sum()
    }
}

/// `word` with each pair of neighbouring letters swapped ("refnud" → "erfnud", …, "refund").
fn adjacent_swaps(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    (0..chars.len().saturating_sub(1))
        .filter(|&i| chars[i] != chars[i + 1])
        .map(|i| {
            let mut c = chars.clone();
            c.swap(i, i + 1);
            c.into_iter().collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjacent_swaps_cover_transpositions() {
        assert!(adjacent_swaps("refnud").contains(&"refund".to_owned()));
        assert_eq!(adjacent_swaps("aa"), Vec::<String>::new());
    }
}
