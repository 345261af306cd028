//! Measuring the ranking: labelled questions (`expected_id<TAB>question`, `-` when the base has
//! no answer) → hit@1, hit@3 and MRR on the answerable ones, and how often an unanswerable one
//! got a confident answer.

use std::fmt;

use crate::index::Index;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelledQuestion {
    pub question: String,
    /// The article that answers it; `None` when none does.
    pub expected: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QuestionsError {
    #[error("line {0}: expected `article-id<TAB>question` (`-` for no answer)")]
    Malformed(usize),
    #[error("line {line}: no article has the id `{id}`")]
    UnknownArticle { line: usize, id: String },
}

/// Reads the labelled questions, checking every expected id against `index`. Blank lines and
/// lines starting with `#` are skipped.
pub fn parse_questions(text: &str, index: &Index) -> Result<Vec<LabelledQuestion>, QuestionsError> {
    let mut questions = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (id, question) = line
            .split_once('\t')
            .filter(|(id, q)| !id.trim().is_empty() && !q.trim().is_empty())
            .ok_or(QuestionsError::Malformed(line_no))?;
        let id = id.trim();
        let expected = (id != "-").then(|| id.to_owned());
        if let Some(id) = &expected {
            if index.article(id).is_none() {
                return Err(QuestionsError::UnknownArticle {
                    line: line_no,
                    id: id.clone(),
                });
            }
        }
        questions.push(LabelledQuestion {
            question: question.trim().to_owned(),
            expected,
        });
    }
    Ok(questions)
}

/// A question the ranking got wrong: an answerable one whose article was not first, or an
/// unanswerable one that got a confident answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Miss {
    pub question: String,
    pub expected: Option<String>,
    /// The ranking's first three ids.
    pub got: Vec<String>,
    pub confidence: f32,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    pub answerable: usize,
    pub unanswerable: usize,
    pub hit_at_1: f64,
    pub hit_at_3: f64,
    /// Mean reciprocal rank of the expected article (0 when it is not ranked at all).
    pub mrr: f64,
    /// Answerable questions the bot answered confidently with the right article first.
    pub answered_correctly: f64,
    /// Unanswerable questions that got a confident answer.
    pub false_answer_rate: f64,
    pub misses: Vec<Miss>,
}

pub fn evaluate(index: &Index, questions: &[LabelledQuestion]) -> Report {
    let mut report = Report::default();
    let (mut hit1, mut hit3, mut rr, mut correct, mut false_answers) = (0, 0, 0.0, 0, 0);
    for q in questions {
        let ranking = index.rank(&q.question, index.articles().len());
        let ids: Vec<&str> = ranking.hits.iter().map(|h| h.article.id.as_ref()).collect();
        let miss = || Miss {
            question: q.question.clone(),
            expected: q.expected.clone(),
            got: ids.iter().take(3).map(|s| s.to_string()).collect(),
            confidence: ranking.confidence,
        };
        match &q.expected {
            Some(expected) => {
                report.answerable += 1;
                let rank = ids.iter().position(|id| id == expected);
                hit1 += usize::from(rank == Some(0));
                hit3 += usize::from(rank.is_some_and(|r| r < 3));
                rr += rank.map_or(0.0, |r| 1.0 / (r as f64 + 1.0));
                correct += usize::from(rank == Some(0) && ranking.is_confident());
                if rank != Some(0) {
                    report.misses.push(miss());
                }
            }
            None => {
                report.unanswerable += 1;
                if ranking.is_confident() {
                    false_answers += 1;
                    report.misses.push(miss());
                }
            }
        }
    }
    let share = |n: usize, of: usize| if of == 0 { 0.0 } else { n as f64 / of as f64 };
    report.hit_at_1 = share(hit1, report.answerable);
    report.hit_at_3 = share(hit3, report.answerable);
    report.mrr = if report.answerable == 0 {
        0.0
    } else {
        rr / report.answerable as f64
    };
    report.answered_correctly = share(correct, report.answerable);
    report.false_answer_rate = share(false_answers, report.unanswerable);
    report
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "answerable questions    {}", self.answerable)?;
        writeln!(f, "hit@1                   {:.3}", self.hit_at_1)?;
        writeln!(f, "hit@3                   {:.3}", self.hit_at_3)?;
        writeln!(f, "MRR                     {:.3}", self.mrr)?;
        writeln!(
            f,
            "answered (confident, right article first)  {:.3}",
            self.answered_correctly
        )?;
        writeln!(f, "unanswerable questions  {}", self.unanswerable)?;
        write!(f, "false-answer rate       {:.3}", self.false_answer_rate)
    }
}
