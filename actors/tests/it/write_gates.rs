//! One aggregate's writers wait in the engine, not in PostgreSQL's lock queue: at most
//! `PoolOptions::writes_per_aggregate` of them reach the database at once, and all of them land.

use std::time::Duration;

use diesel::sql_types::Uuid as SqlUuid;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use taskpulse_actors::{NewTask, PoolOptions, Scope};

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

#[tokio::test(flavor = "multi_thread")]
async fn a_hot_teams_writers_queue_in_the_engine_and_all_land() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    assert_eq!(PoolOptions::default().writes_per_aggregate, 2);
    let owner = t.user("owner").await?;
    let team = t.engine.create_team(owner, "Hot").await?.id;
    let mut blocker = t.conn().await?;
    let mut watcher = t.conn().await?;

    // Someone holds the team's statistics row: every creation in the team must wait for it.
    diesel::sql_query("BEGIN").execute(&mut blocker).await?;
    diesel::sql_query("SELECT 1 FROM team_stats WHERE team_id = $1 FOR UPDATE")
        .bind::<SqlUuid, _>(team.0)
        .execute(&mut blocker)
        .await?;
    let writers: Vec<_> = (0..8)
        .map(|i| {
            let engine = t.engine.clone();
            tokio::spawn(async move {
                let task = NewTask {
                    title: format!("hot {i}"),
                    team_id: Some(team),
                    ..NewTask::default()
                };
                engine.create_task(owner, task).await
            })
        })
        .collect();
    // Two reach the database (one waits for the team's row, the other for the owner's row the
    // first holds); the other six wait at the gates. Give them time to pile up if they could.
    let mut two_waiting = false;
    for _ in 0..1000 {
        two_waiting = waiting_for_locks(&mut watcher).await? >= 2;
        if two_waiting {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
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
