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

/// In-process buckets. A bucket idle for a minute is full again, the same as no bucket,
/// so once the map grows past `SWEEP_ABOVE` those are dropped (at most once a second):
/// the map holds only callers seen in the last minute.
#[derive(Default)]
struct Local {
    buckets: HashMap<String, Bucket>,
    swept: Option<Instant>,
}

const SWEEP_ABOVE: usize = 4_096;
/// Every quota refills from empty to full in a minute (`per_minute` tokens at
/// `per_minute / 60` a second).
const REFILLED: Duration = Duration::from_secs(60);

impl Local {
    fn sweep(&mut self, now: Instant) {
        if self.buckets.len() <= SWEEP_ABOVE
            || self
                .swept
                .is_some_and(|t| now.duration_since(t) < Duration::from_secs(1))
        {
            return;
        }
        self.buckets
            .retain(|_, b| now.duration_since(b.updated) < REFILLED);
        self.swept = Some(now);
    }
}

enum Store {
    Local(Mutex<Local>),
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
            Caller::Anonymous(ip) => (self.anonymous, format!("{}:ip:{}", self.prefix, network(ip))),
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

/// The network an anonymous caller is limited by: its IPv4 address, or the /64 of an IPv6
/// address (one subscriber's allocation: rotating addresses inside it is free).
fn network(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            format!("{}/64", std::net::Ipv6Addr::from(prefix))
        }
        Ok(std::net::IpAddr::V6(v6)) => v6
            .to_ipv4_mapped()
            .map_or_else(|| ip.to_owned(), |v4| v4.to_string()),
        _ => ip.to_owned(),
    }
}

fn take_local(local: &Mutex<Local>, key: &str, quota: Quota) -> Result<(), Duration> {
    let Ok(mut local) = local.lock() else {
        return Ok(());
    };
    let now = Instant::now();
    local.sweep(now);
    let bucket = local.buckets.entry(key.to_owned()).or_insert(Bucket {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_callers_share_their_64_and_ipv4_stays_whole() {
        assert_eq!(network("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(network("2001:db8:1:2:ffff:1:2:3"), "2001:db8:1:2::/64");
        assert_eq!(network("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(network("192.0.2.7"), "192.0.2.7");
    }

    #[test]
    fn idle_buckets_are_dropped_once_the_map_is_large() {
        let limiter = Mutex::new(Local::default());
        let quota = Quota::per_minute(10);
        for i in 0..=SWEEP_ABOVE {
            take_local(&limiter, &format!("ip:{i}"), quota).unwrap();
        }
        let mut local = limiter.lock().unwrap();
        assert_eq!(local.buckets.len(), SWEEP_ABOVE + 1);
        // A minute later every bucket is full again: all go.
        local.sweep(Instant::now() + REFILLED);
        assert!(local.buckets.is_empty());
    }
}
