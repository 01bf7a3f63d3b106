//! The WebSocket messages of docs/websocket.md, both ways, as JSON text frames.

use chrono::{DateTime, Utc};
use poem_openapi::types::ToJSON;
use serde::Deserialize;
use serde_json::{Value, json};
use taskpulse_actors::{AuditRecord, FeedTopic, Scope, Snapshot, Statistics, TeamId, UserId};

use crate::routes::{ActivityView, AuditEntryView, BreakdownView, StatisticsView};

/// How many days of activity a snapshot carries (the dashboard shows 7 or 30).
pub const SNAPSHOT_ACTIVITY_DAYS: u32 = 30;

/// What a client may send.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// Authenticate (first message, when the upgrade carried no token).
    Auth {
        /// An access token.
        access_token: String,
    },
    /// Start receiving a topic.
    Subscribe {
        /// `user`, `team:<id>`, `feed:user` or `feed:team:<id>`.
        topic: String,
        /// Resume an aggregate topic after this version.
        #[serde(default)]
        since_version: Option<i64>,
        /// Resume a feed topic after this entry (its id).
        #[serde(default)]
        since: Option<String>,
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
    /// A feed: audit entries.
    Feed(FeedTopic),
}

/// A topic name to what it follows: `user` is the caller's own aggregate, `team:<uuid>` a
/// team's, and `feed:user`, `feed:team:<uuid>` their feeds.
pub fn parse_topic(topic: &str, user: UserId) -> Option<Topic> {
    let team = |id: &str| uuid::Uuid::try_parse(id).ok().map(TeamId);
    match topic.split_once(':') {
        None if topic == "user" => Some(Topic::Aggregate(Scope::User(user))),
        Some(("team", id)) => team(id).map(|team| Topic::Aggregate(Scope::Team(team))),
        Some(("feed", "user")) => Some(Topic::Feed(FeedTopic::User(user))),
        Some(("feed", rest)) => match rest.split_once(':') {
            Some(("team", id)) => team(id).map(|team| Topic::Feed(FeedTopic::Team(team))),
            _ => None,
        },
        _ => None,
    }
}

/// The dashboard objects exactly as the REST endpoints shape them.
fn statistics_json(stats: &Statistics) -> Value {
    StatisticsView::from(stats.clone())
        .to_json()
        .unwrap_or_default()
}

/// The `snapshot` message: statistics, breakdown and activity as `GET /dashboard/*` answer
/// them; answers the statistics too, for the deltas that follow.
pub fn snapshot_message(
    topic: &str,
    snapshot: &Snapshot,
    now: DateTime<Utc>,
) -> (String, Statistics) {
    let stats = snapshot.statistics(now);
    let activity = snapshot.activity(now.date_naive(), SNAPSHOT_ACTIVITY_DAYS);
    let message = json!({
        "type": "snapshot",
        "topic": topic,
        "version": snapshot.version,
        "stats": statistics_json(&stats),
        "breakdown": BreakdownView::from(snapshot.breakdown()).to_json(),
        "activity": ActivityView::from(activity).to_json(),
    });
    (message.to_string(), stats)
}

/// The `delta` message: the numbers that moved since `before`, and the statistics after.
pub fn delta_message(topic: &str, before: &Statistics, after: &Statistics) -> String {
    let mut changes = serde_json::Map::new();
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
    let old = numbers(before);
    for ((name, value), (_, previous)) in numbers(after).into_iter().zip(old) {
        if value != previous {
            changes.insert(name.to_owned(), json!(value - previous));
        }
    }
    json!({
        "type": "delta", "topic": topic, "version": after.version,
        "changes": changes, "stats": statistics_json(after),
    })
    .to_string()
}

/// The `subscribed` message (the answer to subscribing to a feed).
pub fn subscribed_message(topic: &str) -> String {
    json!({ "type": "subscribed", "topic": topic }).to_string()
}

/// The `feed` message: one audit entry exactly as `GET /api/v1/audit-logs` shows it.
pub fn feed_message(topic: &str, entry: &AuditRecord) -> String {
    let entry = AuditEntryView::from(entry.clone()).to_json();
    json!({ "type": "feed", "topic": topic, "entry": entry }).to_string()
}

/// The `unsubscribed` message.
pub fn unsubscribed_message(topic: &str, reason: &str) -> String {
    json!({ "type": "unsubscribed", "topic": topic, "reason": reason }).to_string()
}

/// The `pong` message.
pub fn pong_message(id: &Value) -> String {
    json!({ "type": "pong", "id": id }).to_string()
}

/// The `error` message.
pub fn error_message(code: &str, message: &str, topic: Option<&str>) -> String {
    let mut value = json!({ "type": "error", "code": code, "message": message });
    if let Some(topic) = topic {
        value["topic"] = json!(topic);
    }
    value.to_string()
}
