//! Several engines (nodes) on one database: every commit reaches every node's live aggregates
//! and subscribers in version order, lost signals and dropped listeners are healed by the
//! periodic check, and revocations cross nodes; `cluster/change_log.rs`: resume from the log on
//! any node, and its retention; `cluster/memberships.rs`: the memberships a node remembers.

mod change_log;
mod memberships;

use std::time::Duration;

use crate::common::{TestEngine, eventually};
use diesel_async::RunQueryDsl;
use taskpulse_actors::{
    ClusterConfig, Engine, EngineConfig, NewTask, Role, Scope, SignalMode, Subscription,
    SubscriptionEvent, TaskPatch, TaskStatus, UserId, UserRef,
};

const SOON: Duration = Duration::from_secs(5);

fn node(config: impl FnOnce(&mut ClusterConfig)) -> EngineConfig {
    let mut engine = EngineConfig::default();
    config(&mut engine.cluster);
    engine
}

fn new_task(title: &str) -> NewTask {
    NewTask {
        title: title.to_owned(),
        ..NewTask::default()
    }
}

/// Two nodes with one id: each ignores the other's signals as its own, so every signal is
/// lost and only b's periodic check (every `heal_every`) can bring it up to date.
async fn twins(heal_every: Duration) -> anyhow::Result<(TestEngine, Engine)> {
    let a = TestEngine::with_config(node(|c| c.node_id = "twin".to_owned())).await?;
    let b = a
        .peer(node(|c| {
            c.node_id = "twin".to_owned();
            c.heal_every = heal_every;
        }))
        .await?;
    Ok((a, b))
}

/// The next event, or a failure after `SOON`.
async fn next(subscription: &mut Subscription) -> anyhow::Result<SubscriptionEvent> {
    tokio::time::timeout(SOON, subscription.next())
        .await?
        .ok_or_else(|| anyhow::anyhow!("the subscription ended"))
}

async fn version_on(engine: &Engine, scope: Scope) -> i64 {
    engine.snapshot(scope).await.map_or(-1, |s| s.version)
}

/// The version of the scope's row: the truth both nodes must reach.
async fn row_version(t: &TestEngine, scope: Scope) -> anyhow::Result<i64> {
    let query = match scope {
        Scope::User(user) => format!(
            "(SELECT version FROM user_stats WHERE user_id = '{}')",
            user.0
        ),
        Scope::Team(team) => format!(
            "(SELECT version FROM team_stats WHERE team_id = '{}')",
            team.0
        ),
    };
    let mut conn = t.conn().await?;
    Ok(
        diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&query))
            .get_result(&mut conn)
            .await?,
    )
}

/// Waits until `engine` holds `scope` at `version`.
async fn reaches(engine: &Engine, scope: Scope, version: i64) -> bool {
    eventually(SOON, || async {
        version_on(engine, scope).await == version
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_commit_on_one_node_reaches_the_other_nodes_reads_and_subscribers() -> anyhow::Result<()>
{
    commit_reaches_the_other_node(SignalMode::AfterCommit).await
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_signal_in_the_writing_transaction_a_commit_reaches_the_other_node()
-> anyhow::Result<()> {
    commit_reaches_the_other_node(SignalMode::InTransaction).await
}

/// A creation (one statement) and an update (a read and one statement) on node a reach node
/// b's reads and subscribers, with the signal sent `mode`, carried whole by the signal.
async fn commit_reaches_the_other_node(mode: SignalMode) -> anyhow::Result<()> {
    let a = TestEngine::with_config(node(|c| c.signal = mode)).await?;
    // b's periodic check is kept out of the way: what b hears comes by the signal alone.
    let b = a
        .peer(node(|c| {
            c.signal = mode;
            c.heal_every = Duration::from_secs(3600);
        }))
        .await?;
    let ann = a.user("ann").await?;
    let scope = Scope::User(ann);
    let mut on_b = b.subscribe(ann, scope, None).await?;
    let SubscriptionEvent::Snapshot(first) = next(&mut on_b).await? else {
        anyhow::bail!("a subscription starts with a snapshot");
    };

    let task = a.engine.create_task(ann, new_task("one")).await?;
    a.engine
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

    for expected in first.version + 1..=first.version + 2 {
        match next(&mut on_b).await? {
            SubscriptionEvent::Delta { snapshot, .. } => assert_eq!(snapshot.version, expected),
            other => anyhow::bail!("expected delta {expected}, got {other:?}"),
        }
    }
    let on_a = a.engine.statistics(ann, scope).await?;
    let on_b = b.statistics(ann, scope).await?;
    assert_eq!(on_a, on_b);
    assert_eq!((on_b.total, on_b.completed), (1, 1));
    let heard = b.metrics().cluster;
    assert!(heard.changes_received >= 2);
    // Small changes travel whole in their signal: nothing is read from the change log.
    assert_eq!(heard.changes_read_from_log, 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_writers_on_two_nodes_agree_with_the_truth() -> anyhow::Result<()> {
    let a = TestEngine::start().await?;
    let b = a.peer(EngineConfig::default()).await?;
    let owner = a.user("owner").await?;
    let team = a.engine.create_team(owner, "shared").await?.id;
    let mut writers = vec![owner];
    for n in 0..3 {
        let member = a.user(&format!("member{n}")).await?;
        a.engine
            .add_member(owner, team, UserRef::Id(member), Role::Member)
            .await?;
        writers.push(member);
    }
    let scope = Scope::Team(team);
    let mut watchers = vec![
        a.engine.subscribe(owner, scope, None).await?,
        b.subscribe(owner, scope, None).await?,
    ];

    let mut handles = Vec::new();
    for (n, writer) in writers.iter().copied().enumerate() {
        let engine = if n % 2 == 0 {
            a.engine.clone()
        } else {
            b.clone()
        };
        handles.push(tokio::spawn(async move {
            for i in 0..15 {
                let task = engine
                    .create_task(
                        writer,
                        NewTask {
                            team_id: Some(team),
                            ..new_task(&format!("t{i}"))
                        },
                    )
                    .await?;
                if i % 3 == 0 {
                    engine.delete_task(writer, task.id).await?;
                }
            }
            anyhow::Ok(())
        }));
    }
    for handle in handles {
        handle.await??;
    }

    let head = row_version(&a, scope).await?;
    assert!(
        reaches(&a.engine, scope, head).await,
        "node a never reached version {head}"
    );
    assert!(
        reaches(&b, scope, head).await,
        "node b never reached version {head}"
    );
    assert_eq!(
        a.engine.statistics(owner, scope).await?,
        b.statistics(owner, scope).await?
    );
    // Every watcher, on either node, saw consecutive versions up to the head.
    for watcher in &mut watchers {
        let mut last = None;
        while last != Some(head) {
            let version = match next(watcher).await? {
                SubscriptionEvent::Snapshot(s) => s.version,
                SubscriptionEvent::Delta { snapshot, .. } => {
                    if let Some(last) = last {
                        assert_eq!(snapshot.version, last + 1, "a gap in versions");
                    }
                    snapshot.version
                }
                SubscriptionEvent::Resumed { version } => version,
                SubscriptionEvent::Revoked => anyhow::bail!("revoked"),
            };
            last = Some(version);
        }
    }
    a.assert_consistent().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_signal_is_healed_by_the_periodic_check() -> anyhow::Result<()> {
    let (a, b) = twins(Duration::from_millis(200)).await?;
    let ann = a.user("ann").await?;
    let scope = Scope::User(ann);
    let before = version_on(&b, scope).await;

    a.engine.create_task(ann, new_task("unheard")).await?;

    assert!(reaches(&b, scope, before + 1).await);
    assert_eq!(b.statistics(ann, scope).await?.total, 1);
    assert!(b.metrics().cluster.healed >= 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_listener_connection_is_reconnected_and_nothing_is_missed() -> anyhow::Result<()>
{
    let a = TestEngine::start().await?;
    let b = a.peer(EngineConfig::default()).await?;
    let ann = a.user("ann").await?;
    let scope = Scope::User(ann);
    assert!(eventually(SOON, || async { b.cluster_link().listening }).await);
    let before = version_on(&b, scope).await;

    // Ends every listener's connection on this database (both nodes' and only theirs).
    let mut conn = a.conn().await?;
    diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .execute(&mut conn)
    .await?;
    drop(conn);
    a.engine.create_task(ann, new_task("while deaf")).await?;

    assert!(reaches(&b, scope, before + 1).await);
    assert!(
        eventually(SOON, || async {
            b.metrics().cluster.listener_connects >= 2 && b.cluster_link().listening
        })
        .await,
        "the listener did not reconnect"
    );
    a.engine.create_task(ann, new_task("heard again")).await?;
    assert!(reaches(&b, scope, before + 2).await);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_a_member_on_one_node_revokes_their_subscription_on_another() -> anyhow::Result<()>
{
    let a = TestEngine::start().await?;
    let b = a.peer(EngineConfig::default()).await?;
    let (owner, bob) = (a.user("owner").await?, a.user("bob").await?);
    let team = a.engine.create_team(owner, "crew").await?.id;
    a.engine
        .add_member(owner, team, UserRef::Id(bob), Role::Member)
        .await?;
    let mut bobs = b.subscribe(bob, Scope::Team(team), None).await?;
    let mut owners = b.subscribe(owner, Scope::Team(team), None).await?;
    next(&mut bobs).await?;
    next(&mut owners).await?;

    a.engine.remove_member(owner, team, bob).await?;

    assert!(matches!(next(&mut bobs).await?, SubscriptionEvent::Revoked));
    a.engine.delete_team(owner, team).await?;
    assert!(matches!(
        next(&mut owners).await?,
        SubscriptionEvent::Revoked
    ));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_revocation_is_healed_by_the_periodic_check() -> anyhow::Result<()> {
    let (a, b) = twins(Duration::from_millis(200)).await?;
    let (owner, bob) = (a.user("owner").await?, a.user("bob").await?);
    let team = a.engine.create_team(owner, "crew").await?.id;
    a.engine
        .add_member(owner, team, UserRef::Id(bob), Role::Viewer)
        .await?;
    let mut bobs = b.subscribe(bob, Scope::Team(team), None).await?;
    next(&mut bobs).await?;

    a.engine.remove_member(owner, team, bob).await?;

    assert!(matches!(next(&mut bobs).await?, SubscriptionEvent::Revoked));
    Ok(())
}
