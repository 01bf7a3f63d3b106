//! Team subscriptions may rest on a membership the node remembers (no database query per
//! subscribe); REST reads never do, and every way a node learns of a removal — the signal, the
//! periodic check, a listener that reconnects — ends what the memory allowed.

use std::time::Duration;

use diesel_async::RunQueryDsl;
use taskpulse_actors::{
    Engine, EngineConfig, Error, Role, Scope, SubscriptionEvent, TeamId, UserId, UserRef,
};

use super::{next, twins};
use crate::common::{TestEngine, eventually};

const SOON: Duration = Duration::from_secs(5);

/// Two nodes where b hears nothing of a (`twins`, checking only hourly): a removal made on
/// a stays unknown to b.
async fn deaf_twins() -> anyhow::Result<(TestEngine, Engine)> {
    twins(Duration::from_secs(3600)).await
}

/// A team with `owner` and `bob` (a viewer) in it.
async fn crew(a: &TestEngine) -> anyhow::Result<(UserId, UserId, TeamId)> {
    let (owner, bob) = (a.user("owner").await?, a.user("bob").await?);
    let team = a.engine.create_team(owner, "crew").await?.id;
    a.engine
        .add_member(owner, team, UserRef::Id(bob), Role::Viewer)
        .await?;
    Ok((owner, bob, team))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subscription_may_rest_on_a_remembered_membership_a_read_may_not() -> anyhow::Result<()> {
    let (a, b) = deaf_twins().await?;
    let (owner, bob, team) = crew(&a).await?;
    let scope = Scope::Team(team);
    let mut first = b.subscribe(bob, scope, None).await?;
    next(&mut first).await?;

    a.engine.remove_member(owner, team, bob).await?;

    let refused = b.authorize_read(bob, scope).await;
    assert!(matches!(refused, Err(Error::NotFound(_))), "{refused:?}");
    let mut second = b.subscribe(bob, scope, None).await?;
    assert!(matches!(
        next(&mut second).await?,
        SubscriptionEvent::Snapshot(_)
    ));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_removal_ends_every_subscription_the_memory_allowed_and_is_obeyed_after()
-> anyhow::Result<()> {
    let a = TestEngine::start().await?;
    let b = a.peer(EngineConfig::default()).await?;
    let (owner, bob, team) = crew(&a).await?;
    let scope = Scope::Team(team);
    let mut asked = b.subscribe(bob, scope, None).await?;
    let mut remembered = b.subscribe(bob, scope, None).await?;
    next(&mut asked).await?;
    next(&mut remembered).await?;

    a.engine.remove_member(owner, team, bob).await?;

    assert!(matches!(
        next(&mut asked).await?,
        SubscriptionEvent::Revoked
    ));
    assert!(matches!(
        next(&mut remembered).await?,
        SubscriptionEvent::Revoked
    ));
    let again = b.subscribe(bob, scope, None).await;
    assert!(
        matches!(again, Err(Error::NotFound(_))),
        "{:?}",
        again.err()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_listener_that_reconnects_forgets_every_membership() -> anyhow::Result<()> {
    let (a, b) = deaf_twins().await?;
    let (owner, bob, team) = crew(&a).await?;
    let scope = Scope::Team(team);
    // Remembered, then left: no subscription for the periodic check to look at.
    let mut first = b.subscribe(bob, scope, None).await?;
    next(&mut first).await?;
    drop(first);
    a.engine.remove_member(owner, team, bob).await?;
    let connects = b.metrics().cluster.listener_connects;

    // Ends every listener's connection on this database (both nodes' and only theirs).
    let mut conn = a.conn().await?;
    diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .execute(&mut conn)
    .await?;
    let reconnected = eventually(SOON, || async {
        b.metrics().cluster.listener_connects > connects && b.cluster_link().listening
    });
    assert!(reconnected.await, "the listener did not reconnect");

    let again = b.subscribe(bob, scope, None).await;
    assert!(
        matches!(again, Err(Error::NotFound(_))),
        "{:?}",
        again.err()
    );
    Ok(())
}
