//! The connection: frames in go to the session actor, the actor's queue goes out, in one task.
//! One task rather than a reader and a writer keeps an idle session small; a write to a client
//! that does not read still gives way when the session ends.

use std::time::Duration;

use futures_util::{Sink, SinkExt, Stream, StreamExt};
use ractor::Actor;
use tokio::sync::mpsc;

use super::closed::CloseReason;
use super::session::{SessionActor, SessionArguments, SessionMsg};
use super::{CloseCode, LiveHub};

/// Outbound messages queued per session before the topic forwarders wait.
const OUTBOUND_QUEUE: usize = 32;
/// The reason a session closed by a shutdown carries.
const SHUTDOWN_REASON: &str = "server shutting down";

/// What the client sent, as the adapter reports it.
#[derive(Debug)]
pub enum Incoming {
    /// A text frame (one protocol message).
    Text(String),
    /// A data frame that is not text: answered with an `unsupported_frame` error.
    NotText,
    /// A ping or a pong frame: a sign of life, nothing more (the framework answers pings).
    Alive,
    /// A message above [`super::MAX_MESSAGE_BYTES`]: the session closes with 1009.
    TooBig,
    /// The client's close frame.
    Closed,
    /// The connection failed.
    Failed,
}

/// What the adapter writes, in this order.
#[derive(Debug, PartialEq, Eq)]
pub enum Outgoing {
    /// A text frame (one protocol message).
    Text(String),
    /// A ping frame (empty payload).
    Ping,
    /// A close frame with this code and reason; nothing follows it.
    Close(CloseCode, String),
}

impl LiveHub {
    /// Serves one connection until it ends: `socket` yields what the client sent and takes
    /// what to send; `token` is the access token the upgrade request carried, if any (without
    /// one, the first message must authenticate). Ends when the client closes, the
    /// connection fails, the session closes itself (a bad token, silence, expiry, a message
    /// too big) or the hub shuts down; a sink error ends it too.
    pub async fn serve<S>(&self, mut socket: S, token: Option<String>)
    where
        S: Stream<Item = Incoming> + Sink<Outgoing> + Unpin + Send,
    {
        let _open = self.socket_opened();
        let shutdown = self.shutdown_begun();
        tokio::pin!(shutdown);
        let (out, mut outgoing) = mpsc::channel::<Outgoing>(OUTBOUND_QUEUE);
        let token = token.filter(|t| !t.is_empty());
        let args = SessionArguments {
            hub: self.clone(),
            out,
            token,
        };
        // Boxed: the start-up future is large and would otherwise stay part of this task's
        // footprint for the whole life of the connection.
        let Ok((session, mut ended)) = Box::pin(Actor::spawn(None, SessionActor, args)).await
        else {
            return;
        };
        // False once the client sent a message above the limit: the session closes with 1009.
        let mut reading = true;
        // True once the hub shuts down: the session closes with 1001.
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
                    // The write first: a session that just ended still gets its close frame
                    // out; only a write that cannot finish gives way.
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
                        Some(Incoming::Text(text)) => SessionMsg::Text(text),
                        Some(Incoming::NotText) => SessionMsg::NotText,
                        Some(Incoming::Alive) => SessionMsg::Seen,
                        Some(Incoming::TooBig) => {
                            reading = false;
                            SessionMsg::TooBig
                        }
                        Some(Incoming::Closed) | None => break,
                        Some(Incoming::Failed) => {
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
        self.count_closed(reason);
        if going_away {
            go_away(&mut socket).await;
        } else {
            let _ = tokio::time::timeout(Duration::from_secs(1), socket.close()).await;
        }
    }
}

/// Writes one frame; false when nothing more may follow (the socket failed, or it was the
/// close frame).
async fn write<S: Sink<Outgoing> + Unpin>(socket: &mut S, outgoing: Outgoing) -> bool {
    let last = matches!(outgoing, Outgoing::Close(..));
    socket.send(outgoing).await.is_ok() && !last
}

/// Sends the close frame and waits for the peer's answer, as RFC 6455 asks of the side that
/// closes first, so that the client sees a clean close (not 1006). Queued messages are
/// dropped: a client resumes with `since_version` on its next node. A peer that never answers
/// is cut by the end of the server's grace period, not here.
async fn go_away<S>(socket: &mut S)
where
    S: Stream<Item = Incoming> + Sink<Outgoing> + Unpin,
{
    let close = Outgoing::Close(CloseCode::GoingAway, SHUTDOWN_REASON.to_owned());
    if socket.send(close).await.is_err() {
        return;
    }
    while let Some(frame) = socket.next().await {
        if matches!(frame, Incoming::Closed | Incoming::Failed) {
            break;
        }
    }
}
