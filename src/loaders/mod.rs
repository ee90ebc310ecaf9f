//! Request-scoped DataLoaders. Built per request with the viewer, so every batch goes
//! through the same tenant scope as a single read, and caching lasts one request.
mod by_id;
pub mod children;
pub mod nested;
mod tags;
pub mod with_authors;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock, atomic::AtomicU64},
    time::Duration,
};

use async_graphql::dataloader::DataLoader;
use futures_util::future::BoxFuture;

pub use self::{by_id::ById, children::load_page};
use self::{
    children::{ChildCounts, ChildPages},
    nested::UsersWithPosts,
    tags::PostTags,
    with_authors::PostPagesWithAuthors,
};
use crate::{
    auth::Viewer,
    db::Db,
    entity::{audit_log, organization, post, scope, tag, user},
    service::{post::PostChildren, tag::TagPosts, user::UserChildren},
};

/// Loaders by primary key (deleted rows included: a visible child always has its parent
/// visible to the same viewer, an admin listing deleted children needs their deleted
/// parents, and `node` drops deleted rows itself), and the nested lists.
///
/// Each is built on first use: most requests need one or two of the fourteen, and
/// building one means building its scoped query.
pub struct Loaders {
    db: Db,
    viewer: Viewer,
    factory: Factory,
    organization: OnceLock<DataLoader<ById<organization::Entity>>>,
    user: OnceLock<DataLoader<ById<user::Entity>>>,
    post: OnceLock<DataLoader<ById<post::Entity>>>,
    audit_log: OnceLock<DataLoader<ById<audit_log::Entity>>>,
    post_pages: OnceLock<DataLoader<ChildPages<PostChildren>>>,
    post_pages_with_authors: OnceLock<DataLoader<PostPagesWithAuthors>>,
    post_counts: OnceLock<Arc<DataLoader<ChildCounts<PostChildren>>>>,
    user_pages: OnceLock<DataLoader<ChildPages<UserChildren>>>,
    user_counts: OnceLock<Arc<DataLoader<ChildCounts<UserChildren>>>>,
    tag: OnceLock<DataLoader<ById<tag::Entity>>>,
    post_tags: OnceLock<DataLoader<PostTags>>,
    tag_post_pages: OnceLock<DataLoader<ChildPages<TagPosts>>>,
    tag_post_counts: OnceLock<Arc<DataLoader<ChildCounts<TagPosts>>>>,
    users_with_posts: OnceLock<DataLoader<UsersWithPosts>>,
    /// Posts pages read with their users (`nested`), for `User.posts` to take.
    primed_posts: Primed<PostChildren, post::Model>,
    /// Users pages read with their organization, for `Organization.users` to take.
    primed_users: Primed<UserChildren, user::Model>,
}

/// Pages read with the level above them, by list and parent, for that list's resolver to
/// take. A request holds one list or two: a vector searched with `==` costs less than
/// hashing a list's whole spec once for every parent that takes its page.
struct Primed<L, M>(Mutex<Vec<(L, Pages<M>)>>);

/// Pages by parent id.
type Pages<M> = HashMap<i32, Vec<M>>;

impl<L, M> Default for Primed<L, M> {
    fn default() -> Self {
        Primed(Mutex::default())
    }
}

impl<L: PartialEq, M> Primed<L, M> {
    fn put(&self, list: L, pages: impl IntoIterator<Item = (i32, Vec<M>)>) {
        let Ok(mut primed) = self.0.lock() else {
            return;
        };
        match primed.iter_mut().find(|(l, _)| *l == list) {
            Some((_, of_list)) => of_list.extend(pages),
            None => primed.push((list, pages.into_iter().collect())),
        }
    }

    fn take(&self, list: &L, parent: i32) -> Option<Vec<M>> {
        let mut primed = self.0.lock().ok()?;
        let (_, of_list) = primed.iter_mut().find(|(l, _)| l == list)?;
        of_list.remove(&parent)
    }
}

/// How a request's loaders are made: how long they collect keys (see
/// `BLOGQL_DATALOADER_DELAY_MS`) and which statement counter their tasks report to.
struct Factory {
    delay: Duration,
    statements: Arc<AtomicU64>,
}

impl Factory {
    /// `ById` remembers its batches itself, so no DataLoader caches.
    fn make<L: Send + Sync + 'static>(&self, loader: L) -> DataLoader<L> {
        let statements = self.statements.clone();
        // Batch tasks log and count within the request that made the loader.
        let span = tracing::Span::current();
        let spawn = move |batch: BoxFuture<'static, ()>| {
            let batch = crate::db::REQUEST_STATEMENTS.scope(statements.clone(), batch);
            tokio::spawn(tracing::Instrument::instrument(batch, span.clone()));
        };
        DataLoader::new(loader, spawn).delay(self.delay)
    }
}

tokio::task_local! {
    /// The loaders of the subscription event being resolved (see `graphql::context::loaders`).
    pub static EVENT_LOADERS: Arc<Loaders>;
}

const DELETED: scope::Deleted = scope::Deleted::Include;

impl Loaders {
    pub fn new(db: &Db, viewer: &Viewer, delay: Duration, statements: Arc<AtomicU64>) -> Self {
        Loaders {
            db: db.clone(),
            viewer: viewer.clone(),
            factory: Factory { delay, statements },
            organization: OnceLock::new(),
            user: OnceLock::new(),
            post: OnceLock::new(),
            audit_log: OnceLock::new(),
            post_pages: OnceLock::new(),
            post_pages_with_authors: OnceLock::new(),
            post_counts: OnceLock::new(),
            user_pages: OnceLock::new(),
            user_counts: OnceLock::new(),
            tag: OnceLock::new(),
            post_tags: OnceLock::new(),
            tag_post_pages: OnceLock::new(),
            tag_post_counts: OnceLock::new(),
            users_with_posts: OnceLock::new(),
            primed_posts: Primed::default(),
            primed_users: Primed::default(),
        }
    }

    /// Organizations' user pages with each user's posts page, in one statement.
    pub fn users_with_posts(&self) -> &DataLoader<UsersWithPosts> {
        self.users_with_posts
            .get_or_init(|| self.factory.make(UsersWithPosts::new(&self.db, &self.viewer)))
    }

    /// Keeps the pages of posts list `list` read with their users (by user id) for
    /// `take_posts`.
    pub fn prime_posts(&self, list: PostChildren, pages: HashMap<i32, Vec<post::Model>>) {
        self.primed_posts.put(list, pages);
    }

    /// Keeps organization `organization`'s page of users list `list`, read with it, for
    /// `take_users`.
    pub fn prime_users(&self, list: UserChildren, organization: i32, rows: Vec<user::Model>) {
        self.primed_users.put(list, [(organization, rows)]);
    }

    /// The rows of `organization`'s page of users list `list`, if they were read with it.
    pub fn take_users(&self, list: &UserChildren, organization: i32) -> Option<Vec<user::Model>> {
        self.primed_users.take(list, organization)
    }

    /// The rows of `user`'s page of posts list `list`, if they were read with the user.
    pub fn take_posts(&self, list: &PostChildren, user: i32) -> Option<Vec<post::Model>> {
        self.primed_posts.take(list, user)
    }

    pub fn organization(&self) -> &DataLoader<ById<organization::Entity>> {
        self.organization.get_or_init(|| {
            self.factory.make(ById::new(
                &self.db,
                scope::organizations(&self.viewer, DELETED),
                organization::Column::Id,
                |m: &organization::Model| m.id,
            ))
        })
    }

    pub fn user(&self) -> &DataLoader<ById<user::Entity>> {
        self.user.get_or_init(|| {
            self.factory.make(ById::new(
                &self.db,
                scope::users(&self.viewer, DELETED),
                user::Column::Id,
                |m: &user::Model| m.id,
            ))
        })
    }

    pub fn post(&self) -> &DataLoader<ById<post::Entity>> {
        self.post.get_or_init(|| {
            self.factory.make(ById::new(
                &self.db,
                scope::posts(&self.viewer, DELETED),
                post::Column::Id,
                |m: &post::Model| m.id,
            ))
        })
    }

    pub fn audit_log(&self) -> &DataLoader<ById<audit_log::Entity>> {
        self.audit_log.get_or_init(|| {
            self.factory.make(ById::new(
                &self.db,
                scope::audit_logs(&self.viewer),
                audit_log::Column::Id,
                |m: &audit_log::Model| m.id,
            ))
        })
    }

    pub fn post_pages(&self) -> &DataLoader<ChildPages<PostChildren>> {
        self.post_pages
            .get_or_init(|| self.factory.make(ChildPages::new(&self.db, &self.viewer)))
    }

    /// Posts pages with each post's author, in one statement (`Organization.posts { author }`).
    pub fn post_pages_with_authors(&self) -> &DataLoader<PostPagesWithAuthors> {
        self.post_pages_with_authors.get_or_init(|| {
            self.factory
                .make(PostPagesWithAuthors::new(&self.db, &self.viewer))
        })
    }

    pub fn post_counts(&self) -> &Arc<DataLoader<ChildCounts<PostChildren>>> {
        self.post_counts
            .get_or_init(|| Arc::new(self.factory.make(ChildCounts::new(&self.db, &self.viewer))))
    }

    pub fn user_pages(&self) -> &DataLoader<ChildPages<UserChildren>> {
        self.user_pages
            .get_or_init(|| self.factory.make(ChildPages::new(&self.db, &self.viewer)))
    }

    pub fn user_counts(&self) -> &Arc<DataLoader<ChildCounts<UserChildren>>> {
        self.user_counts
            .get_or_init(|| Arc::new(self.factory.make(ChildCounts::new(&self.db, &self.viewer))))
    }

    pub fn tag(&self) -> &DataLoader<ById<tag::Entity>> {
        self.tag.get_or_init(|| {
            self.factory.make(ById::new(
                &self.db,
                scope::tags(&self.viewer, DELETED),
                tag::Column::Id,
                |m: &tag::Model| m.id,
            ))
        })
    }

    /// `Post.tags` of every post of a level.
    pub fn post_tags(&self) -> &DataLoader<PostTags> {
        self.post_tags
            .get_or_init(|| self.factory.make(PostTags::new(&self.db, &self.viewer)))
    }

    pub fn tag_post_pages(&self) -> &DataLoader<ChildPages<TagPosts>> {
        self.tag_post_pages
            .get_or_init(|| self.factory.make(ChildPages::new(&self.db, &self.viewer)))
    }

    /// `Tag.posts { totalCount }` and `Tag.postCount`.
    pub fn tag_post_counts(&self) -> &Arc<DataLoader<ChildCounts<TagPosts>>> {
        self.tag_post_counts
            .get_or_init(|| Arc::new(self.factory.make(ChildCounts::new(&self.db, &self.viewer))))
    }
}
