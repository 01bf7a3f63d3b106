//! The connection's one task: it reads the client's frames, the session's topics, its timer
//! and the endings of sign-in sessions, hands each to the session (`session.rs`) and writes
//! what the session says. One task per connection — no reader, writer, forwarders or timer
//! tasks beside it — keeps an idle session small, and a write to a client that does not read
//! gives way after the silence limit.

use std::time::{Duration, Instant};

use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;

use taskpulse_actors::Ending;

use super::closed::CloseReason;
use super::session::Session;
use super::topics::TopicFrame;
use super::{CloseCode, LiveHub};

/// How long the last frames of a session that closed itself, and the close handshake, may take.
const CLOSE_WAIT: Duration = Duration::from_secs(1);
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
        let mut shutdown = self.shutdown_watch();
        let mut session = Session::new(self.clone());
        if let Some(token) = token.filter(|t| !t.is_empty()) {
            // Boxed, as every handler below: what a handler awaits is large, and only
            // while it runs should the connection's task be that large.
            Box::pin(session.authenticate(&token)).await;
        }
        let mut timer = Box::pin(tokio::time::sleep_until(session.wakes_at().into()));
        // False once the client sent a message above the limit: the session closes with 1009.
        let mut reading = true;
        let reason = loop {
            if let Some(reason) = write_outbox(&mut socket, &mut session).await {
                break reason;
            }
            let wakes_at = session.wakes_at().into();
            if timer.deadline() != wakes_at {
                timer.as_mut().reset(wakes_at);
            }
            let event = tokio::select! {
                () = shut_down(&mut shutdown) => Event::Shutdown,
                incoming = socket.next(), if reading => Event::Incoming(incoming),
                Some((topic, frame)) = session.topics.next() => Event::Topic(topic, frame),
                () = &mut timer => Event::Timer,
                ending = next_ending(&mut session.endings) => Event::Ending(ending),
            };
            match event {
                Event::Shutdown => {
                    go_away(&mut socket).await;
                    break CloseReason::Shutdown;
                }
                Event::Topic(topic, frame) => {
                    let limit = self.settings().silence_limit;
                    let text = Outgoing::Text(frame.text);
                    if let Err(reason) = write(&mut socket, text, limit).await {
                        break reason;
                    }
                    session.wrote(&topic, frame.answer);
                }
                Event::Timer => session.on_timer(Instant::now()),
                Event::Ending(ending) => session.on_ending(ending),
                Event::Incoming(incoming) => match incoming {
                    Some(Incoming::Text(text)) => {
                        session.seen();
                        Box::pin(session.on_text(&text)).await;
                    }
                    Some(Incoming::NotText) => {
                        session.seen();
                        session.on_not_text();
                    }
                    Some(Incoming::Alive) => session.seen(),
                    Some(Incoming::TooBig) => {
                        reading = false;
                        session.close(CloseCode::TooBig, "message too big");
                    }
                    Some(Incoming::Closed) | None => break CloseReason::Client,
                    Some(Incoming::Failed) => break CloseReason::Error,
                },
            }
        };
        self.count_closed(reason);
        // Subscriptions end before the close handshake: nothing more is sent.
        drop(session);
        if reason != CloseReason::Shutdown {
            let _ = tokio::time::timeout(CLOSE_WAIT, socket.close()).await;
        }
    }
}

/// What wakes the session's task.
enum Event {
    Shutdown,
    Incoming(Option<Incoming>),
    Topic(String, TopicFrame),
    Timer,
    Ending(Result<Ending, RecvError>),
}

/// Writes what the session queued, up to its close frame; why the connection ends, when it
/// does (the session closed itself, or the client does not take what is written).
async fn write_outbox<S>(socket: &mut S, session: &mut Session) -> Option<CloseReason>
where
    S: Sink<Outgoing> + Unpin,
{
    let limit = match session.closed() {
        // A session that closed itself gets its last frames out, whatever the peer does.
        Some(_) => CLOSE_WAIT,
        None => session.hub.settings().silence_limit,
    };
    for outgoing in session.take_outbox() {
        let last = matches!(outgoing, Outgoing::Close(..));
        if let Err(reason) = write(socket, outgoing, limit).await {
            return Some(reason);
        }
        if last {
            return session.closed();
        }
    }
    None
}

/// The next end of a sign-in session or account; never, for a session not yet authenticated.
async fn next_ending(endings: &mut Option<Receiver<Ending>>) -> Result<Ending, RecvError> {
    match endings {
        Some(endings) => endings.recv().await,
        None => std::future::pending().await,
    }
}

/// Resolves once the hub shuts down.
async fn shut_down(shutdown: &mut watch::Receiver<bool>) {
    // The sender lives as long as the hub, so this cannot fail while a session runs.
    let _ = shutdown.wait_for(|begun| *begun).await;
}

/// Writes one frame; why the connection ends when it cannot: the socket failed, or the client
/// took nothing for `limit` — a client that does not read is as gone as one that does not
/// answer pings (meanwhile its subscriptions collapse into snapshots in the engine, and
/// nothing else waits with it).
async fn write<S>(socket: &mut S, outgoing: Outgoing, limit: Duration) -> Result<(), CloseReason>
where
    S: Sink<Outgoing> + Unpin,
{
    match tokio::time::timeout(limit, socket.send(outgoing)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(CloseReason::Error),
        Err(_) => Err(CloseReason::Silent),
    }
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
