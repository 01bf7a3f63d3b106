//! The change log as history: resume from it on a node that never saw the changes, its
//! retention (by versions and by age), and a single node that writes none.

use super::*;

/// The versions of `user`'s aggregate the change log holds now, in order.
async fn logged_versions(t: &TestEngine, user: UserId) -> anyhow::Result<Vec<i64>> {
    #[derive(diesel::QueryableByName)]
    struct Logged {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        version: i64,
    }
    let mut conn = t.conn().await?;
    let rows: Vec<Logged> = diesel::sql_query(
        "SELECT version FROM aggregate_changes \
         WHERE scope_kind = 'user' AND scope_id = $1 ORDER BY version",
    )
    .bind::<diesel::sql_types::Uuid, _>(user.0)
    .load(&mut conn)
    .await?;
    Ok(rows.into_iter().map(|row| row.version).collect())
}

/// Rows in the change log now.
async fn logged_changes(t: &TestEngine) -> anyhow::Result<i64> {
    let mut conn = t.conn().await?;
    Ok(
        diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT count(*) FROM aggregate_changes)",
        ))
        .get_result(&mut conn)
        .await?,
    )
}

/// An engine where Ann created `tasks` tasks: her aggregate's version before and after.
async fn ann_with_changes(tasks: usize) -> anyhow::Result<(TestEngine, UserId, i64, i64)> {
    let a = TestEngine::start().await?;
    let ann = a.user("ann").await?;
    let since = version_on(&a.engine, Scope::User(ann)).await;
    for i in 0..tasks {
        a.engine
            .create_task(ann, new_task(&format!("t{i}")))
            .await?;
    }
    let head = version_on(&a.engine, Scope::User(ann)).await;
    Ok((a, ann, since, head))
}

#[tokio::test(flavor = "multi_thread")]
async fn resume_replays_from_the_change_log_on_a_node_that_never_saw_the_changes()
-> anyhow::Result<()> {
    let (a, ann, since, head) = ann_with_changes(100).await?;
    let scope = Scope::User(ann);
    let expected = a.engine.snapshot(scope).await?;
    a.engine.shutdown().await;

    // A node started after every change, with nothing of them in memory.
    let fresh = a.peer(EngineConfig::default()).await?;
    let mut resumed = fresh.subscribe(ann, scope, Some(since)).await?;

    for version in since + 1..=head {
        match next(&mut resumed).await? {
            SubscriptionEvent::Delta { snapshot, .. } => {
                assert_eq!(snapshot.version, version);
                assert_eq!(snapshot.aggregate.counts.total(), version - since);
            }
            other => anyhow::bail!("expected delta {version}, got {other:?}"),
        }
    }
    assert_eq!(fresh.snapshot(scope).await?.aggregate, expected.aggregate);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_resuming_together_read_the_log_once_and_later_ones_replay_from_memory()
-> anyhow::Result<()> {
    let (a, ann, since, head) = ann_with_changes(20).await?;
    let scope = Scope::User(ann);
    // A node that never saw the changes, as a survivor is to a dead node's clients.
    let fresh = a.peer(EngineConfig::default()).await?;
    let reads = || fresh.metrics().cluster.resume_log_reads;

    let together = (0..8).map(|_| fresh.subscribe(ann, scope, Some(since)));
    let mut resumed = futures_util::future::try_join_all(together).await?;
    for subscription in &mut resumed {
        for version in since + 1..=head {
            match next(subscription).await? {
                SubscriptionEvent::Delta { snapshot, .. } => assert_eq!(snapshot.version, version),
                other => anyhow::bail!("expected delta {version}, got {other:?}"),
            }
        }
        assert!(
            matches!(next(subscription).await?, SubscriptionEvent::Resumed { version } if version == head)
        );
    }
    assert_eq!(
        reads(),
        1,
        "eight sessions resuming together: one read of the log"
    );

    // What was read is the aggregate's memory now.
    let mut later = fresh.subscribe(ann, scope, Some(since + 5)).await?;
    match next(&mut later).await? {
        SubscriptionEvent::Delta { snapshot, .. } => assert_eq!(snapshot.version, since + 6),
        other => anyhow::bail!("expected delta {}, got {other:?}", since + 6),
    }
    assert_eq!(reads(), 1, "a later resume replays from memory");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn resume_beyond_the_logs_retention_gets_a_snapshot() -> anyhow::Result<()> {
    let a = TestEngine::with_config(node(|c| {
        c.log_keep_versions = 3;
        c.prune_every = Duration::from_millis(100);
    }))
    .await?;
    let ann = a.user("ann").await?;
    let scope = Scope::User(ann);
    let since = version_on(&a.engine, scope).await;
    for i in 0..10 {
        a.engine
            .create_task(ann, new_task(&format!("t{i}")))
            .await?;
    }
    assert!(
        eventually(SOON, || async {
            a.engine.metrics().cluster.log_pruned >= 7
        })
        .await,
        "the log was not pruned"
    );
    // The last three versions survive the versions that went.
    assert_eq!(
        logged_versions(&a, ann).await?,
        [since + 8, since + 9, since + 10]
    );
    let fresh = a.peer(EngineConfig::default()).await?;

    let mut far_behind = fresh.subscribe(ann, scope, Some(since)).await?;
    let mut just_behind = fresh
        .subscribe(ann, scope, Some(version_on(&a.engine, scope).await - 2))
        .await?;

    assert!(matches!(
        next(&mut far_behind).await?,
        SubscriptionEvent::Snapshot(s) if s.version == since + 10
    ));
    assert!(matches!(
        next(&mut just_behind).await?,
        SubscriptionEvent::Delta { snapshot, .. } if snapshot.version == since + 9
    ));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_single_node_engine_writes_no_change_log() -> anyhow::Result<()> {
    let t = TestEngine::with_config(node(|c| c.enabled = false)).await?;
    let ann: UserId = t.user("ann").await?;
    t.engine.create_task(ann, new_task("alone")).await?;

    let logged = logged_changes(&t).await?;

    assert_eq!(logged, 0);
    assert!(!t.engine.cluster_link().enabled);
    t.assert_consistent().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_change_log_keeps_nothing_older_than_its_window() -> anyhow::Result<()> {
    let t = TestEngine::with_config(node(|c| {
        c.log_keep_for = Duration::from_secs(60);
        c.prune_every = Duration::from_millis(100);
    }))
    .await?;
    let ann = t.user("ann").await?;
    let since = version_on(&t.engine, Scope::User(ann)).await;
    for i in 0..5 {
        t.engine
            .create_task(ann, new_task(&format!("t{i}")))
            .await?;
    }
    // The first three changes made two minutes ago, as far as the log can tell; the last two
    // are in it already, so the pruning that takes the old ones away sees them too.
    let mut conn = t.conn().await?;
    diesel::sql_query(
        "UPDATE aggregate_changes SET committed_at = committed_at - interval '2 minutes' \
         WHERE scope_kind = 'user' AND scope_id = $1 AND version <= $2",
    )
    .bind::<diesel::sql_types::Uuid, _>(ann.0)
    .bind::<diesel::sql_types::BigInt, _>(since + 3)
    .execute(&mut conn)
    .await?;

    let pruned = eventually(SOON, || async {
        logged_versions(&t, ann)
            .await
            .is_ok_and(|versions| versions.iter().all(|&version| version > since + 3))
    })
    .await;

    assert!(pruned, "changes older than the window were kept");
    assert_eq!(
        logged_versions(&t, ann).await?,
        [since + 4, since + 5],
        "the changes within the window stay"
    );
    assert!(t.engine.metrics().cluster.log_pruned >= 3);
    Ok(())
}
