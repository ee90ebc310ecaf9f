//! One GraphQL request from its text to its response: the parsed-document cache, the
//! operation it runs, the query limits, the caller, the loaders, the timeout, error codes
//! and response key order. The HTTP handler keeps transport only.
use std::{
    sync::{Arc, atomic::AtomicU64},
    time::Duration,
};

use async_graphql::{
    Request, Response,
    parser::types::{DocumentOperations, ExecutableDocument, OperationType},
};

use super::{
    BlogSchema,
    documents::{DocumentCache, Parsed},
    limits::Limits,
    order,
};
use crate::{
    auth::{Actor, Viewer, jwt::Verifier, session},
    db::{self, Db},
    error::{self, ApiError, ApiResult},
    loaders::Loaders,
    service,
};

pub struct Engine {
    pub schema: BlogSchema,
    pub limits: Limits,
    pub documents: DocumentCache,
    /// The schema's type conditions, for the response key order.
    pub types: order::Types,
    pub db: Db,
    pub verifier: Arc<Verifier>,
    pub loader_delay: Duration,
    pub timeout: Duration,
}

/// The operation a request runs, as far as its document tells.
#[derive(Clone, Debug, Default)]
pub struct Operation {
    /// `operationName`, else the document's only named operation.
    pub name: Option<String>,
    /// `None` when the document does not parse or names no such operation.
    pub kind: Option<OperationType>,
}

/// A request whose document is parsed (when it parses: async-graphql then reports the
/// syntax error as usual) and within the limits.
pub struct Prepared {
    request: Request,
    document: Option<Arc<Parsed>>,
    pub operation: Operation,
}

/// Why a request was refused before it ran.
pub struct Rejected {
    pub operation: Operation,
    pub error: ApiError,
    /// Malformed at the transport level (no query at all): HTTP 400 in any media type.
    pub malformed: bool,
}

fn operation_of(request: &Request, document: Option<&ExecutableDocument>) -> Operation {
    let Some(doc) = document else {
        return Operation {
            name: request.operation_name.clone(),
            kind: None,
        };
    };
    let wanted = request.operation_name.as_deref();
    let (name, op) = match (&doc.operations, wanted) {
        (DocumentOperations::Single(op), _) => (wanted.map(str::to_owned), Some(op)),
        (DocumentOperations::Multiple(ops), Some(name)) => (Some(name.to_owned()), ops.get(name)),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            let (name, op) = ops.iter().next().map(|(n, op)| (n.to_string(), op)).unzip();
            (name, op)
        }
        (DocumentOperations::Multiple(_), None) => (None, None),
    };
    Operation {
        name,
        kind: op.map(|op| op.node.ty),
    }
}

impl Engine {
    /// Parses the document (once per distinct text), finds its operation and checks the
    /// limits, before anything touches the database.
    pub fn prepare(&self, mut request: Request) -> Result<Prepared, Box<Rejected>> {
        if request.query.trim().is_empty() {
            return Err(Box::new(Rejected {
                operation: Operation::default(),
                error: ApiError::BadUserInput {
                    message: "The request has no `query`".into(),
                    field: None,
                },
                malformed: true,
            }));
        }
        let document = self.documents.get(&request.query);
        let operation = operation_of(&request, document.as_deref().map(|d| &d.original));
        if let Some(doc) = &document {
            if let Err(error) = self.limits.check(&doc.original) {
                return Err(Box::new(Rejected {
                    operation,
                    error,
                    malformed: false,
                }));
            }
            request.set_parsed_query(doc.executed.clone());
        }
        Ok(Prepared {
            request,
            document,
            operation,
        })
    }

    /// The caller of an `Authorization` header value (one statement for a user's token).
    pub async fn authenticate(
        &self,
        header: Option<&[u8]>,
        statements: &Arc<AtomicU64>,
    ) -> ApiResult<Viewer> {
        let lookup = |id| service::account::for_token(&self.db, id);
        db::REQUEST_STATEMENTS
            .scope(
                statements.clone(),
                session::viewer(&self.verifier, header, lookup),
            )
            .await
    }

    /// Runs a prepared request for `actor` within the timeout; every error leaves with a
    /// code and the keys in selection order.
    pub async fn execute(&self, prepared: Prepared, actor: Actor, statements: &Arc<AtomicU64>) -> Response {
        let Prepared {
            request, document, ..
        } = prepared;
        let loaders = Loaders::new(&self.db, &actor.viewer, self.loader_delay, statements.clone());
        let operation_name = request.operation_name.clone();
        let request = request.data(actor).data(loaders);
        let run = db::REQUEST_STATEMENTS.scope(statements.clone(), self.schema.execute(request));
        // Dropping the future on timeout cancels its database work.
        let mut response = match tokio::time::timeout(self.timeout, run).await {
            Ok(response) => response,
            Err(_) => Response::from_errors(vec![
                ApiError::TooComplex(format!(
                    "The request took longer than {} s and was cancelled",
                    self.timeout.as_secs()
                ))
                .server_error(),
            ]),
        };
        for error in &mut response.errors {
            error::ensure_code(error);
        }
        if let Some(document) = &document {
            order::reorder(
                &mut response.data,
                &document.original,
                operation_name.as_deref(),
                &self.types,
            );
        }
        response
    }
}
