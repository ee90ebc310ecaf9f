//! One GraphQL request from its text to its response: the parsed-document cache, the
//! operation it runs, the query limits, the caller, the loaders, the timeout, error codes
//! and response key order. The HTTP handler keeps transport only.
use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use async_graphql::{
    Request, Response, Value,
    parser::types::{DocumentOperations, ExecutableDocument, OperationDefinition, OperationType},
};

use futures_util::stream::{self, BoxStream, StreamExt};

use super::{
    BlogSchema,
    documents::{DocumentCache, Parsed},
    introspection,
    limits::{self, Limits},
    order, persisted, trusted, variables,
};
use crate::{
    auth::{
        Actor, Viewer,
        jwt::{Subject, Verifier},
        session,
    },
    db::{self, Db},
    error::{self, ApiError, ApiResult},
    loaders::{EVENT_LOADERS, Loaders},
    service,
};

pub struct Engine {
    pub schema: BlogSchema,
    /// The same schema without depth and cost limits, for introspection documents;
    /// `None` where introspection is off.
    pub introspection_schema: Option<BlogSchema>,
    /// The same schema with async-graphql's `Fast` validation, for a document that passed
    /// full validation before and whose variables are vouched for (`variables`).
    pub validated_schema: BlogSchema,
    pub limits: Limits,
    /// The schema's fields, for measuring documents against `limits`.
    pub shape: limits::Shape,
    pub documents: DocumentCache,
    /// Apollo persisted queries; `None` when turned off.
    pub persisted: Option<persisted::Store>,
    /// The persisted-document manifest and what else may run (`BLOGQL_PERSISTED_DOCUMENTS`).
    pub trusted: Option<trusted::Manifest>,
    /// The schema's type conditions, for the response key order.
    pub types: order::Types,
    pub db: Db,
    pub verifier: Arc<Verifier>,
    pub loader_delay: Duration,
    pub timeout: Duration,
    /// The subscriptions of this instance.
    pub hub: crate::events::Hub,
}

/// The operation a request runs, as far as its document tells.
#[derive(Clone, Debug, Default)]
pub struct Operation {
    /// `operationName`, else the document's only named operation.
    pub name: Option<String>,
    /// `None` when the document does not parse or names no such operation.
    pub kind: Option<OperationType>,
    /// Only `__schema`, `__type` and `__typename` at its root (see `introspection`).
    pub introspection: bool,
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

/// The definition of the operation `name` (or the only one) in `doc`.
pub fn definition<'a>(doc: &'a ExecutableDocument, name: Option<&str>) -> Option<&'a OperationDefinition> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(&op.node),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| &op.node),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next().map(|op| &op.node),
        _ => None,
    }
}

fn operation_of(request: &Request, document: Option<&ExecutableDocument>) -> Operation {
    let wanted = request.operation_name.as_deref();
    let Some(doc) = document else {
        return Operation {
            name: wanted.map(str::to_owned),
            kind: None,
            introspection: false,
        };
    };
    // Without `operationName`, a document's only operation names it.
    let name = match (&doc.operations, wanted) {
        (_, Some(name)) => Some(name.to_owned()),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.keys().next().map(|n| n.to_string())
        }
        _ => None,
    };
    let definition = definition(doc, wanted);
    Operation {
        name,
        kind: definition.map(|op| op.ty),
        introspection: definition.is_some_and(|op| introspection::is_introspection(op, &doc.fragments)),
    }
}

impl Engine {
    /// Finds the text (a persisted document or query), parses it (once per distinct text),
    /// finds its operation and checks the limits, before anything touches the database.
    pub async fn prepare(
        &self,
        mut request: Request,
        document_id: Option<&str>,
    ) -> Result<Prepared, Box<Rejected>> {
        let found = trusted::resolve(
            self.trusted.as_ref(),
            self.persisted.as_ref(),
            &mut request,
            document_id,
        );
        if let Err(error) = found.await {
            return Err(Box::new(Rejected {
                operation: operation_of(&request, None),
                error,
                malformed: false,
            }));
        }
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
            let op = definition(&doc.original, request.operation_name.as_deref());
            // With one operation, the outcome of a check that read no variable holds for
            // every request of this document.
            let single = op.is_some() && doc.original.operations.iter().count() == 1;
            let checked = if single && doc.within_limits.load(Ordering::Relaxed) {
                Ok(())
            } else {
                self.limits
                    .check(
                        &self.shape,
                        &doc.original,
                        op,
                        &request.variables,
                        operation.introspection,
                    )
                    .map(|outcome| {
                        if single && outcome == limits::Outcome::AnyVariables {
                            doc.within_limits.store(true, Ordering::Relaxed);
                        }
                    })
            };
            let checked = checked.and_then(|()| match op {
                Some(op) if operation.introspection => introspection::check(op, &doc.original),
                _ => Ok(()),
            });
            if let Err(error) = checked {
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

    /// The subject of an `Authorization` header value, checked without the database.
    pub fn subject(&self, header: Option<&[u8]>) -> ApiResult<Option<Subject>> {
        session::subject(&self.verifier, header)
    }

    /// The caller a verified subject names (one statement for a user's token).
    pub async fn authenticate(
        &self,
        subject: Option<Subject>,
        statements: &Arc<AtomicU64>,
    ) -> ApiResult<Viewer> {
        let lookup = |id| service::account::for_token(&self.db, id);
        db::REQUEST_STATEMENTS
            .scope(statements.clone(), session::viewer(subject, lookup))
            .await
    }

    /// Runs a prepared subscription for `actor`: one response per event, each with error
    /// codes and keys in selection order, each resolved with fresh loaders (a subscription
    /// lives for hours: nothing it reads is remembered past its event).
    pub fn stream(self: &Arc<Self>, prepared: Prepared, actor: Actor) -> BoxStream<'static, Response> {
        let Prepared {
            request, document, ..
        } = prepared;
        let operation_name = request.operation_name.clone();
        let viewer = actor.viewer.clone();
        let request = request.data(actor).data(self.hub.clone());
        let responses = self.schema.execute_stream(request);
        let engine = self.clone();
        stream::unfold(responses, move |mut responses| {
            let engine = engine.clone();
            let viewer = viewer.clone();
            let document = document.clone();
            let operation_name = operation_name.clone();
            async move {
                let statements = Arc::new(AtomicU64::new(0));
                let loaders = Arc::new(Loaders::new(
                    &engine.db,
                    &viewer,
                    engine.loader_delay,
                    statements.clone(),
                ));
                let next = db::REQUEST_STATEMENTS.scope(statements, responses.next());
                let mut response = EVENT_LOADERS.scope(loaders, next).await?;
                for error in &mut response.errors {
                    error::ensure_code(error);
                }
                if let Some(doc) = &document
                    && let Some(op) = definition(&doc.original, operation_name.as_deref())
                {
                    order::reorder(&mut response.data, &doc.original, op, &engine.types);
                }
                Some((response, responses))
            }
        })
        .boxed()
    }

    /// Runs a prepared request for `actor` within the timeout; every error leaves with a
    /// code and the keys in selection order.
    pub async fn execute(&self, prepared: Prepared, actor: Actor, statements: &Arc<AtomicU64>) -> Response {
        let Prepared {
            request,
            document,
            operation,
        } = prepared;
        // Introspection runs without the depth and cost limits (bounded by its own).
        let introspection = match &self.introspection_schema {
            Some(schema) if operation.introspection => Some(schema),
            _ => None,
        };
        let validated = introspection.is_none()
            && document.as_ref().is_some_and(|doc| {
                doc.validated.load(Ordering::Relaxed)
                    && definition(&doc.original, request.operation_name.as_deref())
                        .is_some_and(|op| variables::vouched(&op.variable_definitions, &request.variables))
            });
        let schema = match introspection {
            Some(schema) => schema,
            None if validated => &self.validated_schema,
            None => &self.schema,
        };
        let loaders = Loaders::new(&self.db, &actor.viewer, self.loader_delay, statements.clone());
        let operation_name = request.operation_name.clone();
        let request = request.data(actor).data(Arc::new(loaders));
        // Boxed: async-graphql's execution future is large, and each wrapper around it
        // (statement scope, timeout, the request span) would otherwise move it again.
        let run = db::REQUEST_STATEMENTS.scope(statements.clone(), Box::pin(schema.execute(request)));
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
        if let Some(doc) = &document {
            // A request that failed validation has `data: null`; one with data passed it.
            // (A null for another reason only leaves the document to be validated again.)
            if introspection.is_none() && !validated && response.data != Value::Null {
                doc.validated.store(true, Ordering::Relaxed);
            }
            if let Some(op) = definition(&doc.original, operation_name.as_deref()) {
                order::reorder(&mut response.data, &doc.original, op, &self.types);
            }
        }
        response
    }
}
