//! The migrations apply, revert and re-apply cleanly, and `schema.rs` matches what they build;
//! everything lives in a schema of its own, nothing in `public`, and a database that an older
//! version left in `public` is moved there with its data.

use std::collections::BTreeSet;

use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use taskpulse_actors::database::{in_schema, revert_all_migrations, run_migrations};
use taskpulse_actors::{
    DisplayName, Email, Engine, EngineConfig, NewAccount, NewTask, Scope, TaskPatch, TaskStatus,
};
use taskpulse_testdb::TestDb;

#[derive(QueryableByName, PartialEq, Eq, PartialOrd, Ord, Debug)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

async fn columns(url: &str) -> anyhow::Result<BTreeSet<(String, String)>> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    let rows: Vec<Column> = diesel::sql_query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name \
         FROM information_schema.columns \
         WHERE table_schema = 'taskpulse' AND table_name <> '__diesel_schema_migrations'",
    )
    .load(&mut conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|c| (c.table_name, c.column_name))
        .collect())
}

/// Tables and columns as `actors/src/store/schema.rs` declares them.
fn declared_columns() -> BTreeSet<(String, String)> {
    let schema = include_str!("../../src/store/schema.rs");
    let mut declared = BTreeSet::new();
    let mut table = None;
    for line in schema.lines().map(str::trim) {
        if let Some((name, _)) = line.split_once(" (").filter(|_| line.ends_with(") {")) {
            table = Some(name.to_owned());
        } else if line == "}" {
            table = None;
        } else if let (Some(table), Some((column, _))) = (&table, line.split_once(" -> ")) {
            declared.insert((table.clone(), column.to_owned()));
        }
    }
    declared
}

#[tokio::test]
async fn migrations_apply_revert_and_reapply() -> anyhow::Result<()> {
    let db = TestDb::empty().await?;

    let applied = run_migrations(&db.url).await?;
    let first = columns(&db.url).await?;
    let reverted = revert_all_migrations(&db.url).await?;
    let after_revert = columns(&db.url).await?;
    let reapplied = run_migrations(&db.url).await?;
    let second = columns(&db.url).await?;

    assert!(
        applied >= 5,
        "expected the domain migrations, got {applied}"
    );
    assert_eq!(reverted, applied);
    assert!(after_revert.is_empty(), "left behind: {after_revert:?}");
    assert_eq!(reapplied, applied);
    assert_eq!(first, second);
    Ok(())
}

#[tokio::test]
async fn schema_rs_matches_the_migrated_database() -> anyhow::Result<()> {
    let db = TestDb::migrated().await?;

    let actual = columns(&db.url).await?;

    assert_eq!(declared_columns(), actual);
    Ok(())
}

#[tokio::test]
async fn running_migrations_twice_applies_nothing_the_second_time() -> anyhow::Result<()> {
    let db = TestDb::migrated().await?;

    let applied = run_migrations(&db.url).await?;

    assert_eq!(applied, 0);
    Ok(())
}

#[derive(QueryableByName, Debug)]
struct Object {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
}

/// The relations, types and functions a schema holds.
async fn objects_in(url: &str, schema: &str) -> anyhow::Result<Vec<String>> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    let rows: Vec<Object> = diesel::sql_query(
        "SELECT 'relation' AS kind, c.relname::text AS name FROM pg_class c \
           WHERE c.relnamespace = to_regnamespace($1) \
         UNION ALL SELECT 'type', t.typname::text FROM pg_type t \
           WHERE t.typnamespace = to_regnamespace($1) AND t.typrelid = 0 AND t.typelem = 0 \
         UNION ALL SELECT 'function', p.proname::text FROM pg_proc p \
           WHERE p.pronamespace = to_regnamespace($1) \
         ORDER BY 1, 2",
    )
    .bind::<Text, _>(schema)
    .load(&mut conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|o| format!("{} {}", o.kind, o.name))
        .collect())
}

#[tokio::test]
async fn everything_lives_in_the_taskpulse_schema_and_nothing_in_public() -> anyhow::Result<()> {
    let db = TestDb::empty().await?;

    run_migrations(&db.url).await?;
    let in_public = objects_in(&db.url, "public").await?;
    let in_taskpulse = objects_in(&db.url, "taskpulse").await?;

    assert_eq!(
        in_public,
        Vec::<String>::new(),
        "nothing of taskpulse in public"
    );
    for expected in [
        "relation tasks",
        "relation users",
        "relation aggregate_changes",
        "relation __diesel_schema_migrations",
        "type counter",
    ] {
        assert!(
            in_taskpulse.contains(&expected.to_owned()),
            "{expected}: {in_taskpulse:?}"
        );
    }
    Ok(())
}

async fn account(engine: &Engine, name: &str) -> anyhow::Result<taskpulse_actors::UserId> {
    let account = NewAccount {
        email: Email::parse(&format!("{name}@example.com")).map_err(anyhow::Error::msg)?,
        display_name: DisplayName::parse(name).map_err(anyhow::Error::msg)?,
        password_hash: "!".to_owned(),
    };
    Ok(engine.create_account(account).await?.id)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_an_older_version_left_in_public_moves_with_its_data() -> anyhow::Result<()> {
    let db = TestDb::empty().await?;
    // An older version: every table in `public`, with data and a host application's own
    // diesel bookkeeping beside.
    let public = in_schema(&db.url, "public")?;
    run_migrations(&public).await?;
    let older = Engine::start(&public, EngineConfig::default()).await?;
    let ann = account(&older, "ann").await?;
    let task = older
        .create_task(
            ann,
            NewTask {
                title: "made before the move".to_owned(),
                ..NewTask::default()
            },
        )
        .await?;
    older.shutdown().await;
    drop(older);
    let mut conn = AsyncPgConnection::establish(&public).await?;
    // The tables made since the public days were never in `public`: an older version lacks them.
    for sql in [
        "DROP TABLE personal_access_tokens",
        "DROP TABLE webhook_deliveries",
        "DROP TABLE notifications",
        "DROP TABLE outbox",
        "DROP TABLE webhooks",
        "ALTER TABLE users DROP COLUMN time_zone",
        "ALTER TABLE users DROP COLUMN email_notifications",
        "DELETE FROM __diesel_schema_migrations WHERE version >= '20261207000001'",
    ] {
        diesel::sql_query(sql).execute(&mut conn).await?;
    }
    diesel::sql_query("CREATE TABLE host_orders (id int PRIMARY KEY)")
        .execute(&mut conn)
        .await?;
    diesel::sql_query("INSERT INTO __diesel_schema_migrations (version) VALUES ('20200101000000')")
        .execute(&mut conn)
        .await?;

    let applied = run_migrations(&db.url).await?;
    let engine = Engine::start(&db.url, EngineConfig::default()).await?;
    let stats = engine.statistics(ann, Scope::User(ann)).await?;
    let updated = engine
        .update_task(
            ann,
            task.id,
            TaskPatch {
                status: Some(TaskStatus::Completed),
                ..TaskPatch::default()
            },
            None,
        )
        .await?;
    let report = engine.check(Default::default()).await?;
    let in_public = objects_in(&db.url, "public").await?;

    assert_eq!(
        applied, 4,
        "only what came after the public days is applied, in the schema"
    );
    assert_eq!((stats.total, stats.pending), (1, 1), "the data moved");
    assert_eq!(updated.status, TaskStatus::Completed);
    assert!(report.is_consistent(), "{:?}", report.differences);
    assert_eq!(
        in_public,
        [
            "relation __diesel_schema_migrations",
            "relation __diesel_schema_migrations_pkey",
            "relation host_orders",
            "relation host_orders_pkey",
        ],
        "only the host's own tables stay in public"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configured_schema_keeps_a_second_taskpulse_apart_in_one_database() -> anyhow::Result<()>
{
    let db = TestDb::migrated().await?;
    let other = in_schema(&db.url, "tasks_b")?;

    run_migrations(&other).await?;
    let a = Engine::start(&db.url, EngineConfig::default()).await?;
    let b = Engine::start(&other, EngineConfig::default()).await?;
    let ann_a = account(&a, "ann").await?;
    let ann_b = account(&b, "ann").await?;
    a.create_task(
        ann_a,
        NewTask {
            title: "only in a".to_owned(),
            ..NewTask::default()
        },
    )
    .await?;
    let in_b = b.statistics(ann_b, Scope::User(ann_b)).await?;

    assert_eq!(in_b.total, 0, "b's tables are its own");
    assert!(
        objects_in(&db.url, "tasks_b")
            .await?
            .contains(&"relation tasks".to_owned())
    );
    Ok(())
}
