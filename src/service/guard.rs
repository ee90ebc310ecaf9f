//! Role checks shared by services. Anonymous callers get `UNAUTHENTICATED` (signing in
//! could help); signed-in callers whose role may never do it get `FORBIDDEN`.
use crate::{
    auth::{Member, Viewer},
    entity::scope::Deleted,
    error::{ApiError, ApiResult},
};

pub fn signed_in(viewer: &Viewer) -> ApiResult<()> {
    match viewer {
        Viewer::Anonymous => Err(ApiError::unauthenticated()),
        _ => Ok(()),
    }
}

pub fn platform_admin(viewer: &Viewer, what: &str) -> ApiResult<()> {
    signed_in(viewer)?;
    if viewer.is_platform_admin() {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!("Only platform admins can {what}")))
    }
}

/// Org admins and platform admins. Returns the member for org admins.
pub fn admin<'a>(viewer: &'a Viewer, what: &str) -> ApiResult<Option<&'a Member>> {
    signed_in(viewer)?;
    match viewer {
        Viewer::Member(m) if m.is_admin() => Ok(Some(m)),
        Viewer::PlatformAdmin { .. } => Ok(None),
        _ => Err(ApiError::forbidden(format!("Only admins can {what}"))),
    }
}

/// `includeDeleted: true` is for org and platform admins only.
pub fn deleted(viewer: &Viewer, include_deleted: bool) -> ApiResult<Deleted> {
    if !include_deleted {
        return Ok(Deleted::Exclude);
    }
    signed_in(viewer)?;
    if viewer.is_admin() {
        Ok(Deleted::Include)
    } else {
        Err(ApiError::forbidden("Only admins can use `includeDeleted`"))
    }
}
