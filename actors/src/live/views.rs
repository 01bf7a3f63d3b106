//! The dashboard objects and audit entries inside the protocol's messages, shaped exactly as
//! the REST API shapes them (`GET /api/v1/dashboard/*`, `GET /api/v1/audit-logs`): a client
//! reads both with one set of types. taskpulse's API crate checks its documented REST objects
//! against these, field by field (`api/src/routes/wire_tests.rs`).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Serialize, Serializer};
use uuid::Uuid;

use crate::engine::{Activity, ActivityDay, Breakdown, MemberStat, Statistics};
use crate::stats::Scope;
use crate::store::AuditRecord;

/// `GET /api/v1/dashboard/statistics`.
#[derive(Debug, Serialize)]
pub struct StatisticsView {
    scope: &'static str,
    scope_id: Uuid,
    version: i64,
    #[serde(serialize_with = "rfc3339")]
    as_of: DateTime<Utc>,
    total: i64,
    pending: i64,
    in_progress: i64,
    completed: i64,
    overdue: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    shared_with_me: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shared_by_me: Option<i64>,
    completion_rate: f64,
}

impl From<&Statistics> for StatisticsView {
    fn from(s: &Statistics) -> Self {
        let (scope, scope_id) = scope_parts(s.scope);
        Self {
            scope,
            scope_id,
            version: s.version,
            as_of: s.as_of,
            total: s.total,
            pending: s.pending,
            in_progress: s.in_progress,
            completed: s.completed,
            overdue: s.overdue,
            shared_with_me: s.shared_with_me,
            shared_by_me: s.shared_by_me,
            completion_rate: s.completion_rate,
        }
    }
}

/// `GET /api/v1/dashboard/breakdown`.
#[derive(Debug, Serialize)]
pub struct BreakdownView {
    scope: &'static str,
    scope_id: Uuid,
    version: i64,
    #[serde(serialize_with = "rfc3339")]
    as_of: DateTime<Utc>,
    by_status: ByStatus,
    by_priority: ByPriority,
    #[serde(skip_serializing_if = "Option::is_none")]
    by_member: Option<Vec<MemberView>>,
}

#[derive(Debug, Serialize)]
struct ByStatus {
    pending: i64,
    in_progress: i64,
    completed: i64,
}

#[derive(Debug, Serialize)]
struct ByPriority {
    low: i64,
    medium: i64,
    high: i64,
    urgent: i64,
}

#[derive(Debug, Serialize)]
struct MemberView {
    user_id: Uuid,
    total: i64,
    completed: i64,
}

impl From<&MemberStat> for MemberView {
    fn from(m: &MemberStat) -> Self {
        Self {
            user_id: m.user_id.0,
            total: m.total,
            completed: m.completed,
        }
    }
}

impl From<&Breakdown> for BreakdownView {
    fn from(b: &Breakdown) -> Self {
        let (scope, scope_id) = scope_parts(b.scope);
        let [pending, in_progress, completed] = b.by_status;
        let [low, medium, high, urgent] = b.by_priority;
        Self {
            scope,
            scope_id,
            version: b.version,
            as_of: b.as_of,
            by_status: ByStatus {
                pending,
                in_progress,
                completed,
            },
            by_priority: ByPriority {
                low,
                medium,
                high,
                urgent,
            },
            by_member: (b.by_member.as_ref())
                .map(|members| members.iter().map(Into::into).collect()),
        }
    }
}

/// `GET /api/v1/dashboard/activity`.
#[derive(Debug, Serialize)]
pub struct ActivityView {
    scope: &'static str,
    scope_id: Uuid,
    version: i64,
    #[serde(serialize_with = "rfc3339")]
    as_of: DateTime<Utc>,
    days: Vec<DayView>,
}

#[derive(Debug, Serialize)]
struct DayView {
    date: NaiveDate,
    created: i64,
    completed: i64,
}

impl From<&ActivityDay> for DayView {
    fn from(d: &ActivityDay) -> Self {
        Self {
            date: d.date,
            created: d.created,
            completed: d.completed,
        }
    }
}

impl From<&Activity> for ActivityView {
    fn from(a: &Activity) -> Self {
        let (scope, scope_id) = scope_parts(a.scope);
        Self {
            scope,
            scope_id,
            version: a.version,
            as_of: a.as_of,
            days: a.days.iter().map(Into::into).collect(),
        }
    }
}

/// One entry of `GET /api/v1/audit-logs`.
#[derive(Debug, Serialize)]
pub struct AuditEntryView<'a> {
    id: Uuid,
    #[serde(serialize_with = "rfc3339")]
    at: DateTime<Utc>,
    actor_id: Option<Uuid>,
    action: &'a str,
    target_type: &'a str,
    target_id: Option<Uuid>,
    team_id: Option<Uuid>,
    details: &'a serde_json::Value,
}

impl<'a> From<&'a AuditRecord> for AuditEntryView<'a> {
    fn from(r: &'a AuditRecord) -> Self {
        Self {
            id: r.id,
            at: r.at,
            actor_id: r.actor_id,
            action: &r.action,
            target_type: &r.target_type,
            target_id: r.target_id,
            team_id: r.team_id,
            details: &r.details,
        }
    }
}

fn scope_parts(scope: Scope) -> (&'static str, Uuid) {
    match scope {
        Scope::User(user) => ("user", user.0),
        Scope::Team(team) => ("team", team.0),
    }
}

/// Times as the REST API writes them: RFC 3339 with `+00:00` (serde's default writes `Z`).
fn rfc3339<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&at.to_rfc3339())
}
