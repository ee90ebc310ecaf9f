//! A `graphql-transport-ws` client over a real WebSocket (tokio-tungstenite), for the
//! subscription tests.
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

use crate::helpers::TestApp;

pub struct Ws {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// How long a test waits for a message it expects.
const WAIT: Duration = Duration::from_secs(15);

/// What the server sent, pings answered and skipped.
#[derive(Debug)]
pub enum Received {
    Message(Value),
    Closed(u16, String),
}

impl Ws {
    /// Opens a socket speaking `graphql-transport-ws`, without `connection_init`.
    pub async fn open(app: &TestApp) -> Ws {
        let url = app.url("/graphql/ws").replacen("http://", "ws://", 1);
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (socket, response) = connect_async(request).await.unwrap();
        assert_eq!(
            response.headers().get("sec-websocket-protocol").unwrap(),
            "graphql-transport-ws"
        );
        Ws { socket }
    }

    /// Opens and initialises a connection (`Authorization` in `connectionParams`).
    pub async fn connect(app: &TestApp, token: Option<&str>) -> Ws {
        let mut ws = Ws::open(app).await;
        ws.init(token).await;
        match ws.receive().await {
            Received::Message(m) if m["type"] == "connection_ack" => ws,
            other => panic!("expected connection_ack, got {other:?}"),
        }
    }

    pub async fn init(&mut self, token: Option<&str>) {
        let payload = match token {
            Some(token) => json!({ "Authorization": format!("Bearer {token}") }),
            None => json!({}),
        };
        self.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
    }

    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({
            "type": "subscribe",
            "id": id,
            "payload": { "query": query, "variables": variables },
        }))
        .await;
    }

    /// The next message (pings answered), or the close frame.
    pub async fn receive(&mut self) -> Received {
        self.receive_within(WAIT)
            .await
            .expect("no message from the server in time")
    }

    /// The next event of `id` if one comes within `wait`.
    pub async fn event_within(&mut self, id: &str, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.receive_within(left).await? {
                Received::Message(m) if m["id"] == id && m["type"] == "next" => {
                    assert!(m["payload"]["errors"].is_null(), "subscription error: {m:#}");
                    return Some(m["payload"]["data"]["postEvents"].clone());
                }
                Received::Message(_) => {}
                closed => panic!("expected an event, got {closed:?}"),
            }
        }
    }

    async fn receive_within(&mut self, wait: Duration) -> Option<Received> {
        loop {
            let next = tokio::time::timeout(wait, self.socket.next()).await.ok()?;
            match next {
                Some(Ok(Message::Text(text))) => {
                    let message: Value = serde_json::from_str(&text).unwrap();
                    if message["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    return Some(Received::Message(message));
                }
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((1005, String::new()));
                    return Some(Received::Closed(code, reason));
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Some(Received::Closed(1006, String::new())),
            }
        }
    }

    /// The next message, which must be one (not a close).
    pub async fn message(&mut self) -> Value {
        match self.receive().await {
            Received::Message(m) => m,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    /// The payload of the next `next` message of `id` (other ids' messages are skipped).
    pub async fn next_of(&mut self, id: &str) -> Value {
        loop {
            let m = self.message().await;
            if m["id"] != id {
                continue;
            }
            assert_eq!(m["type"], "next", "expected `next` for {id}: {m:#}");
            return m["payload"].clone();
        }
    }

    /// The next event of subscription `id` (its `data.postEvents`).
    pub async fn event(&mut self, id: &str) -> Value {
        let payload = self.next_of(id).await;
        assert!(payload["errors"].is_null(), "subscription error: {payload:#}");
        payload["data"]["postEvents"].clone()
    }

    /// The close code and reason, after any messages still in flight.
    pub async fn closed(&mut self) -> (u16, String) {
        loop {
            if let Received::Closed(code, reason) = self.receive().await {
                return (code, reason);
            }
        }
    }
}
