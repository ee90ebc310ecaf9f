//! `Authorization: Bearer …` → `Viewer`.
use std::future::Future;

use super::{
    Member, Viewer,
    jwt::{Subject, Verifier},
};
use crate::error::ApiError;

/// What authentication needs to know of the user a token names.
pub struct Account {
    pub id: i32,
    pub organization_id: i32,
    pub admin: bool,
    /// Neither the user nor their organization is deleted or inactive.
    pub usable: bool,
}

fn rejected(message: &str) -> ApiError {
    ApiError::Unauthenticated(message.to_owned())
}

/// The subject of an `Authorization` header, checked without the database: `None` for
/// no header (anonymous); any header that is not a valid token is `UNAUTHENTICATED`, never
/// anonymous.
pub fn subject(verifier: &Verifier, header: Option<&[u8]>) -> Result<Option<Subject>, ApiError> {
    Ok(subject_expiring(verifier, header)?.map(|(subject, _)| subject))
}

/// `subject`, with the token's expiry (seconds since the epoch).
pub fn subject_expiring(
    verifier: &Verifier,
    header: Option<&[u8]>,
) -> Result<Option<(Subject, Option<i64>)>, ApiError> {
    let Some(value) = header else {
        return Ok(None);
    };
    let value = std::str::from_utf8(value).map_err(|_| rejected("Malformed Authorization header"))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| rejected("Authorization must be `Bearer <token>`"))?;
    verifier.verify_expiring(token).map(Some)
}

/// The rate-limit key of a verified subject (the same as `Viewer::label`).
pub fn label(subject: &Subject) -> String {
    match subject {
        Subject::User(id) => format!("user:{id}"),
        Subject::PlatformAdmin(subject) => format!("platform_admin:{subject}"),
    }
}

/// The caller a subject names; `account` looks up a user's token (one query).
pub async fn viewer<F, Fut>(subject: Option<Subject>, account: F) -> Result<Viewer, ApiError>
where
    F: FnOnce(i32) -> Fut,
    Fut: Future<Output = Result<Option<Account>, ApiError>>,
{
    match subject {
        None => Ok(Viewer::Anonymous),
        Some(Subject::PlatformAdmin(subject)) => Ok(Viewer::PlatformAdmin { subject }),
        Some(Subject::User(id)) => {
            let account = account(id)
                .await?
                .ok_or_else(|| rejected("The token's user does not exist"))?;
            if !account.usable {
                return Err(rejected(
                    "The token's user or organization is deleted or inactive",
                ));
            }
            Ok(Viewer::Member(Member {
                id: account.id,
                organization_id: account.organization_id,
                admin: account.admin,
            }))
        }
    }
}
