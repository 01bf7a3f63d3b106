//! `GET /api/v1/ws` with a real WebSocket client. Every case runs against both adapters of the
//! live protocol (`adapters.rs`): taskpulse's own server (poem) and the axum example beside it
//! (`examples/axum-live`), as `<case>::poem` and `<case>::axum`.
//! - `connection.rs`: authentication, limits, frames, origins, pings;
//! - `topics.rs`: snapshot then consecutive deltas, resume, revocation, unsubscribing, slow
//!   clients;
//! - `trends.rs`: trends topics and time zones;
//! - `renewal.rs`: renewing the token in band.
//!
//! The client helpers here serve the other WebSocket tests too.

mod adapters;
mod codes;
mod connection;
mod renewal;
mod topics;
mod trends;

use std::time::Duration;

use crate::common::{Registered, TestApp};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

pub(crate) use adapters::{Adapter, Live, on_both_adapters};

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) async fn connect(app: &TestApp, token: Option<&str>) -> anyhow::Result<Socket> {
    connect_to(&app.base_url, token).await
}

/// Opens a session on the server at `base` (`http://host:port`).
pub(crate) async fn connect_to(base: &str, token: Option<&str>) -> anyhow::Result<Socket> {
    let base = base.replace("http://", "ws://");
    let url = match token {
        Some(token) => format!("{base}/api/v1/ws?access_token={token}"),
        None => format!("{base}/api/v1/ws"),
    };
    Ok(connect_async(url).await?.0)
}

pub(crate) async fn send(socket: &mut Socket, message: Value) -> anyhow::Result<()> {
    Ok(socket
        .send(Message::Text(message.to_string().into()))
        .await?)
}

/// The next JSON message (pings are answered by the client library and skipped).
pub(crate) async fn receive(socket: &mut Socket) -> anyhow::Result<Value> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await?
            .ok_or_else(|| anyhow::anyhow!("the socket closed"))??;
        match frame {
            Message::Text(text) => return Ok(serde_json::from_str(&text)?),
            Message::Close(close) => anyhow::bail!("closed: {close:?}"),
            _ => {}
        }
    }
}

/// Waits for the close frame and answers its code.
pub(crate) async fn close_code(socket: &mut Socket) -> anyhow::Result<u16> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await? {
            Some(Ok(Message::Close(Some(frame)))) => return Ok(frame.code.into()),
            Some(Ok(Message::Close(None))) | None => anyhow::bail!("closed without a code"),
            Some(Ok(_)) => {}
            Some(Err(err)) => anyhow::bail!("socket error: {err}"),
        }
    }
}

/// A session of `user` subscribed to `topic`, and its first message.
async fn subscribed(app: &Live, user: &Registered, topic: &str) -> anyhow::Result<(Socket, Value)> {
    let mut socket = app.connect(Some(&user.access)).await?;
    send(&mut socket, json!({ "type": "subscribe", "topic": topic })).await?;
    let snapshot = receive(&mut socket).await?;
    Ok((socket, snapshot))
}
