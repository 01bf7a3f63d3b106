//! `started_at` (API.md, Task): set the first time a task enters `in_progress`, kept after; and
//! for the tasks that existed before the column, filled from what the audit log tells.

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use taskpulse_actors::database::run_migrations;
use taskpulse_actors::{
    DisplayName, Email, Engine, EngineConfig, NewAccount, NewTask, Task, TaskPatch, TaskStatus,
    UserId,
};
use taskpulse_testdb::TestDb;

/// The migration that added the column, as diesel records it.
const STARTED_AT_MIGRATION: &str = "20261206000001";

async fn account(engine: &Engine) -> anyhow::Result<UserId> {
    let account = NewAccount {
        email: Email::parse("ann@example.com").map_err(anyhow::Error::msg)?,
        display_name: DisplayName::parse("Ann").map_err(anyhow::Error::msg)?,
        password_hash: "!".to_owned(),
    };
    Ok(engine.create_account(account).await?.id)
}

async fn create(engine: &Engine, ann: UserId, status: TaskStatus) -> anyhow::Result<Task> {
    let new = NewTask {
        title: format!("{status:?}"),
        status: Some(status),
        ..NewTask::default()
    };
    Ok(engine.create_task(ann, new).await?)
}

async fn set(
    engine: &Engine,
    ann: UserId,
    task: &Task,
    status: TaskStatus,
) -> anyhow::Result<Task> {
    let patch = TaskPatch {
        status: Some(status),
        ..TaskPatch::default()
    };
    Ok(engine.update_task(ann, task.id, patch, None).await?)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_migration_fills_started_at_from_the_audit_log() -> anyhow::Result<()> {
    let db = TestDb::migrated().await?;
    let engine = Engine::start(&db.url, EngineConfig::default()).await?;
    let ann = account(&engine).await?;
    // Started, completed, reopened and started again: the first start is the one kept.
    let cycled = create(&engine, ann, TaskStatus::Pending).await?;
    let first_start = set(&engine, ann, &cycled, TaskStatus::InProgress).await?;
    let completed = set(&engine, ann, &cycled, TaskStatus::Completed).await?;
    set(&engine, ann, &cycled, TaskStatus::Pending).await?;
    let cycled = set(&engine, ann, &cycled, TaskStatus::InProgress).await?;
    let born_running = create(&engine, ann, TaskStatus::InProgress).await?;
    let born_done = create(&engine, ann, TaskStatus::Completed).await?;
    let never_started = create(&engine, ann, TaskStatus::Pending).await?;
    engine.shutdown().await;
    drop(engine);

    // The database as it was before the column: the migration reverted (its down.sql) and
    // forgotten, then applied again by the next start.
    let mut conn = AsyncPgConnection::establish(&db.url).await?;
    diesel::sql_query("ALTER TABLE tasks DROP COLUMN started_at")
        .execute(&mut conn)
        .await?;
    let forget =
        format!("DELETE FROM __diesel_schema_migrations WHERE version = '{STARTED_AT_MIGRATION}'");
    assert_eq!(diesel::sql_query(forget).execute(&mut conn).await?, 1);
    assert_eq!(run_migrations(&db.url).await?, 1);

    let engine = Engine::start(&db.url, EngineConfig::default()).await?;
    let read = async |task: &Task| engine.get_task(ann, task.id).await;
    // The log's entry of the first start is written in that change's transaction, a moment
    // after the time the change stamps on the task, and before the next change.
    let filled = read(&cycled).await?.started_at;
    assert!(
        filled >= first_start.started_at && filled < completed.completed_at,
        "{filled:?}: not the first start ({:?}, completed {:?})",
        first_start.started_at,
        completed.completed_at
    );
    assert_eq!(
        read(&born_running).await?.started_at,
        Some(born_running.created_at)
    );
    assert_eq!(read(&born_done).await?.started_at, None);
    assert_eq!(read(&never_started).await?.started_at, None);
    engine.shutdown().await;
    Ok(())
}
