//! The load generator's HTTP and WebSocket client, for one server or the nodes of a cluster.

mod accounts;
mod message;

pub use accounts::Account;
pub use message::{Incoming, Socket, backoff, connect, send_json};

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt, stream};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::{ensure_loopback, for_user};

/// Registrations in flight at once (each costs the server an Argon2 hash).
const REGISTER_CONCURRENCY: usize = 16;
/// The longest any one HTTP request or WebSocket handshake may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// One server: the REST base URL and the WebSocket base URL.
struct Node {
    base: String,
    ws: String,
}

/// Talks to the nodes (one server, or several serving one database).
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    nodes: Arc<[Node]>,
}

/// A registered user with its open, subscribed session.
pub struct LiveUser {
    index: usize,
    /// The user's access token.
    pub token: String,
    /// The node its writes go to.
    writer: usize,
    /// The node its WebSocket session is on.
    subscriber: usize,
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
    /// Whether the write and the session were on different nodes.
    pub cross_node: bool,
    /// What went wrong, if anything.
    pub error: Option<String>,
}

impl Client {
    /// A client for the servers at `urls`, in order (at least one; loopback only).
    pub fn new(urls: &[String]) -> anyhow::Result<Self> {
        let nodes = urls
            .iter()
            .map(|url| {
                let url = url.trim();
                let parsed = url::Url::parse(url).with_context(|| format!("{url} is not a URL"))?;
                ensure_loopback(&parsed)?;
                let base = url.trim_end_matches('/').to_owned();
                let ws = base.replacen("http", "ws", 1);
                Ok(Node { base, ws })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        if nodes.is_empty() {
            bail!("give at least one --url");
        }
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1024)
            .timeout(REQUEST_TIMEOUT)
            .build()?;
        Ok(Self {
            http,
            nodes: nodes.into(),
        })
    }

    /// The nodes' URLs, in order.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(|node| node.base.clone()).collect()
    }

    /// How many nodes there are.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Where user `index` writes and where its session is: writers round-robin over the
    /// nodes, and the session on the next node, so with two or more nodes every delta has to
    /// cross from one server to another.
    pub fn placement(&self, index: usize) -> (usize, usize) {
        let writer = index % self.nodes.len();
        (writer, (writer + 1) % self.nodes.len())
    }

    /// Registers one user through the first node; answers its access token.
    pub async fn register_one(&self, tag: &str) -> anyhow::Result<String> {
        let suffix = uuid::Uuid::now_v7().simple().to_string();
        let email = format!("loadgen-{tag}-{}@example.com", &suffix[24..]);
        self.register(0, &email, "Load").await
    }

    /// Registers `count` users through the first node; answers their access tokens.
    pub async fn register_many(&self, count: usize, tag: &str) -> anyhow::Result<Vec<String>> {
        let suffix = uuid::Uuid::now_v7().simple().to_string();
        let suffix = &suffix[24..];
        let registered: Vec<anyhow::Result<String>> = stream::iter(0..count)
            .map(|index| async move {
                let email = format!("loadgen-{tag}-{suffix}-{index}@example.com");
                for_user(self.register(0, &email, "Load").await, index)
            })
            .buffer_unordered(REGISTER_CONCURRENCY)
            .collect()
            .await;
        registered.into_iter().collect()
    }

    /// The first node's base URL.
    pub fn base_url(&self) -> &str {
        &self.nodes[0].base
    }

    /// The first node's address (for sockets opened by hand).
    pub fn socket_addr(&self) -> anyhow::Result<std::net::SocketAddr> {
        let url = url::Url::parse(&self.nodes[0].base)?;
        url.socket_addrs(|| Some(80))?
            .into_iter()
            .next()
            .context("the URL names no address")
    }

    /// Registers `count` users and opens a subscribed session for each (see
    /// [`Client::placement`]).
    pub async fn open_users(&self, count: usize, tag: &str) -> anyhow::Result<Vec<LiveUser>> {
        let opened: Vec<anyhow::Result<LiveUser>> = stream::iter(0..count)
            .map(|index| async move { for_user(self.open_user(index, tag).await, index) })
            .buffer_unordered(REGISTER_CONCURRENCY)
            .collect()
            .await;
        opened.into_iter().collect()
    }

    /// Registers through the user's writer node, opens the session on its subscriber node.
    async fn open_user(&self, index: usize, tag: &str) -> anyhow::Result<LiveUser> {
        let (writer, subscriber) = self.placement(index);
        let email = format!("loadgen-{tag}-{index}@example.com");
        let token = self
            .register(writer, &email, &format!("Load {index}"))
            .await?;
        let url = format!(
            "{}/api/v1/ws?access_token={token}",
            self.nodes[subscriber].ws
        );
        let mut socket = tokio::time::timeout(REQUEST_TIMEOUT, message::handshake(&url))
            .await
            .with_context(|| format!("node {subscriber}: the WebSocket handshake timed out"))?
            .with_context(|| format!("node {subscriber}: no WebSocket session"))?;
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
            writer,
            subscriber,
            socket,
            version,
        })
    }

    /// Registers one user through `node`; answers its access token.
    async fn register(&self, node: usize, email: &str, name: &str) -> anyhow::Result<String> {
        Ok(self.register_account(node, email, name).await?.token)
    }

    /// Creates one task as `user` through its writer node and waits for its delta on its
    /// session; gives the user back unless its socket broke.
    pub async fn write_and_await_delta(
        &self,
        mut user: LiveUser,
        seq: u64,
        timeout: Duration,
    ) -> (Option<LiveUser>, WriteOutcome) {
        let sent = Instant::now();
        let expected = user.version + 1;
        let (writer, subscriber) = (user.writer, user.subscriber);
        let request = self
            .http
            .post(format!("{}/api/v1/tasks", self.nodes[writer].base))
            .bearer_auth(&user.token)
            .json(&json!({ "title": format!("loadgen task {seq}") }))
            .send();
        let answer = async {
            let response = request.await;
            let answered = sent.elapsed();
            match response {
                Ok(r) if r.status() == 201 => Ok(answered),
                Ok(r) => Err(format!("write to node {writer} answered {}", r.status())),
                Err(err) => Err(format!("write to node {writer} failed: {err}")),
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
                    Err(err) => {
                        return Err(format!(
                            "no delta for user {} on node {subscriber} (written through node {writer}): {err}",
                            user.index
                        ));
                    }
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
            cross_node: writer != subscriber,
            error: answered.err().or(delivered.err()),
        };
        ((!broken).then_some(user), outcome)
    }

    /// Creates a team through `node`; answers its id.
    pub async fn create_team(
        &self,
        node: usize,
        token: &str,
        name: &str,
    ) -> anyhow::Result<String> {
        let response = self
            .http
            .post(format!("{}/api/v1/teams", self.nodes[node].base))
            .bearer_auth(token)
            .json(&json!({ "name": name }))
            .send()
            .await?;
        if response.status() != 201 {
            bail!(
                "node {node}: creating a team answered {}",
                response.status()
            );
        }
        let team: Value = response.json().await?;
        Ok(team["id"].as_str().context("no team id")?.to_owned())
    }

    /// Makes a webhook on `task.created` to `url` through `node`: the user's own, or with
    /// `team` the team's.
    pub async fn create_webhook(
        &self,
        node: usize,
        token: &str,
        url: &url::Url,
        team: Option<&str>,
    ) -> anyhow::Result<()> {
        let body = json!({ "url": url.as_str(), "events": ["task.created"], "team_id": team });
        let response = self
            .http
            .post(format!("{}/api/v1/webhooks", self.nodes[node].base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await?;
        if response.status() != 201 {
            bail!(
                "node {node}: creating a webhook answered {}: {}",
                response.status(),
                response.text().await.unwrap_or_default()
            );
        }
        Ok(())
    }

    /// Creates a task through `node`.
    pub async fn create_task(&self, node: usize, token: &str, body: Value) -> anyhow::Result<()> {
        let response = self
            .http
            .post(format!("{}/api/v1/tasks", self.nodes[node].base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        if status != 201 {
            // The problem document's `code` says which limit or dependency refused it.
            let body = response.text().await.unwrap_or_default();
            let body: String = body.chars().take(300).collect();
            bail!("node {node}: creating a task answered {status}: {body}");
        }
        response.bytes().await?;
        Ok(())
    }

    /// One statistics read from `node`; whether it answered 200.
    pub async fn get_statistics(&self, node: usize, token: &str) -> bool {
        let response = self
            .http
            .get(format!(
                "{}/api/v1/dashboard/statistics",
                self.nodes[node].base
            ))
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
