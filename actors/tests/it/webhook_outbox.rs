//! The webhook outbox over a real database, with two engines as two nodes: a webhook is held
//! by one claim at a time, its events come in commit order and only below the horizon, a
//! failure holds back the events after it until its retry, a lease that ran out is claimed
//! again, and a write that rolls back leaves no event.

use std::time::Duration;

use chrono::Utc;
use diesel_async::{AnsiTransactionManager, RunQueryDsl, TransactionManager};
use taskpulse_actors::{
    Attempt, Engine, EngineConfig, NewTask, NewWebhook, NotificationConfig, Progress, TaskPatch,
    TaskStatus, UserId, WebhookBatch, WebhookDelivery,
};

use crate::common::{TestEngine, eventually};

fn config(lease: Duration) -> EngineConfig {
    EngineConfig {
        notifications: NotificationConfig {
            lease,
            ..NotificationConfig::default()
        },
        ..EngineConfig::default()
    }
}

async fn webhook(engine: &Engine, user: UserId, events: &[&str]) -> anyhow::Result<uuid::Uuid> {
    let new = NewWebhook {
        url: "https://hooks.example.com/".to_owned(),
        events: events.iter().map(|e| (*e).to_owned()).collect(),
        team_id: None,
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned(),
    };
    Ok(engine.create_webhook(user, new).await?.id)
}

async fn create(engine: &Engine, user: UserId, title: &str) -> anyhow::Result<()> {
    let task = NewTask {
        title: title.to_owned(),
        ..NewTask::default()
    };
    engine.create_task(user, task).await?;
    Ok(())
}

/// Waits until every event in the outbox is below the horizon, so that one claim takes them
/// all: the horizon is the whole server's, and another test's transaction that began between
/// two of ours would hold the later ones back from a claim made at once.
async fn all_below_the_horizon(t: &TestEngine) -> anyhow::Result<()> {
    let below = eventually(Duration::from_secs(10), || async {
        above_the_horizon(t).await.is_ok_and(|above| above == 0)
    })
    .await;
    anyhow::ensure!(below, "events still above the horizon after 10 s");
    Ok(())
}

/// The outbox's events at or above the horizon.
async fn above_the_horizon(t: &TestEngine) -> anyhow::Result<i64> {
    let mut conn = t.conn().await?;
    let above = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT count(*) FROM outbox \
          WHERE tx >= pg_snapshot_xmin(pg_current_snapshot())::text::bigint)",
    ))
    .get_result(&mut conn)
    .await?;
    Ok(above)
}

/// A claim that finds something: events are claimable once below the horizon, which is the
/// whole server's (other tests' transactions may hold it a moment).
async fn claim_some(engine: &Engine) -> anyhow::Result<Vec<WebhookBatch>> {
    for _ in 0..200 {
        let claimed = engine.webhook_outbox().claim(10, 100).await?;
        if !claimed.is_empty() {
            return Ok(claimed);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("nothing to claim within 10 s")
}

fn titles(batch: &WebhookBatch) -> Vec<String> {
    (batch.events.iter())
        .map(|e| e.data["title"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn answered(status: u16) -> Attempt {
    Attempt {
        at: Utc::now(),
        response_status: Some(status),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_webhook_is_held_by_one_node_and_its_events_come_in_commit_order() -> anyhow::Result<()> {
    let t = TestEngine::with_config(config(Duration::from_secs(30))).await?;
    let other = t.peer(config(Duration::from_secs(30))).await?;
    let ann = t.user("Ann").await?;
    webhook(&t.engine, ann, &["task.created", "task.completed"]).await?;
    for title in ["a", "b", "c"] {
        create(&t.engine, ann, title).await?;
    }

    let claimed = claim_some(&t.engine).await?;
    let meanwhile = other.webhook_outbox().claim(10, 100).await?;

    assert_eq!(claimed.len(), 1);
    assert_eq!(titles(&claimed[0]), ["a", "b", "c"]);
    assert!(
        claimed[0]
            .events
            .iter()
            .all(|e| e.attempt == 1 && e.event == "task.created")
    );
    assert!(meanwhile.is_empty(), "held by the first node");
    let outbox = t.engine.webhook_outbox();
    outbox.delivered(&claimed[0], 0, &[answered(200)]).await?;
    outbox
        .record(&claimed[0], 1, &[answered(204), answered(202)])
        .await?;
    assert!(
        other.webhook_outbox().claim(10, 100).await?.is_empty(),
        "all delivered"
    );
    let log = t
        .engine
        .webhook_deliveries(ann, claimed[0].webhook, None, None)
        .await?;
    assert_eq!(log.items.len(), 3);
    assert!(
        log.items
            .iter()
            .all(|d| d.status == "delivered" && d.attempt == 1)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failure_holds_back_the_events_after_it_until_its_retry() -> anyhow::Result<()> {
    let t = TestEngine::with_config(config(Duration::from_secs(30))).await?;
    let ann = t.user("Ann").await?;
    webhook(&t.engine, ann, &["task.created"]).await?;
    for title in ["a", "b", "c"] {
        create(&t.engine, ann, title).await?;
    }
    let outbox = t.engine.webhook_outbox();

    all_below_the_horizon(&t).await?;
    let first = claim_some(&t.engine).await?;
    assert_eq!(titles(&first[0]), ["a", "b", "c"]);
    outbox
        .record(&first[0], 0, &[answered(204), answered(503)])
        .await?;
    let at_once = outbox.claim(10, 100).await?;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let after_the_delay = claim_some(&t.engine).await?;

    assert!(at_once.is_empty(), "the retry waits its delay");
    assert_eq!(titles(&after_the_delay[0]), ["b", "c"]);
    let retried = &after_the_delay[0].events[0];
    assert_eq!(
        retried.event_id, first[0].events[1].event_id,
        "the same webhook-id"
    );
    assert_eq!(retried.attempt, 2);
    let log = t
        .engine
        .webhook_deliveries(ann, first[0].webhook, None, None)
        .await?;
    let failed = &log.items[0];
    assert_eq!(
        (failed.status.as_str(), failed.response_status),
        ("failed", Some(503))
    );
    assert!(failed.next_attempt_at.is_some_and(|at| at > failed.at));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lease_that_ran_out_is_claimed_by_another_node() -> anyhow::Result<()> {
    let t = TestEngine::with_config(config(Duration::from_secs(1))).await?;
    let other = t.peer(config(Duration::from_secs(1))).await?;
    let ann = t.user("Ann").await?;
    webhook(&t.engine, ann, &["task.created"]).await?;
    create(&t.engine, ann, "a").await?;

    // The first node claims, then dies without a word.
    let held = claim_some(&t.engine).await?;
    let while_held = other.webhook_outbox().claim(10, 100).await?;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let taken_over = claim_some(&other).await?;

    assert_eq!(held.len(), 1);
    assert!(while_held.is_empty());
    assert_eq!(titles(&taken_over[0]), ["a"]);
    // The late first node's record keeps its deliveries but no longer decides the hold.
    t.engine
        .webhook_outbox()
        .record(&held[0], 0, &[answered(503)])
        .await?;
    other
        .webhook_outbox()
        .record(&taken_over[0], 0, &[answered(204)])
        .await?;
    assert!(other.webhook_outbox().claim(10, 100).await?.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_behind_a_transaction_still_open_waits_for_it() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("Ann").await?;
    webhook(&t.engine, ann, &["task.created"]).await?;
    let mut open = t.conn().await?;
    AnsiTransactionManager::begin_transaction(&mut open).await?;
    // It has a transaction id, older than the write's: until it ends, an event it could still
    // commit ahead of the write's is possible.
    diesel::sql_query("SELECT pg_current_xact_id()")
        .execute(&mut open)
        .await?;

    create(&t.engine, ann, "a").await?;
    let while_open = t.engine.webhook_outbox().claim(10, 100).await?;
    AnsiTransactionManager::commit_transaction(&mut open).await?;
    let after = claim_some(&t.engine).await?;

    assert!(while_open.is_empty(), "above the horizon");
    assert_eq!(titles(&after[0]), ["a"]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_completion_is_its_own_event_and_unheard_events_write_nothing() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let ann = t.user("Ann").await?;
    webhook(&t.engine, ann, &["task.completed"]).await?;
    let task = t
        .engine
        .create_task(
            ann,
            NewTask {
                title: "a".to_owned(),
                ..NewTask::default()
            },
        )
        .await?;

    let done = TaskPatch {
        status: Some(TaskStatus::Completed),
        ..TaskPatch::default()
    };
    t.engine.update_task(ann, task.id, done, None).await?;
    let claimed = claim_some(&t.engine).await?;

    assert_eq!(claimed[0].events.len(), 1, "the creation is not heard");
    assert_eq!(claimed[0].events[0].event, "task.completed");
    assert_eq!(claimed[0].events[0].data["status"], "completed");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn several_webhooks_are_recorded_in_one_go_each_as_it_went() -> anyhow::Result<()> {
    let t = TestEngine::with_config(config(Duration::from_secs(30))).await?;
    let (ann, bob, cid) = (
        t.user("Ann").await?,
        t.user("Bob").await?,
        t.user("Cid").await?,
    );
    let mut owners = std::collections::HashMap::new();
    for user in [ann, bob, cid] {
        owners.insert(webhook(&t.engine, user, &["task.created"]).await?, user);
        create(&t.engine, user, "first").await?;
        create(&t.engine, user, "second").await?;
    }
    let mut claimed = Vec::new();
    while claimed.len() < 3 {
        claimed.extend(claim_some(&t.engine).await?);
    }
    let outbox = t.engine.webhook_outbox();
    let both = [answered(204), answered(204)];
    let fails = [answered(503)];
    let first_only = [answered(204)];

    // One webhook is done, one failed its first event, one is half way and still held.
    outbox
        .record_all(&[
            Progress {
                batch: &claimed[0],
                from: 0,
                attempts: &both,
                ends_batch: true,
            },
            Progress {
                batch: &claimed[1],
                from: 0,
                attempts: &fails,
                ends_batch: true,
            },
            Progress {
                batch: &claimed[2],
                from: 0,
                attempts: &first_only,
                ends_batch: false,
            },
        ])
        .await?;

    let log = |i: usize| {
        let webhook = claimed[i].webhook;
        t.engine
            .webhook_deliveries(owners[&webhook], webhook, None, None)
    };
    let statuses =
        |items: Vec<WebhookDelivery>| items.into_iter().map(|d| d.status).collect::<Vec<_>>();
    assert_eq!(statuses(log(0).await?.items), ["delivered", "delivered"]);
    assert_eq!(statuses(log(1).await?.items), ["failed"]);
    assert_eq!(statuses(log(2).await?.items), ["delivered"]);
    // The done webhook has nothing left, the failed one waits its retry, the held one is still
    // held: nothing to claim now.
    assert!(outbox.claim(10, 100).await?.is_empty());
    Ok(())
}
