//! `/graphql/ws`: GraphQL over WebSocket, the `graphql-transport-ws` protocol
//! (graphql-ws, Apollo's `GraphQLWsLink`, GraphiQL). Authentication is the HTTP one, from
//! `connectionParams.Authorization` (or the upgrade's `Authorization` header): a bad
//! token closes with 4403 and is never anonymous, and the connection ends when its token
//! expires. Every `subscribe` passes the HTTP rate limit and the query limits.
mod connections;
mod protocol;

use std::{collections::HashMap, net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    extract::{
        ConnectInfo, State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::{sync::mpsc, task::JoinHandle};

pub use self::connections::Connections;
use self::protocol::{ClientMessage, Parsed, Subscribe, authorization_of, error_message, parse};
use super::{AppState, graphql::forwarded_for, rate_limit::Caller};
use crate::{
    auth::{Actor, Viewer, client_ip::client_ip, session},
    error::ApiError,
    graphql::execute::Rejected,
};

const PROTOCOL: &str = "graphql-transport-ws";

/// The WebSocket settings (see `Config`).
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    pub init_timeout: Duration,
    pub keepalive: Duration,
    pub max_operations: usize,
    pub max_connections: usize,
}

pub async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    // Browsers send `Origin` and let any page open a WebSocket: in production only the
    // CORS allow-list may (clients outside browsers send none).
    if state.production
        && let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok())
        && !state.cors_origins.iter().any(|allowed| allowed.trim() == origin)
    {
        return (StatusCode::FORBIDDEN, "This origin may not open a WebSocket here").into_response();
    }
    let offered = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == PROTOCOL);
    let ip = client_ip(
        peer.ip(),
        forwarded_for(&headers).as_deref(),
        &state.trusted_proxies,
    )
    .to_string();
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // tungstenite allocates its read buffer up front, 128 KiB per connection by default
    // (bench/subscriptions.sh, 500 subscribers per instance: peak RSS 124 → 65 MB with
    // 4 KiB); clients send small messages, and a larger one grows the buffer.
    ws.protocols([PROTOCOL])
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_message_size(super::BODY_LIMIT)
        .on_upgrade(move |mut socket| async move {
            if offered {
                Connection { state, ip }.run(socket, authorization).await;
            } else {
                close(
                    &mut socket,
                    4406,
                    "Subprotocol not acceptable: use graphql-transport-ws",
                )
                .await;
            }
        })
}

async fn close(socket: &mut WebSocket, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: reason.chars().take(120).collect::<String>().into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

async fn send(socket: &mut WebSocket, message: &Value) -> bool {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .is_ok()
}

/// What the operation tasks tell the connection.
enum Out {
    Message(Value),
    /// The operation of this id and generation has ended.
    Finished(String, u64),
}

struct Connection {
    state: AppState,
    ip: String,
}

impl Connection {
    async fn run(self, mut socket: WebSocket, header_authorization: Option<String>) {
        let settings = self.state.ws;
        let init = tokio::time::timeout(settings.init_timeout, async {
            loop {
                match parse(socket.recv().await) {
                    Parsed::Message(ClientMessage::ConnectionInit { payload }) => return Ok(payload),
                    Parsed::Message(ClientMessage::Ping {}) => {
                        send(&mut socket, &json!({"type": "pong"})).await;
                    }
                    Parsed::Message(ClientMessage::Pong {}) | Parsed::Ignored => {}
                    Parsed::Message(ClientMessage::Subscribe { .. }) => {
                        return Err((4401, "Unauthorized".to_owned()));
                    }
                    Parsed::Message(ClientMessage::Complete { .. }) => {}
                    Parsed::Invalid(reason) => return Err((4400, reason)),
                    Parsed::Closed => return Err((1000, String::new())),
                }
            }
        })
        .await;
        let payload = match init {
            Ok(Ok(payload)) => payload,
            Ok(Err((code, reason))) => return close(&mut socket, code, &reason).await,
            Err(_) => return close(&mut socket, 4408, "Connection initialisation timeout").await,
        };
        let authorization = authorization_of(payload.as_ref()).or(header_authorization);
        let engine = &self.state.engine;
        let verified =
            session::subject_expiring(&engine.verifier, authorization.as_deref().map(str::as_bytes));
        let (subject, expires) = match verified {
            Ok(Some((subject, expires))) => (Some(subject), expires),
            Ok(None) => (None, None),
            Err(e) => return close(&mut socket, 4403, &format!("Forbidden: {}", e.message())).await,
        };
        let statements = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let viewer = match engine.authenticate(subject, &statements).await {
            Ok(viewer) => viewer,
            Err(ApiError::Unauthenticated(m)) => {
                return close(&mut socket, 4403, &format!("Forbidden: {m}")).await;
            }
            Err(_) => return close(&mut socket, 1011, "The server cannot authenticate now; retry").await,
        };
        let key = match &viewer {
            Viewer::Anonymous => format!("ip:{}", self.ip),
            signed_in => signed_in.label(),
        };
        let Some(_slot) = self.state.ws_connections.take(&key, settings.max_connections) else {
            return close(&mut socket, 4429, "Too many connections for this caller").await;
        };
        if !send(&mut socket, &json!({"type": "connection_ack"})).await {
            return;
        }
        self.serve(socket, viewer, key, expires).await;
    }

    async fn serve(self, mut socket: WebSocket, viewer: Viewer, key: String, expires: Option<i64>) {
        let settings = self.state.ws;
        let (out, mut outbox) = mpsc::channel::<Out>(64);
        // By id: the operation's generation (an id may be used again once it completed).
        let mut operations: HashMap<String, (u64, JoinHandle<()>)> = HashMap::new();
        let mut generation = 0;
        let mut keepalive = tokio::time::interval(settings.keepalive);
        keepalive.tick().await;
        let until_expiry = expires
            .map(|exp| (exp - chrono::Utc::now().timestamp()).max(0) as u64)
            .map_or(Duration::MAX, Duration::from_secs);
        let expiry = tokio::time::sleep(until_expiry.min(Duration::from_secs(100 * 365 * 86_400)));
        tokio::pin!(expiry);
        let closing = loop {
            tokio::select! {
                message = socket.recv() => match parse(message) {
                    Parsed::Message(ClientMessage::Subscribe { id, payload }) => {
                        if operations.contains_key(&id) {
                            break Some((4409, format!("Subscriber for {id} already exists")));
                        }
                        if operations.len() >= settings.max_operations {
                            let error = ApiError::RateLimited(format!(
                                "At most {} operations run at once on one connection", settings.max_operations
                            ));
                            send(&mut socket, &error_message(&id, &error)).await;
                            continue;
                        }
                        let caller = match &viewer {
                            Viewer::Anonymous => Caller::Anonymous(&self.ip),
                            _ => Caller::SignedIn(&key),
                        };
                        if self.state.rate_limiter.check(caller).await.is_err() {
                            let error = ApiError::RateLimited("Too many requests; retry later".into());
                            send(&mut socket, &error_message(&id, &error)).await;
                            continue;
                        }
                        let actor = Actor { viewer: viewer.clone(), ip: Some(self.ip.clone()), system: None };
                        generation += 1;
                        let run = operation(self.state.clone(), (id.clone(), generation), payload, actor, out.clone());
                        operations.insert(id, (generation, tokio::spawn(run)));
                    }
                    Parsed::Message(ClientMessage::Complete { id }) => {
                        if let Some((_, task)) = operations.remove(&id) {
                            task.abort();
                        }
                    }
                    Parsed::Message(ClientMessage::Ping {}) => {
                        send(&mut socket, &json!({"type": "pong"})).await;
                    }
                    Parsed::Message(ClientMessage::Pong {}) | Parsed::Ignored => {}
                    Parsed::Message(ClientMessage::ConnectionInit { .. }) => {
                        break Some((4429, "Too many initialisation requests".to_owned()));
                    }
                    Parsed::Invalid(reason) => break Some((4400, reason)),
                    Parsed::Closed => break None,
                },
                Some(message) = outbox.recv() => match message {
                    Out::Message(message) => {
                        if !send(&mut socket, &message).await {
                            break None;
                        }
                    }
                    Out::Finished(id, done) => {
                        if operations.get(&id).is_some_and(|(current, _)| *current == done) {
                            operations.remove(&id);
                        }
                    }
                },
                _ = keepalive.tick() => {
                    if !send(&mut socket, &json!({"type": "ping"})).await {
                        break None;
                    }
                }
                () = &mut expiry => break Some((4403, "Forbidden: the token has expired".to_owned())),
            }
        };
        for (_, task) in operations.values() {
            task.abort();
        }
        if let Some((code, reason)) = closing {
            close(&mut socket, code, &reason).await;
        }
    }
}

/// Runs one `subscribe`: a subscription streams `next` messages until it ends; a query or
/// mutation sends one. Then `complete` (unless the operation was refused: `error`).
async fn operation(
    state: AppState,
    (id, generation): (String, u64),
    payload: Box<Subscribe>,
    actor: Actor,
    out: mpsc::Sender<Out>,
) {
    let engine = state.engine.clone();
    let prepared = match engine
        .prepare(payload.request, payload.document_id.as_deref())
        .await
    {
        Ok(prepared) => prepared,
        Err(rejected) => {
            let Rejected { error, .. } = *rejected;
            let _ = out.send(Out::Message(error_message(&id, &error))).await;
            let _ = out.send(Out::Finished(id, generation)).await;
            return;
        }
    };
    let next = |response: &async_graphql::Response| json!({"type": "next", "id": id, "payload": response});
    if prepared.operation.kind == Some(async_graphql::parser::types::OperationType::Subscription) {
        let mut responses = engine.stream(prepared, actor);
        while let Some(response) = responses.next().await {
            if out.send(Out::Message(next(&response))).await.is_err() {
                return;
            }
        }
    } else {
        let statements = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let response = engine.execute(prepared, actor, &statements).await;
        if out.send(Out::Message(next(&response))).await.is_err() {
            return;
        }
    }
    let _ = out
        .send(Out::Message(json!({"type": "complete", "id": id})))
        .await;
    let _ = out.send(Out::Finished(id, generation)).await;
}
