//! Feeds over a real database: every entry once, in order, whatever the subscriber's pace, the
//! writers' concurrency, a transaction that commits late or the node it listens on.

use std::time::Duration;

use diesel::sql_types::{Array, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use taskpulse_actors::{
    EngineConfig, FeedEvent, FeedSubscription, FeedTopic, NewTask, Role, UserId, UserRef,
};

use crate::common::TestEngine;

fn new_task(title: &str) -> NewTask {
    NewTask {
        title: title.to_owned(),
        ..NewTask::default()
    }
}

/// The next `count` entries' (action, title) pairs, failing after a generous wait.
async fn titles(feed: &mut FeedSubscription, count: usize) -> anyhow::Result<Vec<String>> {
    let mut titles = Vec::new();
    for _ in 0..count {
        match tokio::time::timeout(Duration::from_secs(10), feed.next()).await? {
            Some(FeedEvent::Entry(entry)) => titles.push(
                entry.details["title"]
                    .as_str()
                    .unwrap_or(&entry.action)
                    .to_owned(),
            ),
            other => anyhow::bail!("expected an entry, got {other:?}"),
        }
    }
    Ok(titles)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subscriber_that_falls_behind_reads_what_it_missed_from_the_log() -> anyhow::Result<()> {
    let t = TestEngine::with_config(EngineConfig {
        subscriber_queue: 2,
        ..EngineConfig::default()
    })
    .await?;
    let ann = t.user("ann").await?;
    let mut feed = t
        .engine
        .subscribe_feed(ann, FeedTopic::User(ann), None)
        .await?;

    let written: Vec<String> = (0..40).map(|i| format!("task {i}")).collect();
    for title in &written {
        t.engine.create_task(ann, new_task(title)).await?;
    }
    let read = titles(&mut feed, written.len()).await?;
    t.engine.create_task(ann, new_task("live")).await?;
    let live = titles(&mut feed, 1).await?;

    assert_eq!(
        read, written,
        "every entry once, in order, past a queue of 2"
    );
    assert_eq!(live, ["live"]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_writers_entries_arrive_once_in_the_same_order_on_every_node()
-> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let peer = t.peer(EngineConfig::default()).await?;
    let owner = t.user("owner").await?;
    let team = t.engine.create_team(owner, "Platform").await?.id;
    let mut writers = Vec::new();
    for i in 0..6 {
        let user = t.user(&format!("writer{i}")).await?;
        (t.engine)
            .add_member(owner, team, UserRef::Id(user), Role::Member)
            .await?;
        writers.push(user);
    }
    let mut here = (t.engine)
        .subscribe_feed(owner, FeedTopic::Team(team), None)
        .await?;
    let mut there = peer
        .subscribe_feed(owner, FeedTopic::Team(team), None)
        .await?;

    let per_writer = 15;
    let mut tasks = Vec::new();
    for (w, user) in writers.iter().copied().enumerate() {
        let engine = t.engine.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_writer {
                let task = NewTask {
                    team_id: Some(team),
                    ..new_task(&format!("w{w} {i:02}"))
                };
                engine.create_task(user, task).await?;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let total = writers.len() * per_writer;
    let read_here = titles(&mut here, total).await?;
    let read_there = titles(&mut there, total).await?;

    assert_eq!(read_here, read_there, "the same order on both nodes");
    for w in 0..writers.len() {
        let prefix = format!("w{w} ");
        let own: Vec<&String> = read_here
            .iter()
            .filter(|t| t.starts_with(&prefix))
            .collect();
        let expected: Vec<String> = (0..per_writer).map(|i| format!("w{w} {i:02}")).collect();
        assert_eq!(
            own,
            expected.iter().collect::<Vec<_>>(),
            "writer {w}: once each, in order"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transaction_that_commits_late_delays_the_feed_and_keeps_its_place() -> anyhow::Result<()>
{
    let t = TestEngine::start().await?;
    let ann = t.user("ann").await?;
    let mut slow = t.conn().await?;
    let UserId(ann_id) = ann;

    // A writer that took its transaction id first and commits last, holding the horizon back.
    diesel::sql_query("BEGIN").execute(&mut slow).await?;
    diesel::sql_query(
        "INSERT INTO audit_log (id, actor_id, action, target_type, audience, details) \
         VALUES (gen_random_uuid(), $1, 'test.slow', 'user', $2, '{\"title\": \"slow\"}')",
    )
    .bind::<SqlUuid, _>(ann_id)
    .bind::<Array<SqlUuid>, _>(vec![ann_id])
    .execute(&mut slow)
    .await?;
    // Committed before the subscription, above the horizon: not the subscription's.
    t.engine.create_task(ann, new_task("before")).await?;
    let mut feed = t
        .engine
        .subscribe_feed(ann, FeedTopic::User(ann), None)
        .await?;
    t.engine.create_task(ann, new_task("fast")).await?;
    let early = tokio::time::timeout(Duration::from_millis(500), feed.next()).await;
    diesel::sql_query("COMMIT").execute(&mut slow).await?;
    let read = titles(&mut feed, 2).await?;

    assert!(
        early.is_err(),
        "nothing while an earlier transaction is open: {early:?}"
    );
    assert_eq!(
        read,
        ["slow", "fast"],
        "in position order, nothing from before"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_following_many_feeds_still_hands_each_entry_to_its_own_feed_only()
-> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    // More topics than the tailer matches in SQL: it reads every entry and picks.
    let mut users = Vec::new();
    for i in 0..70 {
        let user = t.user(&format!("u{i}")).await?;
        let feed = t
            .engine
            .subscribe_feed(user, FeedTopic::User(user), None)
            .await?;
        users.push((user, feed));
    }
    for (i, (user, _)) in users.iter().enumerate() {
        t.engine
            .create_task(*user, new_task(&format!("of u{i}")))
            .await?;
    }
    // Each feed's next entry after its own is a later one of its own: every entry above
    // committed before any of these, so one handed to the wrong feed would come first.
    for (i, (user, _)) in users.iter().enumerate() {
        t.engine
            .create_task(*user, new_task(&format!("then u{i}")))
            .await?;
    }

    for (i, (_, feed)) in users.iter_mut().enumerate() {
        assert_eq!(
            titles(feed, 2).await?,
            [format!("of u{i}"), format!("then u{i}")],
            "u{i}'s feed"
        );
    }
    Ok(())
}
