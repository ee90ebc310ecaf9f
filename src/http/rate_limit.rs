//! Token buckets per caller: per user or platform admin when signed in, per client IP
//! when anonymous. In-process by default; with `BLOGQL_REDIS_URL` the buckets live in
//! Redis so all instances share them.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use redis::{Script, aio::ConnectionManager};

/// A bucket's size and refill rate: `per_minute` requests, refilled evenly.
#[derive(Clone, Copy, Debug)]
pub struct Quota {
    per_minute: u32,
}

impl Quota {
    pub fn per_minute(per_minute: u32) -> Self {
        Quota { per_minute }
    }

    fn capacity(self) -> f64 {
        f64::from(self.per_minute)
    }

    fn refill_per_second(self) -> f64 {
        f64::from(self.per_minute) / 60.0
    }
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

enum Store {
    Local(Mutex<HashMap<String, Bucket>>),
    Redis(ConnectionManager),
}

/// Atomically refills and takes one token; returns {allowed, seconds to wait}. The
/// clock is Redis's, so instances with skewed clocks agree.
const TAKE: &str = r#"
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return {allowed, tostring(wait)}
"#;

#[derive(Clone)]
pub struct RateLimiter {
    signed_in: Quota,
    anonymous: Quota,
    prefix: String,
    store: Arc<Store>,
}

/// Which bucket a request draws from.
pub enum Caller<'a> {
    SignedIn(&'a str),
    Anonymous(&'a str),
}

impl RateLimiter {
    pub async fn new(
        signed_in: Quota,
        anonymous: Quota,
        redis_url: Option<&str>,
        prefix: &str,
    ) -> Result<Self, String> {
        let store = match redis_url {
            None => Store::Local(Mutex::default()),
            Some(url) => {
                let client = redis::Client::open(url).map_err(|e| format!("BLOGQL_REDIS_URL: {e}"))?;
                let manager = ConnectionManager::new(client)
                    .await
                    .map_err(|e| format!("BLOGQL_REDIS_URL: cannot connect: {e}"))?;
                Store::Redis(manager)
            }
        };
        Ok(RateLimiter {
            signed_in,
            anonymous,
            prefix: prefix.to_owned(),
            store: Arc::new(store),
        })
    }

    /// `Err(wait)` when the caller's bucket is empty.
    pub async fn check(&self, caller: Caller<'_>) -> Result<(), Duration> {
        let (quota, key) = match caller {
            Caller::SignedIn(who) => (self.signed_in, format!("{}:{who}", self.prefix)),
            Caller::Anonymous(ip) => (self.anonymous, format!("{}:ip:{ip}", self.prefix)),
        };
        if quota.per_minute == 0 {
            return Ok(());
        }
        match &*self.store {
            Store::Local(buckets) => take_local(buckets, &key, quota),
            Store::Redis(manager) => {
                let mut conn = manager.clone();
                let result: Result<(i64, String), _> = Script::new(TAKE)
                    .key(&key)
                    .arg(quota.capacity())
                    .arg(quota.refill_per_second())
                    .invoke_async(&mut conn)
                    .await;
                match result {
                    Ok((1, _)) => Ok(()),
                    Ok((_, wait)) => Err(Duration::from_secs_f64(wait.parse().unwrap_or(1.0))),
                    Err(e) => {
                        // Fail open: an unreachable Redis must not take the API down.
                        tracing::warn!(error = %e, "rate limiter: Redis unavailable, request allowed");
                        Ok(())
                    }
                }
            }
        }
    }
}

fn take_local(buckets: &Mutex<HashMap<String, Bucket>>, key: &str, quota: Quota) -> Result<(), Duration> {
    let Ok(mut buckets) = buckets.lock() else {
        return Ok(());
    };
    let now = Instant::now();
    let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
        tokens: quota.capacity(),
        updated: now,
    });
    let elapsed = now.duration_since(bucket.updated).as_secs_f64();
    bucket.tokens = (bucket.tokens + elapsed * quota.refill_per_second()).min(quota.capacity());
    bucket.updated = now;
    if bucket.tokens >= 1.0 {
        bucket.tokens -= 1.0;
        Ok(())
    } else {
        Err(Duration::from_secs_f64(
            (1.0 - bucket.tokens) / quota.refill_per_second(),
        ))
    }
}
