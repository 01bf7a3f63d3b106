//! The migrations apply, revert and re-apply cleanly, and `schema.rs` matches what they build.

use std::collections::BTreeSet;

use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use taskpulse_actors::database::{revert_all_migrations, run_migrations};
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
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
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
