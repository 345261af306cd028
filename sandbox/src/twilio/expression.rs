//! The subset of TaskRouter's expression language (`EvaluateTaskAttributes`, "Workflow
//! expressions" in the TaskRouter docs) the sandbox understands: comparisons of an attribute
//! (`conversationSid`, or a nested `customers.name`) with `==`, `=` or `!=` against a string
//! (double or single quoted), a number or `true`/`false`, joined with `AND`/`&&` and `OR`/`||`
//! (AND binds tighter), with parentheses. Anything else (`HAS`, `IN`, `CONTAINS`, `>`, ...) is
//! refused rather than silently matching nothing, so a bridge query the sandbox cannot judge
//! fails loudly.

use serde_json::Value;

/// Said with every refusal, so the reader knows it is the sandbox's limit, not TaskRouter's.
const SUPPORTED: &str = "the sandbox understands ==, !=, AND, OR and parentheses";

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Compare {
        path: Vec<String>,
        equal: bool,
        value: Literal,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Num(f64),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Num(f64),
    Eq,
    Ne,
    And,
    Or,
    Open,
    Close,
}

/// Parses `source`; the error says what was not understood.
pub fn parse(source: &str) -> Result<Expr, String> {
    let tokens = tokenize(source)?;
    let mut parser = Parser { tokens, at: 0 };
    let expr = parser.or()?;
    match parser.tokens.get(parser.at) {
        None => Ok(expr),
        Some(token) => Err(format!("unexpected {token:?} after a complete expression")),
    }
}

fn tokenize(source: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            _ if c.is_whitespace() => i += 1,
            '(' | ')' => {
                tokens.push(if c == '(' { Token::Open } else { Token::Close });
                i += 1;
            }
            '=' if next == Some('=') => {
                tokens.push(Token::Eq);
                i += 2;
            }
            '=' => {
                tokens.push(Token::Eq);
                i += 1;
            }
            '!' if next == Some('=') => {
                tokens.push(Token::Ne);
                i += 2;
            }
            '&' if next == Some('&') => {
                tokens.push(Token::And);
                i += 2;
            }
            '|' if next == Some('|') => {
                tokens.push(Token::Or);
                i += 2;
            }
            '"' | '\'' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&q| q == c)
                    .ok_or_else(|| format!("unterminated string starting at {i}"))?;
                tokens.push(Token::Str(chars[i + 1..i + 1 + end].iter().collect()));
                i += end + 2;
            }
            _ if c.is_ascii_digit() || (c == '-' && next.is_some_and(|n| n.is_ascii_digit())) => {
                let len = 1 + chars[i + 1..]
                    .iter()
                    .take_while(|d| d.is_ascii_digit() || **d == '.')
                    .count();
                let text: String = chars[i..i + len].iter().collect();
                let n = text.parse().map_err(|_| format!("bad number {text}"))?;
                tokens.push(Token::Num(n));
                i += len;
            }
            _ if c.is_alphabetic() || c == '_' => {
                let len = chars[i..]
                    .iter()
                    .take_while(|d| d.is_alphanumeric() || matches!(d, '_' | '.'))
                    .count();
                let word: String = chars[i..i + len].iter().collect();
                tokens.push(match word.to_ascii_uppercase().as_str() {
                    "AND" => Token::And,
                    "OR" => Token::Or,
                    _ => Token::Word(word),
                });
                i += len;
            }
            _ => return Err(format!("unsupported character {c:?} at {i} ({SUPPORTED})")),
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn peek_is(&self, token: &Token) -> bool {
        self.tokens.get(self.at) == Some(token)
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut terms = vec![self.and()?];
        while self.peek_is(&Token::Or) {
            self.at += 1;
            terms.push(self.and()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::Or(terms)
        })
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut terms = vec![self.primary()?];
        while self.peek_is(&Token::And) {
            self.at += 1;
            terms.push(self.primary()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::And(terms)
        })
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Token::Open) => {
                let inner = self.or()?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err("missing )".into()),
                }
            }
            Some(Token::Word(name)) => {
                let equal = match self.next() {
                    Some(Token::Eq) => true,
                    Some(Token::Ne) => false,
                    other => {
                        return Err(format!(
                            "expected == or != after {name}, found {other:?} ({SUPPORTED})"
                        ))
                    }
                };
                let value = match self.next() {
                    Some(Token::Str(s)) => Literal::Str(s),
                    Some(Token::Num(n)) => Literal::Num(n),
                    Some(Token::Word(w)) if w.eq_ignore_ascii_case("true") => Literal::Bool(true),
                    Some(Token::Word(w)) if w.eq_ignore_ascii_case("false") => Literal::Bool(false),
                    other => {
                        return Err(format!("expected a literal after {name}, found {other:?}"))
                    }
                };
                let path = name.split('.').map(str::to_owned).collect();
                Ok(Expr::Compare { path, equal, value })
            }
            other => Err(format!("expected an attribute name, found {other:?}")),
        }
    }
}

impl Expr {
    /// Whether task `attributes` match. A missing attribute equals nothing (so `!=` matches it).
    pub fn matches(&self, attributes: &Value) -> bool {
        match self {
            Expr::Or(terms) => terms.iter().any(|t| t.matches(attributes)),
            Expr::And(terms) => terms.iter().all(|t| t.matches(attributes)),
            Expr::Compare { path, equal, value } => {
                let found = path.iter().try_fold(attributes, |v, key| v.get(key));
                let same = match (found, value) {
                    (Some(Value::String(s)), Literal::Str(l)) => s == l,
                    (Some(Value::Number(n)), Literal::Num(l)) => n.as_f64() == Some(*l),
                    (Some(Value::Bool(b)), Literal::Bool(l)) => b == l,
                    _ => false,
                };
                same == *equal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(expr: &str, attributes: &Value) -> bool {
        parse(expr).unwrap().matches(attributes)
    }

    #[test]
    fn evaluates_the_supported_subset() {
        let a = json!({
            "conversationSid": "CH0123",
            "caseId": "CS-1042",
            "priority": 2,
            "vip": true,
            "customers": {"name": "Jordan"},
        });
        assert!(check(r#"conversationSid == "CH0123""#, &a));
        assert!(check("conversationSid == 'CH0123'", &a));
        assert!(check("conversationSid='CH0123'", &a));
        assert!(!check(r#"conversationSid == "CH9999""#, &a));
        assert!(check(
            r#"conversationSid == "CH0123" AND caseId == "CS-1042""#,
            &a
        ));
        assert!(!check(
            r#"conversationSid == "CH0123" and caseId == "x""#,
            &a
        ));
        assert!(check(r#"caseId == "x" || priority == 2"#, &a));
        assert!(check(
            r#"(caseId == "x" OR vip == true) && customers.name == "Jordan""#,
            &a
        ));
        assert!(check("priority != 3", &a));
        assert!(check(r#"missing != "x""#, &a));
        assert!(!check(r#"missing == "x""#, &a));
        assert!(!check(r#"priority == "2""#, &a), "types must agree");
    }

    #[test]
    fn refuses_what_it_cannot_judge() {
        for bad in [
            r#"skills HAS "english""#,
            "priority > 1",
            r#"conversationSid IN ["a"]"#,
            r#"conversationSid == "unterminated"#,
            r#"conversationSid == "a" AND"#,
            r#"(conversationSid == "a""#,
            r#""a" == conversationSid"#,
            "",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
