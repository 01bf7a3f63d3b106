//! The `notifications` topic over a real database: every notification once, in order, past a
//! subscriber's small queue, and from the one after `since`.

use std::time::Duration;

use taskpulse_actors::{
    EngineConfig, NewTask, NotificationSubscription, Permission, UserId, UserRef,
};

use crate::common::TestEngine;

/// The next `count` notifications' texts, failing after a generous wait.
async fn texts(live: &mut NotificationSubscription, count: usize) -> anyhow::Result<Vec<String>> {
    let mut texts = Vec::new();
    for _ in 0..count {
        match tokio::time::timeout(Duration::from_secs(10), live.next()).await? {
            Some(notification) => texts.push(notification.text.clone()),
            None => anyhow::bail!("the subscription ended"),
        }
    }
    Ok(texts)
}

async fn share_new(t: &TestEngine, owner: UserId, with: UserId, title: &str) -> anyhow::Result<()> {
    let new = NewTask {
        title: title.to_owned(),
        ..NewTask::default()
    };
    let task = t.engine.create_task(owner, new).await?;
    (t.engine)
        .share_task(owner, task.id, UserRef::Id(with), Permission::View)
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subscriber_that_falls_behind_reads_what_it_missed_from_the_table() -> anyhow::Result<()>
{
    let t = TestEngine::with_config(EngineConfig {
        subscriber_queue: 2,
        ..EngineConfig::default()
    })
    .await?;
    let (ann, bob) = (t.user("Ann").await?, t.user("Bob").await?);
    let mut live = t.engine.subscribe_notifications(bob, None).await?;

    let titles: Vec<String> = (0..20).map(|i| format!("task {i}")).collect();
    for title in &titles {
        share_new(&t, ann, bob, title).await?;
    }
    let read = texts(&mut live, titles.len()).await?;

    let expected: Vec<String> = (titles.iter())
        .map(|title| format!("Ann shared “{title}” with you"))
        .collect();
    assert_eq!(
        read, expected,
        "every notification once, in order, past a queue of 2"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn since_starts_after_the_notification_it_names() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let (ann, bob) = (t.user("Ann").await?, t.user("Bob").await?);
    let mut live = t.engine.subscribe_notifications(bob, None).await?;
    share_new(&t, ann, bob, "first").await?;
    let first = tokio::time::timeout(Duration::from_secs(10), live.next())
        .await?
        .ok_or_else(|| anyhow::anyhow!("ended"))?;
    drop(live);
    share_new(&t, ann, bob, "second").await?;

    let mut resumed = t
        .engine
        .subscribe_notifications(bob, Some(first.id))
        .await?;
    let next = texts(&mut resumed, 1).await?;
    let someone_elses = t.engine.subscribe_notifications(ann, Some(first.id)).await;

    assert_eq!(next, ["Ann shared “second” with you"]);
    assert!(
        someone_elses.is_err(),
        "a since of another user's is refused"
    );
    Ok(())
}
