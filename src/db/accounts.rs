//! The accounts behind user tokens, cached per instance: a signed-in request reads its
//! viewer from memory instead of running a statement.
//!
//! A change that can end or narrow a token's access (a user's role, `isActive`, soft
//! delete or restore; an organization's `isActive`, soft delete or restore) calls
//! `Txn::forget_account`. On this instance the entries go when the transaction commits,
//! before its response; on PostgreSQL the transaction also sends `NOTIFY` on `CHANNEL`,
//! which PostgreSQL delivers to every instance's listener when (and only when) it commits.
//! While an instance's listener is not connected it cannot hear of changes, so its cache
//! is off (every request reads its account) until the listener is back, which clears it.
//! An entry lives at most the configured time whatever happens (a listener whose
//! connection died silently).
//!
//! Races: a lookup notes the cache's generation before it reads the database and stores
//! its row only if no change was forgotten meanwhile, so a row read before a commit is
//! never stored after that commit's invalidation.
use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// The PostgreSQL channel account changes are announced on.
pub const CHANNEL: &str = "blogql_accounts";

/// Entries kept at most; past it the cache starts over (tokens of 100,000 distinct users
/// within one entry's lifetime).
const MAX_ENTRIES: usize = 100_000;

/// What authentication needs to know of a user, as read from the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountRow {
    pub id: i32,
    pub organization_id: i32,
    pub admin: bool,
    /// Neither the user nor their organization is deleted or inactive.
    pub usable: bool,
}

/// A change that invalidates cached accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountChange {
    User(i32),
    /// Every user of the organization.
    Organization(i32),
}

impl AccountChange {
    /// The `NOTIFY` payload: `user:7`, `organization:3`.
    pub fn payload(self) -> String {
        match self {
            AccountChange::User(id) => format!("user:{id}"),
            AccountChange::Organization(id) => format!("organization:{id}"),
        }
    }

    pub fn parse(payload: &str) -> Option<AccountChange> {
        let (kind, id) = payload.split_once(':')?;
        let id = id.parse().ok()?;
        match kind {
            "user" => Some(AccountChange::User(id)),
            "organization" => Some(AccountChange::Organization(id)),
            _ => None,
        }
    }

    fn covers(self, account: &AccountRow) -> bool {
        match self {
            AccountChange::User(id) => account.id == id,
            AccountChange::Organization(id) => account.organization_id == id,
        }
    }
}

/// The cache; `AccountCache::off()` never holds anything.
pub struct AccountCache {
    ttl: Duration,
    state: Mutex<State>,
}

struct State {
    entries: HashMap<i32, (AccountRow, Instant)>,
    /// Bumped by every invalidation.
    generation: u64,
    /// Whether every change is heard (SQLite: always; PostgreSQL: while the listener is
    /// connected).
    hearing: bool,
}

/// A cache miss: the generation to store the row read next under.
#[derive(Clone, Copy, Debug)]
pub struct Miss(u64);

impl AccountCache {
    /// Entries live `ttl` (zero: no caching). With `hears_changes` false the cache stays
    /// off until `heard_all` (the listener has connected).
    pub fn new(ttl: Duration, hears_changes: bool) -> AccountCache {
        AccountCache {
            ttl,
            state: Mutex::new(State {
                entries: HashMap::new(),
                generation: 0,
                hearing: hears_changes,
            }),
        }
    }

    pub fn off() -> AccountCache {
        AccountCache::new(Duration::ZERO, false)
    }

    /// The cached account `id`, or the `Miss` to store a fresh read under.
    pub fn get(&self, id: i32) -> Result<AccountRow, Miss> {
        let Ok(state) = self.state.lock() else {
            return Err(Miss(u64::MAX));
        };
        match state.entries.get(&id) {
            Some((account, at)) if state.hearing && at.elapsed() < self.ttl => Ok(*account),
            _ => Err(Miss(state.generation)),
        }
    }

    /// Stores `account`, read after `miss`, unless a change was forgotten since.
    pub fn insert(&self, account: AccountRow, miss: Miss) {
        if self.ttl.is_zero() {
            return;
        }
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if !state.hearing || state.generation != miss.0 {
            return;
        }
        if state.entries.len() >= MAX_ENTRIES {
            state.entries.clear();
        }
        state.entries.insert(account.id, (account, Instant::now()));
    }

    /// Drops the entries `change` covers.
    pub fn forget(&self, change: AccountChange) {
        if let Ok(mut state) = self.state.lock() {
            state.generation += 1;
            state.entries.retain(|_, (account, _)| !change.covers(account));
        }
    }

    /// Drops every entry; with `hearing` false the cache is off until called again with
    /// true (the listener lost its connection / has it back).
    pub fn forget_all(&self, hearing: bool) {
        if let Ok(mut state) = self.state.lock() {
            state.generation += 1;
            state.entries.clear();
            state.hearing = hearing;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: i32, organization_id: i32) -> AccountRow {
        AccountRow {
            id,
            organization_id,
            admin: false,
            usable: true,
        }
    }

    #[test]
    fn changes_drop_their_entries_and_reads_from_before_them() {
        let cache = AccountCache::new(Duration::from_secs(60), true);
        let Err(miss) = cache.get(1) else {
            panic!("empty cache hit")
        };
        cache.insert(account(1, 10), miss);
        let Err(miss) = cache.get(2) else { panic!("hit") };
        cache.insert(account(2, 20), miss);
        assert_eq!(cache.get(1).ok(), Some(account(1, 10)));

        cache.forget(AccountChange::Organization(10));
        assert!(cache.get(1).is_err());
        assert_eq!(cache.get(2).ok(), Some(account(2, 20)));

        // A read that started before a change is not stored after it.
        let Err(before) = cache.get(1) else { panic!("hit") };
        cache.forget(AccountChange::User(1));
        cache.insert(account(1, 10), before);
        assert!(cache.get(1).is_err());

        cache.forget(AccountChange::User(2));
        assert!(cache.get(2).is_err());
    }

    #[test]
    fn a_deaf_cache_and_an_off_cache_hold_nothing() {
        let cache = AccountCache::new(Duration::from_secs(60), false);
        let Err(miss) = cache.get(1) else { panic!("hit") };
        cache.insert(account(1, 10), miss);
        assert!(cache.get(1).is_err());
        cache.forget_all(true);
        let Err(miss) = cache.get(1) else { panic!("hit") };
        cache.insert(account(1, 10), miss);
        assert!(cache.get(1).is_ok());
        cache.forget_all(false);
        assert!(cache.get(1).is_err());

        let off = AccountCache::off();
        let Err(miss) = off.get(1) else { panic!("hit") };
        off.insert(account(1, 10), miss);
        assert!(off.get(1).is_err());
    }

    #[test]
    fn payloads_round_trip() {
        for change in [AccountChange::User(7), AccountChange::Organization(3)] {
            assert_eq!(AccountChange::parse(&change.payload()), Some(change));
        }
        assert_eq!(AccountChange::parse("user:x"), None);
        assert_eq!(AccountChange::parse("post:1"), None);
    }
}
