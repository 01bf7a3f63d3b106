//! The engine's hot path, in process, on a real PostgreSQL (for hydration only):
//!
//! - `delta_to_subscriber`: a committed delta handed to the engine (as a bus would) until a
//!   subscriber holds it. Target p99 ≤ 200 µs; p50/p99 printed from 5 000 samples.
//! - `deltas_one_aggregate`: throughput of consecutive deltas through one aggregate.
//! - `deltas_10k_aggregates`: one delta to each of 10 000 live aggregates. Target ≥ 500k/s.
//! - `hydrate_user`: a cold user aggregate with 200 tasks read back to a warm snapshot (actor
//!   spawn, one repeatable-read snapshot of its rows, first read). Target ≤ 1 ms.
//!
//! Also printed: resident memory per idle hydrated user aggregate (target ≤ 8 KiB).
//!
//! Baseline: the usual design recomputes `COUNT(*)` per request and notifies "something
//! changed"; there is no delta path to compare with, so the targets above are the baseline.
//! Run: `cargo bench --bench update_latency`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use diesel::sql_types::Uuid as SqlUuid;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use taskpulse_actors::{
    Counts, Delta, Engine, EngineConfig, PoolOptions, Published, Scope, Subscription,
    SubscriptionEvent, UserId,
};
use taskpulse_testdb::TestDb;
use tokio::runtime::Runtime;

struct Bench {
    engine: Engine,
    db: TestDb,
}

fn delta(scope: Scope, version: i64) -> Published {
    let delta = Delta {
        counts: Counts {
            pending: 1,
            medium: 1,
            ..Counts::default()
        },
        ..Delta::default()
    };
    Published {
        scope,
        version,
        as_of: Utc::now(),
        delta: Arc::new(delta),
    }
}

async fn setup() -> anyhow::Result<Bench> {
    let db = TestDb::migrated().await?;
    let config = EngineConfig {
        subscriber_queue: 1 << 20,
        history_len: 128,
        pool: PoolOptions {
            max_size: 8,
            ..PoolOptions::default()
        },
        ..EngineConfig::default()
    };
    let engine = Engine::start(&db.url, config).await?;
    Ok(Bench { engine, db })
}

async fn next_version(subscription: &mut Subscription) -> i64 {
    match subscription.next().await {
        Some(SubscriptionEvent::Delta { snapshot, .. } | SubscriptionEvent::Snapshot(snapshot)) => {
            snapshot.version
        }
        _ => -1,
    }
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    (at(0.50), at(0.99), at(1.0))
}

fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4
}

fn benches(c: &mut Criterion) {
    let rt = Runtime::new().unwrap_or_else(|err| panic!("no runtime: {err}"));
    let bench = rt
        .block_on(setup())
        .unwrap_or_else(|err| panic!("no database for the benchmark: {err:#}"));
    let engine = bench.engine.clone();

    // Delta → subscriber, one at a time.
    let scope = Scope::User(UserId::new());
    let mut subscription = rt
        .block_on(engine.subscribe_unchecked(UserId::new(), scope, None))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut version = rt.block_on(next_version(&mut subscription));
    let one = |engine: &Engine, subscription: &mut Subscription, version: &mut i64| {
        *version += 1;
        let started = Instant::now();
        rt.block_on(async {
            engine.deliver(vec![delta(scope, *version)]).await;
            next_version(subscription).await
        });
        started.elapsed()
    };
    let samples: Vec<Duration> = (0..5000)
        .map(|_| one(&engine, &mut subscription, &mut version))
        .collect();
    let (p50, p99, max) = percentiles(samples);
    println!("delta_to_subscriber: p50 {p50:?}, p99 {p99:?}, max {max:?} (5000 samples)");
    c.bench_function("delta_to_subscriber", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| one(&engine, &mut subscription, &mut version))
                .sum()
        })
    });
    drop(subscription);

    // Throughput through one aggregate.
    let mut group = c.benchmark_group("throughput");
    const BATCH: u64 = 10_000;
    group.throughput(Throughput::Elements(BATCH));
    let single = Scope::User(UserId::new());
    rt.block_on(engine.snapshot(single))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut next = 0i64;
    group.bench_function("deltas_one_aggregate", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let batch: Vec<Published> = (1..=BATCH as i64)
                    .map(|v| delta(single, next + v))
                    .collect();
                next += BATCH as i64;
                let started = Instant::now();
                rt.block_on(engine.deliver(batch));
                total += started.elapsed();
            }
            total
        })
    });

    // Throughput over 10k aggregates (and their memory).
    let scopes: Vec<Scope> = (0..BATCH).map(|_| Scope::User(UserId::new())).collect();
    let before = rss_kib();
    rt.block_on(async {
        for scope in &scopes {
            engine
                .snapshot(*scope)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
    });
    let after = rss_kib();
    println!(
        "memory: {:.1} KiB per idle hydrated user aggregate ({} aggregates, RSS +{} KiB)",
        (after.saturating_sub(before)) as f64 / BATCH as f64,
        BATCH,
        after.saturating_sub(before)
    );
    let mut round = 0i64;
    group.bench_function("deltas_10k_aggregates", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                round += 1;
                let batch: Vec<Published> = scopes.iter().map(|s| delta(*s, round)).collect();
                // Delivered from a runtime worker, as a request handler's write is.
                let engine = engine.clone();
                total += rt
                    .block_on(rt.spawn(async move {
                        let started = Instant::now();
                        engine.deliver(batch).await;
                        started.elapsed()
                    }))
                    .unwrap_or_default();
            }
            total
        })
    });
    group.finish();

    // Hydration of a user with 200 tasks.
    let user = rt
        .block_on(seed_user(&bench.db.url))
        .unwrap_or_else(|e| panic!("{e:#}"));
    c.bench_function("hydrate_user", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                rt.block_on(engine.passivate(Scope::User(user)))
                    .unwrap_or_else(|e| panic!("{e}"));
                let started = Instant::now();
                rt.block_on(engine.snapshot(Scope::User(user)))
                    .unwrap_or_else(|e| panic!("{e}"));
                total += started.elapsed();
            }
            total
        })
    });
}

/// One user owning 200 tasks (half of them with due dates), aggregates rebuilt.
async fn seed_user(url: &str) -> anyhow::Result<UserId> {
    let user = UserId::new();
    let mut conn = AsyncPgConnection::establish(url).await?;
    diesel::sql_query("INSERT INTO users (id, email, password_hash, display_name) VALUES ($1, 'bench@example.com', 'x', 'Bench')")
        .bind::<SqlUuid, _>(user.0)
        .execute(&mut conn)
        .await?;
    diesel::sql_query(
        "INSERT INTO tasks (id, title, owner_id, status, due_at, created_at)
         SELECT gen_random_uuid(), 'task ' || g, $1,
                (ARRAY['pending','in_progress'])[1 + g % 2],
                CASE WHEN g % 2 = 0 THEN now() + g * interval '1 hour' END,
                now() - g * interval '6 hours'
         FROM generate_series(1, 200) g",
    )
    .bind::<SqlUuid, _>(user.0)
    .execute(&mut conn)
    .await?;
    taskpulse_actors::database::rebuild_aggregates(url).await?;
    Ok(user)
}

criterion_group! {
    name = update_latency;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(5));
    targets = benches
}
criterion_main!(update_latency);
