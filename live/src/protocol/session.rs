//! The session actor: one per connection. It authenticates, subscribes to the aggregates and
//! feeds its user may read (`subscribe.rs`), forwards what they send, pings, and dies with the
//! connection. Each topic is forwarded by a task that waits on the socket when the client is
//! slow; meanwhile the engine collapses that topic's backlog into one fresh snapshot, so a
//! slow client never slows the engine or anyone else.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ractor::{Actor, ActorProcessingErr, ActorRef};
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinHandle};

use taskpulse_actors::UserId;

use super::forward::watch_for_ending;
use super::messages::{ClientMessage, ServerMessage};
use super::subscribe::SubscribeOptions;
use super::{AuthError, CloseCode, ErrorCode, LiveHub, Outgoing, UnsubscribeReason};

/// The session actor's behaviour.
pub(super) struct SessionActor;

/// What a session starts with.
pub(super) struct SessionArguments {
    /// The hub: engine, settings, authenticator, counts.
    pub(super) hub: LiveHub,
    /// The socket's outbound queue.
    pub(super) out: mpsc::Sender<Outgoing>,
    /// The token from the upgrade request, if any.
    pub(super) token: Option<String>,
}

/// Messages to a session.
#[derive(Debug)]
pub(super) enum SessionMsg {
    /// A text frame from the client.
    Text(String),
    /// A data frame that is not text.
    NotText,
    /// Any sign of life from the client (frames, pongs).
    Seen,
    /// Every `ping_every`: ping, or give up on a silent client.
    Tick,
    /// The time to authenticate is up.
    AuthDeadline,
    /// The access token expired.
    Expired,
    /// The token's sign-in session or account ended (sign-out, reuse, deletion).
    Ended,
    /// A topic's subscription ended by itself (revocation).
    TopicEnded(String),
    /// The client sent a message above the limit.
    TooBig,
}

/// A session's state.
pub(super) struct SessionState {
    pub(super) hub: LiveHub,
    pub(super) out: mpsc::Sender<Outgoing>,
    user: Option<UserId>,
    pub(super) topics: HashMap<String, JoinHandle<()>>,
    last_seen: Instant,
    /// Watches for the end of the session's sign-in session or account.
    ending_watch: Option<JoinHandle<()>>,
    /// The session's timers (pings, the authentication deadline). Each holds the actor's cell
    /// until it fires: stopped with the session, or an ended session's memory would stay until
    /// then.
    timers: Vec<AbortHandle>,
    /// The token's expiry: replaced when the token is renewed in band.
    expiry: Option<AbortHandle>,
    /// The sign-in session the token belongs to (a renewed token may come from another).
    sid: Option<uuid::Uuid>,
}

impl Actor for SessionActor {
    type Msg = SessionMsg;
    type State = SessionState;
    type Arguments = SessionArguments;

    async fn pre_start(
        &self,
        myself: ActorRef<SessionMsg>,
        args: SessionArguments,
    ) -> Result<SessionState, ActorProcessingErr> {
        let pings = myself.send_interval(args.hub.settings().ping_every, || SessionMsg::Tick);
        let mut session = SessionState {
            hub: args.hub,
            out: args.out,
            user: None,
            topics: HashMap::new(),
            last_seen: Instant::now(),
            ending_watch: None,
            timers: vec![pings.abort_handle()],
            expiry: None,
            sid: None,
        };
        match args.token {
            Some(token) => session.authenticate(&myself, &token).await,
            None => {
                let deadline = myself.send_after(session.hub.settings().auth_timeout, || {
                    SessionMsg::AuthDeadline
                });
                session.timers.push(deadline.abort_handle());
            }
        }
        Ok(session)
    }

    async fn post_stop(
        &self,
        _: ActorRef<SessionMsg>,
        session: &mut SessionState,
    ) -> Result<(), ActorProcessingErr> {
        for (_, forwarder) in session.topics.drain() {
            forwarder.abort();
        }
        if let Some(watch) = session.ending_watch.take() {
            watch.abort();
        }
        for timer in session.timers.drain(..).chain(session.expiry.take()) {
            timer.abort();
        }
        if let Some(user) = session.user {
            session.hub.leave(user);
        }
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<SessionMsg>,
        message: SessionMsg,
        session: &mut SessionState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            SessionMsg::Text(text) => {
                session.last_seen = Instant::now();
                // Boxed: subscribing awaits the engine through a large future, and ractor
                // keeps room for the largest `handle` future in every idle session.
                Box::pin(session.on_text(&myself, &text)).await;
            }
            SessionMsg::NotText => {
                session.last_seen = Instant::now();
                session
                    .send(ServerMessage::error(
                        ErrorCode::UnsupportedFrame,
                        "send one JSON object per text frame",
                        None,
                    ))
                    .await;
            }
            SessionMsg::Seen => session.last_seen = Instant::now(),
            SessionMsg::Tick => {
                if session.last_seen.elapsed() >= session.hub.settings().silence_limit {
                    session
                        .close(&myself, CloseCode::GoingAway, "no answer to pings")
                        .await;
                } else {
                    let _ = session.out.send(Outgoing::Ping).await;
                }
            }
            SessionMsg::AuthDeadline if session.user.is_none() => {
                session
                    .close(
                        &myself,
                        CloseCode::Unauthenticated,
                        "authentication timed out",
                    )
                    .await;
            }
            SessionMsg::AuthDeadline => {}
            SessionMsg::Expired => {
                session
                    .close(&myself, CloseCode::Unauthenticated, "access token expired")
                    .await
            }
            SessionMsg::Ended => {
                session
                    .close(&myself, CloseCode::Unauthenticated, "the session has ended")
                    .await
            }
            SessionMsg::TopicEnded(topic) => {
                session.topics.remove(&topic);
            }
            SessionMsg::TooBig => {
                session
                    .close(&myself, CloseCode::TooBig, "message too big")
                    .await
            }
        }
        Ok(())
    }
}

impl SessionState {
    pub(super) async fn send(&self, message: ServerMessage<'_>) {
        let _ = self.out.send(Outgoing::Text(message.to_text())).await;
    }

    async fn close(&self, myself: &ActorRef<SessionMsg>, code: CloseCode, reason: &str) {
        let _ = self
            .out
            .send(Outgoing::Close(code, reason.to_owned()))
            .await;
        myself.stop(None);
    }

    async fn authenticate(&mut self, myself: &ActorRef<SessionMsg>, token: &str) {
        let identity = match self.hub.authenticator().authenticate(token).await {
            Ok(identity) => identity,
            Err(AuthError::Rejected) => {
                return self
                    .close(
                        myself,
                        CloseCode::Unauthenticated,
                        "invalid or expired access token",
                    )
                    .await;
            }
            Err(AuthError::Unavailable(why)) => {
                tracing::warn!(error = %why, "cannot check a session's token");
                return self
                    .close(myself, CloseCode::TryAgain, "the database is unavailable")
                    .await;
            }
        };
        let (user, sid) = (identity.user, identity.session);
        // Watch before checking, so that an ending between the two is not missed.
        let watch = watch_for_ending(self.hub.engine(), myself.clone(), user, sid);
        if self.hub.engine().has_ended(user, sid) {
            watch.abort();
            return self
                .close(myself, CloseCode::Unauthenticated, "the session has ended")
                .await;
        }
        self.ending_watch = Some(watch);
        match self.hub.engine().is_account(user).await {
            Ok(true) => {}
            Ok(false) => {
                return self
                    .close(
                        myself,
                        CloseCode::Unauthenticated,
                        "the account no longer exists",
                    )
                    .await;
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot tell whether a session's account exists");
                return self
                    .close(myself, CloseCode::TryAgain, "the database is unavailable")
                    .await;
            }
        }
        if !self.hub.join(user) {
            self.close(myself, CloseCode::Policy, "too many sessions for this user")
                .await;
            return;
        }
        self.user = Some(user);
        self.sid = sid;
        self.expire_at(myself, identity.expires_at);
    }

    /// Closes the session with 4401 at `expires_at` (seconds since the Unix epoch) unless the
    /// token is renewed before.
    fn expire_at(&mut self, myself: &ActorRef<SessionMsg>, expires_at: u64) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let expires_in = Duration::from_secs(expires_at.saturating_sub(now));
        let expiry = myself.send_after(expires_in, || SessionMsg::Expired);
        if let Some(previous) = self.expiry.replace(expiry.abort_handle()) {
            previous.abort();
        }
    }

    /// `auth` on an authenticated session: a newer token of the same user replaces the old
    /// one (its expiry, and the sign-in session whose end closes the session); every
    /// subscription stays. Any other token is refused and the old one kept.
    async fn renew(&mut self, myself: &ActorRef<SessionMsg>, user: UserId, token: &str) {
        let refuse = |code, message| ServerMessage::error(code, message, None);
        let identity = match self.hub.authenticator().authenticate(token).await {
            Ok(identity) => identity,
            Err(AuthError::Rejected) => {
                let message = "the token is invalid or expired; the session keeps its token";
                return self.send(refuse(ErrorCode::InvalidToken, message)).await;
            }
            Err(AuthError::Unavailable(why)) => {
                tracing::warn!(error = %why, "cannot check a renewed token");
                let message = "the token cannot be checked now; the session keeps its token";
                return self.send(refuse(ErrorCode::Unavailable, message)).await;
            }
        };
        if identity.user != user {
            let message = "the token is another user's; the session keeps its token";
            return self.send(refuse(ErrorCode::UserMismatch, message)).await;
        }
        if identity.session != self.sid {
            let watch = watch_for_ending(self.hub.engine(), myself.clone(), user, identity.session);
            if self.hub.engine().has_ended(user, identity.session) {
                watch.abort();
                let message = "the token's sign-in session has ended; the session keeps its token";
                return self.send(refuse(ErrorCode::InvalidToken, message)).await;
            }
            if let Some(previous) = self.ending_watch.replace(watch) {
                previous.abort();
            }
            self.sid = identity.session;
        }
        self.expire_at(myself, identity.expires_at);
        let expires_at = i64::try_from(identity.expires_at).unwrap_or(i64::MAX);
        let expires_at = chrono::DateTime::from_timestamp(expires_at, 0).unwrap_or_default();
        self.send(ServerMessage::Authenticated { expires_at }).await;
    }

    async fn on_text(&mut self, myself: &ActorRef<SessionMsg>, text: &str) {
        let message = match serde_json::from_str::<ClientMessage>(text) {
            Ok(message) => message,
            Err(err) => {
                if self.user.is_none() {
                    return self
                        .close(
                            myself,
                            CloseCode::Unauthenticated,
                            "the first message must be an auth message",
                        )
                        .await;
                }
                return self
                    .send(ServerMessage::error(
                        ErrorCode::MalformedMessage,
                        &format!("not a message of this protocol: {err}"),
                        None,
                    ))
                    .await;
            }
        };
        let Some(user) = self.user else {
            match message {
                ClientMessage::Auth { access_token } => {
                    self.authenticate(myself, &access_token).await
                }
                _ => {
                    self.close(
                        myself,
                        CloseCode::Unauthenticated,
                        "the first message must be an auth message",
                    )
                    .await
                }
            }
            return;
        };
        match message {
            ClientMessage::Auth { access_token } => self.renew(myself, user, &access_token).await,
            ClientMessage::Ping { id } => self.send(ServerMessage::Pong { id: &id }).await,
            ClientMessage::Unsubscribe { topic } => match self.topics.remove(&topic) {
                Some(forwarder) => {
                    forwarder.abort();
                    let topic = &topic;
                    self.send(ServerMessage::Unsubscribed {
                        topic,
                        reason: UnsubscribeReason::Requested,
                    })
                    .await;
                }
                None => {
                    self.send(ServerMessage::error(
                        ErrorCode::NotSubscribed,
                        "this topic is not subscribed",
                        Some(&topic),
                    ))
                    .await
                }
            },
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
                self.subscribe(myself, user, topic, options).await
            }
        }
    }
}
