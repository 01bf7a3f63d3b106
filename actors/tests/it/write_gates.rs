//! One aggregate's writers wait in the engine, not in PostgreSQL's lock queue: at most
//! `PoolOptions::writes_per_aggregate` of them reach the database at once, those waiting hold no
//! connection, and all of them land.

use std::time::Duration;

use diesel::sql_types::Uuid as SqlUuid;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use taskpulse_actors::{Engine, EngineConfig, NewTask, PoolOptions, Scope, TeamId, UserId};

use crate::common::TestEngine;

#[derive(diesel::QueryableByName)]
struct Waiting {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    waiting: i64,
}

/// Backends of this database waiting for a lock.
async fn waiting_for_locks(conn: &mut AsyncPgConnection) -> anyhow::Result<i64> {
    let row: Waiting = diesel::sql_query(
        "SELECT count(*) AS waiting FROM pg_stat_activity \
         WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .get_result(conn)
    .await?;
    Ok(row.waiting)
}

/// Holds `team`'s statistics row locked, as a long transaction of someone else's would.
async fn lock_team_stats(conn: &mut AsyncPgConnection, team: TeamId) -> anyhow::Result<()> {
    diesel::sql_query("BEGIN").execute(conn).await?;
    diesel::sql_query("SELECT 1 FROM team_stats WHERE team_id = $1 FOR UPDATE")
        .bind::<SqlUuid, _>(team.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Starts `count` task creations in `team`, each as soon as it can.
fn create_in_team(
    engine: &Engine,
    owner: UserId,
    team: TeamId,
    count: usize,
) -> Vec<tokio::task::JoinHandle<taskpulse_actors::Result<taskpulse_actors::Task>>> {
    (0..count)
        .map(|i| {
            let engine = engine.clone();
            tokio::spawn(async move {
                let task = NewTask {
                    title: format!("hot {i}"),
                    team_id: Some(team),
                    ..NewTask::default()
                };
                engine.create_task(owner, task).await
            })
        })
        .collect()
}

/// Waits until `count` backends wait for a lock; false after 10 s.
async fn until_waiting(conn: &mut AsyncPgConnection, count: i64) -> anyhow::Result<bool> {
    for _ in 0..1000 {
        if waiting_for_locks(conn).await? >= count {
            return Ok(true);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(false)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hot_teams_writers_queue_in_the_engine_and_all_land() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    assert_eq!(PoolOptions::default().writes_per_aggregate, 2);
    let owner = t.user("owner").await?;
    let team = t.engine.create_team(owner, "Hot").await?.id;
    let mut blocker = t.conn().await?;
    let mut watcher = t.conn().await?;

    // Someone holds the team's statistics row: every creation in the team must wait for it.
    lock_team_stats(&mut blocker, team).await?;
    let writers = create_in_team(&t.engine, owner, team, 8);
    // Two reach the database (one waits for the team's row, the other for the owner's row the
    // first holds); the other six wait at the gates. Give them time to pile up if they could.
    let two_waiting = until_waiting(&mut watcher, 2).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let waiting = waiting_for_locks(&mut watcher).await?;
    diesel::sql_query("COMMIT").execute(&mut blocker).await?;

    for writer in writers {
        writer.await??;
    }
    assert!(two_waiting, "the writers never reached the locked row");
    assert_eq!(waiting, 2, "writers waiting in PostgreSQL's lock queue");
    let stats = t.engine.statistics(owner, Scope::Team(team)).await?;
    assert_eq!((stats.total, stats.version), (8, 8));
    t.assert_consistent().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hot_teams_queued_writers_leave_the_pool_to_everyone_else() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let owner = t.user("owner").await?;
    let other = t.user("other").await?;
    let team = t.engine.create_team(owner, "Hot").await?.id;
    // A node with a small pool: four connections.
    let engine = Engine::start(
        &t.db.url,
        EngineConfig {
            pool: PoolOptions {
                max_size: 4,
                connection_timeout: Duration::from_secs(10),
                ..PoolOptions::default()
            },
            ..EngineConfig::default()
        },
    )
    .await?;
    let mut blocker = t.conn().await?;
    let mut watcher = t.conn().await?;

    lock_team_stats(&mut blocker, team).await?;
    let writers = create_in_team(&engine, owner, team, 12);
    let two_waiting = until_waiting(&mut watcher, 2).await?;
    // Ten writes wait for the team; two connections are still free for anyone else.
    let elsewhere = tokio::time::timeout(
        Duration::from_secs(3),
        engine.create_task(
            other,
            NewTask {
                title: "not the team's".into(),
                ..NewTask::default()
            },
        ),
    )
    .await;
    diesel::sql_query("COMMIT").execute(&mut blocker).await?;
    for writer in writers {
        writer.await??;
    }

    assert!(two_waiting, "the writers never reached the locked row");
    assert!(
        matches!(elsewhere, Ok(Ok(_))),
        "another user's write waited for the hot team's: {elsewhere:?}"
    );
    let stats = engine.statistics(owner, Scope::Team(team)).await?;
    assert_eq!((stats.total, stats.version), (12, 12));
    t.assert_consistent().await
}
