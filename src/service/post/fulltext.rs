//! `fullText` in web-search syntax: `word`, `"a phrase"`, `-excluded` (a word or a phrase)
//! and `or` between alternatives. The user's text is parsed here into phrases and never
//! reaches a database's query syntax as typed: each phrase becomes a quoted string of the
//! target syntax (FTS5 `MATCH`, PostgreSQL `websearch_to_tsquery`), whose tokenizer then
//! splits it into words, so both databases read the same structure.
use crate::{
    error::{ApiError, ApiResult},
    service::validate,
};

/// A parsed `fullText`: alternatives (joined by `or`), each a conjunction of phrases some
/// of which are excluded. Every alternative has at least one phrase to find: one made of
/// exclusions alone would match nearly every post, which no index can serve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FullText {
    groups: Vec<Group>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Group {
    include: Vec<String>,
    exclude: Vec<String>,
}

impl Group {
    fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }
}

/// Parses `fullText` (trimmed, at most 200 characters). Terms without a letter or digit
/// (`!!!`, a lone `-`) are dropped, as the databases' tokenizers would; a query left with
/// nothing to find is `BAD_USER_INPUT` (field `fullText`).
pub fn parse(raw: &str) -> ApiResult<FullText> {
    let raw = validate::full_text(raw)?;
    let mut groups = vec![Group::default()];
    let mut chars = raw.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else { break };
        let negated = first == '-';
        if negated {
            chars.next();
        }
        let quoted = chars.next_if_eq(&'"').is_some();
        let mut term = String::new();
        if quoted {
            for c in chars.by_ref() {
                if c == '"' {
                    break;
                }
                term.push(c);
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '"') {
                term.push(c);
            }
        }
        if !quoted && !negated && term.eq_ignore_ascii_case("or") {
            if groups.last().is_some_and(|g| !g.is_empty()) {
                groups.push(Group::default());
            }
            continue;
        }
        if !term.chars().any(char::is_alphanumeric) {
            continue;
        }
        if let Some(group) = groups.last_mut() {
            if negated {
                group.exclude.push(term);
            } else {
                group.include.push(term);
            }
        }
    }
    groups.retain(|g| !g.is_empty());
    if groups.is_empty() || groups.iter().any(|g| g.include.is_empty()) {
        return Err(ApiError::bad_input(
            "fullText",
            "`fullText` needs a word or phrase to find (in each `or` alternative); excluded words alone are not a search",
        ));
    }
    Ok(FullText { groups })
}

/// An FTS5 string: everything inside is literal (`"` doubled), split by the tokenizer.
fn fts5_string(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

/// The FTS5 `MATCH` text of a `search` term (at least 3 characters): every distinct
/// trigram of it, all required (`"abc" AND "bcd"`). The trigram table keeps no positions
/// (`detail=none`, which refuses phrases), so this finds the posts holding all of them,
/// anywhere; the `LIKE` beside it keeps those that hold the term itself.
pub fn fts5_substring(term: &str) -> String {
    let chars: Vec<char> = term.chars().collect();
    let mut trigrams: Vec<String> = chars.windows(3).map(|w| w.iter().collect()).collect();
    trigrams.sort_unstable();
    trigrams.dedup();
    let quoted: Vec<String> = trigrams.iter().map(|t| fts5_string(t)).collect();
    quoted.join(" AND ")
}

impl FullText {
    /// The query as an FTS5 `MATCH` expression: `(("a" AND "b") NOT "c") OR ("d")`.
    pub fn fts5(&self) -> String {
        let groups: Vec<String> = self
            .groups
            .iter()
            .map(|g| {
                let include: Vec<String> = g.include.iter().map(|t| fts5_string(t)).collect();
                let mut expr = format!("({})", include.join(" AND "));
                for t in &g.exclude {
                    expr = format!("({expr} NOT {})", fts5_string(t));
                }
                expr
            })
            .collect();
        groups.join(" OR ")
    }

    /// The query as the text of PostgreSQL's `websearch_to_tsquery`, in a canonical form
    /// with every term quoted (`"a" "b" -"c" or "d"`): operators inside quotes are words.
    pub fn websearch(&self) -> String {
        let groups: Vec<String> = self
            .groups
            .iter()
            .map(|g| {
                let include = g.include.iter().map(|t| format!("\"{t}\""));
                let exclude = g.exclude.iter().map(|t| format!("-\"{t}\""));
                include.chain(exclude).collect::<Vec<_>>().join(" ")
            })
            .collect();
        groups.join(" or ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_search_syntax_becomes_quoted_phrases() {
        let q = parse(r#"rust "async graphql" -java or  kotlin -"spring boot""#).unwrap();
        assert_eq!(
            q.fts5(),
            r#"(("rust" AND "async graphql") NOT "java") OR (("kotlin") NOT "spring boot")"#
        );
        assert_eq!(
            q.websearch(),
            r#""rust" "async graphql" -"java" or "kotlin" -"spring boot""#
        );
        // Operators and syntax of the target languages are words or are dropped.
        let q = parse(r#"NEAR(a b) title:x * ^y AND "unterminated"#).unwrap();
        assert_eq!(
            q.fts5(),
            r#"("NEAR(a" AND "b)" AND "title:x" AND "^y" AND "AND" AND "unterminated")"#
        );
        assert_eq!(parse(r#"or a or or b or"#).unwrap().fts5(), r#"("a") OR ("b")"#);
        assert_eq!(parse(r#"don't"#).unwrap().fts5(), r#"("don't")"#);
    }

    #[test]
    fn a_substring_is_all_of_its_distinct_trigrams() {
        assert_eq!(fts5_substring("abc"), r#""abc""#);
        assert_eq!(fts5_substring("abcab"), r#""abc" AND "bca" AND "cab""#);
        // Repeats are asked for once; quotes are literal; characters, not bytes.
        assert_eq!(fts5_substring("aaaa"), r#""aaa""#);
        assert_eq!(fts5_substring(r#"a"b"#), r#""a""b""#);
        assert_eq!(fts5_substring("éte "), r#""te " AND "éte""#);
    }

    #[test]
    fn a_query_without_anything_to_find_is_refused() {
        for raw in ["", "   ", "!!!", "-a", "-\"a b\"", "a or -b", "or", "- -"] {
            assert!(parse(raw).is_err(), "{raw:?}");
        }
        assert!(parse(&"a".repeat(201)).is_err());
        assert!(parse("a\0b").is_err());
        assert!(parse(&"a".repeat(200)).is_ok());
    }
}
