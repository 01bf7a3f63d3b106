//! Reminders over a real database with two nodes working the outbox: "due within a day" and
//! "overdue" fire once each per `due_at`, when due; moving `due_at` re-arms them, completing or
//! deleting the task cancels them, and a reminder names the task as it is when it fires.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use taskpulse_actors::{
    Engine, EngineConfig, NewTask, NotificationConfig, NotificationRecord, TaskPatch, TaskStatus,
    UserId,
};

use crate::common::{TestEngine, eventually};

fn config() -> EngineConfig {
    EngineConfig {
        notifications: NotificationConfig {
            poll_every: Duration::from_millis(50),
            ..NotificationConfig::default()
        },
        ..EngineConfig::default()
    }
}

async fn task_due(
    engine: &Engine,
    user: UserId,
    title: &str,
    due_at: DateTime<Utc>,
) -> anyhow::Result<taskpulse_actors::Task> {
    let new = NewTask {
        title: title.to_owned(),
        due_at: Some(due_at),
        ..NewTask::default()
    };
    Ok(engine.create_task(user, new).await?)
}

async fn inbox(engine: &Engine, user: UserId) -> anyhow::Result<Vec<NotificationRecord>> {
    Ok(engine
        .notifications(user, false, Some(200), None)
        .await?
        .items)
}

/// `(kind, text)` of each notification, oldest first.
async fn told(engine: &Engine, user: UserId) -> anyhow::Result<Vec<(String, String)>> {
    let mut items = inbox(engine, user).await?;
    items.reverse();
    Ok(items.into_iter().map(|n| (n.kind, n.text)).collect())
}

async fn wait_for(engine: &Engine, user: UserId, count: usize) -> anyhow::Result<()> {
    let arrived = eventually(Duration::from_secs(10), || async {
        inbox(engine, user).await.is_ok_and(|n| n.len() >= count)
    })
    .await;
    anyhow::ensure!(arrived, "{count} notifications did not arrive");
    Ok(())
}

fn pair(kind: &str, text: &str) -> (String, String) {
    (kind.to_owned(), text.to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn each_reminder_fires_once_when_due_whichever_node_works_it() -> anyhow::Result<()> {
    let t = TestEngine::with_config(config()).await?;
    let _other_node = t.peer(config()).await?;
    let ann = t.user("Ann").await?;
    let now = Utc::now();

    task_due(&t.engine, ann, "next week", now + TimeDelta::days(7)).await?;
    let soon = now + TimeDelta::milliseconds(1500);
    task_due(&t.engine, ann, "soon", soon).await?;
    wait_for(&t.engine, ann, 1).await?;
    // Unless the machine is slow enough that it is nearly due already.
    let before_due = if Utc::now() < soon - TimeDelta::milliseconds(300) {
        Some(told(&t.engine, ann).await?)
    } else {
        None
    };
    wait_for(&t.engine, ann, 2).await?;
    tokio::time::sleep(Duration::from_millis(1000)).await;

    if let Some(before_due) = before_due {
        assert_eq!(
            before_due,
            [pair("task_due_soon", "“soon” is due within a day")],
            "overdue only once due"
        );
    }
    assert_eq!(
        told(&t.engine, ann).await?,
        [
            pair("task_due_soon", "“soon” is due within a day"),
            pair("task_overdue", "“soon” is overdue"),
        ]
    );
    let overdue = &inbox(&t.engine, ann).await?[0];
    assert!(
        overdue.at >= soon - TimeDelta::milliseconds(1),
        "dated when it fell due"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn moving_due_at_rearms_and_completing_or_deleting_cancels() -> anyhow::Result<()> {
    let t = TestEngine::with_config(config()).await?;
    let ann = t.user("Ann").await?;
    let due = Utc::now() + TimeDelta::milliseconds(1500);
    let moved = task_due(&t.engine, ann, "moved", due).await?;
    let completed = task_due(&t.engine, ann, "completed", due).await?;
    let deleted = task_due(&t.engine, ann, "deleted", due).await?;
    // Each is due within a day at once: three "due soon".
    wait_for(&t.engine, ann, 3).await?;

    let later = TaskPatch {
        due_at: Some(Some(Utc::now() + TimeDelta::days(3))),
        ..TaskPatch::default()
    };
    t.engine.update_task(ann, moved.id, later, None).await?;
    let done = TaskPatch {
        status: Some(TaskStatus::Completed),
        ..TaskPatch::default()
    };
    t.engine.update_task(ann, completed.id, done, None).await?;
    t.engine.delete_task(ann, deleted.id).await?;
    tokio::time::sleep(Duration::from_millis(2500)).await;

    let kinds: Vec<String> = told(&t.engine, ann)
        .await?
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(kinds, ["task_due_soon"; 3], "no overdue for any of them");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reminder_names_the_task_as_it_is_when_it_fires() -> anyhow::Result<()> {
    let t = TestEngine::with_config(config()).await?;
    let ann = t.user("Ann").await?;
    let due = Utc::now() + TimeDelta::days(1) + TimeDelta::milliseconds(1500);
    let task = task_due(&t.engine, ann, "old title", due).await?;

    let renamed = TaskPatch {
        title: Some("new title".to_owned()),
        ..TaskPatch::default()
    };
    t.engine.update_task(ann, task.id, renamed, None).await?;
    wait_for(&t.engine, ann, 1).await?;

    assert_eq!(
        told(&t.engine, ann).await?,
        [pair("task_due_soon", "“new title” is due within a day")]
    );
    Ok(())
}
