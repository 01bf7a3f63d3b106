//! taskpulse's live protocol (docs/websocket.md) served by an axum service that embeds the
//! engine: `GET /api/v1/ws` with the same messages, resume, feeds, revocation, pings and limits
//! as taskpulse's own server, which adapts the same `taskpulse_live` to poem. All an
//! adapter does is here: the upgrade's checks, frames both ways, and a token check.
//!
//! The engine joins the taskpulse nodes on the same database (docs/cluster.md), so what they
//! commit reaches its sessions. Sessions authenticate with the nodes' access tokens: HS256,
//! signed with the secret the nodes share (`--jwt-secret`); a service with its own identity
//! provider would check its tokens in `Authenticate` instead and map them to accounts with
//! `Engine::external_account`. Rate limits and TLS are the service's own layers, as for the rest
//! of its routes (taskpulse's server answers upgrades over its request budget with 429).
//!
//! The program (`src/main.rs`) adds only its flags and the shutdown on Ctrl-C:
//!
//! ```text
//! cargo run -p taskpulse-axum-live -- --database-url postgres://postgres@127.0.0.1/taskpulse \
//!     --listen 127.0.0.1:8090 --jwt-secret "$TASKPULSE_JWT_SECRET"
//! ```

use axum::Router;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::future::{self, BoxFuture};
use futures_util::{SinkExt, StreamExt};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use taskpulse_actors::UserId;
use taskpulse_live::shapes::problem::{ProblemCode, ProblemDetails};
use taskpulse_live::{
    AuthError, Authenticate, Identity, Incoming, LiveHub, MAX_MESSAGE_BYTES, Outgoing,
};
use uuid::Uuid;

/// Serves [`router`] on `listener` until the listener fails.
pub async fn serve(listener: tokio::net::TcpListener, hub: LiveHub) -> std::io::Result<()> {
    axum::serve(listener, router(hub)).await
}

/// `GET /api/v1/ws`, served by `hub`.
pub fn router(hub: LiveHub) -> Router {
    Router::new()
        .route("/api/v1/ws", get(upgrade))
        .with_state(hub)
}

#[derive(Debug, Deserialize)]
struct UpgradeQuery {
    access_token: Option<String>,
}

/// The upgrade: foreign origins get 403 and, once the hub shuts down, everyone 503 (a
/// balancer sends the retry to another node).
async fn upgrade(
    State(hub): State<LiveHub>,
    Query(query): Query<UpgradeQuery>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(origin) = header(header::ORIGIN)
        && !hub.origin_allowed(origin, header(header::HOST))
    {
        return problem(
            StatusCode::FORBIDDEN,
            ProblemCode::Forbidden,
            "this origin may not open a session",
        );
    }
    if hub.is_shutting_down() {
        let mut answer = problem(
            StatusCode::SERVICE_UNAVAILABLE,
            ProblemCode::EngineUnavailable,
            "the server is shutting down",
        );
        answer.headers_mut().insert(header::RETRY_AFTER, 1.into());
        return answer;
    }
    ws.max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .write_buffer_size(0)
        .on_upgrade(move |socket: WebSocket| async move {
            let socket = socket
                .map(incoming)
                .with(|out| future::ok::<_, axum::Error>(frame(out)));
            hub.serve(Box::pin(socket), query.access_token).await;
        })
}

fn incoming(message: Result<Message, axum::Error>) -> Incoming {
    match message {
        Ok(Message::Text(text)) => Incoming::Text(text.as_str().to_owned()),
        Ok(Message::Binary(_)) => Incoming::NotText,
        Ok(Message::Ping(_) | Message::Pong(_)) => Incoming::Alive,
        Ok(Message::Close(_)) => Incoming::Closed,
        // tungstenite reports an oversized message as "Space limit exceeded".
        Err(err) if err.to_string().contains("Space limit exceeded") => Incoming::TooBig,
        Err(_) => Incoming::Failed,
    }
}

fn frame(outgoing: Outgoing) -> Message {
    match outgoing {
        Outgoing::Text(text) => Message::Text(text.into()),
        Outgoing::Ping => Message::Ping(Default::default()),
        Outgoing::Close(code, reason) => Message::Close(Some(CloseFrame {
            code: code.as_u16(),
            reason: reason.into(),
        })),
    }
}

/// An RFC 9457 problem, the document taskpulse answers refused upgrades with.
fn problem(status: StatusCode, code: ProblemCode, detail: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let body = ProblemDetails::new(status.as_u16(), title, code, detail);
    let body = serde_json::to_string(&body).unwrap_or_default();
    let content_type = [(header::CONTENT_TYPE, "application/problem+json")];
    (status, content_type, body).into_response()
}

/// The taskpulse nodes' access tokens, checked as the nodes check them: HS256 with their
/// secret, issuer `taskpulse`, audience `taskpulse-api`, type `access`, unexpired.
pub struct NodeTokens {
    key: DecodingKey,
    validation: Validation,
}

#[derive(Debug, Deserialize)]
struct AccessClaims {
    sub: Uuid,
    typ: String,
    exp: u64,
    sid: Option<Uuid>,
}

impl NodeTokens {
    /// Tokens signed with `secret`.
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&["taskpulse"]);
        validation.set_audience(&["taskpulse-api"]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 10;
        Self {
            key: DecodingKey::from_secret(secret),
            validation,
        }
    }
}

impl Authenticate for NodeTokens {
    fn authenticate<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Identity, AuthError>> {
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &self.key, &self.validation)
            .map(|data| data.claims)
            .ok()
            .filter(|claims| claims.typ == "access");
        Box::pin(future::ready(claims.ok_or(AuthError::Rejected).map(
            |claims| Identity {
                user: UserId(claims.sub),
                session: claims.sid,
                expires_at: claims.exp,
            },
        )))
    }
}
