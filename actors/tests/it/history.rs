//! The history behind trends (docs/history.md): loaded when followed, kept exact by the deltas
//! on every node at the aggregate's version, let go when nobody follows it, and held to the
//! tasks' rows by `check`.

use std::time::Duration;

use chrono::Utc;
use diesel_async::RunQueryDsl;
use taskpulse_actors::{
    EngineConfig, Interval, NewTask, Scope, TaskPatch, TaskStatus, TrendsQuery, Tz, UserId,
};

use crate::common::{TestEngine, eventually};

fn week() -> TrendsQuery {
    TrendsQuery {
        tz: "Europe/Berlin".parse().unwrap_or(Tz::UTC),
        interval: Interval::Week,
        from: None,
        to: None,
    }
}

fn new_task(title: &str, status: TaskStatus) -> NewTask {
    NewTask {
        title: title.to_owned(),
        status: Some(status),
        ..NewTask::default()
    }
}

async fn set(
    t: &TestEngine,
    ann: UserId,
    id: taskpulse_actors::TaskId,
    status: TaskStatus,
) -> anyhow::Result<()> {
    let patch = TaskPatch {
        status: Some(status),
        ..TaskPatch::default()
    };
    t.engine.update_task(ann, id, patch, None).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_node_answers_the_same_trends_at_the_same_version() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let b = t.peer(EngineConfig::default()).await?;
    let ann = t.user("ann").await?;
    let scope = Scope::User(ann);
    // Both nodes follow the history before the writes, so deltas keep it on each.
    t.engine.trends(ann, scope, week()).await?;
    b.trends(ann, scope, week()).await?;

    let task = t
        .engine
        .create_task(ann, new_task("a", TaskStatus::Pending))
        .await?;
    set(&t, ann, task.id, TaskStatus::InProgress).await?;
    set(&t, ann, task.id, TaskStatus::Completed).await?;
    set(&t, ann, task.id, TaskStatus::Pending).await?;
    set(&t, ann, task.id, TaskStatus::Completed).await?;
    t.engine
        .create_task(ann, new_task("b", TaskStatus::InProgress))
        .await?;

    let here = t.engine.trends(ann, scope, week()).await?;
    let reached = eventually(Duration::from_secs(5), || async {
        b.trends(ann, scope, week())
            .await
            .is_ok_and(|there| there.version == here.version)
    })
    .await;
    let there = b.trends(ann, scope, week()).await?;

    assert!(
        reached,
        "node b stayed at {} (a: {})",
        there.version, here.version
    );
    assert_eq!(here.buckets, there.buckets);
    let this_week = here
        .buckets
        .last()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no buckets"))?;
    assert_eq!(
        (this_week.created, this_week.started, this_week.completed),
        (2, 2, 1)
    );
    assert_eq!(
        (this_week.open_at_end, this_week.in_progress_at_end),
        (1, 1)
    );
    t.assert_consistent().await
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_team_task_takes_it_out_of_the_teams_history() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("ann").await?;
    let team = t.engine.create_team(ann, "Ops").await?.id;
    let scope = Scope::Team(team);
    t.engine.trends(ann, scope, week()).await?;
    let task = NewTask {
        team_id: Some(team),
        ..new_task("t", TaskStatus::Completed)
    };
    let task = t.engine.create_task(ann, task).await?;
    let before = t.engine.trends(ann, scope, week()).await?;

    t.engine.delete_task(ann, task.id).await?;
    let after = t.engine.trends(ann, scope, week()).await?;

    assert_eq!(before.buckets.last().map(|b| b.completed), Some(1));
    assert_eq!(
        after.buckets.last().map(|b| (b.created, b.completed)),
        Some((0, 0))
    );
    assert_eq!(after.version, before.version + 1);
    t.assert_consistent().await
}

#[tokio::test(flavor = "multi_thread")]
async fn check_finds_a_history_that_differs_from_the_rows() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("ann").await?;
    t.engine
        .create_task(ann, new_task("a", TaskStatus::Completed))
        .await?;
    t.engine.trends(ann, Scope::User(ann), week()).await?;
    t.assert_consistent().await?;

    // Behind the engine's back: the row's completion moves a day earlier.
    let mut conn = t.conn().await?;
    diesel::sql_query("UPDATE tasks SET completed_at = completed_at - interval '1 day', created_at = created_at - interval '2 days'")
        .execute(&mut conn)
        .await?;
    let report = t.engine.check(Default::default()).await?;

    assert!(
        report.differences.iter().any(|d| d.contains("history")),
        "{:?}",
        report.differences
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unfollowed_history_is_let_go_and_loaded_again_exactly() -> anyhow::Result<()> {
    let config = EngineConfig {
        idle_after: Duration::from_millis(300),
        ..EngineConfig::default()
    };
    let t = TestEngine::with_config(config).await?;
    let ann = t.user("ann").await?;
    let scope = Scope::User(ann);
    t.engine
        .create_task(ann, new_task("a", TaskStatus::Pending))
        .await?;
    t.engine.trends(ann, scope, week()).await?;
    // A subscription keeps the aggregate live, so only the history can go.
    let _subscription = t.engine.subscribe(ann, scope, None).await?;

    let let_go = eventually(Duration::from_secs(5), || async {
        t.engine
            .snapshot(scope)
            .await
            .is_ok_and(|s| s.aggregate.history.is_none())
    })
    .await;
    t.engine
        .create_task(ann, new_task("b", TaskStatus::Completed))
        .await?;
    let again = t.engine.trends(ann, scope, week()).await?;

    assert!(let_go, "the history stayed");
    let this_week = again
        .buckets
        .last()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no buckets"))?;
    assert_eq!((this_week.created, this_week.completed), (2, 1));
    assert!(again.as_of <= Utc::now());
    t.assert_consistent().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_history_subscriber_keeps_it_and_every_snapshot_it_gets_holds_it() -> anyhow::Result<()> {
    let config = EngineConfig {
        idle_after: Duration::from_millis(200),
        ..EngineConfig::default()
    };
    let t = TestEngine::with_config(config).await?;
    let ann = t.user("ann").await?;
    let scope = Scope::User(ann);
    let mut subscription = t.engine.subscribe_with_history(ann, scope, None).await?;
    let first = tokio::time::timeout(Duration::from_secs(5), subscription.next()).await?;

    tokio::time::sleep(Duration::from_millis(800)).await;
    t.engine
        .create_task(ann, new_task("a", TaskStatus::Pending))
        .await?;
    let second = tokio::time::timeout(Duration::from_secs(5), subscription.next()).await?;

    let holds = |event: &Option<taskpulse_actors::SubscriptionEvent>| match event {
        Some(taskpulse_actors::SubscriptionEvent::Snapshot(s)) => s.aggregate.history.is_some(),
        Some(taskpulse_actors::SubscriptionEvent::Delta { snapshot, .. }) => snapshot
            .aggregate
            .history
            .as_ref()
            .is_some_and(|h| h.tasks() == 1),
        _ => false,
    };
    assert!(holds(&first) && holds(&second), "{first:?} / {second:?}");
    Ok(())
}
