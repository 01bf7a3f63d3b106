//! A WebSocket client for `GET /api/v1/ws` on any base URL: a node or the balancer.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

pub type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a test waits for a message it expects.
pub const MESSAGE_WAIT: Duration = Duration::from_secs(5);

/// Opens a session on `base_url` (`http://…`) authenticated by the upgrade's query.
pub async fn connect(base_url: &str, token: &str) -> anyhow::Result<Socket> {
    let base = base_url.replace("http://", "ws://");
    Ok(
        connect_async(format!("{base}/api/v1/ws?access_token={token}"))
            .await?
            .0,
    )
}

pub async fn send(socket: &mut Socket, message: Value) -> anyhow::Result<()> {
    Ok(socket
        .send(Message::Text(message.to_string().into()))
        .await?)
}

/// Opens a session and subscribes to `topic`, resuming after `since` when given.
pub async fn subscribe(
    base_url: &str,
    token: &str,
    topic: &str,
    since: Option<i64>,
) -> anyhow::Result<Socket> {
    let mut socket = connect(base_url, token).await?;
    let mut message = json!({ "type": "subscribe", "topic": topic });
    if let Some(since) = since {
        message["since_version"] = json!(since);
    }
    send(&mut socket, message).await?;
    Ok(socket)
}

/// What a session yields next.
#[derive(Debug)]
pub enum Received {
    /// A JSON message.
    Message(Value),
    /// The session ended: a close frame, a reset, or the end of the stream.
    Closed(String),
}

/// The next JSON message or the end of the session, waiting at most `wait` (pings are
/// answered by the client library and skipped).
pub async fn next(socket: &mut Socket, wait: Duration) -> anyhow::Result<Received> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .map_err(|_| anyhow::anyhow!("no message within {wait:?}"))?;
        return Ok(match frame {
            Some(Ok(Message::Text(text))) => Received::Message(serde_json::from_str(&text)?),
            Some(Ok(Message::Close(close))) => Received::Closed(format!("{close:?}")),
            Some(Ok(_)) => continue,
            Some(Err(err)) => Received::Closed(err.to_string()),
            None => Received::Closed("end of stream".to_owned()),
        });
    }
}

/// The next JSON message; fails when the session ends or nothing comes within
/// [`MESSAGE_WAIT`].
pub async fn receive(socket: &mut Socket) -> anyhow::Result<Value> {
    match next(socket, MESSAGE_WAIT).await? {
        Received::Message(message) => Ok(message),
        Received::Closed(why) => anyhow::bail!("the session closed: {why}"),
    }
}

/// `(type, version)` of a message, for compact assertions.
pub fn kind_and_version(message: &Value) -> (Option<&str>, Option<i64>) {
    (message["type"].as_str(), message["version"].as_i64())
}
