//! The MCP server at `/mcp` (docs/mcp.md): the official SDK's Streamable HTTP service (`rmcp`),
//! mounted in poem as a tower service, behind an HTTP layer of ours that verifies the bearer
//! token of every request (401 with the protected-resource metadata's address without one),
//! binds each session to its user (`sessions.rs`) and hands the SDK the caller.
//!
//! The tools (`tools.rs`) call the engine commands REST calls, with the REST types' schemas
//! (`schema.rs`); the resources (`resources.rs`) are the live dashboards, followed through the
//! engine's subscriptions. Failures the SDK or the REST layers answer in plain text or
//! problem+json become JSON-RPC errors (`errors.rs`).

mod errors;
mod metadata;
mod resources;
mod schema;
mod server;
mod sessions;
mod tools;

use std::sync::Arc;

use futures_util::StreamExt;
use poem::endpoint::{BoxEndpoint, TowerCompatExt};
use poem::http::header::AUTHORIZATION;
use poem::http::{HeaderValue, Method, StatusCode};
use poem::{Body, Endpoint, EndpointExt, Request, Response};
use rmcp::transport::streamable_http_server::session::local::{LocalSessionManager, SessionConfig};
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

pub(crate) use errors::{as_jsonrpc, is_mcp};
pub(crate) use metadata::{METADATA_PATH, protected_resource};
pub(crate) use sessions::McpSessions;
pub use sessions::McpSettings;

use crate::auth::{Caller, caller};
use crate::error::{ApiError, problem_response};
use crate::state::AppState;
use server::TaskpulseMcp;
use sessions::Access;

/// Where the MCP server answers.
pub(crate) const MCP_PATH: &str = "/mcp";
/// The header naming a session.
const SESSION_HEADER: &str = "mcp-session-id";

/// The SDK's session manager for `settings`: sessions never expire inside the SDK (a quiet
/// session that listens for notifications is not idle); `sessions.rs` ends idle ones.
pub(crate) fn session_manager() -> Arc<LocalSessionManager> {
    let mut manager = LocalSessionManager::default();
    let mut config = SessionConfig::default();
    config.keep_alive = None;
    manager.session_config = config;
    Arc::new(manager)
}

/// `/mcp`: every method, behind the bearer check and the session binding.
pub(crate) fn endpoint(state: &AppState) -> McpEndpoint {
    let cancel = CancellationToken::new();
    let config = StreamableHttpServerConfig::default()
        .with_cancellation_token(cancel.clone())
        // Every request carries a bearer token, which a page that rebinds a name to this host
        // does not have: the Host check guards servers without authentication.
        .disable_allowed_hosts()
        // The REST layer's body limit (64 KiB) applies first; this only backs it up.
        .with_max_request_body_bytes(crate::MAX_BODY_BYTES);
    let factory = {
        let state = state.clone();
        move || Ok(TaskpulseMcp::new(state.clone()))
    };
    let manager = Arc::clone(state.mcp.manager());
    let service = StreamableHttpService::new(factory, manager, config);
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(sessions::watch(
            Arc::downgrade(&state.mcp),
            state.engine.clone(),
        ));
        let state = state.clone();
        // At shutdown the sessions end, and with them their open streams, so that draining
        // connections does not wait for listeners that never hang up.
        runtime.spawn(async move {
            state.shutdown.begun().await;
            cancel.cancel();
        });
    }
    McpEndpoint {
        state: state.clone(),
        service: service.compat().map_to_response().boxed(),
    }
}

/// The HTTP layer in front of the SDK's service.
pub(crate) struct McpEndpoint {
    state: AppState,
    /// The SDK's service, as a poem endpoint.
    service: BoxEndpoint<'static, Response>,
}

impl Endpoint for McpEndpoint {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let state = &self.state;
        let Some(token) = bearer_token(&req) else {
            let missing = "a bearer token is required: an access token, an identity provider's \
                           token or a personal access token";
            return Ok(unauthorized(state, &req, missing.to_owned()));
        };
        let caller = match caller(state, &req, &token).await {
            Ok(caller) => caller,
            Err(ApiError::Unauthenticated(detail)) => return Ok(unauthorized(state, &req, detail)),
            Err(err) => return Err(err.into()),
        };
        crate::access_log::note_user(&req, caller.subject.user);
        let session = (req.headers().get(SESSION_HEADER))
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let method = req.method().clone();
        let reservation = match &session {
            Some(id) => match state.mcp.access(id, caller.subject.user) {
                // Answered as an unknown session is: whether it exists is not the caller's
                // business.
                Access::NotOurs => return Ok(errors::session_not_found()),
                Access::Own | Access::Unknown => None,
            },
            None if method == Method::POST => match state.mcp.reserve(caller.subject.user) {
                Some(reservation) => Some(reservation),
                None => return Ok(errors::too_many_sessions(state.mcp.settings())),
            },
            None => None,
        };
        req.extensions_mut().insert::<Caller>(caller);
        let mut response = self.service.call(req).await?;
        if let Some(reservation) = reservation
            && let Some(id) = response_session(&response)
        {
            reservation.bind(&id, caller.subject.session);
        }
        if let Some(id) = &session {
            match method {
                Method::DELETE if response.status().is_success() => {
                    state.mcp.forget(id);
                    // The SDK answers 202; the session is gone, and clients (the official
                    // Python SDK among them) expect 200 or 204 for that.
                    response.set_status(StatusCode::NO_CONTENT);
                }
                Method::GET if response.status() == StatusCode::OK => {
                    if let Some(guard) = state.mcp.stream_opened(id) {
                        // The stream counts as open until its body is dropped.
                        let body = response.take_body().into_bytes_stream().map(move |chunk| {
                            let _open = &guard;
                            chunk
                        });
                        response.set_body(Body::from_bytes_stream(body));
                    }
                }
                _ => {}
            }
            if response.status() == StatusCode::NOT_FOUND {
                // The SDK no longer has it (closed, or never initialized).
                state.mcp.forget(id);
            }
        }
        Ok(response)
    }
}

/// The session id the SDK answered a new session with.
fn response_session(response: &Response) -> Option<String> {
    let id = response.headers().get(SESSION_HEADER)?.to_str().ok()?;
    Some(id.to_owned())
}

/// The bearer token of `Authorization`, if it has one.
fn bearer_token(req: &Request) -> Option<String> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// 401 `unauthenticated`, naming (MCP authorization, RFC 9728) where the protected-resource
/// metadata is, which names the authorization server to get a token from.
fn unauthorized(state: &AppState, req: &Request, detail: String) -> Response {
    let mut response = problem_response(&ApiError::Unauthenticated(detail));
    let metadata = metadata::metadata_url(state, req);
    let challenge = format!("Bearer resource_metadata=\"{metadata}\"");
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(poem::http::header::WWW_AUTHENTICATE, value);
    }
    response
}
