use chrono::TimeZone;
use uuid::Uuid;

use super::*;
use crate::model::Task;
use crate::store::tasks::facts;

fn user(n: u8) -> UserId {
    UserId(Uuid::from_u128(u128::from(n) + 1))
}

fn team(n: u8) -> TeamId {
    TeamId(Uuid::from_u128(u128::from(n) + 1000))
}

fn day(n: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0)
        .single()
        .unwrap_or_default()
        + chrono::Duration::days(n)
}

fn today() -> NaiveDate {
    day(30).date_naive()
}

fn task(n: u8, owner: u8, team_n: Option<u8>, status: TaskStatus) -> TaskFacts {
    TaskFacts {
        id: TaskId(Uuid::from_u128(u128::from(n) + 5000)),
        owner: user(owner),
        team: team_n.map(team),
        status,
        priority: Priority::Medium,
        due_at: Some(day(5)),
        created_at: day(1),
        started_at: (status != TaskStatus::Pending).then(|| day(1)),
        completed_at: (status == TaskStatus::Completed).then(|| day(2)),
        shared_with: Vec::new(),
    }
}

#[test]
fn creating_a_team_task_counts_for_its_owner_and_its_team() {
    let new = task(1, 0, Some(0), TaskStatus::Pending);

    let set = task_deltas(None, Some(&new));

    assert_eq!(set.len(), 2);
    let user_delta = &set[&Scope::User(user(0))];
    assert_eq!(user_delta.counts.pending, 1);
    assert_eq!(user_delta.counts.medium, 1);
    assert_eq!(user_delta.days[&day(1).date_naive()].created, 1);
    assert!(user_delta.members.is_empty());
    let team_delta = &set[&Scope::Team(team(0))];
    assert_eq!(
        team_delta.members[&user(0)],
        MemberCounts {
            total: 1,
            completed: 0
        }
    );
}

#[test]
fn a_title_only_change_moves_no_aggregate() {
    let old = Task {
        id: TaskId(Uuid::from_u128(5001)),
        title: "Draft the release notes".to_owned(),
        description: String::new(),
        status: TaskStatus::InProgress,
        priority: Priority::High,
        due_at: Some(day(5)),
        owner_id: user(0),
        team_id: Some(team(0)),
        version: 1,
        created_at: day(1),
        updated_at: day(1),
        started_at: Some(day(1)),
        completed_at: None,
    };
    let new = Task {
        title: "Ship v2".to_owned(),
        ..old.clone()
    };

    // Through the same conversion the engine's update uses, sharees included.
    let set = task_deltas(
        Some(&facts(&old, vec![user(1)])),
        Some(&facts(&new, vec![user(1)])),
    );

    assert!(set.is_empty(), "a title change moved {set:?}");
}

#[test]
fn completing_a_task_moves_status_activity_and_overdue() {
    let old = task(1, 0, None, TaskStatus::Pending);
    let new = TaskFacts {
        status: TaskStatus::Completed,
        completed_at: Some(day(3)),
        ..old.clone()
    };

    let delta = &task_deltas(Some(&old), Some(&new))[&Scope::User(user(0))];

    assert_eq!((delta.counts.pending, delta.counts.completed), (-1, 1));
    assert_eq!(delta.days[&day(3).date_naive()].completed, 1);
    assert_eq!(
        delta.due,
        vec![DueChange {
            task: old.id,
            before: Some(day(5)),
            after: None
        }]
    );
}

#[test]
fn sharing_counts_once_per_task_for_the_owner_and_once_for_each_recipient() {
    let old = task(1, 0, None, TaskStatus::Pending);
    let once = TaskFacts {
        shared_with: vec![user(1)],
        ..old.clone()
    };
    let twice = TaskFacts {
        shared_with: vec![user(1), user(2)],
        ..old.clone()
    };

    let first = task_deltas(Some(&old), Some(&once));
    let second = task_deltas(Some(&once), Some(&twice));

    assert_eq!(first[&Scope::User(user(0))].counts.shared_by_me, 1);
    assert_eq!(first[&Scope::User(user(1))].counts.shared_with_me, 1);
    assert!(
        !second.contains_key(&Scope::User(user(0))),
        "already shared: no change"
    );
    assert_eq!(second[&Scope::User(user(2))].counts.shared_with_me, 1);
}

#[test]
fn overdue_follows_the_clock() {
    let facts = task(1, 0, None, TaskStatus::Pending);
    let aggregate = Aggregate::recount(Scope::User(user(0)), [&facts], today());

    assert_eq!(aggregate.overdue(day(4)), 0);
    assert_eq!(aggregate.overdue(day(6)), 1);
}

#[test]
fn activity_is_zero_filled_oldest_first() {
    let facts = task(1, 0, None, TaskStatus::Completed);
    let aggregate = Aggregate::recount(Scope::User(user(0)), [&facts], day(3).date_naive());

    let days = aggregate.activity(day(3).date_naive(), 3);

    assert_eq!(days.len(), 3);
    assert_eq!(days[0].0, day(1).date_naive());
    assert_eq!(
        days[0].1,
        DayCounts {
            created: 1,
            completed: 0
        }
    );
    assert_eq!(
        days[1].1,
        DayCounts {
            created: 0,
            completed: 1
        }
    );
    assert_eq!(days[2].1, DayCounts::default());
}

mod edit_histories;
