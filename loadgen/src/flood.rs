//! `taskpulse-loadgen --flood N --server-pid PID`: what floods of connections leave behind.
//! Three rounds against one server: N silent TCP connections, N half-sent request heads, and N
//! WebSocket upgrades that never authenticate. Each round holds its connections while timing a
//! health request on a connection of its own, releases them, waits for the server to settle,
//! and reads the server's resident memory before, during and after.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpSocket;
use tokio_tungstenite::client_async;

use super::client::Client;
use super::idle::rss_kib;

/// Connections from one loopback source address: under the server's default per-client cap.
const CONNECTIONS_PER_SOURCE: usize = 4_000;
const OPEN_CONCURRENCY: usize = 128;
/// How long the server gets to give memory back once a flood ends.
const SETTLE: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug)]
enum Kind {
    Silent,
    HalfHead,
    WebSocket,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Silent => "silent TCP connections",
            Kind::HalfHead => "half-sent request heads",
            Kind::WebSocket => "unauthenticated WebSocket sessions",
        }
    }
}

/// Runs the three rounds and prints one line (or JSON object) each.
pub async fn measure(
    client: &Client,
    connections: usize,
    server_pid: u32,
    json_out: bool,
) -> anyhow::Result<()> {
    let server = client.socket_addr()?;
    let health = format!(
        "{}/api/v1/health/live",
        client.base_url().trim_end_matches('/')
    );
    // Warm the server's own allocations first, so the baseline is a running server's.
    reqwest::get(&health).await?;
    for kind in [Kind::Silent, Kind::HalfHead, Kind::WebSocket] {
        let before = rss_kib(server_pid)?;
        let opened: Vec<anyhow::Result<Held>> = stream::iter(0..connections)
            .map(|n| open(server, n, kind))
            .buffer_unordered(OPEN_CONCURRENCY)
            .collect()
            .await;
        let held: Vec<Held> = opened.into_iter().filter_map(Result::ok).collect();
        let started = Instant::now();
        let status = reqwest::get(&health).await.map(|r| r.status().as_u16());
        let health_ms = started.elapsed().as_secs_f64() * 1000.0;
        let during = rss_kib(server_pid)?;
        let count = held.len();
        drop(held);
        tokio::time::sleep(SETTLE).await;
        let after = rss_kib(server_pid)?;
        let ratio = after as f64 / before.max(1) as f64;
        if json_out {
            println!(
                "{}",
                json!({
                    "flood": kind.name(), "connections": count, "health_status": status.ok(),
                    "health_ms": health_ms, "rss_kib_before": before, "rss_kib_during": during,
                    "rss_kib_after": after, "after_over_before": ratio,
                })
            );
        } else {
            println!(
                "{count} {}: health answered {} in {health_ms:.1} ms while held; server RSS \
                 {before} KiB → {during} KiB held → {after} KiB {}s after release ({:+.0} %)",
                kind.name(),
                status.map_or_else(|e| e.to_string(), |s| s.to_string()),
                SETTLE.as_secs(),
                (ratio - 1.0) * 100.0
            );
        }
    }
    Ok(())
}

/// A connection held open; closing it is dropping it.
type Held = Box<dyn Send>;

async fn open(server: SocketAddr, n: usize, kind: Kind) -> anyhow::Result<Held> {
    let source = Ipv4Addr::new(
        127,
        0,
        0,
        1 + u8::try_from(n / CONNECTIONS_PER_SOURCE).unwrap_or(u8::MAX - 1),
    );
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source.into(), 0))?;
    let mut stream = socket.connect(server).await?;
    Ok(match kind {
        Kind::Silent => Box::new(stream),
        Kind::HalfHead => {
            stream
                .write_all(b"GET /api/v1/health/live HTTP/1.1\r\nHost: flood\r\n")
                .await?;
            Box::new(stream)
        }
        Kind::WebSocket => {
            let url = format!("ws://{server}/api/v1/ws");
            Box::new(client_async(url, stream).await?.0)
        }
    })
}
