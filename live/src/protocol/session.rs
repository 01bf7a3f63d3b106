//! The session: one per connection, an actor in the plain sense — its state is its own and it
//! handles one thing at a time — run by the connection's task (`socket.rs`) rather than by
//! ractor: ten thousand idle sessions a node cost ractor's mailboxes, message loop and timer
//! tasks several times what the state itself takes (BENCHMARKS.md, "Memory per idle WebSocket
//! session"). It authenticates (`credentials.rs`), subscribes to the aggregates and feeds its
//! user may read (`subscribe.rs`), answers the client, pings, and ends with the connection.
//! What it says is queued here and written by the connection's task, in order.

use std::time::Instant;

use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use taskpulse_actors::{Ending, UserId};

use super::answers::Answer;
use super::closed::CloseReason;
use super::messages::{ClientMessage, ServerMessage};
use super::subscribe::SubscribeOptions;
use super::topics::Topics;
use super::{CloseCode, ErrorCode, LiveHub, Outgoing, UnsubscribeReason};

/// A session's state.
pub(super) struct Session {
    pub(super) hub: LiveHub,
    /// The authenticated user; `None` until the first token is accepted.
    pub(super) user: Option<UserId>,
    /// The sign-in session the token belongs to (a renewed token may come from another).
    pub(super) sid: Option<Uuid>,
    /// Ends of sign-in sessions and accounts, on this node or another, from before the
    /// token was checked on (so that an ending in between is not missed).
    pub(super) endings: Option<Receiver<Ending>>,
    pub(super) topics: Topics,
    /// Topics subscribed but not answered yet, and when their `subscribe` was read.
    awaiting: Vec<(String, Instant)>,
    /// Until authenticated, the time to do so; then the token's expiry (`None`: none).
    pub(super) deadline: Option<Instant>,
    next_ping: Instant,
    last_seen: Instant,
    /// Frames to write, in order, before anything else is read.
    outbox: Vec<Outgoing>,
    /// Why the session ends, once it closed itself: its close frame is the last queued.
    closed: Option<CloseReason>,
}

impl Session {
    pub(super) fn new(hub: LiveHub) -> Self {
        let now = Instant::now();
        let settings = hub.settings();
        Self {
            deadline: Some(now + settings.auth_timeout),
            next_ping: now + settings.ping_every,
            hub,
            user: None,
            sid: None,
            endings: None,
            topics: Topics::new(),
            awaiting: Vec::new(),
            last_seen: now,
            outbox: Vec::new(),
            closed: None,
        }
    }

    /// Queues a message to the client.
    pub(super) fn send(&mut self, message: ServerMessage<'_>) {
        self.outbox.push(Outgoing::Text(message.to_text()));
    }

    /// Queues the close frame; nothing is read or sent after it.
    pub(super) fn close(&mut self, code: CloseCode, reason: &str) {
        if self.closed.is_none() {
            self.outbox.push(Outgoing::Close(code, reason.to_owned()));
            self.closed = Some(CloseReason::of_code(code));
        }
    }

    /// Why the session closed itself, if it did.
    pub(super) fn closed(&self) -> Option<CloseReason> {
        self.closed
    }

    /// What to write now, in order (the queue's memory goes with it: most sessions are idle).
    pub(super) fn take_outbox(&mut self) -> Vec<Outgoing> {
        std::mem::take(&mut self.outbox)
    }

    /// Times the answer to the `subscribe` of `topic`, read `asked_at`, from now on (replacing
    /// an earlier one's).
    pub(super) fn await_answer(&mut self, topic: &str, asked_at: Instant) {
        self.awaiting.retain(|(awaited, _)| awaited != topic);
        self.awaiting.push((topic.to_owned(), asked_at));
    }

    /// A frame of `topic` was written: the one that answers its `subscribe` is timed.
    pub(super) fn wrote(&mut self, topic: &str, answer: Option<Answer>) {
        let Some(answer) = answer else { return };
        if let Some(at) = self
            .awaiting
            .iter()
            .position(|(awaited, _)| awaited == topic)
        {
            let (_, asked_at) = self.awaiting.swap_remove(at);
            self.hub.answered(answer, asked_at.elapsed());
        }
    }

    /// When `on_timer` has something to do.
    pub(super) fn wakes_at(&self) -> Instant {
        self.deadline
            .map_or(self.next_ping, |deadline| deadline.min(self.next_ping))
    }

    /// Any sign of life from the client (frames, pongs).
    pub(super) fn seen(&mut self) {
        self.last_seen = Instant::now();
    }

    /// The deadline passed (authentication, expiry) or it is time to ping, or to give up on a
    /// silent client.
    pub(super) fn on_timer(&mut self, now: Instant) {
        if self.deadline.is_some_and(|deadline| now >= deadline) {
            let reason = match self.user {
                None => "authentication timed out",
                Some(_) => "access token expired",
            };
            return self.close(CloseCode::Unauthenticated, reason);
        }
        if now >= self.next_ping {
            let settings = self.hub.settings();
            self.next_ping = now + settings.ping_every;
            if self.last_seen.elapsed() >= settings.silence_limit {
                return self.close(CloseCode::GoingAway, "no answer to pings");
            }
            self.outbox.push(Outgoing::Ping);
        }
    }

    /// A sign-in session or an account ended somewhere: ours closes if it was its own.
    pub(super) fn on_ending(&mut self, ending: Result<Ending, RecvError>) {
        let Some(user) = self.user else { return };
        let ended = match ending {
            Ok(Ending::Account(ended)) => ended == user,
            Ok(Ending::Session(ended)) => Some(ended) == self.sid,
            // Missed some: ask whether ours was among them.
            Err(RecvError::Lagged(_)) => self.hub.engine().has_ended(user, self.sid),
            Err(RecvError::Closed) => {
                self.endings = None;
                false
            }
        };
        if ended {
            self.close(CloseCode::Unauthenticated, "the session has ended");
        }
    }

    /// A data frame that is not text.
    pub(super) fn on_not_text(&mut self) {
        self.send(ServerMessage::error(
            ErrorCode::UnsupportedFrame,
            "send one JSON object per text frame",
            None,
        ));
    }

    /// A text frame: one message of the protocol.
    pub(super) async fn on_text(&mut self, text: &str) {
        let message = match serde_json::from_str::<ClientMessage>(text) {
            Ok(message) => message,
            Err(_) if self.user.is_none() => {
                let reason = "the first message must be an auth message";
                return self.close(CloseCode::Unauthenticated, reason);
            }
            Err(err) => {
                let message = format!("not a message of this protocol: {err}");
                let error = ServerMessage::error(ErrorCode::MalformedMessage, &message, None);
                return self.send(error);
            }
        };
        let Some(user) = self.user else {
            return match message {
                ClientMessage::Auth { access_token } => self.authenticate(&access_token).await,
                _ => {
                    let reason = "the first message must be an auth message";
                    self.close(CloseCode::Unauthenticated, reason)
                }
            };
        };
        match message {
            ClientMessage::Auth { access_token } => self.renew(user, &access_token).await,
            ClientMessage::Ping { id } => self.send(ServerMessage::Pong { id: &id }),
            ClientMessage::Unsubscribe { topic } => self.unsubscribe(&topic),
            ClientMessage::Subscribe {
                topic,
                since_version,
                since,
                tz,
                interval,
                from,
            } => {
                let options = SubscribeOptions {
                    since_version,
                    since,
                    tz,
                    interval,
                    from,
                };
                self.subscribe(user, topic, options).await
            }
        }
    }

    fn unsubscribe(&mut self, topic: &str) {
        // Dropping the topic's frames ends its subscription: nothing of it follows.
        if self.topics.remove(topic).is_some() {
            self.awaiting.retain(|(awaited, _)| awaited != topic);
            let reason = UnsubscribeReason::Requested;
            self.send(ServerMessage::Unsubscribed { topic, reason });
        } else {
            let message = "this topic is not subscribed";
            let error = ServerMessage::error(ErrorCode::NotSubscribed, message, Some(topic));
            self.send(error);
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(user) = self.user {
            self.hub.leave(user);
        }
    }
}
