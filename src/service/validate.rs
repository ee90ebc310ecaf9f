//! Input rules of the contract. Each returns the trimmed value or `BAD_USER_INPUT`
//! naming the field.
use crate::error::{ApiError, ApiResult};

fn clean(field: &'static str, value: &str) -> ApiResult<String> {
    if value.contains('\0') {
        return Err(ApiError::bad_input(
            field,
            format!("`{field}` must not contain NUL characters"),
        ));
    }
    Ok(value.trim().to_owned())
}

/// Free text of a filter: trimmed, NUL refused.
pub fn text(field: &'static str, value: &str) -> ApiResult<String> {
    clean(field, value)
}

fn length(field: &'static str, value: String, min: usize, max: usize) -> ApiResult<String> {
    let n = value.chars().count();
    if n < min || n > max {
        let rule = if min == 0 {
            format!("at most {max} characters")
        } else {
            format!("{min} to {max} characters")
        };
        return Err(ApiError::bad_input(field, format!("`{field}` must be {rule}")));
    }
    Ok(value)
}

pub fn name(value: &str) -> ApiResult<String> {
    length("name", clean("name", value)?, 1, 100)
}

/// An organization's slug: 1–50.
pub fn slug(value: &str) -> ApiResult<String> {
    slug_of_length(value, 50)
}

/// A post's slug: 1–200.
pub fn post_slug(value: &str) -> ApiResult<String> {
    slug_of_length(value, 200)
}

/// A post's excerpt: at most 500 characters, trimmed.
pub fn excerpt(value: &str) -> ApiResult<String> {
    length("excerpt", clean("excerpt", value)?, 0, 500)
}

/// A tag's name: 1–50 characters, not blank.
pub fn tag_name(value: &str) -> ApiResult<String> {
    let value = clean("name", value)?;
    if value.is_empty() {
        return Err(ApiError::bad_input("name", "`name` must not be blank"));
    }
    length("name", value, 1, 50)
}

/// A tag's slug: 1–60.
pub fn tag_slug(value: &str) -> ApiResult<String> {
    slug_of_length(value, 60)
}

/// A tag's description: at most 500 characters, trimmed; blank becomes null.
pub fn description(value: &str) -> ApiResult<Option<String>> {
    let value = length("description", clean("description", value)?, 0, 500)?;
    Ok((!value.is_empty()).then_some(value))
}

/// A post's `tagIds`: at most 20, no repeats.
pub fn tag_ids(ids: &[i32]) -> ApiResult<()> {
    if ids.len() > 20 {
        return Err(ApiError::bad_input("tagIds", "`tagIds` takes at most 20 tags"));
    }
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    if ids.iter().all(|id| seen.insert(*id)) {
        Ok(())
    } else {
        Err(ApiError::bad_input("tagIds", "`tagIds` must not repeat a tag"))
    }
}

fn slug_of_length(value: &str, max: usize) -> ApiResult<String> {
    let value = length("slug", clean("slug", value)?, 1, max)?;
    let valid = value
        .split('-')
        .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    if valid {
        Ok(value)
    } else {
        Err(ApiError::bad_input(
            "slug",
            "`slug` may contain lowercase letters, digits and single hyphens between them",
        ))
    }
}

pub fn username(value: &str) -> ApiResult<String> {
    let value = length("username", clean("username", value)?, 3, 80)?;
    if value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        Ok(value)
    } else {
        Err(ApiError::bad_input(
            "username",
            "`username` may contain letters, digits, `_`, `.` and `-`",
        ))
    }
}

pub fn email(value: &str) -> ApiResult<String> {
    let value = length("email", clean("email", value)?, 3, 120)?;
    let invalid = || ApiError::bad_input("email", "`email` must be a valid email address");
    let (local, domain) = value.split_once('@').ok_or_else(invalid)?;
    let domain_ok = !domain.contains('@')
        && domain.split('.').count() >= 2
        && domain
            .split('.')
            .all(|label| !label.is_empty() && label.chars().all(|c| c.is_alphanumeric() || c == '-'));
    let local_ok = !local.is_empty()
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    if domain_ok && local_ok {
        Ok(value)
    } else {
        Err(invalid())
    }
}

/// `fullName`: at most 100 characters; blank becomes null.
pub fn full_name(value: &str) -> ApiResult<Option<String>> {
    let value = length("fullName", clean("fullName", value)?, 0, 100)?;
    Ok((!value.is_empty()).then_some(value))
}

pub fn title(value: &str) -> ApiResult<String> {
    let value = clean("title", value)?;
    if value.is_empty() {
        return Err(ApiError::bad_input("title", "`title` must not be blank"));
    }
    length("title", value, 1, 200)
}

/// `content` is free text; only NUL, which PostgreSQL cannot store, is refused.
pub fn content(value: &str) -> ApiResult<String> {
    clean("content", value).map(|_| value.to_owned())
}

/// A search term: trimmed, lowercased, at most 200 characters.
pub fn search_term(value: &str) -> ApiResult<String> {
    Ok(length("search", clean("search", value)?, 0, 200)?.to_lowercase())
}

/// A search term (at most 200 characters), escaped for `LIKE … ESCAPE '\'` so `%`, `_`
/// and `\` match literally.
pub fn search_pattern(value: &str) -> ApiResult<String> {
    Ok(like_pattern(&search_term(value)?))
}

/// `%term%` with `%`, `_` and `\` escaped by `\`.
pub fn like_pattern(term: &str) -> String {
    let mut pattern = String::with_capacity(term.len() + 2);
    pattern.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// A `fullText` query as typed: trimmed, NUL refused, at most 200 characters.
pub fn full_text(value: &str) -> ApiResult<String> {
    length("fullText", clean("fullText", value)?, 0, 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_of_the_contract() {
        assert_eq!(name("  Acme ").ok().as_deref(), Some("Acme"));
        assert!(name("   ").is_err());
        assert!(name(&"x".repeat(101)).is_err());
        assert!(slug("acme-blog").is_ok());
        assert!(slug("acme--blog").is_err());
        assert!(slug("-acme").is_err());
        assert!(slug("Acme").is_err());
        assert!(username("al").is_err());
        assert!(username("alice.b-c_d").is_ok());
        assert!(username("alice bob").is_err());
        assert!(email("alice@example.com").is_ok());
        assert!(email("alice@localhost").is_err());
        assert!(email("alice@@example.com").is_err());
        assert!(email("a b@example.com").is_err());
        assert!(title(" \t ").is_err());
        assert!(title("a\0b").is_err());
        assert_eq!(full_name("  ").ok(), Some(None));
        assert!(tag_name(" ").is_err());
        assert!(tag_name(&"x".repeat(51)).is_err());
        assert!(tag_slug(&"x".repeat(61)).is_err());
        assert_eq!(description("  ").ok(), Some(None));
        assert!(tag_ids(&[1, 2, 1]).is_err());
        assert!(tag_ids(&(1..=21).collect::<Vec<_>>()).is_err());
        assert!(tag_ids(&(1..=20).collect::<Vec<_>>()).is_ok());
        assert_eq!(search_pattern("50%_a\\").ok().as_deref(), Some("%50\\%\\_a\\\\%"));
    }
}
