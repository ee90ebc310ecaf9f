//! Open WebSocket connections per caller on this instance (`BLOGQL_WS_MAX_CONNECTIONS`).
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

/// Open connections per caller on this instance.
#[derive(Clone, Default)]
pub struct Connections(Arc<Mutex<HashMap<String, usize>>>);

/// One counted connection; uncounted when dropped.
pub struct Slot {
    connections: Connections,
    key: String,
}

impl Connections {
    pub fn take(&self, key: &str, max: usize) -> Option<Slot> {
        let mut open = self.0.lock().ok()?;
        let count = open.entry(key.to_owned()).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        metrics::gauge!("blogql_ws_connections").increment(1.0);
        Some(Slot {
            connections: self.clone(),
            key: key.to_owned(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        metrics::gauge!("blogql_ws_connections").decrement(1.0);
        if let Ok(mut open) = self.connections.0.lock()
            && let Some(count) = open.get_mut(&self.key)
        {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}
