//! Global ids: `base64("Post:42")`. Every id argument also takes the decimal database id.
use async_graphql::ID;
use base64::{Engine, engine::general_purpose::STANDARD};

use crate::error::{ApiError, ApiResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Organization,
    User,
    Post,
    Tag,
    AuditLog,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Organization,
        Kind::User,
        Kind::Post,
        Kind::Tag,
        Kind::AuditLog,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Organization => "Organization",
            Kind::User => "User",
            Kind::Post => "Post",
            Kind::Tag => "Tag",
            Kind::AuditLog => "AuditLog",
        }
    }
}

pub fn encode(kind: Kind, id: i32) -> ID {
    ID(STANDARD.encode(format!("{}:{id}", kind.name())))
}

/// Decodes a global id of any type (for `node`); `None` when it is not one.
pub fn decode_global(id: &str) -> Option<(Kind, i32)> {
    let bytes = STANDARD.decode(id).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let (name, number) = text.split_once(':')?;
    let kind = Kind::ALL.into_iter().find(|k| k.name() == name)?;
    let id = number.parse().ok().filter(|n: &i32| *n > 0)?;
    Some((kind, id))
}

/// Decodes an id argument that must name a `kind`: its global id or its database id.
pub fn decode(id: &ID, kind: Kind, field: &'static str) -> ApiResult<i32> {
    let raw = id.as_str().trim();
    if let Ok(n) = raw.parse::<i32>() {
        return if n > 0 {
            Ok(n)
        } else {
            Err(ApiError::bad_input(
                field,
                format!("`{field}` must be a positive id"),
            ))
        };
    }
    match decode_global(raw) {
        Some((k, n)) if k == kind => Ok(n),
        _ => Err(ApiError::bad_input(
            field,
            format!("`{field}` is not a valid {} id", kind.name()),
        )),
    }
}

pub fn decode_opt(id: Option<&ID>, kind: Kind, field: &'static str) -> ApiResult<Option<i32>> {
    id.map(|id| decode(id, kind, field)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids_round_trip_and_decimal_ids_are_accepted() {
        let id = encode(Kind::Post, 42);
        assert_eq!(decode(&id, Kind::Post, "id").ok(), Some(42));
        assert_eq!(decode(&ID("42".into()), Kind::Post, "id").ok(), Some(42));
        assert!(decode(&id, Kind::User, "id").is_err());
        assert!(decode(&ID("0".into()), Kind::User, "id").is_err());
        assert!(decode(&ID("nope".into()), Kind::User, "id").is_err());
        assert_eq!(decode_global(id.as_str()), Some((Kind::Post, 42)));
    }
}
