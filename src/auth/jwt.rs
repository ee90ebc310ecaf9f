//! Bearer JWTs: verification with a pinned algorithm, and minting for development.
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
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
}

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
        })
    }

    pub fn verify(&self, token: &str) -> Result<Subject, ApiError> {
        self.verify_expiring(token).map(|(subject, _)| subject)
    }

    /// `verify`, with the token's `exp` (seconds since the epoch): a WebSocket connection
    /// ends when its token expires.
    pub fn verify_expiring(&self, token: &str) -> Result<(Subject, Option<i64>), ApiError> {
        // `exp`, `nbf`, `iss` and `aud` are checked by `validation`; the rest is read here.
        let claims = decode::<serde_json::Map<String, serde_json::Value>>(token, &self.key, &self.validation)
            .map_err(|e| {
                tracing::debug!(error = %e, "token rejected");
                ApiError::Unauthenticated("Invalid or expired token".into())
            })?
            .claims;
        let expires = claims.get("exp").and_then(serde_json::Value::as_i64);
        if claims.get("role").and_then(|r| r.as_str()) == Some(PLATFORM_ADMIN) {
            let sub = claims.get("sub").and_then(|s| s.as_str()).unwrap_or("unknown");
            return Ok((Subject::PlatformAdmin(sub.to_owned()), expires));
        }
        let id = match claims.get(&self.user_claim) {
            Some(serde_json::Value::String(s)) => s.parse::<i32>().ok(),
            Some(serde_json::Value::Number(n)) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
            _ => None,
        };
        id.filter(|id| *id > 0)
            .map(|id| (Subject::User(id), expires))
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
