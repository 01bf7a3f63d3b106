//! The load generator's HTTP and WebSocket client.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt, stream};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

use super::{ensure_loopback, for_user};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Registrations in flight at once (each costs the server an Argon2 hash).
const REGISTER_CONCURRENCY: usize = 16;

/// Talks to one server.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    ws: String,
}

/// A registered user with its open, subscribed session.
pub struct LiveUser {
    index: usize,
    /// The user's access token.
    pub token: String,
    socket: Socket,
    version: i64,
}

/// What one write measured.
#[derive(Debug, Default)]
pub struct WriteOutcome {
    /// From sending the request to its answer.
    pub answered: Option<Duration>,
    /// From sending the request to the matching delta on the user's socket.
    pub delivered: Option<Duration>,
    /// What went wrong, if anything.
    pub error: Option<String>,
}

impl Client {
    /// A client for the server at `url` (loopback only).
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let parsed = url::Url::parse(url).with_context(|| format!("{url} is not a URL"))?;
        ensure_loopback(&parsed)?;
        let base = url.trim_end_matches('/').to_owned();
        let ws = base.replacen("http", "ws", 1);
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1024)
            .build()?;
        Ok(Self { http, base, ws })
    }

    /// Registers one user; answers its access token.
    pub async fn register_one(&self, tag: &str) -> anyhow::Result<String> {
        let suffix = uuid::Uuid::now_v7().simple().to_string();
        let body = json!({
            "email": format!("loadgen-{tag}-{}@example.com", &suffix[24..]),
            "password": "loadgen-password",
            "display_name": "Load",
        });
        let response = self
            .http
            .post(format!("{}/api/v1/auth/register", self.base))
            .json(&body)
            .send()
            .await?;
        if response.status() != 201 {
            bail!("registration answered {}", response.status());
        }
        let session: Value = response.json().await?;
        Ok(session["access_token"]
            .as_str()
            .context("no access token")?
            .to_owned())
    }

    /// The server's address (for sockets opened by hand).
    pub fn socket_addr(&self) -> anyhow::Result<std::net::SocketAddr> {
        let url = url::Url::parse(&self.base)?;
        url.socket_addrs(|| Some(80))?
            .into_iter()
            .next()
            .context("the URL names no address")
    }

    /// Registers `count` users and opens a subscribed session for each.
    pub async fn open_users(&self, count: usize, tag: &str) -> anyhow::Result<Vec<LiveUser>> {
        let opened: Vec<anyhow::Result<LiveUser>> = stream::iter(0..count)
            .map(|index| async move { for_user(self.open_user(index, tag).await, index) })
            .buffer_unordered(REGISTER_CONCURRENCY)
            .collect()
            .await;
        opened.into_iter().collect()
    }

    async fn open_user(&self, index: usize, tag: &str) -> anyhow::Result<LiveUser> {
        let body = json!({
            "email": format!("loadgen-{tag}-{index}@example.com"),
            "password": "loadgen-password",
            "display_name": format!("Load {index}"),
        });
        let response = self
            .http
            .post(format!("{}/api/v1/auth/register", self.base))
            .json(&body)
            .send()
            .await?;
        if response.status() != 201 {
            bail!(
                "registration answered {} (run the server with --no-rate-limit)",
                response.status()
            );
        }
        let session: Value = response.json().await?;
        let token = session["access_token"]
            .as_str()
            .context("no access token")?
            .to_owned();
        let (mut socket, _) =
            connect_async(format!("{}/api/v1/ws?access_token={token}", self.ws)).await?;
        socket
            .send(Message::Text(
                json!({ "type": "subscribe", "topic": "user" })
                    .to_string()
                    .into(),
            ))
            .await?;
        let snapshot = next_json(&mut socket, Duration::from_secs(10)).await?;
        let version = snapshot["version"]
            .as_i64()
            .context("the first message was not a snapshot")?;
        Ok(LiveUser {
            index,
            token,
            socket,
            version,
        })
    }

    /// Creates one task as `user` and waits for its delta; gives the user back unless its
    /// socket broke.
    pub async fn write_and_await_delta(
        &self,
        mut user: LiveUser,
        seq: u64,
        timeout: Duration,
    ) -> (Option<LiveUser>, WriteOutcome) {
        let sent = Instant::now();
        let expected = user.version + 1;
        let request = self
            .http
            .post(format!("{}/api/v1/tasks", self.base))
            .bearer_auth(&user.token)
            .json(&json!({ "title": format!("loadgen task {seq}") }))
            .send();
        let answer = async {
            let response = request.await;
            let answered = sent.elapsed();
            match response {
                Ok(r) if r.status() == 201 => Ok(answered),
                Ok(r) => Err(format!("write answered {}", r.status())),
                Err(err) => Err(format!("write failed: {err}")),
            }
        };
        let delta = async {
            let deadline = sent + timeout;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match next_json(&mut user.socket, left).await {
                    Ok(message)
                        if message["type"] == "delta"
                            && message["version"].as_i64() == Some(expected) =>
                    {
                        return Ok(sent.elapsed());
                    }
                    Ok(message) if message["type"] == "snapshot" => {
                        // The server resynced us: count from its version.
                        if message["version"].as_i64() >= Some(expected) {
                            return Ok(sent.elapsed());
                        }
                    }
                    Ok(_) => {}
                    Err(err) => return Err(format!("no delta for user {}: {err}", user.index)),
                }
            }
        };
        let (answered, delivered) = tokio::join!(answer, delta);
        let broken = delivered.is_err();
        if !broken {
            user.version = expected;
        }
        let outcome = WriteOutcome {
            answered: answered.as_ref().ok().copied(),
            delivered: delivered.as_ref().ok().copied(),
            error: answered.err().or(delivered.err()),
        };
        ((!broken).then_some(user), outcome)
    }

    /// One statistics read; whether it answered 200.
    pub async fn get_statistics(&self, token: &str) -> bool {
        let response = self
            .http
            .get(format!("{}/api/v1/dashboard/statistics", self.base))
            .bearer_auth(token)
            .send()
            .await;
        match response {
            Ok(r) if r.status() == 200 => r.bytes().await.is_ok(),
            _ => false,
        }
    }
}

/// The next JSON text message (control frames are handled by the library).
async fn next_json(socket: &mut Socket, timeout: Duration) -> anyhow::Result<Value> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let frame = tokio::time::timeout(left, socket.next())
            .await
            .context("timed out")?
            .context("the socket closed")??;
        if let Message::Text(text) = frame {
            return Ok(serde_json::from_str(&text)?);
        }
    }
}
