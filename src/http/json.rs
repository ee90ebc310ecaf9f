//! A response's JSON, written without serde's per-character escaping where no character
//! needs it: the bytes serde_json writes, at a fraction of the cost.
//!
//! serde_json looks every character of every string up in its escape table and writes
//! the runs between escapes one by one (`format_escaped_str_contents`: ~8 instructions a
//! byte, a third of what serializing a page of 50 posts cost, callgrind). Response strings
//! (ids, titles, timestamps, keys) almost never hold a character JSON must escape: one
//! branch-free pass over the bytes tells, and such a string is copied whole. Anything
//! else (a string that needs escaping, a number, bytes) is written by serde_json itself,
//! so the output is the same byte for byte.
use async_graphql::{Response, Value};

/// `response` as serde_json serializes it (`{"data":…,"errors":…}` with what is set).
pub fn response_bytes(response: &Response) -> serde_json::Result<Vec<u8>> {
    if !response.errors.is_empty() || !response.extensions.is_empty() {
        return serde_json::to_vec(response);
    }
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(b"{\"data\":");
    write_value(&mut out, &response.data)?;
    out.push(b'}');
    Ok(out)
}

fn write_value(out: &mut Vec<u8>, value: &Value) -> serde_json::Result<()> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Boolean(true) => out.extend_from_slice(b"true"),
        Value::Boolean(false) => out.extend_from_slice(b"false"),
        Value::String(s) => write_str(out, s)?,
        Value::Enum(name) => write_str(out, name)?,
        Value::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            out.push(b'{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, key)?;
                out.push(b':');
                write_value(out, item)?;
            }
            out.push(b'}');
        }
        Value::Number(_) | Value::Binary(_) => serde_json::to_writer(&mut *out, value)?,
    }
    Ok(())
}

fn write_str(out: &mut Vec<u8>, s: &str) -> serde_json::Result<()> {
    // No early exit: the pass compiles to vector compares.
    let escape = s
        .bytes()
        .fold(false, |any, b| any | (b < 0x20) | (b == b'"') | (b == b'\\'));
    if escape {
        serde_json::to_writer(&mut *out, s)
    } else {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{Name, Number, ServerError, indexmap::IndexMap};
    use proptest::prelude::*;

    use super::*;

    fn same_as_serde(response: &Response) {
        let ours = response_bytes(response).ok();
        let serde = serde_json::to_vec(response).ok();
        assert!(ours.is_some());
        assert_eq!(
            ours.as_deref().map(String::from_utf8_lossy),
            serde.as_deref().map(String::from_utf8_lossy)
        );
    }

    fn object(entries: Vec<(&str, Value)>) -> Value {
        Value::Object(
            entries
                .into_iter()
                .map(|(k, v)| (Name::new(k), v))
                .collect::<IndexMap<_, _>>(),
        )
    }

    #[test]
    fn every_kind_of_value_is_written_as_serde_writes_it() {
        let data = object(vec![
            ("null", Value::Null),
            ("yes", Value::Boolean(true)),
            ("no", Value::Boolean(false)),
            ("int", Value::Number(Number::from(-42))),
            ("big", Value::Number(Number::from(u64::MAX))),
            (
                "float",
                Value::Number(Number::from_f64(1.5e-7).unwrap_or(Number::from(0))),
            ),
            ("plain", Value::String("UG9zdDo0Mg==".into())),
            (
                "quote\"key",
                Value::String("say \"hi\"\\ \n\t\u{1} é ✓ </script>".into()),
            ),
            ("enum", Value::Enum(Name::new("PUBLISHED"))),
            ("bytes", Value::Binary(vec![0, 1, 255].into())),
            ("empty", Value::List(vec![])),
            (
                "nested",
                Value::List(vec![object(vec![]), object(vec![("a", Value::Null)])]),
            ),
        ]);
        same_as_serde(&Response::new(data));
        same_as_serde(&Response::new(Value::Null));
    }

    #[test]
    fn responses_with_errors_or_extensions_are_unchanged() {
        let with_error = Response::from_errors(vec![ServerError::new("boom", None)]);
        same_as_serde(&with_error);
        let with_extension = Response::new(Value::Null).extension("cost", Value::Number(Number::from(3)));
        same_as_serde(&with_extension);
    }

    proptest! {
        #[test]
        fn any_string_is_written_as_serde_writes_it(s in any::<String>(), key in "[\\x00-\\x7f]{0,8}") {
            same_as_serde(&Response::new(object(vec![(key.as_str(), Value::String(s))])));
        }
    }
}
