//! The topics a session follows: each subscription as a stream of the text frames it writes,
//! polled by the session's own task. Nothing is read from a subscription while the socket is
//! busy, so a slow client's backlog stays in the engine, which collapses it into one fresh
//! snapshot: a slow client never slows the engine or anyone else.

use std::pin::Pin;

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::Stream;
use futures_util::stream;
use tokio_stream::StreamMap;

use taskpulse_actors::{
    Error as EngineError, FeedEvent, FeedSubscription, Interval, NotificationSubscription,
    Snapshot, Statistics, Subscription, SubscriptionEvent, TrendsWindow, Tz, window_error,
};

use super::answers::Answer;
use super::messages::ServerMessage;
use super::{ErrorCode, UnsubscribeReason};
use crate::shapes::trends::{BucketView, TrendsView};

/// One topic's frames, in order; it ends after the frame that ends the topic (revocation).
pub(super) type TopicFrames = Pin<Box<dyn Stream<Item = TopicFrame> + Send>>;

/// A frame of a topic.
pub(super) struct TopicFrame {
    pub text: String,
    /// What it is when it may answer the topic's `subscribe` (a snapshot, `subscribed`).
    pub answer: Option<Answer>,
}

impl TopicFrame {
    fn plain(text: String) -> Self {
        Self { text, answer: None }
    }
}

/// A session's topics by name. A topic whose frames end is removed by itself.
pub(super) type Topics = StreamMap<String, TopicFrames>;

/// One event of an aggregate subscription as the topic writes it, or `None` when the
/// snapshot lacks the history the topic needs.
type Render = Box<dyn FnMut(&str, SubscriptionEvent) -> Option<String> + Send>;

/// One aggregate or trends topic's frames: `render` writes snapshots and deltas; resumes and
/// revocations are written alike for both.
fn frames_with(topic: String, subscription: Subscription, render: Render) -> TopicFrames {
    let state = Some((topic, subscription, render));
    Box::pin(stream::unfold(state, |state| async move {
        let (topic, mut subscription, mut render) = state?;
        let (frame, more) = match subscription.next().await? {
            SubscriptionEvent::Resumed { version } => {
                let version = Some(version);
                let message = ServerMessage::Subscribed {
                    topic: &topic,
                    version,
                };
                let answer = Some(Answer::Subscribed);
                (
                    TopicFrame {
                        text: message.to_text(),
                        answer,
                    },
                    true,
                )
            }
            SubscriptionEvent::Revoked => (TopicFrame::plain(revoked(&topic)), false),
            event => {
                let answer =
                    matches!(event, SubscriptionEvent::Snapshot(_)).then_some(Answer::Snapshot);
                match render(&topic, event) {
                    Some(text) => (TopicFrame { text, answer }, true),
                    None => (TopicFrame::plain(history_lost(&topic)), false),
                }
            }
        };
        Some((frame, more.then_some((topic, subscription, render))))
    }))
}

/// One aggregate topic's frames, its activity in `tz`.
pub(super) fn aggregate_frames(topic: String, subscription: Subscription, tz: Tz) -> TopicFrames {
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
    frames_with(topic, subscription, Box::new(render))
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

/// One trends topic's frames: a snapshot, then with each change the buckets it moved, whole
/// (none, when a change moved no bucket: the version still steps by one).
pub(super) fn trends_frames(
    topic: String,
    subscription: Subscription,
    spec: TrendsSpec,
) -> TopicFrames {
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
    frames_with(topic, subscription, Box::new(render))
}

/// The frame that ends a topic whose history the engine no longer holds (it keeps it while a
/// subscriber follows it, so this is a fault): the client may subscribe again.
fn history_lost(topic: &str) -> String {
    tracing::warn!(topic, "a history subscription lost its history");
    let message = "the topic's history is not available now; subscribe again";
    ServerMessage::error(ErrorCode::Unavailable, message, Some(topic)).to_text()
}

/// One feed topic's entries, in order.
pub(super) fn feed_frames(topic: String, subscription: FeedSubscription) -> TopicFrames {
    let state = Some((topic, subscription));
    Box::pin(stream::unfold(state, |state| async move {
        let (topic, mut subscription) = state?;
        match subscription.next().await? {
            FeedEvent::Entry(entry) => {
                let text = ServerMessage::feed(&topic, &entry).to_text();
                Some((TopicFrame::plain(text), Some((topic, subscription))))
            }
            FeedEvent::Revoked => Some((TopicFrame::plain(revoked(&topic)), None)),
        }
    }))
}

/// The `notifications` topic's notifications, in order.
pub(super) fn notification_frames(
    topic: String,
    subscription: NotificationSubscription,
) -> TopicFrames {
    let state = Some((topic, subscription));
    Box::pin(stream::unfold(state, |state| async move {
        let (topic, mut subscription) = state?;
        let notification = subscription.next().await?;
        let text = ServerMessage::notification(&topic, &notification).to_text();
        Some((TopicFrame::plain(text), Some((topic, subscription))))
    }))
}

/// The frame that ends a topic whose access was lost.
fn revoked(topic: &str) -> String {
    let reason = UnsubscribeReason::MembershipRevoked;
    ServerMessage::Unsubscribed { topic, reason }.to_text()
}
