//! The MCP server at `/mcp` (API.md, "MCP — POST/GET /mcp"; docs/mcp.md): driven by the
//! official Python SDK (`sdk.rs`, tests/mcp/client.py) against real nodes, and by plain HTTP
//! for what a well-behaved client never sends (`http.rs`) and for the tool call histogram of
//! `/metrics` (`metrics.rs`).

mod endings;
mod http;
mod metrics;
mod sdk;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use serde_json::{Value, json};

use crate::common::TestApp;

/// How long a scenario of the Python client may take.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(60);

fn client_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/mcp")
}

/// Runs the Python client's `scenario` with `args` and answers the JSON it printed.
async fn python_client(args: &[&str]) -> anyhow::Result<Value> {
    let dir = client_dir();
    let python = dir.join(".venv/bin/python");
    anyhow::ensure!(
        python.exists(),
        "the MCP Python SDK is not installed: run scripts/setup"
    );
    let run = tokio::process::Command::new(python)
        .arg(dir.join("client.py"))
        .args(args)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(SCENARIO_TIMEOUT, run)
        .await
        .context("the MCP client did not finish")??;
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success(),
        "the MCP client failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim()).with_context(|| format!("not JSON: {stdout}"))
}

/// The `/mcp` URL of a node.
fn mcp_url(app: &TestApp) -> String {
    app.url("/mcp")
}

/// A JSON-RPC request.
fn request(id: i64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// The `initialize` request of a client speaking 2025-06-18.
fn initialize() -> Value {
    request(
        0,
        "initialize",
        json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "reqwest", "version": "1"}
        }),
    )
}

/// An answer of `/mcp`: its status, its session header and the JSON-RPC messages of its body
/// (one JSON document, or the `data` of each server-sent event).
struct Answer {
    status: u16,
    session: Option<String>,
    messages: Vec<Value>,
    headers: reqwest::header::HeaderMap,
}

/// POSTs `body` (raw bytes) to `/mcp` with `token` and `session`.
async fn post_raw(
    app: &TestApp,
    token: Option<&str>,
    session: Option<&str>,
    body: Vec<u8>,
) -> anyhow::Result<Answer> {
    let mut post = (app.http.post(mcp_url(app)))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .body(body);
    if let Some(token) = token {
        post = post.bearer_auth(token);
    }
    if let Some(session) = session {
        post = post.header("mcp-session-id", session);
    }
    let response = post.send().await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let session = (headers.get("mcp-session-id"))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = response.text().await?;
    let messages = match serde_json::from_str::<Value>(&text) {
        Ok(document) => vec![document],
        Err(_) => (text.lines())
            .filter_map(|line| line.strip_prefix("data:"))
            .filter_map(|data| serde_json::from_str(data.trim()).ok())
            .collect(),
    };
    Ok(Answer {
        status,
        session,
        messages,
        headers,
    })
}

async fn post(
    app: &TestApp,
    token: Option<&str>,
    session: Option<&str>,
    body: &Value,
) -> anyhow::Result<Answer> {
    post_raw(app, token, session, serde_json::to_vec(body)?).await
}

/// Opens a session as `token` (initialize, then `notifications/initialized`).
async fn open_session(app: &TestApp, token: &str) -> anyhow::Result<String> {
    let answer = post(app, Some(token), None, &initialize()).await?;
    anyhow::ensure!(answer.status == 200, "initialize: {}", answer.status);
    let session = answer.session.context("no Mcp-Session-Id")?;
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let answer = post(app, Some(token), Some(&session), &initialized).await?;
    anyhow::ensure!(answer.status == 202, "initialized: {}", answer.status);
    Ok(session)
}
