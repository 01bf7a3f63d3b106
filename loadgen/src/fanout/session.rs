//! One fan-out subscriber: follows the team topic and notes when it came to hold each version.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use crate::client::{Incoming, Socket, send_json};

/// What one subscriber saw.
pub struct Record {
    /// The version of its first snapshot.
    pub first: i64,
    /// When it came to hold version `first + 1 + i`, by delta or by snapshot.
    pub arrivals: Vec<Instant>,
    /// Snapshots after the first (the server replaced queued deltas with one).
    pub snapshots_mid_run: u64,
    /// Versions it got only inside such a snapshot, never as a delta.
    pub collapsed: u64,
    /// Deltas whose version was not the previous one + 1.
    pub gaps: u64,
    /// Whether its socket ended before it was told to stop.
    pub dropped: bool,
}

/// Subscribes `socket` to `topic` and waits for the snapshot; answers its version.
pub async fn subscribe(socket: &mut Socket, topic: &str) -> anyhow::Result<i64> {
    send_json(socket, &json!({ "type": "subscribe", "topic": topic })).await?;
    loop {
        let frame = socket.next().await.context("the socket closed")??;
        let Message::Text(text) = frame else { continue };
        let Some(message) = Incoming::parse(&text) else {
            continue;
        };
        match message.kind.as_str() {
            "snapshot" => return message.version.context("a snapshot without a version"),
            "error" => bail!("subscribing to {topic} answered {text}"),
            _ => {}
        }
    }
}

/// Follows the subscribed `socket` from version `first` until `stop` turns true, publishing
/// the version it holds in `held`.
pub async fn follow(
    mut socket: Socket,
    first: i64,
    held: Arc<AtomicI64>,
    mut stop: watch::Receiver<bool>,
) -> Record {
    let mut record = Record {
        first,
        arrivals: Vec::new(),
        snapshots_mid_run: 0,
        collapsed: 0,
        gaps: 0,
        dropped: false,
    };
    let mut version = first;
    loop {
        let frame = tokio::select! {
            frame = socket.next() => frame,
            _ = stop.changed() => return record,
        };
        let text = match frame {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(_)) | Err(_)) | None => {
                record.dropped = true;
                return record;
            }
            Some(Ok(_)) => continue,
        };
        let Some(message) = Incoming::parse(&text) else {
            continue;
        };
        let Some(next) = message.version else {
            continue;
        };
        match message.kind.as_str() {
            "delta" if next != version + 1 => record.gaps += 1,
            "delta" => {}
            "snapshot" => {
                record.snapshots_mid_run += 1;
                record.collapsed += u64::try_from(next - version).unwrap_or(0);
            }
            _ => continue,
        }
        if next > version {
            let now = Instant::now();
            let reached = usize::try_from(next - version).unwrap_or(0);
            record.arrivals.extend(std::iter::repeat_n(now, reached));
            version = next;
            held.store(version, Ordering::Relaxed);
        }
    }
}
