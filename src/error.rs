//! The one error type of the API. Clients get `extensions.code` and a safe message;
//! internal causes are logged, never sent.
use async_graphql::{ErrorExtensions, ServerError};
use sea_orm::{DbErr, SqlErr};

/// Not `Display` on purpose: async-graphql converts any `Display` type into an error
/// without extensions, so `?` must go through the `From` below to keep the code.
#[derive(Debug, Clone)]
pub enum ApiError {
    BadUserInput {
        message: String,
        field: Option<&'static str>,
    },
    NotFound(String),
    Conflict {
        message: String,
        field: &'static str,
    },
    Unauthenticated(String),
    Forbidden(String),
    /// Too many requests from one caller.
    RateLimited(String),
    /// A query limit (depth, cost, aliases, root fields, directives, time).
    TooComplex(String),
    /// An Apollo persisted-query hash the store does not hold (the client retries with
    /// the query).
    PersistedQueryNotFound,
    /// A hash-only request while no persisted-query store is configured.
    PersistedQueryNotSupported,
    /// A persisted-document id that is not in the loaded manifest.
    PersistedQueryNotInList,
    /// A document outside the manifest while only trusted documents may run.
    QueryNotInSafelist,
    Unavailable,
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Every `extensions.code` the API answers with (API.md, Errors).
pub const CODES: [&str; 12] = [
    "BAD_USER_INPUT",
    "NOT_FOUND",
    "CONFLICT",
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "RATE_LIMITED",
    "QUERY_TOO_COMPLEX",
    "PERSISTED_QUERY_NOT_FOUND",
    "PERSISTED_QUERY_NOT_SUPPORTED",
    "PERSISTED_QUERY_NOT_IN_LIST",
    "QUERY_NOT_IN_SAFELIST",
    "INTERNAL",
];

impl ApiError {
    pub fn bad_input(field: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadUserInput {
            message: message.into(),
            field: Some(field),
        }
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::NotFound(format!("{what} not found"))
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::Forbidden(message.into())
    }

    pub fn unauthenticated() -> Self {
        ApiError::Unauthenticated("Authentication required".into())
    }

    /// The message a client sees: never SQL, paths or stacks.
    pub fn message(&self) -> String {
        match self {
            ApiError::BadUserInput { message, .. } | ApiError::Conflict { message, .. } => message.clone(),
            ApiError::NotFound(m)
            | ApiError::Unauthenticated(m)
            | ApiError::Forbidden(m)
            | ApiError::TooComplex(m)
            | ApiError::RateLimited(m) => m.clone(),
            ApiError::PersistedQueryNotFound => "PersistedQueryNotFound".into(),
            ApiError::PersistedQueryNotSupported => "PersistedQueryNotSupported".into(),
            ApiError::PersistedQueryNotInList => "The persisted document id is not in the manifest".into(),
            ApiError::QueryNotInSafelist => "Only the persisted documents of the manifest may run".into(),
            ApiError::Unavailable => "The database is unavailable; try again shortly".into(),
            ApiError::Internal(_) => "Internal server error".into(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadUserInput { .. } => "BAD_USER_INPUT",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::Conflict { .. } => "CONFLICT",
            ApiError::Unauthenticated(_) => "UNAUTHENTICATED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::TooComplex(_) => "QUERY_TOO_COMPLEX",
            ApiError::RateLimited(_) => "RATE_LIMITED",
            ApiError::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            ApiError::PersistedQueryNotSupported => "PERSISTED_QUERY_NOT_SUPPORTED",
            ApiError::PersistedQueryNotInList => "PERSISTED_QUERY_NOT_IN_LIST",
            ApiError::QueryNotInSafelist => "QUERY_NOT_IN_SAFELIST",
            // The contract has no code of its own for an outage; the message tells it apart.
            ApiError::Unavailable => "INTERNAL",
            ApiError::Internal(_) => "INTERNAL",
        }
    }
}

/// The unique columns of the data model, most specific first (`username` contains `name`).
const UNIQUE_FIELDS: [(&str, &str); 4] = [
    ("username", "username"),
    ("email", "email"),
    ("slug", "slug"),
    ("name", "name"),
];

/// Maps a unique-constraint message from SQLite (`UNIQUE constraint failed: users.email`)
/// or PostgreSQL (`… unique constraint "uq_users_email"`) to the input field it concerns.
fn unique_field(message: &str) -> &'static str {
    UNIQUE_FIELDS
        .iter()
        .find(|(column, _)| message.contains(column))
        .map_or("id", |(_, field)| field)
}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(message)) => {
                let field = unique_field(&message);
                ApiError::Conflict {
                    message: format!("This {field} is already taken"),
                    field,
                }
            }
            _ => match &err {
                DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => {
                    tracing::error!(error = %err, "database unavailable");
                    ApiError::Unavailable
                }
                _ => ApiError::Internal(err.to_string()),
            },
        }
    }
}

/// A loader's error: the batch failed for every key that waited on it.
impl From<std::sync::Arc<ApiError>> for ApiError {
    fn from(err: std::sync::Arc<ApiError>) -> Self {
        ApiError::clone(&err)
    }
}

impl From<std::sync::Arc<DbErr>> for ApiError {
    fn from(err: std::sync::Arc<DbErr>) -> Self {
        DbErr::clone(&err).into()
    }
}

impl ApiError {
    /// A request-level error (nothing executed), for the response's `errors`.
    pub fn server_error(&self) -> ServerError {
        let error = self.extend();
        let mut server = ServerError::new(error.message, None);
        server.extensions = error.extensions;
        server
    }
}

/// The `extensions.code` of an error in a response (`INTERNAL` when it has none).
pub fn code_of(error: &ServerError) -> &str {
    error
        .extensions
        .as_ref()
        .and_then(|e| e.get("code"))
        .and_then(|v| match v {
            async_graphql::Value::String(s) => Some(s.as_str()),
            _ => None,
        })
        .unwrap_or("INTERNAL")
}

/// Errors raised by async-graphql itself (parse, validation, its depth, complexity and
/// directive limits) carry no code: limit errors become `QUERY_TOO_COMPLEX`, the rest are
/// the client's mistake, `BAD_USER_INPUT`. async-graphql gives them no type to match on,
/// so its messages are the only signal.
pub fn ensure_code(error: &mut ServerError) {
    if error.extensions.as_ref().is_some_and(|e| e.get("code").is_some()) {
        return;
    }
    let message = error.message.to_ascii_lowercase();
    let limits = [
        "nested too deep",
        "too complex",
        "number of directives",
        "recursion limit",
    ];
    let code = if limits.iter().any(|limit| message.contains(limit)) {
        "QUERY_TOO_COMPLEX"
    } else {
        "BAD_USER_INPUT"
    };
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        if let ApiError::Internal(cause) = self {
            tracing::error!(%cause, "internal error");
        }
        async_graphql::Error::new(self.message()).extend_with(|_, e| {
            e.set("code", self.code());
            match self {
                ApiError::BadUserInput {
                    field: Some(field), ..
                }
                | ApiError::Conflict { field, .. } => e.set("field", *field),
                _ => {}
            }
        })
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        err.extend()
    }
}

#[cfg(test)]
mod tests {
    use super::unique_field;

    #[test]
    fn unique_messages_name_their_field() {
        assert_eq!(
            unique_field("UNIQUE constraint failed: users.username"),
            "username"
        );
        assert_eq!(
            unique_field("UNIQUE constraint failed: organizations.name"),
            "name"
        );
        assert_eq!(
            unique_field("duplicate key value violates unique constraint \"uq_users_email\""),
            "email"
        );
        assert_eq!(
            unique_field("duplicate key value violates unique constraint \"uq_organizations_slug\""),
            "slug"
        );
    }
}
