//! Apollo automatic persisted queries (`extensions.persistedQuery {version: 1,
//! sha256Hash}`): a client sends only the hash; when the server does not know it, it
//! answers `PERSISTED_QUERY_NOT_FOUND` and the client retries with the query, which is
//! stored under its hash once the hash is checked. Hash-only GETs are what CDNs cache.
//!
//! The store is an in-process LRU, or Redis when `BLOGQL_REDIS_URL` is set, so every
//! instance knows a hash registered on another.
use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_graphql::{Request, Value};
use lru::LruCache;
use redis::{AsyncCommands, aio::ConnectionManager};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// Documents the in-process store keeps (the least recently used go first).
const MEMORY_CAPACITY: usize = 2_048;
/// How long Redis keeps a document after it was last registered.
const REDIS_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

pub enum Store {
    Memory(Mutex<LruCache<String, Arc<str>>>),
    Redis {
        redis: ConnectionManager,
        prefix: String,
    },
}

impl Store {
    pub fn memory() -> Store {
        let capacity = NonZeroUsize::new(MEMORY_CAPACITY).unwrap_or(NonZeroUsize::MIN);
        Store::Memory(Mutex::new(LruCache::new(capacity)))
    }

    pub async fn redis(url: &str, prefix: &str) -> Result<Store, String> {
        let client = redis::Client::open(url).map_err(|e| format!("BLOGQL_REDIS_URL: {e}"))?;
        let redis = ConnectionManager::new(client)
            .await
            .map_err(|e| format!("BLOGQL_REDIS_URL: {e}"))?;
        Ok(Store::Redis {
            redis,
            prefix: format!("{prefix}:apq:"),
        })
    }

    /// A store that cannot answer (Redis down) counts as a miss: the client resends the
    /// query and the request still runs.
    async fn get(&self, hash: &str) -> Option<String> {
        match self {
            Store::Memory(lru) => lru.lock().ok()?.get(hash).map(|q| q.to_string()),
            Store::Redis { redis, prefix } => {
                let mut redis = redis.clone();
                match redis.get::<_, Option<String>>(format!("{prefix}{hash}")).await {
                    Ok(query) => query,
                    Err(e) => {
                        tracing::warn!(error = %e, "persisted-query store unavailable");
                        None
                    }
                }
            }
        }
    }

    async fn put(&self, hash: &str, query: &str) {
        match self {
            Store::Memory(lru) => {
                if let Ok(mut lru) = lru.lock() {
                    lru.put(hash.to_owned(), Arc::from(query));
                }
            }
            Store::Redis { redis, prefix } => {
                let mut redis = redis.clone();
                let key = format!("{prefix}{hash}");
                if let Err(e) = redis.set_ex::<_, _, ()>(key, query, REDIS_TTL.as_secs()).await {
                    tracing::warn!(error = %e, "persisted-query store unavailable");
                }
            }
        }
    }
}

/// The lowercase hex SHA-256 of a document, as Apollo and Relay compute it.
pub fn sha256_hex(text: &str) -> String {
    use std::fmt::Write;
    Sha256::digest(text.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

fn bad(message: &str) -> ApiError {
    ApiError::BadUserInput {
        message: message.to_owned(),
        field: None,
    }
}

/// The hash of `extensions.persistedQuery`, if the request has one.
pub fn requested_hash(request: &Request) -> Result<Option<String>, ApiError> {
    let Some(extension) = request.extensions.get("persistedQuery") else {
        return Ok(None);
    };
    let Value::Object(extension) = extension else {
        return Err(bad("`extensions.persistedQuery` must be an object"));
    };
    match extension.get("version") {
        Some(Value::Number(n)) if n.as_u64() == Some(1) => {}
        _ => return Err(bad("`extensions.persistedQuery.version` must be 1")),
    }
    match extension.get("sha256Hash") {
        Some(Value::String(hash)) if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Some(hash.to_ascii_lowercase()))
        }
        _ => Err(bad(
            "`extensions.persistedQuery.sha256Hash` must be a SHA-256 in hex",
        )),
    }
}

/// Fills in the query of a hash-only request from `store`, or registers the query of a
/// request that sends both (after checking the hash). `store` is `None` when automatic
/// persisted queries are off: a hash-only request is then `PERSISTED_QUERY_NOT_SUPPORTED`,
/// and Apollo's link falls back to sending full queries.
pub async fn resolve(store: Option<&Store>, request: &mut Request) -> Result<(), ApiError> {
    let Some(hash) = requested_hash(request)? else {
        return Ok(());
    };
    if request.query.is_empty() {
        let store = store.ok_or(ApiError::PersistedQueryNotSupported)?;
        request.query = store.get(&hash).await.ok_or(ApiError::PersistedQueryNotFound)?;
        return Ok(());
    }
    if sha256_hex(&request.query) != hash {
        return Err(bad(
            "`extensions.persistedQuery.sha256Hash` is not the SHA-256 of `query`",
        ));
    }
    if let Some(store) = store {
        store.put(&hash, &request.query).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_like_apollo() {
        assert_eq!(
            sha256_hex("{ __typename }"),
            "7f56e67dd21ab3f30d1ff8b7bed08893f0a0db86449836189b361dd1e56ddb4b"
        );
    }
}
