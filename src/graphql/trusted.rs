//! Trusted documents: a manifest of the operations a deployment's own clients send, built
//! by their tooling (Apollo's `generate-persisted-query-manifest`, relay-compiler's
//! `persistConfig`). Clients send a `documentId` (GraphQL over HTTP persisted documents) or
//! the APQ hash of a manifest document; with `BLOGQL_TRUSTED_DOCUMENTS=only` nothing else
//! runs, and a refused request is answered before its text is parsed.
use std::{collections::HashMap, path::Path, sync::Arc};

use serde::Deserialize;

use async_graphql::Request;

use super::persisted::{self, sha256_hex};
use crate::error::ApiError;

/// What runs besides the manifest's documents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Policy {
    /// Any document; the manifest only saves clients from sending the text.
    #[default]
    Allow,
    /// Nothing but the manifest's documents.
    Only,
}

pub struct Manifest {
    /// Manifest id → text.
    by_id: HashMap<String, Arc<str>>,
    /// SHA-256 of the text → text (APQ hashes and `sha256:` document ids).
    by_hash: HashMap<String, Arc<str>>,
    pub policy: Policy,
}

/// Apollo's `persisted-query-manifest.json`.
#[derive(Deserialize)]
struct ApolloManifest {
    format: String,
    version: u32,
    operations: Vec<ApolloOperation>,
}

#[derive(Deserialize)]
struct ApolloOperation {
    id: String,
    body: String,
}

impl Manifest {
    /// Reads either format: Apollo's (`{"format": "apollo-persisted-query-manifest", …}`)
    /// or Relay's (`{"<id>": "<text>", …}`). Every document must parse, so a stale or
    /// truncated manifest stops the start-up instead of failing requests.
    pub fn load(path: &Path, policy: Policy) -> Result<Manifest, String> {
        let context =
            |e: &dyn std::fmt::Display| format!("BLOGQL_PERSISTED_DOCUMENTS ({}): {e}", path.display());
        let text = std::fs::read_to_string(path).map_err(|e| context(&e))?;
        let entries = Self::entries(&text).map_err(|e| context(&e))?;
        let mut manifest = Manifest {
            by_id: HashMap::with_capacity(entries.len()),
            by_hash: HashMap::with_capacity(entries.len()),
            policy,
        };
        for (id, body) in entries {
            if let Err(e) = async_graphql::parser::parse_query(&body) {
                return Err(context(&format!("document `{id}` does not parse: {e}")));
            }
            let body: Arc<str> = Arc::from(body);
            manifest.by_hash.insert(sha256_hex(&body), body.clone());
            manifest.by_id.insert(id, body);
        }
        Ok(manifest)
    }

    fn entries(text: &str) -> Result<Vec<(String, String)>, String> {
        let json: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if json.get("format").is_some() {
            let manifest: ApolloManifest = serde_json::from_value(json).map_err(|e| e.to_string())?;
            if manifest.format != "apollo-persisted-query-manifest" || manifest.version != 1 {
                return Err(
                    "an Apollo manifest must have format `apollo-persisted-query-manifest` and version 1"
                        .into(),
                );
            }
            return Ok(manifest
                .operations
                .into_iter()
                .map(|op| (op.id, op.body))
                .collect());
        }
        serde_json::from_value::<HashMap<String, String>>(json)
            .map(|map| map.into_iter().collect())
            .map_err(|_| "not an Apollo persisted-query manifest nor a Relay `{\"id\": \"text\"}` map".into())
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The text of a `documentId`: a manifest id, or `sha256:<hash>` of a manifest text.
    pub fn by_document_id(&self, id: &str) -> Option<&Arc<str>> {
        self.by_id.get(id).or_else(|| {
            let hash = id.strip_prefix("sha256:")?;
            self.by_hash.get(&hash.to_ascii_lowercase())
        })
    }

    /// The manifest text whose SHA-256 is `hash` (an APQ hash, lowercase).
    pub fn by_hash(&self, hash: &str) -> Option<&Arc<str>> {
        self.by_hash.get(hash)
    }

    /// Whether `text` is one of the manifest's documents, byte for byte.
    pub fn contains_text(&self, text: &str) -> bool {
        self.by_hash
            .get(&sha256_hex(text))
            .is_some_and(|known| &**known == text)
    }
}

/// Fills in the text of a request that names a document (`documentId`, or an APQ hash the
/// manifest or the APQ store knows), and refuses what the policy does not allow to run.
pub async fn resolve(
    manifest: Option<&Manifest>,
    apq: Option<&persisted::Store>,
    request: &mut Request,
    document_id: Option<&str>,
) -> Result<(), ApiError> {
    if let Some(id) = document_id {
        if !request.query.is_empty() {
            return Err(ApiError::BadUserInput {
                message: "Send either `documentId` or `query`, not both".into(),
                field: None,
            });
        }
        let text = manifest
            .and_then(|m| m.by_document_id(id))
            .ok_or(ApiError::PersistedQueryNotInList)?;
        request.query = text.to_string();
        return Ok(());
    }
    let Some(manifest) = manifest else {
        return persisted::resolve(apq, request).await;
    };
    let hash = persisted::requested_hash(request)?;
    // A hash sent with a text must be the text's, whatever the policy.
    if let Some(hash) = &hash
        && !request.query.is_empty()
        && sha256_hex(&request.query) != *hash
    {
        return Err(ApiError::BadUserInput {
            message: "`extensions.persistedQuery.sha256Hash` is not the SHA-256 of `query`".into(),
            field: None,
        });
    }
    if let Some(text) = hash.as_deref().and_then(|h| manifest.by_hash(h)) {
        if request.query.is_empty() {
            request.query = text.to_string();
            return Ok(());
        }
        // The text's own hash (checked above): it is the manifest's document.
        return Ok(());
    }
    match manifest.policy {
        Policy::Allow => persisted::resolve(apq, request).await,
        // A text-less request names a document the manifest lacks; one with a text that is
        // not the manifest's is outside the safelist. (No text at all: "no query", later.)
        Policy::Only if request.query.is_empty() && hash.is_some() => Err(ApiError::PersistedQueryNotInList),
        Policy::Only if request.query.is_empty() || manifest.contains_text(&request.query) => Ok(()),
        Policy::Only => Err(ApiError::QueryNotInSafelist),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Manifest, String> {
        let dir = std::env::temp_dir().join(format!("blogql-manifest-{}", rand::random::<u64>()));
        std::fs::write(&dir, text).map_err(|e| e.to_string())?;
        let manifest = Manifest::load(&dir, Policy::Only);
        let _ = std::fs::remove_file(&dir);
        manifest
    }

    #[test]
    fn reads_both_formats_and_refuses_what_is_neither() {
        let apollo = load(
            r#"{"format":"apollo-persisted-query-manifest","version":1,
                "operations":[{"id":"abc","name":"A","type":"query","body":"query A { __typename }"}]}"#,
        )
        .unwrap();
        assert_eq!(
            apollo.by_document_id("abc").map(|t| &**t),
            Some("query A { __typename }")
        );
        let relay = load(r#"{"7f1":"query R { __typename }"}"#).unwrap();
        assert_eq!(
            relay.by_document_id("7f1").map(|t| &**t),
            Some("query R { __typename }")
        );
        let hash = sha256_hex("query R { __typename }");
        assert!(relay.by_hash(&hash).is_some());
        assert!(relay.by_document_id(&format!("sha256:{hash}")).is_some());
        assert!(relay.contains_text("query R { __typename }"));
        assert!(!relay.contains_text("query R { __typename  }"));

        assert!(load(r#"{"a": 1}"#).is_err());
        assert!(
            load(r#"{"a": "query {"}"#)
                .err()
                .unwrap_or_default()
                .contains("does not parse")
        );
        assert!(load(r#"{"format":"other","version":1,"operations":[]}"#).is_err());
    }
}
