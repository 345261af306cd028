//! `flex-bridge kb search | rank | eval`.

use std::io::{BufRead, Write};
use std::path::Path;

use kb::eval::{evaluate, parse_questions, QuestionsError};
use kb::Index;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read the articles: {0}")]
    Articles(#[from] kb::article::LoadError),
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Questions {
        path: String,
        source: QuestionsError,
    },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// The compiled-in base, or `dir` indexed now.
fn index(dir: Option<&Path>) -> Result<IndexRef, Error> {
    Ok(match dir {
        Some(dir) => IndexRef::Built(Box::new(Index::from_folder(kb::article::load_dir(dir)?))),
        None => IndexRef::Builtin,
    })
}

enum IndexRef {
    Builtin,
    Built(Box<Index>),
}

impl std::ops::Deref for IndexRef {
    type Target = Index;
    fn deref(&self) -> &Index {
        match self {
            IndexRef::Builtin => Index::builtin(),
            IndexRef::Built(index) => index,
        }
    }
}

pub fn search(
    question: &str,
    top: usize,
    dir: Option<&Path>,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let index = index(dir)?;
    let ranking = index.rank(question, top);
    let suggested = ranking.suggestions().len();
    if ranking.is_confident() {
        writeln!(
            out,
            "confident ({:.2}): the bot suggests {suggested} article(s)",
            ranking.confidence
        )?;
    } else {
        writeln!(
            out,
            "not confident ({:.2}): the bot says so and offers a person",
            ranking.confidence
        )?;
    }
    if ranking.hits.is_empty() {
        writeln!(out, "no article shares a word with the question")?;
    }
    let width = ranking
        .hits
        .iter()
        .map(|h| h.article.id.len())
        .max()
        .unwrap_or(0);
    for (i, hit) in ranking.hits.iter().enumerate() {
        let mark = if i < suggested { '*' } else { ' ' };
        writeln!(
            out,
            "{mark}{:>2}. {:>6.2}  {:<width$}  {}",
            i + 1,
            hit.score,
            hit.article.id,
            hit.article.title
        )?;
    }
    Ok(())
}

pub fn rank(
    dir: &Path,
    top: usize,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let index = index(Some(dir))?;
    for line in input.lines() {
        let ranking = index.rank(&line?, top);
        let ids: Vec<&str> = ranking.hits.iter().map(|h| h.article.id.as_ref()).collect();
        writeln!(
            out,
            "{}",
            serde_json::to_string(&ids).expect("strings serialise")
        )?;
    }
    Ok(())
}

pub fn eval(
    questions: &Path,
    dir: Option<&Path>,
    verbose: bool,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let index = index(dir)?;
    let path = questions.display().to_string();
    let text = std::fs::read_to_string(questions).map_err(|source| Error::Read {
        path: path.clone(),
        source,
    })?;
    let questions =
        parse_questions(&text, &index).map_err(|source| Error::Questions { path, source })?;
    let report = evaluate(&index, &questions);
    writeln!(out, "{report}")?;
    if verbose {
        for miss in &report.misses {
            writeln!(
                out,
                "  expected {:<28} got {:?} ({:.2})  {}",
                miss.expected.as_deref().unwrap_or("-"),
                miss.got,
                miss.confidence,
                miss.question
            )?;
        }
    }
    Ok(())
}
