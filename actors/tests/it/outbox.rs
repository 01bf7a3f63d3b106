//! The durable outbox over a real database: notices are written with the change that causes
//! them (none for a write that rolls back), become notifications exactly once whichever node
//! works them, and a row held by a worker that died is delivered once its lease runs out.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use diesel::sql_types::{Array, BigInt, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use taskpulse_actors::{
    Engine, EngineConfig, NewTask, NotificationConfig, NotificationRecord, Permission, PoolOptions,
    Role, StatementEvent, StatementHook, TaskPatch, TaskStatus, UserId, UserRef,
};
use uuid::Uuid;

use crate::common::{TestEngine, eventually};

const DEADLINE: Duration = Duration::from_secs(10);

fn new_task(title: &str) -> NewTask {
    NewTask {
        title: title.to_owned(),
        ..NewTask::default()
    }
}

/// Every notification of `user`, newest first.
async fn inbox(engine: &Engine, user: UserId) -> anyhow::Result<Vec<NotificationRecord>> {
    Ok(engine
        .notifications(user, false, Some(200), None)
        .await?
        .items)
}

/// Waits until `user` has `count` notifications; answers them, newest first.
async fn wait_for(
    engine: &Engine,
    user: UserId,
    count: usize,
) -> anyhow::Result<Vec<NotificationRecord>> {
    let arrived = eventually(DEADLINE, || async {
        inbox(engine, user).await.is_ok_and(|n| n.len() >= count)
    })
    .await;
    anyhow::ensure!(arrived, "{count} notifications did not arrive");
    inbox(engine, user).await
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

async fn outbox_rows(conn: &mut AsyncPgConnection) -> anyhow::Result<i64> {
    let row: Count = diesel::sql_query("SELECT count(*) AS count FROM outbox")
        .get_result(conn)
        .await?;
    Ok(row.count)
}

/// Waits until the outbox is empty.
async fn outbox_emptied(t: &TestEngine) -> bool {
    eventually(DEADLINE, || async {
        match t.conn().await {
            Ok(mut conn) => outbox_rows(&mut conn).await.is_ok_and(|n| n == 0),
            Err(_) => false,
        }
    })
    .await
}

/// An in-app outbox row for `user`, as a write would leave it, leased until `lease_secs` from
/// now (negative: a lease that ran out) as a worker that died after its claim would leave it.
async fn leased_row(
    conn: &mut AsyncPgConnection,
    actor: UserId,
    user: UserId,
    title: &str,
    lease_secs: f64,
) -> anyhow::Result<Uuid> {
    let id = Uuid::now_v7();
    diesel::sql_query(
        "INSERT INTO outbox (id, channel, kind, actor_id, recipients, details, leased_until) \
         VALUES ($1, 'in_app', 'task_changed', $2, $3, jsonb_build_object('title', $4::text), \
                 now() + make_interval(secs => $5))",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(actor.0)
    .bind::<Array<SqlUuid>, _>(vec![user.0])
    .bind::<Text, _>(title)
    .bind::<diesel::sql_types::Double, _>(lease_secs)
    .execute(conn)
    .await?;
    Ok(id)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_share_becomes_a_notification_of_the_user_shared_with_only() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let (ann, bob) = (t.user("Ann").await?, t.user("Bob").await?);
    let task = t.engine.create_task(ann, new_task("Plan")).await?;

    (t.engine)
        .share_task(ann, task.id, UserRef::Id(bob), Permission::Edit)
        .await?;
    let bobs = wait_for(&t.engine, bob, 1).await?;

    assert_eq!(bobs.len(), 1);
    assert_eq!(bobs[0].kind, "task_shared");
    assert_eq!(bobs[0].text, "Ann shared “Plan” with you");
    assert_eq!(bobs[0].task_id, Some(task.id.0));
    assert_eq!(bobs[0].actor_id, Some(ann.0));
    assert_eq!(bobs[0].read_at, None);
    assert!(
        inbox(&t.engine, ann).await?.is_empty(),
        "the actor hears nothing"
    );
    assert!(outbox_emptied(&t).await, "a delivered row is deleted");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sharees_completion_and_a_membership_notify_the_owner_and_the_member()
-> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let (ann, bob) = (t.user("Ann").await?, t.user("Bob").await?);
    let task = t.engine.create_task(ann, new_task("Ship v2")).await?;
    (t.engine)
        .share_task(ann, task.id, UserRef::Id(bob), Permission::Edit)
        .await?;
    let team = t.engine.create_team(ann, "Core").await?.id;

    let done = TaskPatch {
        status: Some(TaskStatus::Completed),
        ..TaskPatch::default()
    };
    t.engine.update_task(bob, task.id, done, None).await?;
    (t.engine)
        .add_member(ann, team, UserRef::Id(bob), Role::Admin)
        .await?;
    let anns = wait_for(&t.engine, ann, 1).await?;
    let bobs = wait_for(&t.engine, bob, 2).await?;

    assert_eq!(anns.len(), 1, "{anns:?}");
    assert_eq!(
        (anns[0].kind.as_str(), anns[0].text.as_str()),
        ("task_completed", "Bob completed “Ship v2”")
    );
    assert_eq!(bobs[0].kind, "team_member_added");
    assert_eq!(bobs[0].text, "Ann added you to Core as admin");
    assert_eq!(bobs[0].team_id, Some(team.0));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_teams_deletion_tells_its_other_members_by_name() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let (ann, bob) = (t.user("Ann").await?, t.user("Bob").await?);
    let team = t.engine.create_team(ann, "Core").await?.id;
    (t.engine)
        .add_member(ann, team, UserRef::Id(bob), Role::Viewer)
        .await?;

    t.engine.delete_team(ann, team).await?;
    let bobs = wait_for(&t.engine, bob, 2).await?;

    assert_eq!(bobs[0].kind, "team_deleted");
    assert_eq!(bobs[0].text, "Ann deleted the team Core");
    assert_eq!(bobs[0].team_id, Some(team.0));
    assert!(inbox(&t.engine, ann).await?.is_empty(), "not the actor");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_that_rolls_back_leaves_no_notice() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let (ann, bob) = (t.user("Ann").await?, t.user("Bob").await?);
    let task = t.engine.create_task(ann, new_task("Plan")).await?;
    let team = t.engine.create_team(ann, "Core").await?.id;
    let mut conn = t.conn().await?;
    // The audit row is written after the notice in a team command's transaction and before it
    // in a task command's statement: failing it fails the whole change either way.
    for sql in [
        "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$",
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW \
         WHEN (NEW.action IN ('task.share', 'team.member_add')) EXECUTE FUNCTION refuse_audit()",
    ] {
        diesel::sql_query(sql).execute(&mut conn).await?;
    }

    let shared = (t.engine)
        .share_task(ann, task.id, UserRef::Id(bob), Permission::View)
        .await;
    let added = (t.engine)
        .add_member(ann, team, UserRef::Id(bob), Role::Member)
        .await;
    t.engine
        .create_task(ann, new_task("poke the workers"))
        .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;

    assert!(shared.is_err() && added.is_err(), "{shared:?} {added:?}");
    assert_eq!(outbox_rows(&mut conn).await?, 0);
    assert!(inbox(&t.engine, bob).await?.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_row_a_dead_worker_leased_is_delivered_once_its_lease_runs_out() -> anyhow::Result<()> {
    let t = TestEngine::with_config(EngineConfig {
        notifications: NotificationConfig {
            poll_every: Duration::from_millis(50),
            ..NotificationConfig::default()
        },
        ..EngineConfig::default()
    })
    .await?;
    let (ann, bob) = (t.user("Ann").await?, t.user("Bob").await?);
    let mut conn = t.conn().await?;

    leased_row(&mut conn, ann, bob, "held", 2.0).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let while_leased = inbox(&t.engine, bob).await?.len();
    let after = wait_for(&t.engine, bob, 1).await?;

    assert_eq!(while_leased, 0, "a leased row is left to its worker");
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].text, "Ann changed “held”");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_row_delivered_twice_makes_its_notifications_once() -> anyhow::Result<()> {
    let t = TestEngine::with_config(EngineConfig {
        notifications: NotificationConfig {
            poll_every: Duration::from_millis(50),
            ..NotificationConfig::default()
        },
        ..EngineConfig::default()
    })
    .await?;
    let (ann, bob) = (t.user("Ann").await?, t.user("Bob").await?);
    let mut conn = t.conn().await?;
    // A worker that made the notification and died before deleting the row: the row is back
    // once its lease has run out, and already delivered.
    let id = leased_row(&mut conn, ann, bob, "twice", 1.0).await?;
    diesel::sql_query(
        "INSERT INTO notifications (id, user_id, source_id, at, kind, text) \
         VALUES ($1, $2, $3, now(), 'task_changed', 'made before the worker died')",
    )
    .bind::<SqlUuid, _>(Uuid::now_v7())
    .bind::<SqlUuid, _>(bob.0)
    .bind::<SqlUuid, _>(id)
    .execute(&mut conn)
    .await?;

    let emptied = outbox_emptied(&t).await;

    assert!(emptied, "the row is worked again after its lease");
    assert_eq!(inbox(&t.engine, bob).await?.len(), 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_row_another_worker_holds_is_skipped_not_waited_for() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let (ann, bob) = (t.user("Ann").await?, t.user("Bob").await?);
    let mut blocker = t.conn().await?;
    let held = leased_row(&mut blocker, ann, bob, "locked", -1.0).await?;
    diesel::sql_query("BEGIN").execute(&mut blocker).await?;
    diesel::sql_query("SELECT 1 FROM outbox WHERE id = $1 FOR UPDATE")
        .bind::<SqlUuid, _>(held)
        .execute(&mut blocker)
        .await?;

    let task = t.engine.create_task(ann, new_task("free")).await?;
    (t.engine)
        .share_task(ann, task.id, UserRef::Id(bob), Permission::View)
        .await?;
    let first = wait_for(&t.engine, bob, 1).await?;
    diesel::sql_query("ROLLBACK").execute(&mut blocker).await?;
    t.engine
        .create_task(ann, new_task("poke the workers"))
        .await?;
    let both = wait_for(&t.engine, bob, 2).await?;

    assert_eq!(
        first[0].text, "Ann shared “free” with you",
        "not held up by the lock"
    );
    assert_eq!(both.len(), 2);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn two_nodes_working_one_outbox_make_every_notification_once() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let peer = t.peer(EngineConfig::default()).await?;
    let (ann, bob) = (t.user("Ann").await?, t.user("Bob").await?);
    let mut writes = Vec::new();
    for i in 0..30 {
        let engine = if i % 2 == 0 {
            t.engine.clone()
        } else {
            peer.clone()
        };
        writes.push(tokio::spawn(async move {
            let task = engine
                .create_task(ann, new_task(&format!("task {i}")))
                .await?;
            engine
                .share_task(ann, task.id, UserRef::Id(bob), Permission::View)
                .await?;
            anyhow::Ok(())
        }));
    }
    for write in writes {
        write.await??;
    }

    let bobs = wait_for(&t.engine, bob, 30).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut texts: Vec<String> = inbox(&peer, bob)
        .await?
        .into_iter()
        .map(|n| n.text)
        .collect();
    texts.sort();
    texts.dedup();

    assert_eq!(bobs.len(), 30);
    assert_eq!(texts.len(), 30, "each once");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn only_writes_that_notify_someone_wake_the_outbox_workers() -> anyhow::Result<()> {
    let t = TestEngine::start().await?;
    let claims = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&claims);
    let hook: StatementHook = Arc::new(move |event| {
        if let StatementEvent::Sent(sql) = event
            && sql.contains("UPDATE outbox SET leased_until")
        {
            counted.fetch_add(1, Ordering::Relaxed);
        }
    });
    // A node of its own, its statements counted (`peer` would give it the tests' plain pool).
    let engine = Engine::start(
        &t.db.url,
        EngineConfig {
            notifications: NotificationConfig {
                poll_every: Duration::from_secs(3600),
                ..NotificationConfig::default()
            },
            pool: PoolOptions {
                on_statement: Some(hook),
                ..crate::common::pool_options()
            },
            ..EngineConfig::default()
        },
    )
    .await?;
    let (ann, bob) = (t.user("Ann").await?, t.user("Bob").await?);
    // The worker's first claim, at start.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let at_start = AtomicUsize::load(&claims, Ordering::Relaxed);

    for i in 0..5 {
        let task = engine
            .create_task(ann, new_task(&format!("quiet {i}")))
            .await?;
        let done = TaskPatch {
            status: Some(TaskStatus::Completed),
            ..TaskPatch::default()
        };
        engine.update_task(ann, task.id, done, None).await?;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after_quiet_writes = AtomicUsize::load(&claims, Ordering::Relaxed);
    let task = engine.create_task(ann, new_task("shared")).await?;
    engine
        .share_task(ann, task.id, UserRef::Id(bob), Permission::View)
        .await?;
    wait_for(&engine, bob, 1).await?;

    assert_eq!(
        after_quiet_writes, at_start,
        "writes that notify nobody claim nothing"
    );
    assert!(
        AtomicUsize::load(&claims, Ordering::Relaxed) > at_start,
        "a share wakes the worker"
    );
    Ok(())
}
