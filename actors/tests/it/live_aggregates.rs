//! Supervision, passivation and subscriptions: crash recovery, resume with `since_version`,
//! slow subscribers, revocation.

use std::time::Duration;

use crate::common::{TestEngine, eventually};
use taskpulse_actors::{
    ClusterConfig, EngineConfig, NewTask, Role, Scope, SubscriptionEvent, UserRef,
};

fn task(title: &str) -> NewTask {
    NewTask {
        title: title.to_owned(),
        ..NewTask::default()
    }
}

async fn next_event(
    subscription: &mut taskpulse_actors::Subscription,
) -> anyhow::Result<SubscriptionEvent> {
    tokio::time::timeout(Duration::from_secs(5), subscription.next())
        .await?
        .ok_or_else(|| anyhow::anyhow!("subscription ended"))
}

fn version_of(event: &SubscriptionEvent) -> Option<i64> {
    match event {
        SubscriptionEvent::Snapshot(s) => Some(s.version),
        SubscriptionEvent::Delta { snapshot, .. } => Some(snapshot.version),
        SubscriptionEvent::Resumed { version } => Some(*version),
        SubscriptionEvent::Revoked => None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn subscribe_answers_a_snapshot_then_consecutive_deltas() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("ann").await?;
    let mut subscription = t.engine.subscribe(ann, Scope::User(ann), None).await?;

    let first = next_event(&mut subscription).await?;
    t.engine.create_task(ann, task("a")).await?;
    t.engine.create_task(ann, task("b")).await?;
    let second = next_event(&mut subscription).await?;
    let third = next_event(&mut subscription).await?;

    assert!(matches!(&first, SubscriptionEvent::Snapshot(s) if s.version == 0));
    assert!(
        matches!(&second, SubscriptionEvent::Delta { delta, snapshot } if snapshot.version == 1 && delta.counts.pending == 1)
    );
    assert_eq!(version_of(&third), Some(2));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn resuming_replays_held_deltas_and_falls_back_to_a_snapshot() -> anyhow::Result<()> {
    // Memory alone: with no change log to read, what the actor holds is all it can replay.
    let config = EngineConfig {
        history_len: 3,
        cluster: ClusterConfig {
            enabled: false,
            ..ClusterConfig::default()
        },
        ..EngineConfig::default()
    };
    let t = TestEngine::with_config(config).await?;
    let ann = t.user("ann").await?;
    t.engine.snapshot(Scope::User(ann)).await?;
    for n in 0..5 {
        t.engine.create_task(ann, task(&format!("t{n}"))).await?;
    }

    let mut recent = t.engine.subscribe(ann, Scope::User(ann), Some(3)).await?;
    let replayed = [
        next_event(&mut recent).await?,
        next_event(&mut recent).await?,
    ];
    let mut old = t.engine.subscribe(ann, Scope::User(ann), Some(1)).await?;
    let fallback = next_event(&mut old).await?;

    assert!(
        matches!(&replayed[0], SubscriptionEvent::Delta { snapshot, .. } if snapshot.version == 4)
    );
    assert!(
        matches!(&replayed[1], SubscriptionEvent::Delta { snapshot, .. } if snapshot.version == 5)
    );
    assert!(matches!(&fallback, SubscriptionEvent::Snapshot(s) if s.version == 5));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crashed_aggregate_restarts_from_the_database_and_resyncs_its_subscribers()
-> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("ann").await?;
    t.engine.create_task(ann, task("before")).await?;
    let mut subscription = t.engine.subscribe(ann, Scope::User(ann), None).await?;
    let initial = next_event(&mut subscription).await?;

    t.engine.crash_aggregate(Scope::User(ann)).await?;
    let resync = next_event(&mut subscription).await?;
    t.engine.create_task(ann, task("after")).await?;
    let delta = next_event(&mut subscription).await?;
    let stats = t.engine.statistics(ann, Scope::User(ann)).await?;

    assert_eq!(version_of(&initial), Some(1));
    assert!(
        matches!(&resync, SubscriptionEvent::Snapshot(s) if s.version == 1),
        "{resync:?}"
    );
    assert_eq!(version_of(&delta), Some(2));
    assert_eq!((stats.total, stats.version), (2, 2));
    t.assert_consistent().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subscriber_that_stops_reading_gets_one_fresh_snapshot_and_others_miss_nothing()
-> anyhow::Result<()> {
    let config = EngineConfig {
        subscriber_queue: 4,
        ..EngineConfig::default()
    };
    let t = TestEngine::with_config(config).await?;
    let ann = t.user("ann").await?;
    let mut slow = t.engine.subscribe(ann, Scope::User(ann), None).await?;
    let mut fast = t.engine.subscribe(ann, Scope::User(ann), None).await?;
    next_event(&mut slow).await?;
    next_event(&mut fast).await?;

    let mut fast_versions = Vec::new();
    for n in 0..20 {
        t.engine.create_task(ann, task(&format!("t{n}"))).await?;
        fast_versions.push(version_of(&next_event(&mut fast).await?));
    }
    let caught_up = next_event(&mut slow).await?;

    assert_eq!(fast_versions, (1..=20).map(Some).collect::<Vec<_>>());
    assert!(
        matches!(&caught_up, SubscriptionEvent::Snapshot(s) if s.version == 20),
        "{caught_up:?}"
    );
    // Counted once for the one collapse (operators see slow clients in /metrics).
    assert_eq!(t.engine.metrics().subscribers_collapsed, 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_a_member_revokes_their_team_subscription() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let (owner, member) = (t.user("o").await?, t.user("m").await?);
    let team = t.engine.create_team(owner, "T").await?.id;
    t.engine
        .add_member(owner, team, UserRef::Id(member), Role::Member)
        .await?;
    let mut subscription = t.engine.subscribe(member, Scope::Team(team), None).await?;
    next_event(&mut subscription).await?;

    t.engine.remove_member(owner, team, member).await?;
    let revoked = next_event(&mut subscription).await?;
    let again = t.engine.subscribe(member, Scope::Team(team), None).await;

    assert!(matches!(revoked, SubscriptionEvent::Revoked));
    assert!(
        tokio::time::timeout(Duration::from_secs(1), subscription.next())
            .await?
            .is_none()
    );
    assert!(again.is_err());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_aggregates_are_passivated_and_come_back_on_use() -> anyhow::Result<()> {
    let config = EngineConfig {
        idle_after: Duration::from_millis(200),
        ..EngineConfig::default()
    };
    let t = TestEngine::with_config(config).await?;
    let ann = t.user("ann").await?;
    t.engine.create_task(ann, task("a")).await?;
    t.engine.statistics(ann, Scope::User(ann)).await?;
    let live_before = t.engine.live_aggregates();

    let passivated = eventually(Duration::from_secs(5), || async {
        t.engine.live_aggregates() == 0
    })
    .await;
    let stats = t.engine.statistics(ann, Scope::User(ann)).await?;

    assert_eq!(live_before, 1);
    assert!(passivated, "the idle aggregate was never stopped");
    assert_eq!((stats.total, stats.version), (1, 1));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_version_gap_that_is_not_filled_makes_the_aggregate_reread_its_row() -> anyhow::Result<()>
{
    // Without a change log (the cluster tests cover the gap filled from the log), the row is
    // the only place to learn what a gap hides.
    let config = EngineConfig {
        gap_timeout: Duration::from_millis(50),
        cluster: ClusterConfig {
            enabled: false,
            ..ClusterConfig::default()
        },
        ..EngineConfig::default()
    };
    let t = TestEngine::with_config(config.clone()).await?;
    let ann = t.user("ann").await?;
    let mut subscription = t.engine.subscribe(ann, Scope::User(ann), None).await?;
    next_event(&mut subscription).await?;
    // Another node writes twice; this node hears only of the second change.
    let other_node = taskpulse_actors::Engine::start(&t.db.url, config).await?;
    other_node.create_task(ann, task("a")).await?;
    other_node.create_task(ann, task("b")).await?;
    let second = taskpulse_actors::Published {
        scope: Scope::User(ann),
        version: 2,
        as_of: chrono::Utc::now(),
        delta: std::sync::Arc::new(taskpulse_actors::Delta::default()),
    };

    t.engine.deliver(vec![second]).await;
    let resync = next_event(&mut subscription).await?;
    let stats = t.engine.statistics(ann, Scope::User(ann)).await?;

    assert!(
        matches!(&resync, SubscriptionEvent::Snapshot(s) if s.version == 2),
        "{resync:?}"
    );
    assert_eq!((stats.version, stats.total), (2, 2));
    t.assert_consistent().await
}
