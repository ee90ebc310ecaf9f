//! Field-level rules: what anonymous callers may not read on a visible object.
use async_graphql::Context;

use super::context::viewer;
use crate::{
    auth::Viewer,
    error::{ApiError, ApiResult},
};

/// Fields beyond the public ones (`username`, `fullName`, `name`, `slug`) need a sign-in.
pub fn require_sign_in(ctx: &Context<'_>) -> ApiResult<()> {
    match viewer(ctx)? {
        Viewer::Anonymous => Err(ApiError::unauthenticated()),
        _ => Ok(()),
    }
}
