//! The synonym and slang map, kept as data beside the articles (`synonyms.txt`):
//!
//! ```text
//! # canonical: variant, variant, multi word variant
//! password: pw, pwd, passwd
//! refund: money back, reimburse
//! ```
//!
//! A question's words that match a variant (the longest match first) are read as the canonical
//! words, which are the words the articles use.

use crate::analyze::words;

/// The longest variant, in words, that a question is matched against.
pub const MAX_VARIANT_WORDS: usize = 5;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("line {line}: {message}")]
pub struct SynonymError {
    pub line: usize,
    pub message: String,
}

/// Reads `synonyms.txt`: `(variant, canonical)` pairs sorted by variant, words lower-cased and
/// joined by one space.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, SynonymError> {
    let mut pairs: Vec<(String, String, usize)> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line_no = number + 1;
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let error = |message: &str| SynonymError {
            line: line_no,
            message: message.to_owned(),
        };
        let (canonical, variants) = line
            .split_once(':')
            .ok_or_else(|| error("expected `canonical: variant, variant`"))?;
        let canonical = words(canonical).join(" ");
        if canonical.is_empty() {
            return Err(error("the canonical word is empty"));
        }
        for variant in variants.split(',') {
            let variant = words(variant);
            if variant.is_empty() {
                continue;
            }
            if variant.len() > MAX_VARIANT_WORDS {
                return Err(error("a variant has more than 5 words"));
            }
            pairs.push((variant.join(" "), canonical.clone(), line_no));
        }
    }
    pairs.sort();
    for pair in pairs.windows(2) {
        if pair[0].0 == pair[1].0 && pair[0].1 != pair[1].1 {
            return Err(SynonymError {
                line: pair[1].2,
                message: format!(
                    "`{}` is a variant of both `{}` (line {}) and `{}`",
                    pair[0].0, pair[0].1, pair[0].2, pair[1].1
                ),
            });
        }
    }
    pairs.dedup_by(|a, b| a.0 == b.0);
    Ok(pairs.into_iter().map(|(v, c, _)| (v, c)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_canonicals_and_variants_sorted() {
        let pairs =
            parse("# slang\npassword: pw, PWD , pass word\n\nrefund: money back # phrase\n")
                .unwrap();
        assert_eq!(
            pairs,
            [
                ("money back".to_owned(), "refund".to_owned()),
                ("pass word".to_owned(), "password".to_owned()),
                ("pw".to_owned(), "password".to_owned()),
                ("pwd".to_owned(), "password".to_owned()),
            ]
        );
    }

    #[test]
    fn refuses_a_variant_of_two_canonicals_and_lines_without_colon() {
        let err = parse("password: pw\npin: pw\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("`pw`"), "{err}");
        assert_eq!(parse("ok: fine\njust words\n").unwrap_err().line, 2);
    }
}
