//! `taskpulse check` passes on consistent data and lists every difference otherwise.

use crate::common::BINARY;
use diesel_async::RunQueryDsl;
use taskpulse_testdb::TestDb;
use tokio::process::Command;

async fn run(args: &[&str], db: &TestDb) -> anyhow::Result<(bool, String)> {
    let output = Command::new(BINARY)
        .args(args)
        .args(["--database-url", &db.url])
        .env("RUST_LOG", "warn")
        .output()
        .await?;
    Ok((
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    ))
}

#[tokio::test]
async fn check_passes_on_seeded_data_and_reports_a_tampered_row() -> anyhow::Result<()> {
    let db = TestDb::migrated().await?;
    let (seeded, _) = run(
        &["seed", "--users", "20", "--teams", "3", "--tasks", "500"],
        &db,
    )
    .await?;
    assert!(seeded);

    let (clean_ok, clean) = run(&["check", "--all"], &db).await?;
    let (sample_ok, _) = run(&["check", "--sample", "5"], &db).await?;
    let mut conn = db.connect().await?;
    diesel::sql_query("UPDATE user_stats SET pending = pending + 1 WHERE user_id = (SELECT min(user_id::text)::uuid FROM user_stats)")
        .execute(&mut conn)
        .await?;
    let (tampered_ok, tampered) = run(&["check", "--all"], &db).await?;

    assert!(clean_ok, "{clean}");
    assert!(
        clean.contains("checked 20 users and 3 teams: consistent"),
        "{clean}"
    );
    assert!(sample_ok);
    assert!(!tampered_ok);
    assert!(tampered.contains("row (pending"), "{tampered}");
    assert!(tampered.contains("differences"), "{tampered}");
    Ok(())
}

#[tokio::test]
async fn check_needs_all_or_sample() -> anyhow::Result<()> {
    let output = Command::new(BINARY).arg("check").output().await?;

    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--all"));
    Ok(())
}
