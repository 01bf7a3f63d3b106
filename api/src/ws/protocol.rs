//! The WebSocket messages of API.md, both ways, as JSON text frames.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use taskpulse_actors::{Breakdown, Scope, Snapshot, Statistics, TeamId};

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
        /// `user` or `team:<id>`.
        topic: String,
        /// Resume after this version.
        #[serde(default)]
        since_version: Option<i64>,
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

/// A topic name to a scope: `user` is the caller's own, `team:<uuid>` a team's.
pub fn parse_topic(topic: &str, user: taskpulse_actors::UserId) -> Option<Scope> {
    match topic.split_once(':') {
        None if topic == "user" => Some(Scope::User(user)),
        Some(("team", id)) => uuid::Uuid::try_parse(id)
            .ok()
            .map(|id| Scope::Team(TeamId(id))),
        _ => None,
    }
}

fn scope_fields(scope: Scope) -> (&'static str, String) {
    match scope {
        Scope::User(id) => ("user", id.to_string()),
        Scope::Team(id) => ("team", id.to_string()),
    }
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The statistics object, as `GET /api/v1/dashboard/statistics` answers it.
pub fn statistics_json(s: &Statistics) -> Value {
    let (scope, scope_id) = scope_fields(s.scope);
    let mut value = json!({
        "scope": scope, "scope_id": scope_id, "version": s.version, "as_of": time(s.as_of),
        "total": s.total, "pending": s.pending, "in_progress": s.in_progress,
        "completed": s.completed, "overdue": s.overdue, "completion_rate": s.completion_rate,
    });
    if let (Some(with_me), Some(by_me)) = (s.shared_with_me, s.shared_by_me) {
        value["shared_with_me"] = json!(with_me);
        value["shared_by_me"] = json!(by_me);
    }
    value
}

/// The breakdown object, as `GET /api/v1/dashboard/breakdown` answers it.
pub fn breakdown_json(b: &Breakdown) -> Value {
    let (scope, scope_id) = scope_fields(b.scope);
    let [pending, in_progress, completed] = b.by_status;
    let [low, medium, high, urgent] = b.by_priority;
    let mut value = json!({
        "scope": scope, "scope_id": scope_id, "version": b.version, "as_of": time(b.as_of),
        "by_status": { "pending": pending, "in_progress": in_progress, "completed": completed },
        "by_priority": { "low": low, "medium": medium, "high": high, "urgent": urgent },
    });
    if let Some(members) = &b.by_member {
        value["by_member"] = members
            .iter()
            .map(|m| json!({ "user_id": m.user_id.to_string(), "total": m.total, "completed": m.completed }))
            .collect();
    }
    value
}

/// The `snapshot` message.
pub fn snapshot_message(
    topic: &str,
    snapshot: &Snapshot,
    now: DateTime<Utc>,
) -> (String, Statistics) {
    let stats = snapshot.statistics(now);
    let activity = snapshot.activity(now.date_naive(), SNAPSHOT_ACTIVITY_DAYS);
    let (scope, scope_id) = scope_fields(snapshot.scope);
    let message = json!({
        "type": "snapshot",
        "topic": topic,
        "version": snapshot.version,
        "stats": statistics_json(&stats),
        "breakdown": breakdown_json(&snapshot.breakdown()),
        "activity": {
            "scope": scope, "scope_id": scope_id, "version": activity.version,
            "as_of": time(activity.as_of),
            "days": activity.days.iter().map(|d| json!({
                "date": d.date.to_string(), "created": d.created, "completed": d.completed,
            })).collect::<Vec<_>>(),
        },
    });
    (message.to_string(), stats)
}

/// The `delta` message: the numbers that moved since `before`, and the statistics after.
pub fn delta_message(topic: &str, before: Option<&Statistics>, after: &Statistics) -> String {
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
    let old = before.map(numbers);
    for (index, (name, value)) in numbers(after).into_iter().enumerate() {
        let previous = old.map_or(0, |o| o[index].1);
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
