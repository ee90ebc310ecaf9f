//! Keyset cursors: the sort key and id of a row, for the `orderBy` field they were made
//! for, as URL-safe base64 of a small JSON document.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use sea_orm::Value;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};

/// The value of the sort column in a cursor. Tagged (`{"t": …}`), so a title that looks
/// like a timestamp stays text.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SortKey {
    /// A computed relevance (`RELEVANCE`): a finite float, exact through JSON.
    #[serde(rename = "r")]
    Rank(Rank),
    #[serde(rename = "i")]
    Int(i32),
    #[serde(rename = "t")]
    Time(DateTime<Utc>),
    #[serde(rename = "s")]
    Text(String),
}

/// A relevance as a sort key, compared and hashed by its bits (ranks are never NaN). In a
/// cursor it is its bits as an integer: a JSON float need not parse back to the same
/// double (serde_json's default parser may be one unit off), and the keyset bound must
/// compare with the exact rank or it skips the rows tied with the cursor's.
#[derive(Clone, Copy, Debug)]
pub struct Rank(pub f64);

impl Serialize for Rank {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0.to_bits())
    }
}

impl<'de> Deserialize<'de> for Rank {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        u64::deserialize(deserializer).map(|bits| Rank(f64::from_bits(bits)))
    }
}

impl PartialEq for Rank {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for Rank {}

impl std::hash::Hash for Rank {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state);
    }
}

/// Every `orderBy` field a cursor can be made for.
const FIELDS: [&str; 9] = [
    "CREATED_AT",
    "UPDATED_AT",
    "PUBLISHED_AT",
    "VIEW_COUNT",
    "TITLE",
    "NAME",
    "USERNAME",
    "POST_COUNT",
    "RELEVANCE",
];

impl SortKey {
    /// Whether this key can be the value of the `orderBy` field `field`.
    fn fits(&self, field: &str) -> bool {
        match self {
            SortKey::Int(_) => matches!(field, "VIEW_COUNT" | "POST_COUNT"),
            SortKey::Time(_) => matches!(field, "CREATED_AT" | "UPDATED_AT" | "PUBLISHED_AT"),
            SortKey::Text(_) => matches!(field, "TITLE" | "NAME" | "USERNAME"),
            SortKey::Rank(r) => field == "RELEVANCE" && r.0.is_finite(),
        }
    }
}

impl From<SortKey> for Value {
    fn from(key: SortKey) -> Value {
        match key {
            SortKey::Int(v) => v.into(),
            SortKey::Time(v) => v.into(),
            SortKey::Text(v) => v.into(),
            SortKey::Rank(v) => v.0.into(),
        }
    }
}

/// A row's cursor, encoded only when a client selects it (`cursor`, `startCursor`,
/// `endCursor`): most lists are read without, and encoding is a JSON document and base64
/// per row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub field: &'static str,
    pub key: SortKey,
    pub id: i32,
}

#[derive(Serialize, Deserialize)]
struct Wire {
    /// The `orderBy` field the cursor was made for.
    f: String,
    k: SortKey,
    i: i32,
}

impl Cursor {
    pub fn encode(&self) -> String {
        let wire = Wire {
            f: self.field.to_owned(),
            k: self.key.clone(),
            i: self.id,
        };
        // Serializing a struct of strings and numbers cannot fail.
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wire).unwrap_or_default())
    }

    /// Any cursor of ours, whatever its field; `None` for anything else.
    pub fn decode_any(raw: &str) -> Option<Cursor> {
        let wire: Wire = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(raw).ok()?).ok()?;
        let field = FIELDS.into_iter().find(|f| *f == wire.f && wire.k.fits(f))?;
        Some(Cursor {
            field,
            key: wire.k,
            id: wire.i,
        })
    }

    /// The key and id of a cursor passed as the argument `arg` of a list ordered by
    /// `field`: `BAD_USER_INPUT` when it is not ours or was made for another order.
    pub fn decode(raw: &str, field: &str, arg: &'static str) -> ApiResult<(SortKey, i32)> {
        let invalid = || ApiError::bad_input(arg, format!("`{arg}` is not a valid cursor"));
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
        let wire: Wire = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if wire.f != field {
            return Err(ApiError::bad_input(
                arg,
                format!("`{arg}` was made for another orderBy field"),
            ));
        }
        if !wire.k.fits(field) {
            return Err(invalid());
        }
        Ok((wire.k, wire.i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_decodes_to_what_it_encodes() {
        let cursor = Cursor {
            field: "TITLE",
            key: SortKey::Text("2024-01-01T00:00:00Z".into()),
            id: 7,
        };
        let encoded = cursor.encode();
        assert_eq!(
            Cursor::decode(&encoded, "TITLE", "after").unwrap(),
            (SortKey::Text("2024-01-01T00:00:00Z".into()), 7)
        );
        assert_eq!(Cursor::decode_any(&encoded), Some(cursor));
        assert!(Cursor::decode(&encoded, "NAME", "after").is_err());
        assert!(Cursor::decode_any("bm90IGEgY3Vyc29y").is_none());
        let mismatched = Cursor {
            field: "VIEW_COUNT",
            key: SortKey::Text("x".into()),
            id: 1,
        };
        assert!(Cursor::decode_any(&mismatched.encode()).is_none());
    }

    #[test]
    fn a_rank_comes_back_to_the_same_bits() {
        for rank in [
            0.1 + 0.2,
            -1e-6 * 3.0,
            2.9642857142857146e-06,
            f64::MIN_POSITIVE,
            1.0 / 3.0,
        ] {
            let cursor = Cursor {
                field: "RELEVANCE",
                key: SortKey::Rank(Rank(rank)),
                id: 3,
            };
            let (key, _) = Cursor::decode(&cursor.encode(), "RELEVANCE", "after").unwrap();
            assert_eq!(key, SortKey::Rank(Rank(rank)));
            assert!(Cursor::decode(&cursor.encode(), "TITLE", "after").is_err());
        }
        let infinite = Cursor {
            field: "RELEVANCE",
            key: SortKey::Rank(Rank(f64::INFINITY)),
            id: 3,
        };
        assert!(Cursor::decode(&infinite.encode(), "RELEVANCE", "after").is_err());
    }
}
