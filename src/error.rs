//! The one error type of the API. Clients get `extensions.code` and a safe message;
//! internal causes are logged, never sent.
use async_graphql::ErrorExtensions;
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
    Unavailable,
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

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
            ApiError::NotFound(m) | ApiError::Unauthenticated(m) | ApiError::Forbidden(m) => m.clone(),
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
