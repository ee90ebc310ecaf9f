//! Bearer JWTs: verification with a pinned algorithm, and minting for development.
use std::{num::NonZeroUsize, sync::Mutex};

use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode, get_current_timestamp,
};
use lru::LruCache;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// The claim value that makes a token a platform admin's.
pub const PLATFORM_ADMIN: &str = "platform_admin";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// A user's database id, or any subject for platform admins.
    pub sub: String,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// A string or an array of strings (RFC 7519); only written as a string here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<serde_json::Value>,
}

/// Who a valid token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    User(i32),
    PlatformAdmin(String),
}

/// Where the verification key comes from.
pub enum KeySource<'a> {
    /// HS256 shared secret.
    Secret(&'a str),
    /// RS256 or ES256 public key, PEM.
    PublicKeyPem(&'a str),
}

pub struct Verifier {
    key: DecodingKey,
    validation: Validation,
    /// The claim holding the user's database id (`sub` unless configured).
    user_claim: String,
    /// Tokens whose signature and claims were verified, by their text. A client sends
    /// the same token with every request; checking its signature and parsing its claims
    /// again cost ~40,000 instructions a request (HMAC, base64, JSON). Only the checks
    /// that depend on the time (`exp`, `nbf`) are made again on a hit.
    verified: Mutex<LruCache<Box<str>, Verified>>,
}

/// What a verified token says, and the times it is valid between.
#[derive(Clone)]
struct Verified {
    subject: Subject,
    exp: Option<i64>,
    nbf: Option<u64>,
}

/// Tokens remembered per instance (a few hundred bytes each).
const VERIFIED_TOKENS: NonZeroUsize = NonZeroUsize::new(4096).unwrap();

impl Verifier {
    pub fn new(
        source: KeySource<'_>,
        issuer: Option<&str>,
        audience: Option<&str>,
        user_claim: &str,
    ) -> Result<Self, String> {
        let (key, algorithm) = match source {
            KeySource::Secret(secret) => {
                if secret.len() < 16 {
                    return Err("BLOGQL_JWT_SECRET must be at least 16 characters".into());
                }
                (DecodingKey::from_secret(secret.as_bytes()), Algorithm::HS256)
            }
            KeySource::PublicKeyPem(pem) => {
                if let Ok(key) = DecodingKey::from_rsa_pem(pem.as_bytes()) {
                    (key, Algorithm::RS256)
                } else if let Ok(key) = DecodingKey::from_ec_pem(pem.as_bytes()) {
                    (key, Algorithm::ES256)
                } else {
                    return Err("BLOGQL_JWT_PUBLIC_KEY is not an RSA or EC public key in PEM".into());
                }
            }
        };
        // `Validation::new` pins the one algorithm: `alg: none` or a swapped algorithm fails.
        let mut validation = Validation::new(algorithm);
        validation.leeway = 30;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        match issuer {
            Some(iss) => validation.set_issuer(&[iss]),
            None => validation.iss = None,
        }
        match audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        Ok(Verifier {
            key,
            validation,
            user_claim: user_claim.to_owned(),
            verified: Mutex::new(LruCache::new(VERIFIED_TOKENS)),
        })
    }

    pub fn verify(&self, token: &str) -> Result<Subject, ApiError> {
        self.verify_expiring(token).map(|(subject, _)| subject)
    }

    /// `verify`, with the token's `exp` (seconds since the epoch): a WebSocket connection
    /// ends when its token expires.
    pub fn verify_expiring(&self, token: &str) -> Result<(Subject, Option<i64>), ApiError> {
        let now = get_current_timestamp();
        let cached = self.verified.lock().ok().and_then(|mut cache| {
            let hit = cache.get(token)?.clone();
            if self.still_valid(&hit, now) {
                Some(hit)
            } else {
                // Expired: verified again below, which reports why.
                cache.pop(token);
                None
            }
        });
        let verified = match cached {
            Some(hit) => hit,
            None => {
                let verified = self.verify_uncached(token)?;
                if let Ok(mut cache) = self.verified.lock() {
                    cache.put(token.into(), verified.clone());
                }
                verified
            }
        };
        Ok((verified.subject, verified.exp))
    }

    /// `jsonwebtoken`'s time checks, with the same leeway: not expired, not before `nbf`.
    fn still_valid(&self, verified: &Verified, now: u64) -> bool {
        let leeway = self.validation.leeway;
        let expired = verified
            .exp
            .is_none_or(|exp| u64::try_from(exp).is_ok_and(|exp| exp < now.saturating_sub(leeway)));
        let early = verified.nbf.is_some_and(|nbf| nbf > now.saturating_add(leeway));
        !expired && !early
    }

    fn verify_uncached(&self, token: &str) -> Result<Verified, ApiError> {
        // `exp`, `nbf`, `iss` and `aud` are checked by `validation`; the rest is read here.
        let claims = decode::<serde_json::Map<String, serde_json::Value>>(token, &self.key, &self.validation)
            .map_err(|e| {
                tracing::debug!(error = %e, "token rejected");
                ApiError::Unauthenticated("Invalid or expired token".into())
            })?
            .claims;
        let exp = claims.get("exp").and_then(serde_json::Value::as_i64);
        let nbf = claims.get("nbf").and_then(serde_json::Value::as_u64);
        let verified = |subject| Verified { subject, exp, nbf };
        if claims.get("role").and_then(|r| r.as_str()) == Some(PLATFORM_ADMIN) {
            let sub = claims.get("sub").and_then(|s| s.as_str()).unwrap_or("unknown");
            return Ok(verified(Subject::PlatformAdmin(sub.to_owned())));
        }
        let id = match claims.get(&self.user_claim) {
            Some(serde_json::Value::String(s)) => s.parse::<i32>().ok(),
            Some(serde_json::Value::Number(n)) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
            _ => None,
        };
        id.filter(|id| *id > 0)
            .map(|id| verified(Subject::User(id)))
            .ok_or_else(|| {
                ApiError::Unauthenticated(format!("Token claim `{}` is not a user id", self.user_claim))
            })
    }
}

/// Mints an HS256 token, for `blogql token`, the development token and tests.
pub fn mint(
    secret: &str,
    subject: &Subject,
    ttl: chrono::Duration,
    issuer: Option<&str>,
    audience: Option<&str>,
) -> Result<String, jsonwebtoken::errors::Error> {
    let now = chrono::Utc::now().timestamp();
    let (sub, role) = match subject {
        Subject::User(id) => (id.to_string(), None),
        Subject::PlatformAdmin(sub) => (sub.clone(), Some(PLATFORM_ADMIN.to_owned())),
    };
    let claims = Claims {
        sub,
        exp: now + ttl.num_seconds(),
        iat: Some(now),
        role,
        iss: issuer.map(str::to_owned),
        aud: audience.map(|a| serde_json::Value::String(a.to_owned())),
    };
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use super::*;

    const SECRET: &str = "jwt-unit-test-secret-0123456789";

    fn verifier() -> Verifier {
        Verifier::new(KeySource::Secret(SECRET), None, None, "sub").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_remembered_token_still_expires() {
        let verifier = verifier();
        // Expired 29 s ago: still inside the 30 s leeway, for about a second.
        let token = mint(
            SECRET,
            &Subject::User(7),
            chrono::Duration::seconds(-29),
            None,
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let first = verifier.verify(&token).ok();
        assert_eq!(first, Some(Subject::User(7)));
        assert_eq!(
            verifier.verify(&token).ok(),
            Some(Subject::User(7)),
            "the remembered token"
        );
        // Past the leeway: the remembered token is refused like an unseen one.
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        while SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
            < started + 2
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            verifier.verify(&token).is_err(),
            "an expired remembered token was accepted"
        );
        assert!(verifier.verify(&token).is_err(), "and stays refused");
    }

    #[test]
    fn only_verified_tokens_are_remembered() {
        let verifier = verifier();
        let token = mint(
            SECRET,
            &Subject::PlatformAdmin("ops".into()),
            chrono::Duration::hours(1),
            None,
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            verifier.verify(&token).ok(),
            Some(Subject::PlatformAdmin("ops".into()))
        );
        // The same claims signed with another secret never verify, before or after.
        let forged = mint(
            "another-secret-0123456789abcdef",
            &Subject::PlatformAdmin("ops".into()),
            chrono::Duration::hours(1),
            None,
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(verifier.verify(&forged).is_err());
        assert!(verifier.verify(&forged).is_err());
        assert_eq!(
            verifier.verify(&token).ok(),
            Some(Subject::PlatformAdmin("ops".into()))
        );
    }
}
