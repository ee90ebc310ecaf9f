//! Parsed GraphQL documents by query text.
//!
//! Clients send the same few operations over and over (Apollo and Relay build them at
//! compile time), and parsing is the costliest step before execution. A hit hands
//! async-graphql a copy of the parsed document, which is a fraction of the cost of parsing
//! it again. Full validation runs until one request of the document passes it; later
//! requests whose variables `variables::vouched` checks skip it (`Engine::execute`).
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, atomic::AtomicBool},
};

use async_graphql::parser::{parse_query, types::ExecutableDocument};

/// A document as the client sent it (for limits and key order), and as it is executed
/// (with the type marks `order::mark_types` adds).
pub struct Parsed {
    pub original: ExecutableDocument,
    pub executed: ExecutableDocument,
    /// Its one operation passed the limits whatever the variables (`limits::Outcome`):
    /// measuring it again for every request cost ~35,000 instructions on a nested read.
    pub within_limits: AtomicBool,
    /// A request of it passed async-graphql's full validation: every rule that reads only
    /// the document holds (`variables` says why that is all but one). Full validation cost
    /// ~46,000 instructions of a post by id's ~187,000.
    pub validated: AtomicBool,
}

impl Parsed {
    fn new(original: ExecutableDocument) -> Self {
        let mut executed = original.clone();
        super::order::mark_types(&mut executed);
        Parsed {
            original,
            executed,
            within_limits: AtomicBool::new(false),
            validated: AtomicBool::new(false),
        }
    }
}

/// Documents kept at most; when full, the cache starts over (simple, and bounded).
const CAPACITY: usize = 512;
/// Longer queries are parsed every time: they are rare, and would make the memory bound
/// `CAPACITY` × 1 MiB.
const MAX_QUERY_LEN: usize = 16 * 1024;

#[derive(Default)]
pub struct DocumentCache {
    documents: Mutex<HashMap<String, Arc<Parsed>>>,
}

impl DocumentCache {
    /// The parsed document of `query`, or `None` when it does not parse (async-graphql
    /// then reports the syntax error as usual).
    pub fn get(&self, query: &str) -> Option<Arc<Parsed>> {
        if let Some(doc) = self.documents.lock().ok()?.get(query) {
            return Some(doc.clone());
        }
        let doc = Arc::new(Parsed::new(parse_query(query).ok()?));
        if query.len() <= MAX_QUERY_LEN
            && let Ok(mut documents) = self.documents.lock()
        {
            if documents.len() >= CAPACITY {
                documents.clear();
            }
            documents.insert(query.to_owned(), doc.clone());
        }
        Some(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_once_and_refuses_invalid_documents() {
        let cache = DocumentCache::default();
        let first = cache.get("{ posts { totalCount } }").unwrap();
        let second = cache.get("{ posts { totalCount } }").unwrap();
        assert!(
            Arc::ptr_eq(&first, &second),
            "the second get reuses the parsed document"
        );
        assert!(cache.get("{ posts { ").is_none());
        assert_eq!(cache.documents.lock().unwrap().len(), 1);
    }

    #[test]
    fn stays_bounded() {
        let cache = DocumentCache::default();
        for i in 0..CAPACITY + 10 {
            cache.get(&format!("{{ a{i}: posts {{ totalCount }} }}")).unwrap();
        }
        assert!(cache.documents.lock().unwrap().len() <= CAPACITY);
    }
}
