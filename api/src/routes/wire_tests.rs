//! The live protocol's messages carry the dashboard objects and audit entries that the REST
//! API documents here (`taskpulse_actors::live::protocol`): each pair must write the same
//! JSON, field for field, `null`s, omitted fields and time formats included.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use poem_openapi::types::ToJSON;
use serde_json::{Value, json};
use taskpulse_actors::live::protocol as live;
use taskpulse_actors::{
    Activity, ActivityDay, AuditRecord, Breakdown, MemberStat, Scope, Statistics, TeamId, UserId,
};

use super::audit::AuditEntryView;
use super::dashboard::{ActivityView, BreakdownView, StatisticsView};

/// A time with sub-second digits, which RFC 3339 writers disagree on.
fn at() -> DateTime<Utc> {
    Utc.timestamp_opt(1_764_590_400, 123_456_000)
        .single()
        .unwrap_or_default()
}

fn statistics(scope: Scope, shared: Option<i64>) -> Statistics {
    Statistics {
        scope,
        version: 42,
        as_of: at(),
        total: 7,
        pending: 3,
        in_progress: 2,
        completed: 2,
        overdue: 1,
        shared_with_me: shared,
        shared_by_me: shared.map(|n| n + 1),
        completion_rate: 2.0 / 7.0,
    }
}

fn breakdown(scope: Scope, members: Option<Vec<MemberStat>>) -> Breakdown {
    Breakdown {
        scope,
        version: 42,
        as_of: at(),
        by_status: [3, 2, 2],
        by_priority: [1, 2, 3, 1],
        by_member: members,
    }
}

fn rest<T: ToJSON>(view: T) -> Value {
    view.to_json().unwrap_or_default()
}

fn wire<T: serde::Serialize>(view: T) -> Value {
    serde_json::to_value(view).unwrap_or_default()
}

#[test]
fn statistics_are_written_alike() {
    for s in [
        statistics(Scope::User(UserId::new()), Some(4)),
        statistics(Scope::Team(TeamId::new()), None),
    ] {
        assert_eq!(
            wire(live::StatisticsView::from(&s)),
            rest(StatisticsView::from(s.clone()))
        );
    }
}

#[test]
fn breakdowns_are_written_alike() {
    let member = MemberStat {
        user_id: UserId::new(),
        total: 5,
        completed: 2,
    };
    for b in [
        breakdown(Scope::User(UserId::new()), None),
        breakdown(Scope::Team(TeamId::new()), Some(vec![member])),
    ] {
        assert_eq!(
            wire(live::BreakdownView::from(&b)),
            rest(BreakdownView::from(b.clone()))
        );
    }
}

#[test]
fn activity_is_written_alike() {
    let day = |d, created, completed| ActivityDay {
        date: NaiveDate::from_ymd_opt(2026, 12, d).unwrap_or_default(),
        created,
        completed,
    };
    let activity = Activity {
        scope: Scope::Team(TeamId::new()),
        version: 9,
        as_of: at(),
        days: vec![day(1, 3, 0), day(2, 0, 1)],
    };

    assert_eq!(
        wire(live::ActivityView::from(&activity)),
        rest(ActivityView::from(activity.clone()))
    );
}

#[test]
fn audit_entries_are_written_alike() {
    let full = AuditRecord {
        id: uuid::Uuid::now_v7(),
        at: at(),
        actor_id: Some(uuid::Uuid::now_v7()),
        action: "task.update".to_owned(),
        target_type: "task".to_owned(),
        target_id: Some(uuid::Uuid::now_v7()),
        team_id: Some(uuid::Uuid::now_v7()),
        details: json!({ "title": "Ship v2", "status": "completed" }),
    };
    let bare = AuditRecord {
        actor_id: None,
        target_id: None,
        team_id: None,
        details: json!({}),
        ..full.clone()
    };

    for entry in [full, bare] {
        assert_eq!(
            wire(live::AuditEntryView::from(&entry)),
            rest(AuditEntryView::from(entry.clone()))
        );
    }
}
