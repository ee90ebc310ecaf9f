//! All mutations: each parses its input, makes one service call and wraps the result.
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};

use super::{
    context::{actor, db, viewer},
    enums::{Plan, PostStatus, Role},
    ids::{self, Kind},
    organization::Organization,
    post::Post,
    user::User,
};
use crate::service::{self, organization::*, post::*, user::*};

/// Input of `createOrganization`.
#[derive(InputObject)]
pub struct CreateOrganizationInput {
    /// Unique name, 1–100 characters.
    name: String,
    /// Unique slug: lowercase letters, digits and single hyphens, 1–50 characters.
    slug: String,
    /// Plan (default FREE).
    plan: Option<Plan>,
    /// Active (default true).
    is_active: Option<bool>,
}

/// Input of `updateOrganization`: the id and the fields to change.
#[derive(InputObject)]
pub struct UpdateOrganizationInput {
    /// The organization to change.
    id: ID,
    /// New name.
    name: Option<String>,
    /// New slug.
    slug: Option<String>,
    /// New plan (platform admins only).
    plan: Option<Plan>,
    /// Activate or deactivate (platform admins only).
    is_active: Option<bool>,
}

/// Input of `createUser`.
#[derive(InputObject)]
pub struct CreateUserInput {
    /// Unique username: 3–80 letters, digits, `_`, `.`, `-`.
    username: String,
    /// Unique email address, at most 120 characters.
    email: String,
    /// Display name, at most 100 characters.
    full_name: Option<String>,
    /// Role (default MEMBER).
    role: Option<Role>,
    /// Active (default true).
    is_active: Option<bool>,
    /// The organization (default: the caller's; required for platform admins).
    organization_id: Option<ID>,
}

/// Input of `updateUser`: the id and the fields to change.
#[derive(InputObject)]
pub struct UpdateUserInput {
    /// The user to change.
    id: ID,
    /// New username.
    username: Option<String>,
    /// New email address.
    email: Option<String>,
    /// New display name; null clears it.
    full_name: MaybeUndefined<String>,
    /// New role (admins only; an organization keeps at least one active admin).
    role: Option<Role>,
    /// Activate or deactivate (admins only).
    is_active: Option<bool>,
}

/// Input of `createPost`.
#[derive(InputObject)]
pub struct CreatePostInput {
    /// Title, 1–200 characters, not blank.
    title: String,
    /// Body text.
    content: Option<String>,
    /// State (default DRAFT).
    status: Option<PostStatus>,
    /// The author (default: the caller; required for platform admins).
    author_id: Option<ID>,
    /// The organization (default: the author's); must be the author's.
    organization_id: Option<ID>,
}

/// Input of `updatePost`: the id and the fields to change.
#[derive(InputObject)]
pub struct UpdatePostInput {
    /// The post to change.
    id: ID,
    /// New title.
    title: Option<String>,
    /// New body text; null clears it.
    content: MaybeUndefined<String>,
    /// New state.
    status: Option<PostStatus>,
}

macro_rules! id_inputs {
    ($($name:ident: $doc:literal),*) => {$(
        #[doc = $doc]
        #[derive(InputObject)]
        pub struct $name {
            /// The record's id (global or database id).
            id: ID,
        }
    )*};
}

id_inputs!(
    SoftDeleteOrganizationInput: "Input of `softDeleteOrganization`.",
    RestoreOrganizationInput: "Input of `restoreOrganization`.",
    SoftDeleteUserInput: "Input of `softDeleteUser`.",
    RestoreUserInput: "Input of `restoreUser`.",
    SoftDeletePostInput: "Input of `softDeletePost`.",
    RestorePostInput: "Input of `restorePost`."
);

fn maybe<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

#[derive(Default)]
pub struct Mutation;

#[Object]
impl Mutation {
    /// Creates an organization. Platform admins only.
    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        input: CreateOrganizationInput,
    ) -> Result<Organization> {
        let new = NewOrganization {
            name: input.name,
            slug: input.slug,
            plan: input.plan.map(Into::into),
            is_active: input.is_active,
        };
        Ok(Organization(
            service::organization::create(db(ctx)?, actor(ctx)?, new).await?,
        ))
    }

    /// Changes an organization: org admins rename their own (`name`, `slug`); platform
    /// admins also set `plan` and `isActive`.
    async fn update_organization(
        &self,
        ctx: &Context<'_>,
        input: UpdateOrganizationInput,
    ) -> Result<Organization> {
        let id = ids::decode(&input.id, Kind::Organization, "id")?;
        let changes = OrganizationChanges {
            name: input.name,
            slug: input.slug,
            plan: input.plan.map(Into::into),
            is_active: input.is_active,
        };
        Ok(Organization(
            service::organization::update(db(ctx)?, actor(ctx)?, id, changes).await?,
        ))
    }

    /// Soft-deletes an organization with its users and posts. Platform admins only.
    async fn soft_delete_organization(
        &self,
        ctx: &Context<'_>,
        input: SoftDeleteOrganizationInput,
    ) -> Result<Organization> {
        let id = ids::decode(&input.id, Kind::Organization, "id")?;
        Ok(Organization(
            service::organization::soft_delete(db(ctx)?, actor(ctx)?, id).await?,
        ))
    }

    /// Restores a soft-deleted organization and what its deletion cascaded to. Platform
    /// admins only.
    async fn restore_organization(
        &self,
        ctx: &Context<'_>,
        input: RestoreOrganizationInput,
    ) -> Result<Organization> {
        let id = ids::decode(&input.id, Kind::Organization, "id")?;
        Ok(Organization(
            service::organization::restore(db(ctx)?, actor(ctx)?, id).await?,
        ))
    }

    /// Creates a user. Org admins (in their organization) and platform admins.
    async fn create_user(&self, ctx: &Context<'_>, input: CreateUserInput) -> Result<User> {
        let new = NewUser {
            username: input.username,
            email: input.email,
            full_name: input.full_name,
            role: input.role.map(Into::into),
            is_active: input.is_active,
            organization_id: ids::decode_opt(
                input.organization_id.as_ref(),
                Kind::Organization,
                "organizationId",
            )?,
        };
        Ok(User(service::user::create(db(ctx)?, actor(ctx)?, new).await?))
    }

    /// Changes a user: members their own profile, admins any user of their organization.
    async fn update_user(&self, ctx: &Context<'_>, input: UpdateUserInput) -> Result<User> {
        let id = ids::decode(&input.id, Kind::User, "id")?;
        let changes = UserChanges {
            username: input.username,
            email: input.email,
            full_name: maybe(input.full_name),
            role: input.role.map(Into::into),
            is_active: input.is_active,
        };
        Ok(User(
            service::user::update(db(ctx)?, actor(ctx)?, id, changes).await?,
        ))
    }

    /// Soft-deletes a user with their posts. Admins only.
    async fn soft_delete_user(&self, ctx: &Context<'_>, input: SoftDeleteUserInput) -> Result<User> {
        let id = ids::decode(&input.id, Kind::User, "id")?;
        Ok(User(service::user::soft_delete(db(ctx)?, actor(ctx)?, id).await?))
    }

    /// Restores a soft-deleted user and the posts their deletion cascaded to. Admins only.
    async fn restore_user(&self, ctx: &Context<'_>, input: RestoreUserInput) -> Result<User> {
        let id = ids::decode(&input.id, Kind::User, "id")?;
        Ok(User(service::user::restore(db(ctx)?, actor(ctx)?, id).await?))
    }

    /// Creates a post: members as themselves, admins for any author of their organization.
    async fn create_post(&self, ctx: &Context<'_>, input: CreatePostInput) -> Result<Post> {
        let new = NewPost {
            title: input.title,
            content: input.content,
            status: input.status.map(Into::into),
            author_id: ids::decode_opt(input.author_id.as_ref(), Kind::User, "authorId")?,
            organization_id: ids::decode_opt(
                input.organization_id.as_ref(),
                Kind::Organization,
                "organizationId",
            )?,
        };
        Ok(Post(service::post::create(db(ctx)?, actor(ctx)?, new).await?))
    }

    /// Changes a post. Its author or an admin.
    async fn update_post(&self, ctx: &Context<'_>, input: UpdatePostInput) -> Result<Post> {
        let id = ids::decode(&input.id, Kind::Post, "id")?;
        let changes = PostChanges {
            title: input.title,
            content: maybe(input.content),
            status: input.status.map(Into::into),
        };
        Ok(Post(
            service::post::update(db(ctx)?, actor(ctx)?, id, changes).await?,
        ))
    }

    /// Soft-deletes a post. Its author or an admin.
    async fn soft_delete_post(&self, ctx: &Context<'_>, input: SoftDeletePostInput) -> Result<Post> {
        let id = ids::decode(&input.id, Kind::Post, "id")?;
        Ok(Post(service::post::soft_delete(db(ctx)?, actor(ctx)?, id).await?))
    }

    /// Restores a soft-deleted post. Its author or an admin.
    async fn restore_post(&self, ctx: &Context<'_>, input: RestorePostInput) -> Result<Post> {
        let id = ids::decode(&input.id, Kind::Post, "id")?;
        Ok(Post(service::post::restore(db(ctx)?, actor(ctx)?, id).await?))
    }

    /// Counts one view of a post, atomically. Anyone who can read the post; not audited.
    async fn record_post_view(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The post's id.")] id: ID,
    ) -> Result<Post> {
        let id = ids::decode(&id, Kind::Post, "id")?;
        Ok(Post(
            service::post::record_view(db(ctx)?, viewer(ctx)?, id).await?,
        ))
    }
}
