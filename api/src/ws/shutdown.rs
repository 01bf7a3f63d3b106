//! Going away: when the server shuts down, every session closes with 1001 and a reason
//! instead of being dropped (which a client sees as 1006), and the server waits for them.

use futures_util::{SinkExt, StreamExt};
use poem::web::websocket::{CloseCode, Message, WebSocketStream};
use tokio::sync::watch;

use super::session::CLOSE_GOING_AWAY;

/// The reason a session closed by a shutdown carries.
const SHUTDOWN_REASON: &str = "server shutting down";

/// Counts the open sockets, authenticated or not (the per-user count only sees the former),
/// so that the shutdown knows when the last one is gone.
#[derive(Debug, Default)]
pub(super) struct OpenSockets(watch::Sender<usize>);

/// One open socket; counted out when dropped, however its task ends.
pub(super) struct OpenSocket<'a>(&'a OpenSockets);

impl OpenSockets {
    /// Counts a socket in until the guard is dropped.
    pub(super) fn open(&self) -> OpenSocket<'_> {
        self.0.send_modify(|open| *open += 1);
        OpenSocket(self)
    }

    /// How many are open.
    pub(super) fn count(&self) -> usize {
        *self.0.borrow()
    }

    /// Waits until none is open.
    pub(super) async fn none_open(&self) {
        let mut open = self.0.subscribe();
        // The sender lives as long as `self`, so this cannot fail while we wait.
        let _ = open.wait_for(|open| *open == 0).await;
    }
}

impl Drop for OpenSocket<'_> {
    fn drop(&mut self) {
        self.0.0.send_modify(|open| *open = open.saturating_sub(1));
    }
}

/// Sends the close frame and waits for the peer's answer, as RFC 6455 asks of the side that
/// closes first, so that the client sees a clean close. Queued messages are dropped: a client
/// resumes with `since_version` on its next node. A peer that never answers is cut by the
/// end of the shutdown's grace period, not here.
pub(super) async fn go_away(socket: &mut WebSocketStream) {
    let close = Message::close_with(CloseCode::from(CLOSE_GOING_AWAY), SHUTDOWN_REASON);
    if socket.send(close).await.is_err() {
        return;
    }
    while let Some(Ok(frame)) = socket.next().await {
        if matches!(frame, Message::Close(_)) {
            break;
        }
    }
}
