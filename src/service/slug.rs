//! Post slugs: derived from the title when none is given, unique per organization among
//! live posts (`hello-world`, then `hello-world-2`, …), and a free one for a restored post
//! whose slug was taken meanwhile.
use std::collections::HashSet;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::{entity::post, error::ApiResult};

/// The longest a derived slug's base may be, leaving room for a `-N` suffix.
const BASE_MAX: usize = 190;

/// The title as a slug: accents folded to ASCII (`deunicode`), lowercase letters and
/// digits, words (split at spaces, `-` and `_`) joined by single hyphens, every other
/// character dropped; `post` when nothing is left.
pub fn derive(title: &str) -> String {
    let folded = deunicode::deunicode(title).to_ascii_lowercase();
    let mut slug = String::with_capacity(folded.len());
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if (c.is_whitespace() || c == '-' || c == '_') && !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= BASE_MAX {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "post".to_owned()
    } else {
        slug.to_owned()
    }
}

/// `base` if no live post of the organization (other than `except`) has it, else the
/// smallest free `base-N` (N ≥ 2). Slugs in `reserved` count as taken too (rows about to
/// come back in the same restore).
pub async fn free(
    db: &impl ConnectionTrait,
    organization_id: i32,
    base: &str,
    except: Option<i32>,
    reserved: &HashSet<String>,
) -> ApiResult<String> {
    let base = base
        .get(..BASE_MAX.min(base.len()))
        .unwrap_or(base)
        .trim_end_matches('-');
    let select = taken(organization_id, base, except);
    let taken: HashSet<String> = select.all(db).await?.into_iter().collect();
    let is_free = |slug: &str| !taken.contains(slug) && !reserved.contains(slug);
    if is_free(base) {
        return Ok(base.to_owned());
    }
    let n = (2..).find(|n| is_free(&format!("{base}-{n}"))).unwrap_or(2);
    Ok(format!("{base}-{n}"))
}

/// The live slugs of an organization that `base` or `base-N` could collide with.
fn taken(
    organization_id: i32,
    base: &str,
    except: Option<i32>,
) -> sea_orm::Selector<sea_orm::SelectGetableTuple<String>> {
    let mut select = post::Entity::find()
        .select_only()
        .column(post::Column::Slug)
        .filter(post::Column::OrganizationId.eq(organization_id))
        .filter(post::Column::DeletedAt.is_null())
        // `base` and every `base-…`, as one range of the live-slug index: slugs hold only
        // [a-z0-9-], and `.` is the character after `-` (a LIKE would scan the organization's
        // posts: SQLite's LIKE is case-insensitive and cannot use the index).
        .filter(post::Column::Slug.gte(base))
        .filter(post::Column::Slug.lt(format!("{base}.")));
    if let Some(id) = except {
        select = select.filter(post::Column::Id.ne(id));
    }
    select.into_tuple::<String>()
}

/// A post about to be restored whose slug a live post took meanwhile, and its new slug.
pub struct Renamed {
    pub id: i32,
    pub organization_id: i32,
    pub old: String,
    pub new: String,
}

/// Makes room for the posts a restore brings back: those whose `parent` column is
/// `parent_id` and whose `deleted_at` is `t` (the deletion being undone). Each whose slug
/// a live post of the organization has taken since gets the smallest free `-N` suffix
/// (not one of the returning posts' own), written while it is still deleted, so the
/// restore never breaks the live-slug uniqueness. The renames go into the restore's audit
/// entries.
pub async fn make_room_for_restore(
    txn: &crate::db::Txn,
    parent: post::Column,
    parent_id: i32,
    t: chrono::DateTime<chrono::Utc>,
) -> ApiResult<Vec<Renamed>> {
    use sea_orm::{DbBackend, Iden, Statement};

    let backend = txn.get_database_backend();
    let (p1, p2) = match backend {
        DbBackend::Postgres => ("$1", "$2"),
        _ => ("?", "?"),
    };
    let sql = format!(
        "SELECT p.id, p.organization_id, p.slug, EXISTS (SELECT 1 FROM posts q \
         WHERE q.organization_id = p.organization_id AND q.slug = p.slug AND q.deleted_at IS NULL) \
         FROM posts p WHERE p.{} = {p1} AND p.deleted_at = {p2}",
        parent.to_string()
    );
    let rows = txn
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [parent_id.into(), t.into()],
        ))
        .await?;
    let mut returning = HashSet::new();
    let mut collisions = Vec::new();
    for row in &rows {
        let (id, organization_id, slug, taken): (i32, i32, String, bool) = (
            row.try_get_by_index(0)?,
            row.try_get_by_index(1)?,
            row.try_get_by_index(2)?,
            row.try_get_by_index(3)?,
        );
        if taken {
            collisions.push((id, organization_id, slug));
        } else {
            returning.insert(slug);
        }
    }
    let mut renamed = Vec::with_capacity(collisions.len());
    for (id, organization_id, old) in collisions {
        let new = free(txn, organization_id, &old, Some(id), &returning).await?;
        post::Entity::update_many()
            .col_expr(post::Column::Slug, sea_orm::sea_query::Expr::value(new.clone()))
            .filter(post::Column::Id.eq(id))
            .exec(txn)
            .await?;
        returning.insert(new.clone());
        renamed.push(Renamed {
            id,
            organization_id,
            old,
            new,
        });
    }
    Ok(renamed)
}

/// The restore entry of a renamed post: its `deleted_at` and its `slug` change.
pub fn restore_entry(renamed: &Renamed, t: chrono::DateTime<chrono::Utc>) -> super::audit::Entry {
    super::audit::Entry {
        organization_id: Some(renamed.organization_id),
        action: crate::entity::audit_log::Action::Restore,
        table: "posts",
        record_id: renamed.id,
        old_values: Some(serde_json::json!({ "deleted_at": t, "slug": renamed.old })),
        new_values: Some(serde_json::json!({ "deleted_at": null, "slug": renamed.new })),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn titles_become_slugs() {
        assert_eq!(super::derive("Hello, World!"), "hello-world");
        assert_eq!(
            super::derive("  Crème brûlée — à la carte "),
            "creme-brulee-a-la-carte"
        );
        assert_eq!(super::derive("!!!"), "post");
        assert_eq!(super::derive("Don't stop: a/b_c"), "dont-stop-ab-c");
        assert!(super::derive(&"ab ".repeat(200)).len() <= 190);
    }

    /// Finding a free slug reads one range of the live-slug index, never the
    /// organization's posts (a `LIKE` did: 34 createPost/s at 100,000 posts on SQLite).
    #[tokio::test]
    async fn the_free_slug_lookup_searches_the_index() {
        let statement = super::taken(1, "hello-world", Some(3)).into_statement(sea_orm::DbBackend::Sqlite);
        let plan = crate::db::plan::sqlite_plan(&statement).await;
        assert!(
            plan.iter()
                .any(|p| p.contains("uq_posts_organization_id_slug_live") && p.contains("slug>? AND slug<?")),
            "{plan:#?}"
        );
    }
}
