//! The messages of docs/websocket.md, both ways, as JSON text frames.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use taskpulse_actors::{
    AuditRecord, FeedTopic, NotificationRecord, Scope, Snapshot, Statistics, TeamId, Tz, UserId,
};

use super::codes::{ErrorCode, UnsubscribeReason};
use crate::shapes::audit::AuditEntryView;
use crate::shapes::dashboard::{ActivityView, BreakdownView, StatisticsView};
use crate::shapes::notifications::NotificationView;
use crate::shapes::trends::{BucketView, TrendsView};

/// How many days of activity a snapshot carries (the dashboard shows 7 or 30).
pub const SNAPSHOT_ACTIVITY_DAYS: u32 = 30;

/// What a client may send.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// Authenticate (first message, when the upgrade carried no token), or renew the token
    /// of an authenticated session.
    Auth {
        /// An access token.
        access_token: String,
    },
    /// Start receiving a topic.
    Subscribe {
        /// `user`, `team:<id>`, `feed:user`, `feed:team:<id>` or `notifications`.
        topic: String,
        /// Resume an aggregate topic after this version.
        #[serde(default)]
        since_version: Option<i64>,
        /// Resume a feed topic after this entry (its id), `notifications` after this
        /// notification.
        #[serde(default)]
        since: Option<String>,
        /// The IANA time zone of aggregate topics' activity and of trends' buckets.
        #[serde(default)]
        tz: Option<String>,
        /// Trends topics: `day`, `week` or `month` (default `week`).
        #[serde(default)]
        interval: Option<String>,
        /// Trends topics: the first day wanted, `YYYY-MM-DD` in `tz` (default: 12 intervals back).
        #[serde(default)]
        from: Option<String>,
    },
    /// Stop receiving a topic.
    Unsubscribe {
        /// The topic.
        topic: String,
    },
    /// Application-level ping.
    Ping {
        /// Echoed back.
        #[serde(default)]
        id: Value,
    },
}

/// What a topic name follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// An aggregate: snapshots and deltas.
    Aggregate(Scope),
    /// An aggregate's trends: snapshots and the buckets each change moved.
    Trends(Scope),
    /// A feed: audit entries.
    Feed(FeedTopic),
    /// The caller's in-app notifications.
    Notifications,
}

/// A topic name to what it follows: `user` is the caller's own aggregate, `team:<uuid>` a
/// team's; `trends:user`, `trends:team:<uuid>` their trends, and `feed:user`,
/// `feed:team:<uuid>` their feeds; `notifications` the caller's notifications.
pub fn parse_topic(topic: &str, user: UserId) -> Option<Topic> {
    if topic == "notifications" {
        return Some(Topic::Notifications);
    }
    let scope = |name: &str| match name.split_once(':') {
        None if name == "user" => Some(Scope::User(user)),
        Some(("team", id)) => uuid::Uuid::try_parse(id)
            .ok()
            .map(|id| Scope::Team(TeamId(id))),
        _ => None,
    };
    match topic.split_once(':') {
        Some(("trends", rest)) => scope(rest).map(Topic::Trends),
        Some(("feed", rest)) => scope(rest).map(|scope| {
            Topic::Feed(match scope {
                Scope::User(user) => FeedTopic::User(user),
                Scope::Team(team) => FeedTopic::Team(team),
            })
        }),
        _ => scope(topic).map(Topic::Aggregate),
    }
}

/// What the server sends.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage<'a> {
    /// A topic's whole state: statistics, breakdown and activity as `GET /dashboard/*`
    /// answer them.
    Snapshot {
        /// The topic.
        topic: &'a str,
        /// The aggregate's version.
        version: i64,
        /// The statistics.
        stats: StatisticsView,
        /// By status, priority (and member).
        breakdown: BreakdownView,
        /// The last [`SNAPSHOT_ACTIVITY_DAYS`] days.
        activity: ActivityView,
    },
    /// One change: the numbers that moved, and the statistics after it.
    Delta {
        /// The topic.
        topic: &'a str,
        /// The version after it: one more than the last message's.
        version: i64,
        /// Each number that moved, by how much.
        changes: BTreeMap<&'static str, i64>,
        /// The statistics after it.
        stats: StatisticsView,
    },
    /// The answer to a renewing `auth`: the session now runs on the new token.
    Authenticated {
        /// When the new token expires.
        #[serde(serialize_with = "crate::shapes::time::rfc3339")]
        expires_at: DateTime<Utc>,
    },
    /// The answer to subscribing to a feed, and the end of an aggregate topic's resume.
    Subscribed {
        /// The topic.
        topic: &'a str,
        /// Aggregate topics: the version the client holds now.
        #[serde(skip_serializing_if = "Option::is_none")]
        version: Option<i64>,
    },
    /// A trends topic's whole state, as `GET /api/v1/dashboard/trends` answers it.
    #[serde(rename = "snapshot")]
    TrendsSnapshot {
        /// The topic.
        topic: &'a str,
        /// The aggregate's version.
        version: i64,
        /// The trends.
        trends: &'a TrendsView,
    },
    /// One change of a trends topic: every bucket it changed (or the clock added), whole.
    #[serde(rename = "delta")]
    TrendsDelta {
        /// The topic.
        topic: &'a str,
        /// The version after it: one more than the last message's.
        version: i64,
        /// The buckets that changed, oldest first.
        buckets: Vec<&'a BucketView>,
    },
    /// One audit entry exactly as `GET /api/v1/audit-logs` shows it.
    Feed {
        /// The topic.
        topic: &'a str,
        /// The entry.
        entry: AuditEntryView,
    },
    /// One of the caller's notifications, exactly as `GET /api/v1/notifications` shows it.
    Notification {
        /// The topic (`notifications`).
        topic: &'a str,
        /// The notification.
        notification: NotificationView,
    },
    /// A topic ended: `requested` or `membership_revoked`.
    Unsubscribed {
        /// The topic.
        topic: &'a str,
        /// Why.
        reason: UnsubscribeReason,
    },
    /// The answer to a `ping`.
    Pong {
        /// The ping's id.
        id: &'a Value,
    },
    /// Something the client asked for failed; the session stays open.
    Error {
        /// What failed.
        code: ErrorCode,
        /// Why, for people.
        message: &'a str,
        /// The topic it concerns, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        topic: Option<&'a str>,
    },
}

impl<'a> ServerMessage<'a> {
    /// The `snapshot` of `topic` at `now`, its activity in `tz`, and its statistics, for the
    /// deltas that follow. `None` when the snapshot lacks the history a zone other than UTC
    /// needs.
    pub fn snapshot(
        topic: &'a str,
        snapshot: &Snapshot,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Option<(Self, Statistics)> {
        let stats = snapshot.statistics(now);
        let activity = snapshot.activity_in(tz, now, SNAPSHOT_ACTIVITY_DAYS)?;
        let message = Self::Snapshot {
            topic,
            version: snapshot.version,
            stats: StatisticsView::from(&stats),
            breakdown: BreakdownView::from(&snapshot.breakdown()),
            activity: ActivityView::from(&activity),
        };
        Some((message, stats))
    }

    /// The `delta` from the statistics `before` to those `after`.
    pub fn delta(topic: &'a str, before: &Statistics, after: &Statistics) -> Self {
        let numbers = |s: &Statistics| {
            [
                ("total", s.total),
                ("pending", s.pending),
                ("in_progress", s.in_progress),
                ("completed", s.completed),
                ("overdue", s.overdue),
                ("shared_with_me", s.shared_with_me.unwrap_or(0)),
                ("shared_by_me", s.shared_by_me.unwrap_or(0)),
            ]
        };
        let changes = (numbers(after).into_iter().zip(numbers(before)))
            .filter(|((_, value), (_, previous))| value != previous)
            .map(|((name, value), (_, previous))| (name, value - previous))
            .collect();
        Self::Delta {
            topic,
            version: after.version,
            changes,
            stats: StatisticsView::from(after),
        }
    }

    /// The `feed` message of one entry.
    pub fn feed(topic: &'a str, entry: &AuditRecord) -> Self {
        Self::Feed {
            topic,
            entry: entry.clone().into(),
        }
    }

    /// The `notification` message of one notification.
    pub fn notification(topic: &'a str, notification: &NotificationRecord) -> Self {
        Self::Notification {
            topic,
            notification: notification.clone().into(),
        }
    }

    /// An `error` message.
    pub fn error(code: ErrorCode, message: &'a str, topic: Option<&'a str>) -> Self {
        Self::Error {
            code,
            message,
            topic,
        }
    }

    /// The text frame.
    pub fn to_text(&self) -> String {
        // Cannot fail: every map key is a string and every value serialises.
        serde_json::to_string(self).unwrap_or_default()
    }
}
