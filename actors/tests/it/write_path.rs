//! The write path: how many statements each task command sends, that they stay prepared, that
//! writers racing on one task all land with every aggregate exact; and that a cold aggregate
//! loads in one statement.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::TestEngine;
use taskpulse_actors::{
    ClusterConfig, Engine, EngineConfig, NewTask, NotificationConfig, Permission, PoolOptions,
    Priority, Role, Scope, StatementEvent, StatementHook, TaskPatch, TaskStatus, UserRef,
};

/// Records the SQL of every statement the engine's connections send, and how many they
/// prepare.
#[derive(Clone, Default)]
struct Statements {
    sent: Arc<Mutex<Vec<String>>>,
    prepared: Arc<AtomicUsize>,
}

impl Statements {
    fn hook(&self) -> StatementHook {
        let this = self.clone();
        Arc::new(move |event| match event {
            // The cluster's own traffic (its listener, its after-commit signal) is not the
            // command's.
            StatementEvent::Sent(sql)
                if !(sql.contains("pg_notify")
                    || sql.starts_with("LISTEN")
                    || sql == "SELECT 1") =>
            {
                this.sent
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(sql.to_owned());
            }
            StatementEvent::Prepared(_) => {
                this.prepared.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        })
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.sent.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn seen(&self, what: &str) -> bool {
        let sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        sent.iter().any(|sql| sql.contains(what))
    }

    fn prepared(&self) -> usize {
        self.prepared.load(Ordering::Relaxed)
    }

    /// Asserts that `count` statements were sent since the last look, none of them a `BEGIN`.
    fn expect(&self, count: usize, what: &str) {
        let sent = self.take();
        assert_eq!(sent.len(), count, "{what}: {sent:#?}");
        assert!(
            sent.iter().all(|sql| !sql.starts_with("BEGIN")),
            "{what}: no transaction around it: {sent:#?}"
        );
    }
}

/// An engine on one connection whose statements are recorded, once its start-up work is done
/// and with nothing else running in the background (the outbox is left to other nodes).
async fn recorded(test: &TestEngine) -> anyhow::Result<(Engine, Statements)> {
    let statements = Statements::default();
    let engine = Engine::start(
        &test.db.url,
        EngineConfig {
            cluster: ClusterConfig {
                heal_every: Duration::from_secs(3600),
                prune_every: Duration::from_secs(3600),
                ..ClusterConfig::default()
            },
            notifications: NotificationConfig {
                work: false,
                ..NotificationConfig::default()
            },
            pool: PoolOptions {
                max_size: 1,
                on_statement: Some(statements.hook()),
                ..PoolOptions::default()
            },
            ..EngineConfig::default()
        },
    )
    .await?;
    // The change log's pruning runs once at start, on the same pool: let it finish first.
    for _ in 0..200 {
        if statements.seen("pg_total_relation_size") {
            statements.take();
            return Ok((engine, statements));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("the start-up pruning never ran")
}

#[tokio::test(flavor = "multi_thread")]
async fn each_task_command_sends_one_statement_or_a_read_and_one() -> anyhow::Result<()> {
    let test = TestEngine::start().await?;
    let owner = test.user("owner").await?;
    let other = test.user("other").await?;
    let team = test.engine.create_team(owner, "Ops").await?.id;
    let (engine, statements) = recorded(&test).await?;

    // Twice round: the first prepares, the second must only bind and execute.
    let mut prepared = Vec::new();
    for _ in 0..2 {
        statements.take();
        let personal = engine
            .create_task(
                owner,
                NewTask {
                    title: "personal".into(),
                    ..NewTask::default()
                },
            )
            .await?;
        statements.expect(1, "create: one statement");
        let in_team = engine
            .create_task(
                owner,
                NewTask {
                    title: "team".into(),
                    team_id: Some(team),
                    ..NewTask::default()
                },
            )
            .await?;
        statements.expect(1, "team create: one statement");
        let patch = TaskPatch {
            status: Some(TaskStatus::Completed),
            priority: Some(Priority::High),
            ..TaskPatch::default()
        };
        engine
            .update_task(owner, in_team.id, patch, Some(1))
            .await?;
        statements.expect(2, "update: a read and one statement");
        engine
            .share_task(owner, personal.id, UserRef::Id(other), Permission::Edit)
            .await?;
        statements.expect(2, "share: a read and one statement");
        engine.unshare_task(owner, personal.id, other).await?;
        statements.expect(2, "unshare: a read and one statement");
        engine.delete_task(owner, in_team.id).await?;
        statements.expect(2, "delete: a read and one statement");
        prepared.push(statements.prepared());
    }
    assert!(prepared[0] > 0, "the first round prepared its statements");
    assert_eq!(
        prepared[0], prepared[1],
        "the second round reused the statements the first prepared"
    );
    test.assert_consistent().await
}

/// A cold aggregate is read in one round trip, every part of it (its row, open due dates,
/// days, members and, when followed, its history) as the node that kept it live holds it: a
/// storm of resumes lands on nodes where most aggregates are cold.
#[tokio::test(flavor = "multi_thread")]
async fn a_cold_aggregate_loads_in_one_statement_exactly_as_a_live_one_holds_it()
-> anyhow::Result<()> {
    let test = TestEngine::start().await?;
    let owner = test.user("owner").await?;
    let member = test.user("member").await?;
    let team = test.engine.create_team(owner, "Ops").await?.id;
    test.engine
        .add_member(owner, team, UserRef::Id(member), Role::Member)
        .await?;
    let now = chrono::Utc::now();
    for (i, (author, team_id)) in [(owner, None), (owner, Some(team)), (member, Some(team))]
        .into_iter()
        .enumerate()
    {
        for due_in in [-2, 3] {
            let task = NewTask {
                title: format!("task {i} {due_in}"),
                due_at: Some(now + chrono::Duration::days(due_in)),
                team_id,
                ..NewTask::default()
            };
            test.engine.create_task(author, task).await?;
        }
        let done = NewTask {
            title: format!("done {i}"),
            status: Some(TaskStatus::Completed),
            team_id,
            ..NewTask::default()
        };
        test.engine.create_task(author, done).await?;
    }
    let (engine, statements) = recorded(&test).await?;
    for scope in [Scope::User(owner), Scope::Team(team)] {
        let live = test.engine.snapshot_with_history(scope).await?;
        let cold = engine.snapshot(scope).await?;
        statements.expect(1, "a cold aggregate: one statement");
        assert_eq!(cold.version, live.version);
        let mut without_history = live.aggregate.clone();
        without_history.history = None;
        assert_eq!(cold.aggregate, without_history, "{scope:?}");
        let followed = engine.snapshot_with_history(scope).await?;
        statements.expect(1, "its history, with the rest: one statement");
        assert_eq!(followed.aggregate, live.aggregate, "{scope:?}");
    }
    assert!(
        !test
            .engine
            .snapshot(Scope::Team(team))
            .await?
            .aggregate
            .members
            .is_empty()
            && !test
                .engine
                .snapshot(Scope::User(owner))
                .await?
                .aggregate
                .open_due
                .is_empty(),
        "the rows compared are not empty"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn writers_racing_on_one_task_all_land() -> anyhow::Result<()> {
    let test = TestEngine::start().await?;
    let owner = test.user("owner").await?;
    let team = test.engine.create_team(owner, "Ops").await?.id;
    let task = test
        .engine
        .create_task(
            owner,
            NewTask {
                title: "busy".into(),
                team_id: Some(team),
                ..NewTask::default()
            },
        )
        .await?;
    const WRITERS: usize = 12;
    const EDITS: usize = 15;
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let engine = test.engine.clone();
        writers.push(tokio::spawn(async move {
            for edit in 0..EDITS {
                let patch = TaskPatch {
                    title: Some(format!("writer {writer} edit {edit}")),
                    status: Some([TaskStatus::Pending, TaskStatus::Completed][edit % 2]),
                    ..TaskPatch::default()
                };
                engine.update_task(owner, task.id, patch, None).await?;
            }
            anyhow::Ok(())
        }));
    }
    for writer in writers {
        writer.await??;
    }
    let after = test.engine.get_task(owner, task.id).await?;
    // Every edit changed the title: every one is a version.
    assert_eq!(after.version, 1 + (WRITERS * EDITS) as i64);
    test.assert_consistent().await
}

#[tokio::test(flavor = "multi_thread")]
async fn shares_changing_while_the_task_is_deleted_are_counted_exactly() -> anyhow::Result<()> {
    let test = TestEngine::start().await?;
    let owner = test.user("owner").await?;
    let mut sharees = Vec::new();
    for i in 0..6 {
        sharees.push(test.user(&format!("sharee{i}")).await?);
    }
    for round in 0..20 {
        let task = test
            .engine
            .create_task(
                owner,
                NewTask {
                    title: format!("round {round}"),
                    ..NewTask::default()
                },
            )
            .await?;
        let mut racers = Vec::new();
        for (i, sharee) in sharees.iter().copied().enumerate() {
            let engine = test.engine.clone();
            racers.push(tokio::spawn(async move {
                let shared = engine
                    .share_task(owner, task.id, UserRef::Id(sharee), Permission::View)
                    .await;
                if i % 2 == 0 && shared.is_ok() {
                    let _ = engine.unshare_task(owner, task.id, sharee).await;
                }
            }));
        }
        let engine = test.engine.clone();
        let deleter = tokio::spawn(async move { engine.delete_task(owner, task.id).await });
        for racer in racers {
            racer.await?;
        }
        deleter.await??;
    }
    test.assert_consistent().await
}
