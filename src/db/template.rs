//! Statements built once per request shape and reused with another id.
//!
//! Building `organization(id:) → users → posts`'s one statement with sea-query (about
//! 2,500 characters of SQL, every identifier quoted and formatted) cost ~120,000
//! instructions, more than decoding its 50 rows. Requests of the same shape (the same
//! caller, lists, arguments and columns) differ only in the organization's id, a bound
//! parameter: the SQL text is the same. A `Template` keeps one build and where the id
//! sits among its values; the next request of that shape clones it with its own id.
//!
//! The positions are found by building the statement twice, with two ids no row has, and
//! comparing the values: no guess about how the builder places them. A shape whose SQL
//! text changes with the id is not kept.
use std::{hash::Hash, num::NonZeroUsize, sync::Mutex};

use lru::LruCache;
use sea_orm::{Statement, Value};

/// Two ids no row has (ids are positive).
const PROBES: [i32; 2] = [i32::MIN, i32::MIN + 1];

/// A statement and the positions of its id among its values.
#[derive(Clone)]
pub struct Template {
    statement: Statement,
    slots: Vec<usize>,
}

impl Template {
    /// Builds the template of `build`; `None` when the id is not a plain parameter of the
    /// statement (its text changes with the id, or the id is not among its values).
    pub fn new<E>(build: impl Fn(i32) -> Result<Statement, E>) -> Result<Option<Template>, E> {
        let first = build(PROBES[0])?;
        let second = build(PROBES[1])?;
        let (Some(a), Some(b)) = (&first.values, &second.values) else {
            return Ok(None);
        };
        if first.sql != second.sql || a.0.len() != b.0.len() {
            return Ok(None);
        }
        let slots: Vec<usize> = (0..a.0.len()).filter(|&i| a.0[i] != b.0[i]).collect();
        let exact = slots
            .iter()
            .all(|&i| a.0[i] == Value::Int(Some(PROBES[0])) && b.0[i] == Value::Int(Some(PROBES[1])));
        if slots.is_empty() || !exact {
            return Ok(None);
        }
        Ok(Some(Template {
            statement: first,
            slots,
        }))
    }

    /// The statement for `id`.
    pub fn with(&self, id: i32) -> Statement {
        let mut statement = self.statement.clone();
        if let Some(values) = &mut statement.values {
            for &i in &self.slots {
                values.0[i] = Value::Int(Some(id));
            }
        }
        statement
    }
}

/// The templates of the shapes seen last, by shape.
pub struct Templates<K: Hash + Eq> {
    entries: Mutex<LruCache<K, Template>>,
}

impl<K: Hash + Eq> Templates<K> {
    pub fn new(capacity: NonZeroUsize) -> Self {
        Templates {
            entries: Mutex::new(LruCache::new(capacity)),
        }
    }

    /// `build(id)`, from the template of `shape` when there is one (made on first use).
    pub fn statement<E>(
        &self,
        shape: K,
        id: i32,
        build: impl Fn(i32) -> Result<Statement, E>,
    ) -> Result<Statement, E> {
        let cached = self
            .entries
            .lock()
            .ok()
            .and_then(|mut entries| entries.get(&shape).map(|t| t.with(id)));
        if let Some(statement) = cached {
            return Ok(statement);
        }
        match Template::new(&build)? {
            Some(template) => {
                let statement = template.with(id);
                if let Ok(mut entries) = self.entries.lock() {
                    entries.put(shape, template);
                }
                Ok(statement)
            }
            None => build(id),
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbBackend, EntityTrait, QueryFilter, QueryTrait, sea_query::ExprTrait};

    use super::*;
    use crate::entity::{post, user};
    use sea_orm::ColumnTrait;

    fn build(id: i32) -> Result<Statement, ()> {
        Ok(post::Entity::find()
            .filter(post::Column::OrganizationId.eq(id))
            .filter(post::Column::ViewCount.gt(5))
            .filter(
                post::Column::UserId.in_subquery(
                    user::Entity::find()
                        .filter(user::Column::OrganizationId.eq(id))
                        .into_query()
                        .to_owned(),
                ),
            )
            .build(DbBackend::Postgres))
    }

    #[test]
    fn a_template_gives_the_statement_built_for_the_id() {
        let template = Template::new(build).ok().flatten();
        let Some(template) = template else {
            panic!("no template for a plain parameter");
        };
        for id in [1, 42, i32::MAX] {
            assert_eq!(Some(template.with(id)), build(id).ok(), "id {id}");
        }
        // The other values stay where they were.
        assert_eq!(template.slots.len(), 2);
    }

    #[test]
    fn a_statement_whose_text_depends_on_the_id_is_not_kept() {
        let shaped = |id: i32| -> Result<Statement, ()> {
            let select = post::Entity::find();
            let select = if id % 2 == 0 {
                select.filter(post::Column::Id.eq(id))
            } else {
                select.filter(post::Column::UserId.eq(id).and(post::Column::Id.gt(0)))
            };
            Ok(select.build(DbBackend::Postgres))
        };
        assert!(Template::new(shaped).ok().flatten().is_none());
        let templates = Templates::new(NonZeroUsize::MIN);
        for id in [3, 4] {
            assert_eq!(templates.statement("shape", id, shaped).ok(), shaped(id).ok());
        }
    }
}
