//! Reading a folder of articles: every `*.md` file in it and its subfolders but `README.md`,
//! each a YAML front matter (`id`, `title`, optional `url` and `tags`) and a Markdown body, and
//! the optional `synonyms.txt` beside them. Used by the build script (the compiled-in base) and
//! by `flex-bridge kb rank --dir` (a base read at run time).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::model::SNIPPET_CHARS;
use crate::synonyms;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Article {
    pub id: String,
    pub title: String,
    pub url: Option<String>,
    pub tags: Vec<String>,
    pub body: String,
}

/// A folder of articles as read.
#[derive(Clone, Debug)]
pub struct Folder {
    pub articles: Vec<Article>,
    /// `(variant, canonical)` pairs of its `synonyms.txt`; `None` when it has none.
    pub synonyms: Option<Vec<(String, String)>>,
}

/// What is wrong, and in which file.
#[derive(Debug, thiserror::Error)]
#[error("{}: {problem}", path.display())]
pub struct LoadError {
    pub path: PathBuf,
    pub problem: String,
}

fn fail(path: &Path, problem: impl Into<String>) -> LoadError {
    LoadError {
        path: path.to_owned(),
        problem: problem.into(),
    }
}

#[derive(Deserialize)]
struct FrontMatter {
    id: Option<String>,
    title: Option<String>,
    url: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
}

/// One article file's text. `path` only names the file in errors.
pub fn parse(path: &Path, text: &str) -> Result<Article, LoadError> {
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text.split_inclusive('\n');
    if lines.next().map(str::trim_end) != Some("---") {
        return Err(fail(
            path,
            "must start with a `---` line opening the front matter",
        ));
    }
    let mut yaml = String::new();
    let mut closed = false;
    for line in lines.by_ref() {
        if line.trim_end() == "---" {
            closed = true;
            break;
        }
        yaml.push_str(line);
    }
    if !closed {
        return Err(fail(path, "the front matter has no closing `---` line"));
    }
    let body: String = lines.collect();
    let front: FrontMatter = serde_saphyr::from_str(&yaml)
        .map_err(|e| fail(path, format!("broken front matter: {e}")))?;
    let required = |value: Option<String>, name: &str| match value.map(|v| v.trim().to_owned()) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(fail(path, format!("missing `{name}` in the front matter"))),
    };
    let id = required(front.id, "id")?;
    if id.chars().any(char::is_whitespace) {
        return Err(fail(path, format!("the id `{id}` contains whitespace")));
    }
    let title = required(front.title, "title")?;
    Ok(Article {
        id,
        title,
        url: front
            .url
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty()),
        tags: front.tags,
        body: body.trim().to_owned(),
    })
}

/// Every article under `dir` (sorted by path, so builds are reproducible) and its synonyms.
pub fn load_dir(dir: &Path) -> Result<Folder, LoadError> {
    let mut files = Vec::new();
    collect_markdown(dir, &mut files)?;
    files.sort();
    let mut articles: Vec<Article> = Vec::with_capacity(files.len());
    let mut seen = std::collections::HashMap::new();
    for path in &files {
        let text = std::fs::read_to_string(path).map_err(|e| fail(path, e.to_string()))?;
        let article = parse(path, &text)?;
        if let Some(first) = seen.insert(article.id.clone(), path.clone()) {
            return Err(fail(
                path,
                format!(
                    "duplicate id `{}` (also in {})",
                    article.id,
                    first.display()
                ),
            ));
        }
        articles.push(article);
    }
    if articles.is_empty() {
        return Err(fail(dir, "no articles (*.md files other than README.md)"));
    }
    let synonyms_path = dir.join("synonyms.txt");
    let synonyms = match std::fs::read_to_string(&synonyms_path) {
        Ok(text) => Some(synonyms::parse(&text).map_err(|e| fail(&synonyms_path, e.to_string()))?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(fail(&synonyms_path, e.to_string())),
    };
    Ok(Folder { articles, synonyms })
}

fn collect_markdown(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|e| fail(dir, e.to_string()))?;
    for entry in entries {
        let path = entry.map_err(|e| fail(dir, e.to_string()))?.path();
        if path.is_dir() {
            collect_markdown(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "md")
            && !path
                .file_name()
                .is_some_and(|n| n.eq_ignore_ascii_case("README.md"))
        {
            files.push(path);
        }
    }
    Ok(())
}

/// The body's first sentence as plain text, cut at a word to at most [`SNIPPET_CHARS`].
pub fn snippet(body: &str) -> String {
    let paragraph = body
        .split("\n\n")
        .map(str::trim)
        .find(|p| !p.is_empty() && !p.starts_with('#'))
        .unwrap_or_default();
    let text = plain_text(paragraph);
    let sentence_end = text
        .match_indices(['.', '!', '?'])
        .map(|(i, _)| i + 1)
        .find(|&end| text[end..].is_empty() || text[end..].starts_with(' '))
        .unwrap_or(text.len());
    let sentence = text[..sentence_end].trim();
    if sentence.chars().count() <= SNIPPET_CHARS {
        return sentence.to_owned();
    }
    let mut cut: String = sentence.chars().take(SNIPPET_CHARS - 1).collect();
    if let Some(space) = cut.rfind(' ') {
        cut.truncate(space);
    }
    cut.push('…');
    cut
}

/// Markdown emphasis, code marks, list markers and link targets removed; lines joined.
fn plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut rest = markdown;
    while let Some(c) = rest.chars().next() {
        if c == '[' {
            if let Some((text, after)) = rest[1..].split_once("](") {
                if let Some((_, tail)) = after.split_once(')') {
                    out.push_str(text);
                    rest = tail;
                    continue;
                }
            }
        }
        match c {
            '*' | '_' | '`' => {}
            '\n' => out.push(' '),
            _ => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    let out = out.trim_start_matches(['-', '+', ' ']);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "---\nid: reset-password\ntitle: Reset a forgotten password\nurl: https://help.example/reset\ntags: [account, login]\n---\n# Heading\n\nIf you **forgot** it, use [the reset page](https://x.example). Then log in.\n";

    fn p(text: &str) -> Result<Article, LoadError> {
        parse(Path::new("kb/a.md"), text)
    }

    #[test]
    fn parses_front_matter_and_body() {
        let article = p(GOOD).unwrap();
        assert_eq!(article.id, "reset-password");
        assert_eq!(article.title, "Reset a forgotten password");
        assert_eq!(article.url.as_deref(), Some("https://help.example/reset"));
        assert_eq!(article.tags, ["account", "login"]);
        assert!(article.body.starts_with("# Heading"));
        assert_eq!(
            snippet(&article.body),
            "If you forgot it, use the reset page."
        );
    }

    #[test]
    fn bad_articles_are_refused_naming_the_file() {
        for (text, problem) in [
            ("no front matter", "must start with"),
            ("---\nid: a\ntitle: b\n", "no closing"),
            ("---\ntitle: b\n---\nbody", "missing `id`"),
            ("---\nid: a\n---\nbody", "missing `title`"),
            ("---\nid: a\ntitle: \"\"\n---\nbody", "missing `title`"),
            ("---\nid: [a\ntitle: b\n---\nbody", "broken front matter"),
            ("---\nid: a b\ntitle: b\n---\nbody", "whitespace"),
        ] {
            let err = p(text).unwrap_err().to_string();
            assert!(err.starts_with("kb/a.md: "), "{err}");
            assert!(err.contains(problem), "{text:?} → {err}");
        }
    }

    #[test]
    fn load_dir_reads_subfolders_skips_readme_and_refuses_duplicate_ids() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("account")).unwrap();
        std::fs::write(dir.path().join("README.md"), "# not an article").unwrap();
        std::fs::write(dir.path().join("account/one.md"), GOOD).unwrap();
        std::fs::write(dir.path().join("synonyms.txt"), "password: pw\n").unwrap();
        let folder = load_dir(dir.path()).unwrap();
        assert_eq!(folder.articles.len(), 1);
        assert_eq!(folder.synonyms.unwrap().len(), 1);

        std::fs::write(dir.path().join("two.md"), GOOD).unwrap();
        let err = load_dir(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("two.md: duplicate id `reset-password`"),
            "{err}"
        );
    }

    #[test]
    fn long_snippets_are_cut_at_a_word() {
        let body = "word ".repeat(100);
        let s = snippet(&body);
        assert!(
            s.chars().count() <= SNIPPET_CHARS && s.ends_with("word…"),
            "{s}"
        );
    }
}
