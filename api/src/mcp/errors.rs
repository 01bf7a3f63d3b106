//! Every failure of `/mcp` as a JSON-RPC error. The SDK answers transport failures (a body
//! that is not JSON-RPC, an unknown session, a wrong media type) in plain text, and the REST
//! layers in front of it (body size, rate limit, authentication) with problem+json; a client of
//! MCP reads JSON-RPC, so those bodies are rewritten as one JSON-RPC error whose `data` is the
//! problem document when there is one. The status and the headers (`WWW-Authenticate`,
//! `Retry-After`) stay as they were.

use poem::Response;
use poem::http::StatusCode;
use poem::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use serde_json::{Value, json};

use super::MCP_PATH;
use super::sessions::McpSettings;

/// JSON-RPC's codes for a body that is not JSON, for a request that is not a valid one, and
/// for a server failure.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const INTERNAL_ERROR: i64 = -32603;
/// The most of a failure's body read to rewrite it (they are a line of text, or a problem).
const MOST_READ: usize = 16 * 1024;

/// A JSON-RPC error answer with `status`.
fn jsonrpc_error(status: StatusCode, code: i64, message: &str, data: Option<Value>) -> Response {
    let mut error = json!({"code": code, "message": message});
    if let Some(data) = data {
        error["data"] = data;
    }
    let body = json!({"jsonrpc": "2.0", "id": null, "error": error});
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(body.to_string())
}

/// What a session that is not the caller's is answered with: what an unknown one is.
pub(super) fn session_not_found() -> Response {
    jsonrpc_error(
        StatusCode::NOT_FOUND,
        INVALID_REQUEST,
        "Not Found: Session not found",
        None,
    )
}

/// A user's `initialize` over the most sessions they may hold.
pub(super) fn too_many_sessions(settings: &McpSettings) -> Response {
    let message = format!(
        "this user holds {} MCP sessions already, the most allowed: end one (DELETE /mcp) or \
         let it expire",
        settings.max_sessions_per_user
    );
    jsonrpc_error(
        StatusCode::TOO_MANY_REQUESTS,
        INVALID_REQUEST,
        &message,
        None,
    )
}

/// Whether `path` is the MCP server's.
pub(crate) fn is_mcp(path: &str) -> bool {
    path == MCP_PATH
}

/// `/mcp`'s `response`, as JSON-RPC when it is a failure that is not JSON-RPC already.
pub(crate) async fn as_jsonrpc(mut response: Response) -> Response {
    let status = response.status();
    let media = (response.headers().get(CONTENT_TYPE))
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned()
        })
        .unwrap_or_default();
    if !(status.is_client_error() || status.is_server_error()) || media == "application/json" {
        return response;
    }
    let body = response.take_body().into_bytes_limit(MOST_READ).await;
    let text = body.map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
    let text = text.unwrap_or_default();
    let (code, message, data) = match serde_json::from_str::<Value>(&text) {
        // A problem document: its `detail` is the message, the whole of it the data.
        Ok(problem @ Value::Object(_)) if media == "application/problem+json" => {
            let detail = problem["detail"].as_str().unwrap_or_default().to_owned();
            (code_for(status, &detail), detail, Some(problem))
        }
        _ => (code_for(status, &text), text, None),
    };
    let mut rewritten = jsonrpc_error(status, code, &message, data);
    for (name, value) in response.headers() {
        if name != CONTENT_TYPE && name != CONTENT_LENGTH {
            rewritten.headers_mut().insert(name.clone(), value.clone());
        }
    }
    rewritten
}

/// The JSON-RPC code of a failure answered with `status` and `text`.
fn code_for(status: StatusCode, text: &str) -> i64 {
    if status.is_server_error() {
        INTERNAL_ERROR
    } else if text.contains("deserialize") || text.contains("JSON") && text.contains("parse") {
        PARSE_ERROR
    } else {
        INVALID_REQUEST
    }
}
