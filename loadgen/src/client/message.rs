//! WebSocket pieces shared by the storm and fan-out modes: the few fields of a server message
//! they read, connecting, and the reconnect backoff.

use std::time::Duration;

use anyhow::Context;
use futures_util::SinkExt;
use rand::Rng;
use serde::Deserialize;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async_with_config};

/// One client WebSocket session.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a WebSocket handshake may take before the node counts as unreachable.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// What one read of a session's socket may take. tungstenite zeroes this much before every
/// read: its default, 128 KiB, was half of the load generator's CPU with 5 000 sessions
/// (BENCHMARKS.md, "The load generator's own cost"), for server messages of a few hundred bytes.
const READ_BUFFER_BYTES: usize = 4 * 1024;
/// The first reconnect waits up to this long, each further attempt up to twice as long…
const BACKOFF_BASE: Duration = Duration::from_millis(100);
/// …but never longer than this.
const BACKOFF_CAP: Duration = Duration::from_secs(2);

/// The fields of a server message the load generator reads; serde skips the rest (a delta's
/// statistics, a snapshot's breakdown), which keeps thousands of sessions cheap to follow.
#[derive(Debug, Deserialize)]
pub struct Incoming {
    /// `snapshot`, `delta`, `subscribed`, `error`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The topic it is about, when it is about one.
    #[serde(default)]
    pub topic: Option<String>,
    /// The aggregate version it carries (snapshot, delta, subscribed).
    #[serde(default)]
    pub version: Option<i64>,
    /// An `error`'s code (`unavailable` asks the client to try again).
    #[serde(default)]
    pub code: Option<String>,
}

impl Incoming {
    /// Parses a text frame; `None` for anything that is not a server message.
    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

/// Opens a session at `url` (an authenticated `ws://…/api/v1/ws?access_token=…`).
pub async fn connect(url: &str) -> anyhow::Result<Socket> {
    tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(url))
        .await
        .context("the WebSocket handshake timed out")?
}

/// The WebSocket handshake at `url`, every session of the load generator configured alike.
pub async fn handshake(url: &str) -> anyhow::Result<Socket> {
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES);
    let (socket, _) = connect_async_with_config(url, Some(config), false).await?;
    Ok(socket)
}

/// Sends one JSON message.
pub async fn send_json(socket: &mut Socket, message: &serde_json::Value) -> anyhow::Result<()> {
    socket
        .send(Message::Text(message.to_string().into()))
        .await?;
    Ok(())
}

/// The wait before reconnect attempt `attempt` (0 for the first): "full jitter", uniform in
/// [0, min(cap, base · 2^attempt)), so that the clients of a node that died do not all come
/// back in the same millisecond and every retry spreads them further.
pub fn backoff(attempt: u32) -> Duration {
    let ceiling = BACKOFF_BASE
        .saturating_mul(1u32 << attempt.min(16))
        .min(BACKOFF_CAP);
    let micros = u64::try_from(ceiling.as_micros()).unwrap_or(u64::MAX);
    Duration::from_micros(rand::rng().random_range(0..micros.max(1)))
}

#[cfg(test)]
mod tests {
    use super::{BACKOFF_CAP, Incoming, backoff};
    use std::time::Duration;

    #[test]
    fn backoff_doubles_its_ceiling_up_to_the_cap() {
        for _ in 0..200 {
            assert!(backoff(0) < Duration::from_millis(100));
            assert!(backoff(2) < Duration::from_millis(400));
            assert!(backoff(30) < BACKOFF_CAP);
        }
    }

    #[test]
    fn incoming_reads_the_fields_it_needs_and_skips_the_rest() {
        let delta = r#"{"type":"delta","topic":"user","version":43,"changes":{"pending":1},"stats":{"total":3}}"#;
        let message = Incoming::parse(delta).expect("a delta parses");
        assert_eq!(message.kind, "delta");
        assert_eq!(message.topic.as_deref(), Some("user"));
        assert_eq!(message.version, Some(43));
        assert!(Incoming::parse("not json").is_none());
    }
}
