//! `Authorization: Bearer …` → `Viewer`, with one query for a user's token.
use crate::db::Db;
use axum::http::{HeaderMap, header::AUTHORIZATION};

use crate::{
    auth::{
        Member, Viewer,
        jwt::{Subject, Verifier},
    },
    entity::scope,
    error::ApiError,
};

fn rejected(message: &str) -> ApiError {
    ApiError::Unauthenticated(message.to_owned())
}

/// No header is anonymous; any header that is not a valid token for a live user is
/// `UNAUTHENTICATED`, never anonymous.
pub async fn viewer(db: &Db, verifier: &Verifier, headers: &HeaderMap) -> Result<Viewer, ApiError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(Viewer::Anonymous);
    };
    let value = value
        .to_str()
        .map_err(|_| rejected("Malformed Authorization header"))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| rejected("Authorization must be `Bearer <token>`"))?;
    match verifier.verify(token)? {
        Subject::PlatformAdmin(subject) => Ok(Viewer::PlatformAdmin { subject }),
        Subject::User(id) => {
            let (user, org) = scope::token_user(db, id)
                .await?
                .ok_or_else(|| rejected("The token's user does not exist"))?;
            if user.deleted_at.is_some() || !user.is_active || org.deleted_at.is_some() || !org.is_active {
                return Err(rejected(
                    "The token's user or organization is deleted or inactive",
                ));
            }
            Ok(Viewer::Member(Member {
                id: user.id,
                organization_id: user.organization_id,
                role: user.role,
            }))
        }
    }
}
