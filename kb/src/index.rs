//! A searchable index over [`IndexParts`]: the compiled-in base ([`Index::builtin`]) or one
//! built at run time from a folder ([`Index::from_folder`]).

use std::borrow::Cow;
use std::sync::LazyLock;

use crate::model::{ArticleMeta, IndexParts, Posting, FIELDS};

pub struct Index {
    parts: IndexParts,
    vocabulary: fst::Map<Cow<'static, [u8]>>,
    average_lengths: [f32; FIELDS],
}

mod compiled {
    include!(concat!(env!("OUT_DIR"), "/compiled.rs"));
}

static BUILTIN: LazyLock<Index> = LazyLock::new(|| {
    Index::new(compiled::parts()).expect("the build script writes a valid vocabulary")
});

impl Index {
    pub fn new(parts: IndexParts) -> Result<Self, fst::Error> {
        let vocabulary = fst::Map::new(parts.vocabulary.clone())?;
        let mut average_lengths = [0f32; FIELDS];
        for length in parts.lengths.iter() {
            for (sum, &n) in average_lengths.iter_mut().zip(length) {
                *sum += f32::from(n);
            }
        }
        let count = parts.lengths.len().max(1) as f32;
        for sum in &mut average_lengths {
            *sum = (*sum / count).max(1.0);
        }
        Ok(Self {
            parts,
            vocabulary,
            average_lengths,
        })
    }

    /// The knowledge base compiled into this binary (`knowledge-base/`, or `KB_DIR` at build
    /// time). Nothing is parsed: the first call only reads the vocabulary's header.
    pub fn builtin() -> &'static Index {
        &BUILTIN
    }

    /// An index of a folder read at run time. The folder's `synonyms.txt` is used when it has
    /// one; otherwise the compiled-in base's synonyms, which are mostly general slang.
    #[cfg(feature = "load")]
    pub fn from_folder(folder: crate::article::Folder) -> Self {
        let synonyms = folder.synonyms.unwrap_or_else(|| {
            Self::builtin()
                .synonyms()
                .iter()
                .map(|(v, c)| (v.to_string(), c.to_string()))
                .collect()
        });
        Self::new(crate::indexer::build(&folder.articles, synonyms))
            .expect("the indexer writes a valid vocabulary")
    }

    pub fn articles(&self) -> &[ArticleMeta] {
        &self.parts.articles
    }

    pub fn article(&self, id: &str) -> Option<&ArticleMeta> {
        self.parts.articles.iter().find(|a| a.id == id)
    }

    pub(crate) fn synonyms(&self) -> &[(Cow<'static, str>, Cow<'static, str>)] {
        &self.parts.synonyms
    }

    /// The canonical words of a synonym variant (words joined by one space).
    pub(crate) fn canonical(&self, variant: &str) -> Option<&str> {
        let synonyms = self.synonyms();
        synonyms
            .binary_search_by(|(v, _)| v.as_ref().cmp(variant))
            .ok()
            .map(|i| synonyms[i].1.as_ref())
    }

    pub(crate) fn vocabulary(&self) -> &fst::Map<Cow<'static, [u8]>> {
        &self.vocabulary
    }

    pub(crate) fn term(&self, term: &str) -> Option<u32> {
        self.vocabulary.get(term).map(|id| id as u32)
    }

    pub(crate) fn postings(&self, term: u32) -> &[Posting] {
        let t = term as usize;
        let (start, end) = (self.parts.offsets[t], self.parts.offsets[t + 1]);
        &self.parts.postings[start as usize..end as usize]
    }

    pub(crate) fn article_count(&self) -> usize {
        self.parts.articles.len()
    }

    pub(crate) fn lengths(&self, doc: u32) -> [u16; FIELDS] {
        self.parts.lengths[doc as usize]
    }

    pub(crate) fn average_lengths(&self) -> [f32; FIELDS] {
        self.average_lengths
    }
}
