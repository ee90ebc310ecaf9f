//! Typed access to what the HTTP layer put into a request's context.
use std::sync::Arc;

use async_graphql::Context;

use crate::{
    auth::{Actor, Viewer},
    db::Db,
    error::ApiError,
    loaders::Loaders,
};

fn missing(what: &str) -> ApiError {
    ApiError::Internal(format!("{what} missing from the request context"))
}

pub fn db<'a>(ctx: &Context<'a>) -> Result<&'a Db, ApiError> {
    ctx.data::<Db>().map_err(|_| missing("database"))
}

pub fn actor<'a>(ctx: &Context<'a>) -> Result<&'a Actor, ApiError> {
    ctx.data::<Actor>().map_err(|_| missing("actor"))
}

pub fn viewer<'a>(ctx: &Context<'a>) -> Result<&'a Viewer, ApiError> {
    Ok(&actor(ctx)?.viewer)
}

/// The loaders of the request, or of the subscription event being resolved (a long-lived
/// subscription gets fresh ones per event: nothing it reads is remembered past it).
pub fn loaders(ctx: &Context<'_>) -> Result<Arc<Loaders>, ApiError> {
    if let Ok(loaders) = crate::loaders::EVENT_LOADERS.try_with(Arc::clone) {
        return Ok(loaders);
    }
    ctx.data::<Arc<Loaders>>()
        .cloned()
        .map_err(|_| missing("loaders"))
}
