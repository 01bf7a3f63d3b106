//! `GET /api/v1/ws`: poem's adapter over the live protocol (`taskpulse_live`,
//! docs/websocket.md). The protocol and the sessions are that crate's; here are only the
//! upgrade's HTTP checks, poem's frames and our tokens.

use std::sync::Arc;

use futures_util::future::{self, BoxFuture};
use futures_util::{SinkExt, StreamExt};
use poem::Request;
use poem::web::websocket::{BoxWebSocketUpgraded, Message, WebSocket, WebSocketConfig};
use taskpulse_actors::{Engine, Error as EngineError};
use taskpulse_live::{AuthError, Authenticate, Identity, Incoming, MAX_MESSAGE_BYTES, Outgoing};

use crate::auth::{AccessTokens, IdentityProvider, verify};
use crate::error::ApiError;
use crate::state::AppState;

/// The upgrade (documented in `routes/live.rs`): refuses foreign origins with 403 and, once
/// the server shuts down, everyone with 503; then hands the socket to the live hub. The token
/// in the query string is never logged.
pub(crate) fn open(
    req: &Request,
    ws: WebSocket,
    state: &AppState,
    token: Option<String>,
) -> Result<BoxWebSocketUpgraded, ApiError> {
    if let Some(origin) = req.headers().get("origin").and_then(|v| v.to_str().ok()) {
        let host = req.headers().get("host").and_then(|v| v.to_str().ok());
        if !state.live.origin_allowed(origin, host) {
            return Err(ApiError::Engine(EngineError::Forbidden(
                "this origin may not open a session".to_owned(),
            )));
        }
    }
    if state.live.is_shutting_down() {
        // Refused before the upgrade: a client that reconnects at once would only be sent
        // away again, and would keep the shutdown waiting for its socket.
        return Err(ApiError::Engine(EngineError::EngineUnavailable(
            "the server is shutting down".to_owned(),
        )));
    }
    let config = WebSocketConfig::default()
        .read_buffer_size(512)
        .write_buffer_size(0)
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES));
    let live = state.live.clone();
    Ok(ws
        .config(config)
        .on_upgrade(move |socket| async move {
            let socket = socket
                .map(incoming)
                .with(|out| future::ok::<_, std::io::Error>(frame(out)));
            live.serve(Box::pin(socket), token).await;
        })
        .boxed())
}

fn incoming(message: Result<Message, std::io::Error>) -> Incoming {
    match message {
        Ok(Message::Text(text)) => Incoming::Text(text),
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
        Outgoing::Text(text) => Message::Text(text),
        Outgoing::Ping => Message::Ping(Vec::new()),
        Outgoing::Close(code, reason) => Message::close_with(code.as_u16(), reason),
    }
}

/// A session's token, checked as REST checks a bearer token: ours, or the identity provider's.
pub(crate) struct SessionTokens {
    pub access_tokens: AccessTokens,
    pub identity_provider: Option<Arc<IdentityProvider>>,
    pub engine: Engine,
}

impl Authenticate for SessionTokens {
    fn authenticate<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Identity, AuthError>> {
        Box::pin(async move {
            let provider = self.identity_provider.as_deref();
            match verify(&self.access_tokens, provider, &self.engine, token).await {
                Ok(verified) => Ok(Identity {
                    user: verified.subject.user,
                    session: verified.subject.session,
                    expires_at: verified.expires_at,
                }),
                Err(ApiError::Unauthenticated(_)) => Err(AuthError::Rejected),
                Err(err) => Err(AuthError::Unavailable(err.to_string())),
            }
        })
    }
}
