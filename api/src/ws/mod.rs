//! `GET /api/v1/ws`: live dashboards over WebSocket (docs/websocket.md).

mod closed;
mod forward;
pub mod protocol;
mod session;
mod shutdown;
mod subscribe;

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use poem::Request;
use poem::web::websocket::{
    BoxWebSocketUpgraded, CloseCode, Message, WebSocket, WebSocketConfig, WebSocketStream,
};
use ractor::Actor;
use taskpulse_actors::{Error as EngineError, UserId};
use tokio::sync::mpsc;

use crate::cors;
use crate::error::ApiError;
use crate::state::AppState;
use closed::{CloseReason, ClosedSessions};
use session::{Outgoing, SessionActor, SessionArguments, SessionMsg};
use shutdown::OpenSockets;

/// Messages above this close the session with 1009.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Outbound messages queued per session before the topic forwarders wait.
const OUTBOUND_QUEUE: usize = 32;

/// How sessions behave; the defaults are those of docs/websocket.md, "Limits".
#[derive(Debug, Clone)]
pub struct WsSettings {
    /// Origins allowed to open a session (and, for REST, by CORS); empty: the server's own.
    pub allowed_origins: Vec<String>,
    /// Sessions one user may hold at once.
    pub max_sessions_per_user: usize,
    /// Topics one session may subscribe to.
    pub max_topics_per_session: usize,
    /// How often the server pings.
    pub ping_every: Duration,
    /// Silence after which a session is closed.
    pub silence_limit: Duration,
    /// Time to authenticate by message when the upgrade carried no token.
    pub auth_timeout: Duration,
}

impl Default for WsSettings {
    fn default() -> Self {
        Self {
            allowed_origins: Vec::new(),
            max_sessions_per_user: 16,
            max_topics_per_session: 32,
            ping_every: Duration::from_secs(20),
            silence_limit: Duration::from_secs(60),
            auth_timeout: Duration::from_secs(5),
        }
    }
}

/// The sessions of this server.
#[derive(Debug, Default)]
pub struct WsHub {
    /// The settings.
    pub settings: WsSettings,
    sessions: Mutex<HashMap<UserId, usize>>,
    open: OpenSockets,
    closed: ClosedSessions,
}

impl WsHub {
    /// A hub with these settings.
    pub fn new(settings: WsSettings) -> Self {
        Self {
            settings,
            sessions: Mutex::default(),
            open: OpenSockets::default(),
            closed: ClosedSessions::default(),
        }
    }

    /// Sessions ended since start, by reason label (every reason listed).
    pub fn closed_sessions(&self) -> Vec<(&'static str, u64)> {
        self.closed.read()
    }

    /// Open sockets, authenticated or not.
    pub fn open_sockets(&self) -> usize {
        self.open.count()
    }

    /// Waits until every socket is closed. After [`crate::AppState`]'s shutdown began, every
    /// session closes with 1001 and then ends once its client answered the close.
    pub async fn all_closed(&self) {
        self.open.none_open().await;
    }

    /// Counts a session in; false when the user already holds the most allowed.
    fn join(&self, user: UserId) -> bool {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        let count = sessions.entry(user).or_default();
        if *count >= self.settings.max_sessions_per_user {
            return false;
        }
        *count += 1;
        true
    }

    fn leave(&self, user: UserId) {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = sessions.get_mut(&user) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                sessions.remove(&user);
            }
        }
    }

    /// Live sessions.
    pub fn live_sessions(&self) -> usize {
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .sum()
    }

    /// Whether a request with this `Origin` may open a session: the rule CORS applies to
    /// REST (one list, one rule).
    fn origin_allowed(&self, origin: &str, host: Option<&str>) -> bool {
        cors::allows(&self.settings.allowed_origins, origin, host)
    }
}

/// The upgrade (`GET /api/v1/ws`, documented in `routes/live.rs`): refuses foreign origins
/// with 403 and, once the server shuts down, everyone with 503; then hands the socket to a
/// session actor. The token in the query string is never logged.
pub(crate) fn open(
    req: &Request,
    ws: WebSocket,
    state: &AppState,
    token: Option<String>,
) -> Result<BoxWebSocketUpgraded, ApiError> {
    if let Some(origin) = req.headers().get("origin").and_then(|v| v.to_str().ok()) {
        let host = req.headers().get("host").and_then(|v| v.to_str().ok());
        if !state.ws.origin_allowed(origin, host) {
            return Err(ApiError::Engine(EngineError::Forbidden(
                "this origin may not open a session".to_owned(),
            )));
        }
    }
    if state.shutdown.has_begun() {
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
    let state = state.clone();
    let token = token.filter(|t| !t.is_empty());
    Ok(ws
        .config(config)
        .on_upgrade(move |socket| run(socket, state, token))
        .boxed())
}

/// Pumps the socket in one task: frames in go to the session actor, the actor's queue goes
/// out. One task rather than a reader and a writer keeps an idle session small; a write to a
/// client that does not read still gives way when the session ends.
async fn run(mut socket: WebSocketStream, state: AppState, token: Option<String>) {
    let shared = state.clone();
    let _open = shared.ws.open.open();
    let shutdown = shared.shutdown.begun();
    tokio::pin!(shutdown);
    let (out, mut outgoing) = mpsc::channel::<Outgoing>(OUTBOUND_QUEUE);
    let args = SessionArguments { state, out, token };
    // Boxed: the start-up future is large and would otherwise stay part of this task's
    // footprint for the whole life of the connection.
    let Ok((session, mut ended)) = Box::pin(Actor::spawn(None, SessionActor, args)).await else {
        return;
    };
    // False once the client sent a message above the limit: the session closes with 1009.
    let mut reading = true;
    // True once the server shuts down: the session closes with 1001.
    let mut going_away = false;
    let mut reason = CloseReason::Client;
    loop {
        tokio::select! {
            () = &mut shutdown => {
                going_away = true;
                reason = CloseReason::Shutdown;
                break;
            }
            next = outgoing.recv() => {
                // `None`: the session and its forwarders are gone.
                let Some(next) = next else { break };
                if let Outgoing::Close(code, _) = &next {
                    reason = CloseReason::of_code(*code);
                }
                // The write first: a session that just ended still gets its close frame out;
                // only a write that cannot finish gives way.
                let more = tokio::select! {
                    biased;
                    more = write(&mut socket, next) => more,
                    _ = &mut ended => false,
                };
                if !more {
                    break;
                }
            }
            incoming = socket.next(), if reading => {
                let message = match incoming {
                    Some(Ok(Message::Text(text))) => SessionMsg::Text(text),
                    Some(Ok(Message::Binary(_))) => SessionMsg::NotText,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => SessionMsg::Seen,
                    Some(Ok(Message::Close(_))) | None => break,
                    // tungstenite reports an oversized message as "Space limit exceeded"; the
                    // session answers it by closing with 1009.
                    Some(Err(err)) if err.to_string().contains("Space limit exceeded") => {
                        reading = false;
                        SessionMsg::TooBig
                    }
                    Some(Err(_)) => {
                        reason = CloseReason::Error;
                        break;
                    }
                };
                if session.cast(message).is_err() {
                    break;
                }
            }
            // The session closed itself (bad token, silence, expiry): its close frame is
            // queued; write what is queued up to it, whatever the peer does.
            _ = &mut ended => {
                let flush = async {
                    while let Ok(next) = outgoing.try_recv() {
                        if let Outgoing::Close(code, _) = &next {
                            reason = CloseReason::of_code(*code);
                        }
                        if !write(&mut socket, next).await {
                            break;
                        }
                    }
                };
                let _ = tokio::time::timeout(Duration::from_secs(1), flush).await;
                break;
            }
        }
    }
    session.stop(None);
    shared.ws.closed.count(reason);
    if going_away {
        shutdown::go_away(&mut socket).await;
    } else {
        let _ = tokio::time::timeout(Duration::from_secs(1), socket.close()).await;
    }
}

/// Writes one frame; false when nothing more may follow (the socket failed, or it was the
/// close frame).
async fn write(socket: &mut WebSocketStream, outgoing: Outgoing) -> bool {
    let (frame, last) = match outgoing {
        Outgoing::Text(text) => (Message::Text(text), false),
        Outgoing::Ping => (Message::Ping(Vec::new()), false),
        Outgoing::Close(code, reason) => (Message::close_with(CloseCode::from(code), reason), true),
    };
    socket.send(frame).await.is_ok() && !last
}
