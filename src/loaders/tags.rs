//! `Post.tags`: the live tags of every post of a level, in one statement.
use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;

use crate::{auth::Viewer, db::Db, entity::tag, error::ApiError, service};

/// The tags of posts by post id, in the order set; a post without tags maps to nothing.
pub struct PostTags {
    db: Db,
    viewer: Viewer,
}

impl PostTags {
    pub fn new(db: &Db, viewer: &Viewer) -> Self {
        PostTags {
            db: db.clone(),
            viewer: viewer.clone(),
        }
    }
}

impl Loader<i32> for PostTags {
    type Value = Vec<tag::Model>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[i32]) -> Result<HashMap<i32, Self::Value>, Self::Error> {
        service::tag::tags_of_posts(&self.db, &self.viewer, keys)
            .await
            .map_err(Arc::new)
    }
}
