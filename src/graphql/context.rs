//! Typed access to what the HTTP layer put into a request's context.
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

pub fn loaders<'a>(ctx: &Context<'a>) -> Result<&'a Loaders, ApiError> {
    ctx.data::<Loaders>().map_err(|_| missing("loaders"))
}
