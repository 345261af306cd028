//! Builds an index from articles: per-field term counts, the postings, the vocabulary as an
//! `fst` map. The build script runs it once for the compiled-in base; `kb rank --dir` runs it
//! at run time.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::analyze::Analyzer;
use crate::article::{snippet, Article};
use crate::model::{ArticleMeta, IndexParts, Posting, BODY, FIELDS, TAGS, TITLE};

pub fn build(articles: &[Article], synonyms: Vec<(String, String)>) -> IndexParts {
    let analyzer = Analyzer::default();
    let mut terms: BTreeMap<String, Vec<Posting>> = BTreeMap::new();
    let mut lengths = Vec::with_capacity(articles.len());
    for (doc, article) in articles.iter().enumerate() {
        let fields: [Vec<String>; FIELDS] = {
            let mut f: [Vec<String>; FIELDS] = Default::default();
            f[TITLE] = analyzer.terms(&article.title);
            f[TAGS] = analyzer.terms(&article.tags.join(" "));
            f[BODY] = analyzer.terms(&article.body);
            f
        };
        let mut length = [0u16; FIELDS];
        for (field, field_terms) in fields.iter().enumerate() {
            length[field] = saturate(field_terms.len());
            for term in field_terms {
                let postings = terms.entry(term.clone()).or_default();
                if postings.last().is_none_or(|p| p.doc != doc as u32) {
                    postings.push(Posting {
                        doc: doc as u32,
                        tf: [0; FIELDS],
                    });
                }
                let tf = &mut postings.last_mut().expect("pushed above").tf[field];
                *tf = tf.saturating_add(1);
            }
        }
        lengths.push(length);
    }

    let mut vocabulary = fst::MapBuilder::memory();
    let mut offsets = Vec::with_capacity(terms.len() + 1);
    let mut postings = Vec::new();
    for (id, (term, term_postings)) in terms.into_iter().enumerate() {
        vocabulary
            .insert(&term, id as u64)
            .expect("BTreeMap keys are sorted and unique");
        offsets.push(postings.len() as u32);
        postings.extend(term_postings);
    }
    offsets.push(postings.len() as u32);

    let articles = articles
        .iter()
        .map(|a| ArticleMeta {
            id: a.id.clone().into(),
            title: a.title.clone().into(),
            url: a.url.clone().map(Into::into),
            snippet: snippet(&a.body).into(),
        })
        .collect::<Vec<_>>();
    IndexParts {
        articles: articles.into(),
        vocabulary: vocabulary
            .into_inner()
            .expect("an in-memory fst cannot fail")
            .into(),
        offsets: offsets.into(),
        postings: postings.into(),
        lengths: lengths.into(),
        synonyms: Cow::Owned(
            synonyms
                .into_iter()
                .map(|(v, c)| (v.into(), c.into()))
                .collect(),
        ),
    }
}

fn saturate(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}
