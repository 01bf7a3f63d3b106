//! The tasks beside a session actor: one forwarder per subscribed topic, and the watch for the
//! end of the session's sign-in session or account.

use chrono::{DateTime, NaiveDate, Utc};
use ractor::ActorRef;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use uuid::Uuid;

use taskpulse_actors::{
    Ending, Engine, Error as EngineError, FeedEvent, FeedSubscription, Interval, Snapshot,
    Statistics, Subscription, SubscriptionEvent, TrendsWindow, Tz, UserId, window_error,
};

use super::messages::ServerMessage;
use super::session::SessionMsg;
use super::{ErrorCode, Outgoing, UnsubscribeReason};
use crate::shapes::trends::{BucketView, TrendsView};

/// One event of an aggregate subscription as the topic writes it, or `None` when the
/// snapshot lacks the history the topic needs.
type Render = Box<dyn FnMut(&str, SubscriptionEvent) -> Option<String> + Send>;

/// Forwards one aggregate or trends topic to the socket, in order: `render` writes snapshots
/// and deltas; resumes and revocations are written alike for both.
fn forward_with(
    topic: String,
    mut subscription: Subscription,
    mut render: Render,
    out: mpsc::Sender<Outgoing>,
    session: ActorRef<SessionMsg>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(event) = subscription.next().await {
            let text = match event {
                SubscriptionEvent::Resumed { version } => {
                    let version = Some(version);
                    ServerMessage::Subscribed {
                        topic: &topic,
                        version,
                    }
                    .to_text()
                }
                SubscriptionEvent::Revoked => {
                    let _ = out.send(revoked(&topic)).await;
                    let _ = session.cast(SessionMsg::TopicEnded(topic));
                    return;
                }
                event => match render(&topic, event) {
                    Some(text) => text,
                    None => return history_lost(&topic, &out, &session).await,
                },
            };
            if out.send(Outgoing::Text(text)).await.is_err() {
                return;
            }
        }
    })
}

/// Forwards one aggregate topic, its activity in `tz`.
pub(super) fn forward(
    topic: String,
    subscription: Subscription,
    tz: Tz,
    out: mpsc::Sender<Outgoing>,
    session: ActorRef<SessionMsg>,
) -> JoinHandle<()> {
    let mut last: Option<Statistics> = None;
    let render = move |topic: &str, event| {
        let now = Utc::now();
        match event {
            SubscriptionEvent::Snapshot(snapshot) => {
                let (message, stats) = ServerMessage::snapshot(topic, &snapshot, tz, now)?;
                last = Some(stats);
                Some(message.to_text())
            }
            SubscriptionEvent::Delta { delta, snapshot } => {
                let stats = snapshot.statistics(now);
                // A resumed subscription starts with a delta: what it changed is measured
                // from the state before it, not from zero.
                let before = last
                    .take()
                    .unwrap_or_else(|| snapshot.before(&delta).statistics(now));
                let text = ServerMessage::delta(topic, &before, &stats).to_text();
                last = Some(stats);
                Some(text)
            }
            _ => None,
        }
    };
    forward_with(topic, subscription, Box::new(render), out, session)
}

/// What a trends topic follows: buckets of `interval` in `tz` from `from` to the current one.
#[derive(Debug, Clone, Copy)]
pub(super) struct TrendsSpec {
    pub tz: Tz,
    pub interval: Interval,
    pub from: Option<NaiveDate>,
}

impl TrendsSpec {
    /// The buckets at `now`: the window grows as the clock enters the next interval.
    pub fn window(&self, now: DateTime<Utc>) -> Result<TrendsWindow, EngineError> {
        TrendsWindow::through_today(self.tz, self.interval, self.from, now).map_err(window_error)
    }
}

/// Forwards one trends topic: a snapshot, then with each change the buckets it moved, whole
/// (none, when a change moved no bucket: the version still steps by one).
pub(super) fn forward_trends(
    topic: String,
    subscription: Subscription,
    spec: TrendsSpec,
    out: mpsc::Sender<Outgoing>,
    session: ActorRef<SessionMsg>,
) -> JoinHandle<()> {
    let mut last: Option<Vec<BucketView>> = None;
    let render = move |topic: &str, event| {
        // Only a window past the most buckets fails: the subscription was checked against it.
        let window = spec.window(Utc::now()).ok()?;
        let trends = |snapshot: &Snapshot| snapshot.trends(&window).map(|t| TrendsView::from(&t));
        match event {
            SubscriptionEvent::Snapshot(snapshot) => {
                let view = trends(&snapshot)?;
                let version = snapshot.version;
                let message = ServerMessage::TrendsSnapshot {
                    topic,
                    version,
                    trends: &view,
                };
                let text = message.to_text();
                last = Some(view.buckets);
                Some(text)
            }
            SubscriptionEvent::Delta { delta, snapshot } => {
                let before = match last.take() {
                    Some(buckets) => buckets,
                    None => trends(&snapshot.before(&delta))?.buckets,
                };
                let after = trends(&snapshot)?.buckets;
                let changed = (after.iter())
                    .filter(|bucket| !before.contains(bucket))
                    .collect();
                let version = snapshot.version;
                let text = ServerMessage::TrendsDelta {
                    topic,
                    version,
                    buckets: changed,
                }
                .to_text();
                last = Some(after);
                Some(text)
            }
            _ => None,
        }
    };
    forward_with(topic, subscription, Box::new(render), out, session)
}

/// Ends a topic whose history the engine no longer holds (it keeps it while a subscriber
/// follows it, so this is a fault): the client may subscribe again.
async fn history_lost(topic: &str, out: &mpsc::Sender<Outgoing>, session: &ActorRef<SessionMsg>) {
    tracing::warn!(topic, "a history subscription lost its history");
    let message = "the topic's history is not available now; subscribe again";
    let text = ServerMessage::error(ErrorCode::Unavailable, message, Some(topic)).to_text();
    let _ = out.send(Outgoing::Text(text)).await;
    let _ = session.cast(SessionMsg::TopicEnded(topic.to_owned()));
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
