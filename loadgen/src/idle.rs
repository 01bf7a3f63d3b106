//! `taskpulse-loadgen --idle-sessions N --server-pid PID`: the server's resident memory per idle,
//! subscribed WebSocket session. Opens N sessions spread over users — 16 each by default, the
//! server's default `--ws-max-sessions-per-user`, or over `--users` — each subscribed to its
//! user's `user` topic, and reads the server's RSS from /proc before and after (the users are
//! registered before the first reading). Connections come from several loopback
//! addresses (127.0.0.1, .2, …), 4 000 from each: under the server's default
//! `--max-connections-per-ip` (4 096), and well under the ~28k ephemeral ports of one address.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt, stream};
use serde_json::json;
use tokio::net::TcpSocket;
use tokio_tungstenite::client_async;
use tokio_tungstenite::tungstenite::Message;

use super::client::Client;

const CONNECTIONS_PER_SOURCE: usize = 4_000;
const OPEN_CONCURRENCY: usize = 128;
/// How long the server is left alone before its RSS is read.
const SETTLE: Duration = Duration::from_secs(2);
/// Sessions per user when `--users` is not given: the server's default per-user limit.
const SESSIONS_PER_USER: usize = 16;

/// The users `sessions` are spread over: `users` when given (at most one per session), else
/// one for every [`SESSIONS_PER_USER`].
pub fn users_for(sessions: usize, users: Option<usize>) -> usize {
    users
        .unwrap_or_else(|| sessions.div_ceil(SESSIONS_PER_USER))
        .clamp(1, sessions.max(1))
}

/// Registers the users, opens the sessions (authenticated, nothing subscribed; session `n` is
/// user `n mod users`'s), measures, subscribes each to its `user` topic, measures again,
/// prints, closes them.
pub async fn measure(
    client: &Client,
    sessions: usize,
    users: Option<usize>,
    server_pid: u32,
    json_out: bool,
) -> anyhow::Result<()> {
    let users = users_for(sessions, users);
    eprintln!("loadgen: registering {users} users for {sessions} idle sessions…");
    let tokens = client.register_many(users, "idle").await?;
    let server: SocketAddr = client.socket_addr()?;
    // Sessions open and subscribe in two halves, the server's RSS read after each. The first
    // half's figure starts from a server that has just hashed the users' passwords; memory the
    // allocator freed from that is resident still and is reused first, so the second half's
    // growth is the cleaner per-session cost (and its subscriptions hydrate no aggregate: the
    // first half holds every user).
    let half = sessions / 2;
    let before = rss_kib(server_pid)?;
    let mut sockets = open_all(server, 0..half, &tokens).await?;
    let half_connected = rss_kib(server_pid)?;
    sockets.extend(open_all(server, half..sessions, &tokens).await?);
    let connected = rss_kib(server_pid)?;
    subscribe_all(&mut sockets[..half]).await?;
    let half_subscribed = rss_kib(server_pid)?;
    subscribe_all(&mut sockets[half..]).await?;
    let after = rss_kib(server_pid)?;
    let per = |kib: u64| kib.saturating_sub(before) as f64 / sessions as f64;
    let second_half = (sessions - half).max(1) as f64;
    let marginal_connected = connected.saturating_sub(half_connected) as f64 / second_half;
    let marginal_subscribed =
        marginal_connected + after.saturating_sub(half_subscribed) as f64 / second_half;
    if json_out {
        println!(
            "{}",
            json!({
                "idle_sessions": sessions, "users": users, "server_rss_kib_before": before,
                "kib_per_session": per(connected), "kib_per_subscribed_session": per(after),
                "second_half_kib_per_session": marginal_connected,
                "second_half_kib_per_subscribed_session": marginal_subscribed,
            })
        );
    } else {
        println!(
            "{sessions} idle sessions of {users} users: server RSS {before} KiB → {connected} KiB connected ({:.1} KiB per session; the second half {marginal_connected:.1}) → {after} KiB subscribed ({:.1} KiB per session; the second half {marginal_subscribed:.1})",
            per(connected),
            per(after)
        );
    }
    drop(sockets);
    Ok(())
}

type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Opens sessions `range` (session `n` is user `n mod users`'s), then lets the server settle.
async fn open_all(
    server: SocketAddr,
    range: std::ops::Range<usize>,
    tokens: &[String],
) -> anyhow::Result<Vec<Socket>> {
    let opened: Vec<anyhow::Result<Socket>> = stream::iter(range)
        .map(|n| open(server, n, &tokens[n % tokens.len()]))
        .buffer_unordered(OPEN_CONCURRENCY)
        .collect()
        .await;
    let sockets = opened.into_iter().collect::<anyhow::Result<_>>()?;
    tokio::time::sleep(SETTLE).await;
    Ok(sockets)
}

/// Subscribes each session to its user's `user` topic (answered by the snapshot), then lets
/// the server settle.
async fn subscribe_all(sockets: &mut [Socket]) -> anyhow::Result<()> {
    let subscribed: Vec<anyhow::Result<()>> = stream::iter(sockets.iter_mut())
        .map(|socket| request(socket, json!({ "type": "subscribe", "topic": "user" })))
        .buffer_unordered(OPEN_CONCURRENCY)
        .collect()
        .await;
    subscribed
        .into_iter()
        .collect::<anyhow::Result<Vec<()>>>()?;
    tokio::time::sleep(SETTLE).await;
    Ok(())
}

/// One authenticated session (a ping answered proves it), from a loopback source address.
async fn open(server: SocketAddr, n: usize, token: &str) -> anyhow::Result<Socket> {
    let source = Ipv4Addr::new(
        127,
        0,
        0,
        1 + u8::try_from(n / CONNECTIONS_PER_SOURCE).unwrap_or(u8::MAX - 1),
    );
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source.into(), 0))?;
    let stream = socket.connect(server).await?;
    let url = format!("ws://{server}/api/v1/ws?access_token={token}");
    let (mut ws, _) = client_async(url, stream).await?;
    request(&mut ws, json!({ "type": "ping", "id": n })).await?;
    Ok(ws)
}

/// Sends one message and waits for the first text answer.
async fn request(ws: &mut Socket, message: serde_json::Value) -> anyhow::Result<()> {
    ws.send(Message::Text(message.to_string().into())).await?;
    loop {
        match tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .context("no answer")?
        {
            Some(Ok(Message::Text(_))) => return Ok(()),
            Some(Ok(Message::Close(frame))) => bail!("closed: {frame:?}"),
            Some(Ok(_)) => {}
            Some(Err(err)) => return Err(err.into()),
            None => bail!("the socket closed"),
        }
    }
}

pub(super) fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("no process {pid} on this machine"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS in /proc status")
}

#[cfg(test)]
mod tests {
    use super::users_for;

    #[test]
    fn sessions_are_spread_sixteen_a_user_unless_users_are_given() {
        assert_eq!(users_for(10_000, None), 625);
        assert_eq!(users_for(40, None), 3);
        assert_eq!(users_for(16, None), 1);
        assert_eq!(users_for(40, Some(5)), 5);
        assert_eq!(users_for(4, Some(9)), 4, "at most one user a session");
    }
}
