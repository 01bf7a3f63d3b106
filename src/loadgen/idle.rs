//! `loadgen --idle-sessions N --server-pid PID`: the server's resident memory per idle,
//! subscribed WebSocket session. Opens N sessions for one user (start the server with
//! `--ws-max-sessions-per-user` at least N), each subscribed to its `user` topic, and reads
//! the server's RSS from /proc before and after. Connections come from several loopback
//! addresses (127.0.0.1, .2, …), since one source address has only ~28k ephemeral ports.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt, stream};
use serde_json::json;
use tokio::net::TcpSocket;
use tokio_tungstenite::client_async;
use tokio_tungstenite::tungstenite::Message;

use super::client::Client;

const CONNECTIONS_PER_SOURCE: usize = 20_000;
const OPEN_CONCURRENCY: usize = 128;

/// Opens the sessions, measures, prints one line (or JSON), closes them.
pub async fn measure(client: &Client, sessions: usize, server_pid: u32, json_out: bool) -> anyhow::Result<()> {
    let user = client.register_one("idle").await?;
    let server: SocketAddr = client.socket_addr()?;
    let before = rss_kib(server_pid)?;
    let opened: Vec<anyhow::Result<_>> = stream::iter(0..sessions)
        .map(|n| {
            let token = user.clone();
            async move {
                let source = Ipv4Addr::new(127, 0, 0, 1 + u8::try_from(n / CONNECTIONS_PER_SOURCE).unwrap_or(u8::MAX - 1));
                let socket = TcpSocket::new_v4()?;
                socket.bind(SocketAddr::new(source.into(), 0))?;
                let stream = socket.connect(server).await?;
                let url = format!("ws://{server}/api/v1/ws?access_token={token}");
                let (mut ws, _) = client_async(url, stream).await?;
                ws.send(Message::Text(json!({ "type": "subscribe", "topic": "user" }).to_string().into())).await?;
                let first = tokio::time::timeout(Duration::from_secs(30), ws.next()).await.context("no snapshot")?;
                if !matches!(first, Some(Ok(Message::Text(_)))) {
                    bail!("session {n} got no snapshot: {first:?}");
                }
                anyhow::Ok(ws)
            }
        })
        .buffer_unordered(OPEN_CONCURRENCY)
        .collect()
        .await;
    let sockets: Vec<_> = opened.into_iter().collect::<anyhow::Result<_>>()?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(server_pid)?;
    let per_session = after.saturating_sub(before) as f64 / sessions as f64;
    if json_out {
        println!("{}", json!({ "idle_sessions": sessions, "server_rss_kib_before": before, "server_rss_kib_after": after, "kib_per_session": per_session }));
    } else {
        println!("{sessions} idle sessions: server RSS {before} KiB → {after} KiB, {per_session:.1} KiB per session");
    }
    drop(sockets);
    Ok(())
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).with_context(|| format!("no process {pid} on this machine"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS in /proc status")
}
