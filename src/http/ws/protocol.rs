//! The messages of `graphql-transport-ws`, as the server reads and writes them.
use axum::extract::ws::Message;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;

/// A client message of `graphql-transport-ws`.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<Value>,
    },
    Ping {},
    Pong {},
    Subscribe {
        id: String,
        payload: Box<Subscribe>,
    },
    Complete {
        id: String,
    },
}

#[derive(Deserialize)]
pub struct Subscribe {
    #[serde(flatten)]
    pub request: async_graphql::Request,
    #[serde(default, rename = "documentId")]
    pub document_id: Option<String>,
}

/// What a client message means for the connection.
pub enum Parsed {
    Message(ClientMessage),
    Ignored,
    Closed,
    Invalid(String),
}

pub fn parse(message: Option<Result<Message, axum::Error>>) -> Parsed {
    match message {
        None | Some(Err(_)) | Some(Ok(Message::Close(_))) => Parsed::Closed,
        Some(Ok(Message::Text(text))) => match serde_json::from_str(&text) {
            Ok(message) => Parsed::Message(message),
            Err(e) => Parsed::Invalid(format!("Invalid message: {e}")),
        },
        Some(Ok(Message::Binary(_))) => {
            Parsed::Invalid("Binary messages are not part of the protocol".into())
        }
        Some(Ok(_)) => Parsed::Ignored,
    }
}

/// The `Authorization` value of `connection_init`'s payload (`connectionParams`).
pub fn authorization_of(payload: Option<&Value>) -> Option<String> {
    let payload = payload?;
    let headers = payload.get("headers");
    ["Authorization", "authorization"]
        .iter()
        .find_map(|key| payload.get(key).or_else(|| headers.and_then(|h| h.get(key))))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

pub fn error_message(id: &str, error: &ApiError) -> Value {
    json!({"type": "error", "id": id, "payload": [error.server_error()]})
}
