//! Resume from the change log on a node that did not see the changes: a client that was at
//! version v subscribes on another node with `since_version = v` and receives the 100 deltas
//! it missed (as consecutive deltas, each with the state after it). Target ≤ 5 ms for 100.
//!
//! - `resume_100_warm`: the aggregate is live on the resuming node, whose memory holds no
//!   history (so the log is read every time): one log query, 100 states rebuilt backwards.
//! - `resume_100_cold`: the aggregate is not live there either: hydration, then the same.
//!
//! Baseline: without the log a resume on another node can only get a snapshot, losing the
//! deltas. Run: `cargo bench --bench cluster_resume`.

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use diesel::sql_types::Uuid as SqlUuid;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use taskpulse_actors::{Engine, EngineConfig, NewTask, Scope, SubscriptionEvent, UserId};
use taskpulse_testdb::TestDb;
use tokio::runtime::Runtime;

const MISSED: i64 = 100;

struct Bench {
    resuming: Engine,
    user: UserId,
    since: i64,
    _writer: Engine,
    _db: TestDb,
}

async fn engine(db: &TestDb, config: EngineConfig) -> anyhow::Result<Engine> {
    Ok(Engine::start(&db.url, config).await?)
}

async fn setup() -> anyhow::Result<Bench> {
    let db = TestDb::migrated().await?;
    let writer = engine(&db, EngineConfig::default()).await?;
    let user = UserId::new();
    {
        let mut conn = AsyncPgConnection::establish(&db.url).await?;
        diesel::sql_query("INSERT INTO users (id, email, password_hash, display_name) VALUES ($1, 'resume@example.com', 'x', 'Resume')")
            .bind::<SqlUuid, _>(user.0)
            .execute(&mut conn)
            .await?;
        diesel::sql_query("INSERT INTO user_stats (user_id) VALUES ($1)")
            .bind::<SqlUuid, _>(user.0)
            .execute(&mut conn)
            .await?;
    }
    let scope = Scope::User(user);
    let since = writer.snapshot(scope).await?.version;
    for n in 0..MISSED {
        let task = NewTask {
            title: format!("task {n}"),
            ..NewTask::default()
        };
        writer.create_task(user, task).await?;
    }
    let resuming = engine(
        &db,
        EngineConfig {
            history_len: 0,
            ..EngineConfig::default()
        },
    )
    .await?;
    Ok(Bench {
        resuming,
        user,
        since,
        _writer: writer,
        _db: db,
    })
}

/// Subscribes with `since` and waits for the last missed delta.
async fn resume(bench: &Bench) -> Duration {
    let started = Instant::now();
    let mut subscription = bench
        .resuming
        .subscribe_unchecked(bench.user, Scope::User(bench.user), Some(bench.since))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for expected in bench.since + 1..=bench.since + MISSED {
        match subscription.next().await {
            Some(SubscriptionEvent::Delta { snapshot, .. }) if snapshot.version == expected => {}
            other => panic!("expected delta {expected}, got {other:?}"),
        }
    }
    started.elapsed()
}

fn benches(c: &mut Criterion) {
    let rt = Runtime::new().unwrap_or_else(|err| panic!("no runtime: {err}"));
    let bench = rt
        .block_on(setup())
        .unwrap_or_else(|err| panic!("no database for the benchmark: {err:#}"));
    let scope = Scope::User(bench.user);
    rt.block_on(bench.resuming.snapshot(scope))
        .unwrap_or_else(|e| panic!("{e}"));
    c.bench_function("resume_100_warm", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| rt.block_on(resume(&bench))).sum())
    });
    c.bench_function("resume_100_cold", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    rt.block_on(bench.resuming.passivate(scope))
                        .unwrap_or_else(|e| panic!("{e}"));
                    rt.block_on(resume(&bench))
                })
                .sum()
        })
    });
}

criterion_group! {
    name = cluster_resume;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(5));
    targets = benches
}
criterion_main!(cluster_resume);
