//! Posts read with only the columns a selection needs, decoded by position.
//!
//! A page of 20 posts with every column decodes 300 values; a list of titles needs 80 of
//! them. Each value costs a getter, a type check and its decoding (UTF-8, a timestamp),
//! and each column lengthens the SQL that is built for every request. A `Columns` set says
//! which columns a read selects; the others are not in the statement and the decoded
//! `post::Model` holds a default for them.
//!
//! Such a model is partial: it goes only to the `Post` objects of the selection it was
//! read for (whose resolvers read only selected columns) and is never shared through a
//! loader, where another selection could find it.
use sea_orm::{
    ConnectionTrait, DbErr, EntityTrait, QueryResult, QuerySelect, QueryTrait, Select, Statement,
    sea_query::Expr,
};

use super::{
    column_set::{Ordered, Set},
    post::{self, Status},
    row::{get, get_enum},
};

/// Every column of `posts`, in the order a read selects them; a set's bit `i` stands for
/// `ORDER[i]`.
const ORDER: [post::Column; 15] = [
    post::Column::Id,
    post::Column::UserId,
    post::Column::OrganizationId,
    post::Column::Title,
    post::Column::Content,
    post::Column::Status,
    post::Column::ViewCount,
    post::Column::Slug,
    post::Column::Excerpt,
    post::Column::Featured,
    post::Column::PublishedAt,
    post::Column::PublishAt,
    post::Column::CreatedAt,
    post::Column::UpdatedAt,
    post::Column::DeletedAt,
];

/// A set of `posts` columns. The id, the author and the organization are always in it:
/// the object's own resolvers (`id`, `author`, `organization`, `tags`) need them.
pub type Columns = Set<post::Column>;

impl Ordered for post::Column {
    const ORDER: &'static [post::Column] = &ORDER;

    fn position(self) -> usize {
        use post::Column::*;
        match self {
            Id => 0,
            UserId => 1,
            OrganizationId => 2,
            Title => 3,
            Content => 4,
            Status => 5,
            ViewCount => 6,
            Slug => 7,
            Excerpt => 8,
            Featured => 9,
            PublishedAt => 10,
            PublishAt => 11,
            CreatedAt => 12,
            UpdatedAt => 13,
            DeletedAt => 14,
        }
    }
}

impl Set<post::Column> {
    /// The columns every read selects.
    pub const REQUIRED: Columns = Columns::from_bits(0b111);

    /// This set without `column` (a required column stays).
    #[must_use]
    pub fn without(self, column: post::Column) -> Columns {
        self.without_keeping(column, Self::REQUIRED)
    }
}

/// `select` (its conditions, order and limit) reading exactly `columns` of `posts`, in
/// `ORDER`: the positions `decode` reads them at.
pub fn select<E: EntityTrait>(select: Select<E>, columns: Columns) -> Select<E> {
    let mut select = select.select_only();
    for column in columns.iter() {
        // The plain column: `QuerySelect::column` builds the column's definition to look for
        // an enum cast, and `posts` has no database enum (`status` is a string).
        select = select.expr(Expr::col((post::Entity, column)));
    }
    select
}

/// The posts of a `select` statement (with `select`'s columns), reading only `columns`.
pub async fn all(
    db: &impl ConnectionTrait,
    statement: Statement,
    columns: Columns,
) -> Result<Vec<post::Model>, DbErr> {
    db.query_all_raw(statement)
        .await?
        .iter()
        .map(|row| decode(row, columns, 0))
        .collect()
}

/// The first post of `select`, reading only `columns`.
pub async fn one(
    db: &impl ConnectionTrait,
    select: Select<post::Entity>,
    columns: Columns,
) -> Result<Option<post::Model>, DbErr> {
    db.query_one(&self::select(select, columns).limit(1).into_query())
        .await?
        .map(|row| decode(&row, columns, 0))
        .transpose()
}

/// The post whose `columns` start at position `start` of `row` (as `select` placed them),
/// with defaults for the columns not read.
pub fn decode(row: &QueryResult, columns: Columns, start: usize) -> Result<post::Model, DbErr> {
    decode_with_id(row, columns, start, get(row, start)?)
}

/// `decode`, for a caller that has read the id already.
pub fn decode_with_id(
    row: &QueryResult,
    columns: Columns,
    start: usize,
    id: i32,
) -> Result<post::Model, DbErr> {
    // The id, the author and the organization are always the first three (read directly,
    // never asked of `take`).
    let mut positions = columns.positions(start + 3);
    let mut take = |column: post::Column| positions.take(column);
    macro_rules! get {
        ($column:ident) => {
            match take(post::Column::$column) {
                Some(at) => get(row, at)?,
                None => Default::default(),
            }
        };
    }
    Ok(post::Model {
        id,
        user_id: get(row, start + 1)?,
        organization_id: get(row, start + 2)?,
        // Fields are evaluated in the order written: `ORDER`'s.
        title: get!(Title),
        content: get!(Content),
        status: match take(post::Column::Status) {
            Some(at) => get_enum(row, at)?,
            None => Status::Draft,
        },
        view_count: get!(ViewCount),
        slug: get!(Slug),
        excerpt: get!(Excerpt),
        featured: get!(Featured),
        published_at: get!(PublishedAt),
        publish_at: get!(PublishAt),
        created_at: get!(CreatedAt),
        updated_at: get!(UpdatedAt),
        deleted_at: get!(DeletedAt),
    })
}

#[cfg(test)]
mod tests {
    use sea_orm::DbBackend;

    use super::*;

    #[test]
    fn a_read_selects_only_its_columns_in_order() {
        let columns = Columns::REQUIRED
            .with(post::Column::CreatedAt)
            .with(post::Column::Title);
        let sql = select(post::Entity::find(), columns)
            .build(DbBackend::Postgres)
            .to_string();
        assert_eq!(
            sql,
            r#"SELECT "posts"."id", "posts"."user_id", "posts"."organization_id", "posts"."title", "posts"."created_at" FROM "posts""#
        );
    }

    #[test]
    fn sets_hold_what_was_added_and_the_required_columns() {
        let columns = Columns::REQUIRED
            .with(post::Column::Title)
            .with(post::Column::DeletedAt);
        assert!(columns.contains(post::Column::Id));
        assert!(columns.contains(post::Column::UserId));
        assert!(columns.contains(post::Column::OrganizationId));
        assert!(columns.contains(post::Column::Title));
        assert!(columns.contains(post::Column::DeletedAt));
        assert!(!columns.contains(post::Column::Content));
        assert_eq!(columns.len(), 5);
        assert_eq!(Columns::ALL.len(), ORDER.len());
        for (i, column) in ORDER.into_iter().enumerate() {
            assert_eq!(column.position(), i, "{column:?}");
        }
        let all_but_content = Columns::ALL
            .without(post::Column::Content)
            .without(post::Column::Id);
        assert_eq!(all_but_content.len(), ORDER.len() - 1);
        assert!(!all_but_content.contains(post::Column::Content));
    }
}
