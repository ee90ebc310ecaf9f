//! `expr IN (ids)` written the same for any number of ids, so a batch's statement is
//! prepared once per connection instead of once per batch size: the ids travel as one
//! text parameter — PostgreSQL `= ANY($1::int4[])` (an index scan on the array), SQLite
//! `IN (SELECT value FROM json_each(?))`.
use std::fmt::Write;

use sea_orm::{
    DbBackend,
    sea_query::{Expr, SimpleExpr},
};

/// `expr` is one of `ids`.
pub fn any_of(backend: DbBackend, expr: impl Into<SimpleExpr>, ids: &[i32]) -> SimpleExpr {
    let sql = match backend {
        DbBackend::Postgres => "$1 = ANY(CAST($2 AS int4[]))",
        // SQLite's builder substitutes `?` in order (`$N` is PostgreSQL's).
        _ => "? IN (SELECT value FROM json_each(?))",
    };
    Expr::cust_with_exprs(sql, [expr.into(), Expr::val(array_param(backend, ids))])
}

/// The ids as one array parameter: a PostgreSQL array literal (`{1,2}`) or a JSON array.
pub fn array_param(backend: DbBackend, ids: &[i32]) -> String {
    match backend {
        DbBackend::Postgres => array_text(ids, '{', '}'),
        _ => array_text(ids, '[', ']'),
    }
}

fn array_text(ids: &[i32], open: char, close: char) -> String {
    let mut text = String::with_capacity(2 + ids.len() * 8);
    text.push(open);
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        // Writing into a String cannot fail.
        let _ = write!(text, "{id}");
    }
    text.push(close);
    text
}

#[cfg(test)]
mod tests {
    use sea_orm::{EntityTrait, QueryFilter, QueryTrait, sea_query::Expr};

    use super::*;
    use crate::entity::post;

    #[test]
    fn one_statement_text_for_every_batch_size() {
        let sql = |backend: DbBackend, ids: &[i32]| {
            let select = post::Entity::find().filter(any_of(
                backend,
                Expr::col((post::Entity, post::Column::Id)),
                ids,
            ));
            let statement = select.build(backend);
            (statement.sql, statement.values.map(|v| v.0))
        };
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            let (one, one_values) = sql(backend, &[7]);
            let (three, three_values) = sql(backend, &[7, 8, 9]);
            assert_eq!(one, three, "{backend:?}");
            assert_ne!(one_values, three_values, "{one}");
        }
        let (pg, values) = sql(DbBackend::Postgres, &[7, 8, 9]);
        assert!(pg.contains(r#""posts"."id" = ANY(CAST($1 AS int4[]))"#), "{pg}");
        assert_eq!(values, Some(vec!["{7,8,9}".into()]));
        let (sqlite, values) = sql(DbBackend::Sqlite, &[7, 8, 9]);
        assert!(
            sqlite.contains(r#""posts"."id" IN (SELECT value FROM json_each(?))"#),
            "{sqlite}"
        );
        assert_eq!(values, Some(vec!["[7,8,9]".into()]));
    }
}
