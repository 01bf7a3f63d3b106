//! `--mcp-calls` and `--mcp-sessions`: the MCP server at `/mcp` (docs/mcp.md) under load, and
//! the minimal Streamable HTTP client they use (this file).
//!
//! The client is written by hand over the load generator's reqwest on purpose: a load
//! generator's client should add little and be plain to read, and an SDK would put its whole
//! dependency tree (and its own per-message work: schema validation, task spawning) in the
//! measured path. What it speaks is the transport's happy path only; the server's conformance
//! is the tests' business, which drive the official Python SDK (tests/it/mcp/sdk.rs).

mod calls;
mod sessions;

pub use calls::run as calls;
pub use sessions::run as sessions;

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

/// The revision spoken: one with sessions and `resources/subscribe`.
const PROTOCOL_VERSION: &str = "2025-06-18";
/// The longest any one request may take (the load generator's REST client's figure).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a `GET /mcp` stream may stay open: longer than any run.
const STREAM_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// The subscribed resource: the caller's own dashboard.
pub const DASHBOARD: &str = "taskpulse://dashboard/user";

/// An HTTP client for the MCP modes, keeping at most `idle` idle connections: an idle kept
/// connection costs the server memory too, which `--mcp-sessions` would count per session.
fn http_client(idle: usize) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(idle)
        .timeout(REQUEST_TIMEOUT)
        .build()?)
}

/// One initialized MCP session of one user.
pub struct Session {
    http: reqwest::Client,
    url: String,
    token: String,
    id: String,
    next_request: AtomicI64,
}

impl Session {
    /// `initialize` at `base`/mcp as `token`, then `notifications/initialized`.
    pub async fn open(http: &reqwest::Client, base: &str, token: &str) -> anyhow::Result<Self> {
        let url = format!("{base}/mcp");
        let initialize = json!({
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {
                "protocolVersion": PROTOCOL_VERSION, "capabilities": {},
                "clientInfo": { "name": "taskpulse-loadgen", "version": env!("CARGO_PKG_VERSION") },
            },
        });
        let response = (http.post(&url))
            .bearer_auth(token)
            .header("accept", "application/json, text/event-stream")
            .json(&initialize)
            .send()
            .await
            .context("initialize")?;
        let id = (response.headers().get("mcp-session-id"))
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        answer_of(response, 0).await.context("initialize")?;
        let session = Self {
            http: http.clone(),
            url,
            token: token.to_owned(),
            id: id.context("initialize answered no Mcp-Session-Id")?,
            next_request: AtomicI64::new(1),
        };
        let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
        let response = session.post(&initialized).send().await?;
        if response.status() != 202 {
            bail!("notifications/initialized answered {}", response.status());
        }
        Ok(session)
    }

    /// A POST to the session with the headers every request after `initialize` carries.
    fn post(&self, body: &Value) -> reqwest::RequestBuilder {
        (self.http.post(&self.url))
            .bearer_auth(&self.token)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-session-id", &self.id)
            .header("mcp-protocol-version", PROTOCOL_VERSION)
            .json(body)
    }

    /// Sends one request and answers its `result` (a JSON-RPC error is an error).
    pub async fn request(&self, method: &str, params: Value) -> anyhow::Result<Value> {
        let id = self.next_request.fetch_add(1, Ordering::Relaxed);
        let body = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        let response = self.post(&body).send().await?;
        answer_of(response, id).await
    }

    /// Calls the tool `name`; a result with `isError` is an error carrying its problem.
    pub async fn call_tool(&self, name: &str, arguments: Value) -> anyhow::Result<Value> {
        let params = json!({ "name": name, "arguments": arguments });
        let result = self.request("tools/call", params).await?;
        if result["isError"] == true {
            bail!("{name} answered isError: {}", result["structuredContent"]);
        }
        Ok(result)
    }

    /// Opens the session's `GET` stream, where the server's notifications arrive.
    pub async fn listen(&self) -> anyhow::Result<EventStream> {
        let response = (self.http.get(&self.url))
            .bearer_auth(&self.token)
            .header("accept", "text/event-stream")
            .header("mcp-session-id", &self.id)
            .header("mcp-protocol-version", PROTOCOL_VERSION)
            .timeout(STREAM_TIMEOUT)
            .send()
            .await?;
        if response.status() != 200 {
            bail!("GET /mcp answered {}", response.status());
        }
        Ok(EventStream::new(response))
    }

    /// Ends the session (`DELETE /mcp`).
    pub async fn close(&self) -> anyhow::Result<()> {
        let response = (self.http.delete(&self.url))
            .bearer_auth(&self.token)
            .header("mcp-session-id", &self.id)
            .header("mcp-protocol-version", PROTOCOL_VERSION)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("DELETE /mcp answered {}", response.status());
        }
        Ok(())
    }
}

/// The `result` of the JSON-RPC response with `id` in `response`: one JSON document, or the
/// first matching message of an event stream (other events are skipped).
async fn answer_of(response: reqwest::Response, id: i64) -> anyhow::Result<Value> {
    let status = response.status();
    if !status.is_success() {
        let body: String = response.text().await.unwrap_or_default();
        bail!(
            "answered {status}: {}",
            body.chars().take(300).collect::<String>()
        );
    }
    let is_stream = (response.headers().get(CONTENT_TYPE))
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/event-stream"));
    let message = if is_stream {
        let mut events = EventStream::new(response);
        let message = loop {
            match events.next_message().await? {
                Some(message) if message["id"] == id => break message,
                Some(_) => {}
                None => bail!("the event stream ended without the answer to request {id}"),
            }
        };
        // The server ends the stream after the answer: reading it to its end hands the
        // connection back to the pool, off the caller's clock.
        tokio::spawn(events.drain());
        message
    } else {
        response.json().await?
    };
    match message.get("error") {
        Some(error) => bail!("JSON-RPC error: {error}"),
        None => Ok(message["result"].clone()),
    }
}

/// A `text/event-stream` body, read as JSON-RPC messages.
pub struct EventStream {
    response: reqwest::Response,
    /// Bytes received and not yet split into lines.
    pending: Vec<u8>,
    /// The `data` lines of the event being read.
    data: String,
}

impl EventStream {
    fn new(response: reqwest::Response) -> Self {
        Self {
            response,
            pending: Vec::new(),
            data: String::new(),
        }
    }

    /// The next event's JSON message; `None` when the stream ends. Events whose data is not
    /// JSON (an empty priming event) are skipped, as are comments and other fields.
    pub async fn next_message(&mut self) -> anyhow::Result<Option<Value>> {
        loop {
            while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=end).collect();
                let line = String::from_utf8_lossy(&line);
                let line = line.trim_end_matches(['\n', '\r']);
                if line.is_empty() {
                    let data = std::mem::take(&mut self.data);
                    if let Ok(message) = serde_json::from_str::<Value>(&data) {
                        return Ok(Some(message));
                    }
                } else if let Some(data) = line.strip_prefix("data:") {
                    if !self.data.is_empty() {
                        self.data.push('\n');
                    }
                    self.data.push_str(data.strip_prefix(' ').unwrap_or(data));
                }
            }
            match self.response.chunk().await? {
                Some(chunk) => self.pending.extend_from_slice(&chunk),
                None => return Ok(None),
            }
        }
    }

    /// Reads the stream to its end (for a second at most).
    async fn drain(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            while let Ok(Some(_)) = self.response.chunk().await {}
        })
        .await;
    }
}
