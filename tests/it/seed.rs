//! `taskpulse seed` makes the data it promises, consistent with the aggregate rows.

use crate::common::BINARY;
use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use taskpulse_testdb::TestDb;
use tokio::process::Command;

#[derive(QueryableByName, Debug)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(db: &TestDb, sql: &str) -> anyhow::Result<i64> {
    let mut conn = db.connect().await?;
    let row: Count = diesel::sql_query(sql).get_result(&mut conn).await?;
    Ok(row.n)
}

#[tokio::test]
async fn seed_makes_users_teams_tasks_and_consistent_aggregates() -> anyhow::Result<()> {
    let db = TestDb::migrated().await?;

    let output = Command::new(BINARY)
        .args(["seed", "--users", "40", "--teams", "5", "--tasks", "2000"])
        .args(["--database-url", &db.url])
        .env("RUST_LOG", "warn")
        .output()
        .await?;

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(count(&db, "SELECT count(*) AS n FROM users").await?, 40);
    assert_eq!(count(&db, "SELECT count(*) AS n FROM teams").await?, 5);
    assert_eq!(count(&db, "SELECT count(*) AS n FROM tasks").await?, 2000);
    assert!(
        count(
            &db,
            "SELECT count(*) AS n FROM tasks WHERE team_id IS NOT NULL"
        )
        .await?
            > 0
    );
    assert!(count(&db, "SELECT count(*) AS n FROM task_shares").await? > 0);
    // Team tasks belong to members who may write in the team.
    let foreign = "SELECT count(*) AS n FROM tasks t WHERE t.team_id IS NOT NULL AND NOT EXISTS \
                   (SELECT 1 FROM team_members m WHERE m.team_id = t.team_id \
                    AND m.user_id = t.owner_id AND m.role <> 'viewer')";
    assert_eq!(count(&db, foreign).await?, 0);
    // The aggregate rows were rebuilt from the tasks.
    let user_total = "SELECT sum(pending + in_progress + completed)::bigint AS n FROM user_stats";
    let team_total = "SELECT sum(pending + in_progress + completed)::bigint AS n FROM team_stats";
    let team_tasks = "SELECT count(*) AS n FROM tasks WHERE team_id IS NOT NULL";
    assert_eq!(count(&db, user_total).await?, 2000);
    assert_eq!(count(&db, team_total).await?, count(&db, team_tasks).await?);
    let created = "SELECT sum(created)::bigint AS n FROM user_activity";
    assert_eq!(count(&db, created).await?, 2000);
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        printed.contains("seeded 40 users, 5 teams, 2000 tasks"),
        "{printed}"
    );
    Ok(())
}
