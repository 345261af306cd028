//! The virtual agent's knowledge base: Markdown articles compiled in at build time and ranked
//! with field-weighted BM25, English stemming and stop words, a synonym and slang map, and one
//! typo of tolerance; a confidence score says whether to answer or offer a person.
//!
//! ```
//! let ranking = kb::Index::builtin().rank("i forgot my pw", 3);
//! assert!(!ranking.hits.is_empty());
//! ```

pub mod analyze;
#[cfg(feature = "load")]
pub mod article;
pub mod eval;
mod index;
#[cfg(feature = "load")]
mod indexer;
pub mod model;
mod rank;
pub mod synonyms;

pub use index::Index;
pub use model::ArticleMeta;
pub use rank::{Hit, Ranking, CONFIDENT_AT, MAX_SUGGESTIONS};
