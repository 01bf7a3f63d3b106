//! The tasks beside a session actor: one forwarder per subscribed topic, and the watch for the
//! end of the session's sign-in session or account.

use chrono::Utc;
use ractor::ActorRef;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use uuid::Uuid;

use taskpulse_actors::{
    Ending, Engine, FeedEvent, FeedSubscription, Statistics, Subscription, SubscriptionEvent,
    UserId,
};

use super::messages::ServerMessage;
use super::session::SessionMsg;
use super::{Outgoing, UnsubscribeReason};

/// Forwards one topic's events to the socket, in order.
pub(super) fn forward(
    topic: String,
    mut subscription: Subscription,
    out: mpsc::Sender<Outgoing>,
    session: ActorRef<SessionMsg>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut last: Option<Statistics> = None;
        while let Some(event) = subscription.next().await {
            let now = Utc::now();
            let text = match event {
                SubscriptionEvent::Snapshot(snapshot) => {
                    let (message, stats) = ServerMessage::snapshot(&topic, &snapshot, now);
                    last = Some(stats);
                    message.to_text()
                }
                SubscriptionEvent::Delta { delta, snapshot } => {
                    let stats = snapshot.statistics(now);
                    // A resumed subscription starts with a delta: what it changed is measured
                    // from the state before it, not from zero.
                    let before = last
                        .take()
                        .unwrap_or_else(|| snapshot.before(&delta).statistics(now));
                    let text = ServerMessage::delta(&topic, &before, &stats).to_text();
                    last = Some(stats);
                    text
                }
                SubscriptionEvent::Revoked => {
                    let _ = out.send(revoked(&topic)).await;
                    let _ = session.cast(SessionMsg::TopicEnded(topic));
                    return;
                }
            };
            if out.send(Outgoing::Text(text)).await.is_err() {
                return;
            }
        }
    })
}

/// Forwards one feed's entries to the socket, in order.
pub(super) fn forward_feed(
    topic: String,
    mut subscription: FeedSubscription,
    out: mpsc::Sender<Outgoing>,
    session: ActorRef<SessionMsg>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(event) = subscription.next().await {
            let text = match event {
                FeedEvent::Entry(entry) => ServerMessage::feed(&topic, &entry).to_text(),
                FeedEvent::Revoked => {
                    let _ = out.send(revoked(&topic)).await;
                    let _ = session.cast(SessionMsg::TopicEnded(topic));
                    return;
                }
            };
            if out.send(Outgoing::Text(text)).await.is_err() {
                return;
            }
        }
    })
}

/// The message that ends a topic whose access was lost.
fn revoked(topic: &str) -> Outgoing {
    let reason = UnsubscribeReason::MembershipRevoked;
    Outgoing::Text(ServerMessage::Unsubscribed { topic, reason }.to_text())
}

/// Tells the session when its sign-in session or account ends, on this node or another.
pub(super) fn watch_for_ending(
    engine: &Engine,
    session: ActorRef<SessionMsg>,
    user: UserId,
    sid: Option<Uuid>,
) -> JoinHandle<()> {
    let engine = engine.clone();
    let mut endings = engine.endings();
    tokio::spawn(async move {
        loop {
            let ended = match endings.recv().await {
                Ok(Ending::Account(ended)) => ended == user,
                Ok(Ending::Session(ended)) => Some(ended) == sid,
                // Missed some: ask whether ours was among them.
                Err(RecvError::Lagged(_)) => engine.has_ended(user, sid),
                Err(RecvError::Closed) => return,
            };
            if ended {
                let _ = session.cast(SessionMsg::Ended);
                return;
            }
        }
    })
}
