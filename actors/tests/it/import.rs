//! Imports over the engine: years of history in one command leave every aggregate (rows and live
//! actors) equal to a recount, moved by one version, and what touches all of it afterwards (the
//! team's deletion) still works.

use chrono::{Duration, SubsecRound, Utc};
use taskpulse_actors::{Error, ImportLine, ImportedTask, Scope, TaskQuery};

use crate::common::TestEngine;

/// `days` tasks, the n-th created n + 1 days ago, every other one completed the next day.
fn one_a_day(days: i64) -> Vec<ImportLine> {
    let now = Utc::now().trunc_subsecs(0);
    (0..days)
        .map(|n| {
            let created = now - Duration::days(n + 1);
            let done = n % 2 == 0;
            Ok(ImportedTask {
                line: n as u64 + 2,
                title: Some(format!("day {n}")),
                status: done.then(|| "completed".to_owned()),
                created_at: Some(created.to_rfc3339()),
                completed_at: done.then(|| (created + Duration::hours(20)).to_rfc3339()),
                ..ImportedTask::default()
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn years_of_history_in_one_import_keep_every_aggregate_exact() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("ann").await?;
    let team = t.engine.create_team(ann, "Archive").await?.id;
    // Both aggregates live, as when their dashboards are open.
    let user_before = t.engine.statistics(ann, Scope::User(ann)).await?;
    let team_before = t.engine.statistics(ann, Scope::Team(team)).await?;

    // Eleven years, a task a day: one command, thousands of day rows per aggregate.
    let imported = t
        .engine
        .import_tasks(ann, Some(team), one_a_day(4_000))
        .await?;

    assert_eq!(imported, 4_000);
    let user_after = t.engine.statistics(ann, Scope::User(ann)).await?;
    let team_after = t.engine.statistics(ann, Scope::Team(team)).await?;
    assert_eq!(user_after.version, user_before.version + 1);
    assert_eq!(team_after.version, team_before.version + 1);
    assert_eq!((team_after.total, team_after.completed), (4_000, 2_000));
    t.assert_consistent().await?;

    // The team's deletion takes every one of those days back out of Ann's aggregate.
    t.engine.delete_team(ann, team).await?;
    let emptied = t.engine.statistics(ann, Scope::User(ann)).await?;
    assert_eq!(emptied.total, 0);
    t.assert_consistent().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_import_writes_nothing_and_moves_no_version() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("ann").await?;
    let before = t.engine.statistics(ann, Scope::User(ann)).await?;
    let mut lines = one_a_day(50);
    lines.push(Ok(ImportedTask {
        line: 52,
        title: Some("from the future".to_owned()),
        created_at: Some((Utc::now() + Duration::days(2)).to_rfc3339()),
        ..ImportedTask::default()
    }));

    let refused = t.engine.import_tasks(ann, None, lines).await;

    let Err(Error::Validation(errors)) = refused else {
        panic!("not refused: {refused:?}");
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0].line, errors[0].field.as_str()),
        (Some(52), "created_at")
    );
    let after = t.engine.statistics(ann, Scope::User(ann)).await?;
    assert_eq!((after.version, after.total), (before.version, 0));
    let listed = t.engine.list_tasks(ann, TaskQuery::default()).await?;
    assert!(listed.items.is_empty());
    t.assert_consistent().await
}
