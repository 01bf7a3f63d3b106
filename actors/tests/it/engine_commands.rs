//! The engine's commands, reads and permission rules over a real database.

use crate::common::TestEngine;
use chrono::{Duration, Utc};
use taskpulse_actors::{Error, NewTask, Priority, Scope, TaskPatch, TaskQuery, TaskStatus, Tz};

fn new_task(title: &str) -> NewTask {
    NewTask {
        title: title.to_owned(),
        ..NewTask::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_is_visible_in_the_statistics_as_soon_as_it_returns() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("ann").await?;
    let before = t.engine.statistics(ann, Scope::User(ann)).await?;

    t.engine.create_task(ann, new_task("write tests")).await?;
    let after = t.engine.statistics(ann, Scope::User(ann)).await?;

    assert_eq!((before.total, before.version), (0, 0));
    assert_eq!((after.total, after.pending, after.version), (1, 1, 1));
    t.assert_consistent().await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_made_without_an_aggregate_row_starts_from_zero() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("ann").await?;
    let mut conn = t.conn().await?;
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query("DELETE FROM user_stats WHERE user_id = $1")
            .bind::<diesel::sql_types::Uuid, _>(ann.0),
        &mut conn,
    )
    .await?;
    drop(conn);

    t.engine.create_task(ann, new_task("first")).await?;
    t.engine.create_task(ann, new_task("second")).await?;
    let after = t.engine.statistics(ann, Scope::User(ann)).await?;

    assert_eq!((after.total, after.pending, after.version), (2, 2, 2));
    t.assert_consistent().await
}

#[tokio::test(flavor = "multi_thread")]
async fn versions_grow_by_one_per_visible_change_and_not_for_a_title_edit() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("ann").await?;
    let task = t.engine.create_task(ann, new_task("a")).await?;

    t.engine
        .update_task(
            ann,
            task.id,
            TaskPatch {
                title: Some("b".into()),
                ..Default::default()
            },
            None,
        )
        .await?;
    let after_title = t.engine.statistics(ann, Scope::User(ann)).await?;
    let done = t
        .engine
        .update_task(
            ann,
            task.id,
            TaskPatch {
                status: Some(TaskStatus::Completed),
                ..Default::default()
            },
            None,
        )
        .await?;
    let after_status = t.engine.statistics(ann, Scope::User(ann)).await?;

    assert_eq!(after_title.version, 1);
    assert_eq!(after_status.version, 2);
    assert_eq!(
        (after_status.completed, after_status.completion_rate),
        (1, 1.0)
    );
    assert_eq!(done.version, 3, "the task itself moves with every change");
    assert!(done.completed_at.is_some());
    t.assert_consistent().await
}

#[tokio::test(flavor = "multi_thread")]
async fn overdue_counts_open_tasks_due_in_the_past() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("ann").await?;
    let late = NewTask {
        due_at: Some(Utc::now() - Duration::hours(1)),
        ..new_task("late")
    };
    let later = NewTask {
        due_at: Some(Utc::now() + Duration::hours(1)),
        ..new_task("later")
    };
    let done_late = NewTask {
        due_at: Some(Utc::now() - Duration::hours(1)),
        status: Some(TaskStatus::Completed),
        ..new_task("done")
    };

    for task in [late, later, done_late] {
        t.engine.create_task(ann, task).await?;
    }
    let stats = t.engine.statistics(ann, Scope::User(ann)).await?;

    assert_eq!((stats.total, stats.overdue), (3, 1));
    t.assert_consistent().await
}

#[tokio::test(flavor = "multi_thread")]
async fn stale_if_match_is_a_version_mismatch() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("ann").await?;
    let task = t.engine.create_task(ann, new_task("a")).await?;
    t.engine
        .update_task(
            ann,
            task.id,
            TaskPatch {
                priority: Some(Priority::High),
                ..Default::default()
            },
            Some(1),
        )
        .await?;

    let stale = t
        .engine
        .update_task(
            ann,
            task.id,
            TaskPatch {
                priority: Some(Priority::Low),
                ..Default::default()
            },
            Some(1),
        )
        .await;

    assert!(
        matches!(stale, Err(Error::VersionMismatch { current: 2 })),
        "{stale:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_input_is_a_validation_error_naming_the_field() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("ann").await?;

    let empty = t.engine.create_task(ann, new_task("")).await;
    let long = t.engine.create_task(ann, new_task(&"x".repeat(201))).await;
    let days = t.engine.activity(ann, Scope::User(ann), 91, Tz::UTC).await;

    assert!(
        matches!(&empty, Err(Error::Validation(e)) if e[0].field == "title"),
        "{empty:?}"
    );
    assert!(
        matches!(&long, Err(Error::Validation(e)) if e[0].field == "title"),
        "{long:?}"
    );
    assert!(
        matches!(&days, Err(Error::Validation(e)) if e[0].field == "days"),
        "{days:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn listing_pages_with_a_keyset_cursor() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("ann").await?;
    for n in 0..5 {
        t.engine
            .create_task(ann, new_task(&format!("t{n}")))
            .await?;
    }

    let first = t
        .engine
        .list_tasks(
            ann,
            TaskQuery {
                limit: Some(2),
                ..Default::default()
            },
        )
        .await?;
    let second = t
        .engine
        .list_tasks(
            ann,
            TaskQuery {
                limit: Some(2),
                cursor: first.next_cursor.clone(),
                ..Default::default()
            },
        )
        .await?;
    let third = t
        .engine
        .list_tasks(
            ann,
            TaskQuery {
                limit: Some(2),
                cursor: second.next_cursor.clone(),
                ..Default::default()
            },
        )
        .await?;
    let bad = t
        .engine
        .list_tasks(
            ann,
            TaskQuery {
                limit: Some(0),
                ..Default::default()
            },
        )
        .await;

    let titles: Vec<String> = [&first, &second, &third]
        .iter()
        .flat_map(|p| p.items.iter().map(|t| t.title.clone()))
        .collect();
    assert_eq!(titles, ["t4", "t3", "t2", "t1", "t0"]);
    assert!(third.next_cursor.is_none());
    assert!(matches!(bad, Err(Error::Validation(_))));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn activity_is_zero_filled_and_counts_today() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("ann").await?;
    t.engine
        .create_task(
            ann,
            NewTask {
                status: Some(TaskStatus::Completed),
                ..new_task("done")
            },
        )
        .await?;

    let activity = t.engine.activity(ann, Scope::User(ann), 7, Tz::UTC).await?;

    assert_eq!(activity.days.len(), 7);
    let today = &activity.days[6];
    assert_eq!(
        (today.date, today.created, today.completed),
        (Utc::now().date_naive(), 1, 1)
    );
    assert!(
        activity.days[..6]
            .iter()
            .all(|d| d.created == 0 && d.completed == 0)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_applied_deltas_and_deliveries() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("ann").await?;
    t.engine.statistics(ann, Scope::User(ann)).await?;

    t.engine.create_task(ann, new_task("counted")).await?;
    let metrics = t.engine.metrics();

    assert_eq!(metrics.live_aggregates, 1);
    assert_eq!(metrics.deltas_applied, 1, "{metrics:?}");
    assert_eq!(metrics.deliveries, 1);
    assert_eq!(metrics.delivery_buckets.iter().sum::<u64>(), 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_nul_character_is_a_validation_error_not_a_database_failure() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("ann").await?;

    let task = t
        .engine
        .create_task(
            ann,
            NewTask {
                description: Some("a\0b".into()),
                ..new_task("t")
            },
        )
        .await;
    let team = t.engine.create_team(ann, "x\0").await;

    assert!(
        matches!(&task, Err(Error::Validation(e)) if e[0].field == "description"),
        "{task:?}"
    );
    assert!(
        matches!(&team, Err(Error::Validation(e)) if e[0].field == "name"),
        "{team:?}"
    );
    Ok(())
}
