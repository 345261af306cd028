//! What customers see of their cases, and how they ask: `/cases` on Discord, a DM of `cases`
//! (or "my cases", "case status", small typos) or one with `CS-1042` in it on X; and their
//! answer to "How did we do? 1–5" after a chat with an agent.

use super::{rate, Case, CaseFilter, CaseId, CaseStore};
use crate::store_error::StoreError;

/// How many cases a customer's list shows.
pub const LIST_LENGTH: usize = 10;
/// How long the satisfaction question stands after the chat closed (see `Store::ask_rating`).
pub const QUESTION_SECS: i64 = 24 * 3600;
pub const QUESTION: &str = "How did we do? Reply with a number from 1 (poor) to 5 (great).";
pub const DISCORD_QUESTION: &str = "How did we do? Pick a number from 1 (poor) to 5 (great).";

/// What a customer asked about their cases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaseQuery {
    List,
    One(CaseId),
}

/// A DM that asks about cases: a `CS-1042` in a short message, or just "cases", "my cases",
/// "case status" (one typo per word allowed). Anything else is an ordinary message.
pub fn parse_query(text: &str) -> Option<CaseQuery> {
    let words = kb::analyze::words(text);
    if words.is_empty() || words.len() > 8 {
        return None;
    }
    for (i, word) in words.iter().enumerate() {
        let number = match word.strip_prefix("cs") {
            Some("") => words
                .get(i + 1)
                .filter(|w| w.chars().all(|c| c.is_ascii_digit())),
            Some(rest) if rest.chars().all(|c| c.is_ascii_digit()) => Some(word),
            _ => None,
        };
        if let Some(n) = number {
            // Digits only, so a number too long for a case id is not a case id.
            let digits = n.trim_start_matches("cs");
            return digits.parse().ok().map(|n| CaseQuery::One(CaseId::new(n)));
        }
    }
    let close = |word: &str, target: &str| strsim::osa_distance(word, target) <= 1;
    let asks = match words.as_slice() {
        [one] => close(one, "cases"),
        [a, b] => {
            (close(a, "my") && (close(b, "cases") || close(b, "case")))
                || (close(a, "case") && close(b, "status"))
                || (close(a, "cases") && close(b, "status"))
        }
        _ => false,
    };
    asks.then_some(CaseQuery::List)
}

/// `2026-12-03 20:57` (UTC) for epoch seconds.
pub fn date_time(epoch: i64) -> String {
    crate::calendar::UtcDateTime::from_epoch(epoch).to_minute()
}

fn line(case: &Case) -> String {
    format!(
        "{} · {} · {} · {} · updated {}",
        case.id,
        case.kind.display_name(),
        case.title,
        case.status.display_name(),
        date_time(case.updated_at.max(case.opened_at))
    )
}

/// The answer to a customer's question about their cases. Another customer's case reads as
/// "not found", exactly as an unknown id does.
pub async fn answer_query(
    store: &dyn CaseStore,
    identity: &str,
    query: &CaseQuery,
) -> Result<String, StoreError> {
    match query {
        CaseQuery::List => {
            let filter = CaseFilter {
                reporter: Some(identity.to_owned()),
                ..CaseFilter::default()
            };
            let page = store.list_cases(&filter, None, LIST_LENGTH).await?;
            if page.cases.is_empty() {
                return Ok("You have no cases with us.".into());
            }
            let mut text = String::from("Your cases, newest first:");
            for case in &page.cases {
                text.push_str("\n• ");
                text.push_str(&line(case));
            }
            Ok(text)
        }
        CaseQuery::One(id) => {
            let case = store.case(id).await?.filter(|c| c.reporter == identity);
            let Some(case) = case else {
                return Ok(format!("Case {id} not found."));
            };
            let mut text = line(&case);
            for entry in &case.timeline {
                text.push_str(&format!("\n{} — {}", date_time(entry.at), entry.event));
            }
            Ok(text)
        }
    }
}

/// A customer's 1–5 for `case_id`, the case they were asked to rate: stored on the case when
/// it is the first answer, thanked either way. A retry after the score was stored thanks for
/// "your rating" as a second answer would (the customer rated; nothing is stored twice).
pub async fn answer_rating(
    store: &dyn CaseStore,
    case_id: &CaseId,
    score: u8,
    identity: &str,
) -> Result<String, StoreError> {
    Ok(if rate(store, case_id, score, identity).await? {
        format!("Thanks for your feedback on {case_id}!")
    } else {
        format!("Thanks! We already have your rating for {case_id}.")
    })
}

/// A bare digit from 1 to 5.
pub fn rating(text: &str) -> Option<u8> {
    match text.trim() {
        t @ ("1" | "2" | "3" | "4" | "5") => t.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customers_ask_about_cases_in_a_few_ways() {
        for text in [
            "cases",
            "Cases?",
            "my cases",
            "case status",
            "casse",
            "my csaes",
        ] {
            assert_eq!(parse_query(text), Some(CaseQuery::List), "{text:?}");
        }
        for text in [
            "CS-1042",
            "whats up with cs-1042",
            "cs 1042?",
            "status of CS1042 pls",
        ] {
            assert_eq!(
                parse_query(text),
                Some(CaseQuery::One(CaseId::new(1042))),
                "{text:?}"
            );
        }
        for text in [
            "my game crashes",
            "in any case it broke",
            "",
            "2",
            "cases of crashes after the update today please help",
        ] {
            assert_eq!(parse_query(text), None, "{text:?}");
        }
    }

    #[test]
    fn dates_are_utc_minutes() {
        assert_eq!(date_time(0), "1970-01-01 00:00");
        assert_eq!(date_time(1_796_331_420), "2026-12-03 20:57");
    }

    #[test]
    fn only_a_bare_digit_from_one_to_five_is_a_rating() {
        assert_eq!(rating(" 4 "), Some(4));
        assert_eq!(rating("6"), None);
        assert_eq!(rating("4 stars"), None);
    }
}
