//! The parts of a built index. The build script writes them as Rust statics (borrowed, so the
//! chatbot's cold start copies and parses nothing); the run-time indexer owns them.

use std::borrow::Cow;

/// Text that is `'static` in the compiled-in base and owned in one built at run time.
pub type Text = Cow<'static, str>;

/// The weighted fields, in this order: title, tags, body.
pub const FIELDS: usize = 3;
pub const TITLE: usize = 0;
pub const TAGS: usize = 1;
pub const BODY: usize = 2;

/// What an answer shows of an article.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArticleMeta {
    pub id: Text,
    pub title: Text,
    pub url: Option<Text>,
    /// The body's first sentence, Markdown removed, at most [`SNIPPET_CHARS`] characters.
    pub snippet: Text,
}

pub const SNIPPET_CHARS: usize = 160;

/// One article's counts of one term, per field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Posting {
    pub doc: u32,
    pub tf: [u16; FIELDS],
}

/// A built index: everything ranking reads.
#[derive(Clone, Debug)]
pub struct IndexParts {
    pub articles: Cow<'static, [ArticleMeta]>,
    /// An `fst` map from each stemmed term to its term id.
    pub vocabulary: Cow<'static, [u8]>,
    /// The postings of term `t` are `postings[offsets[t]..offsets[t + 1]]`, sorted by article.
    pub offsets: Cow<'static, [u32]>,
    pub postings: Cow<'static, [Posting]>,
    /// Each article's length in terms, per field.
    pub lengths: Cow<'static, [[u16; FIELDS]]>,
    /// The synonym and slang map: `(variant, canonical)`, sorted by variant; a variant may be
    /// several words, joined by one space.
    pub synonyms: Cow<'static, [(Text, Text)]>,
}
