//! One delta to 1, 100, 1 000 and 10 000 subscribers of one aggregate: from handing the
//! committed delta to the engine until the last subscriber holds it. Target: ≤ 5 ms p99 at
//! 1 000 subscribers (p50/p99 printed from 200 samples per size).
//! Run: `cargo bench --bench fanout`.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use taskpulse_actors::{
    Counts, Delta, Engine, EngineConfig, Published, Scope, SubscriptionEvent, UserId,
};
use taskpulse_testdb::TestDb;
use tokio::runtime::Runtime;
use tokio::sync::Notify;

/// Counts the subscribers that reached the current version.
struct Finish {
    target: AtomicI64,
    reached: AtomicUsize,
    all: Notify,
}

fn fanout(c: &mut Criterion) {
    let rt = Runtime::new().unwrap_or_else(|err| panic!("no runtime: {err}"));
    let (_db, engine) = rt
        .block_on(async {
            let db = TestDb::migrated().await?;
            let engine = Engine::start(&db.url, EngineConfig::default()).await?;
            anyhow::Ok((db, engine))
        })
        .unwrap_or_else(|err| panic!("no database for the benchmark: {err:#}"));
    let mut group = c.benchmark_group("fanout");
    for subscribers in [1usize, 100, 1_000, 10_000] {
        let scope = Scope::User(UserId::new());
        let finish = Arc::new(Finish {
            target: AtomicI64::new(0),
            reached: AtomicUsize::new(0),
            all: Notify::new(),
        });
        let mut consumers = Vec::new();
        for _ in 0..subscribers {
            let mut subscription = rt
                .block_on(engine.subscribe_unchecked(UserId::new(), scope, None))
                .unwrap_or_else(|e| panic!("{e}"));
            let finish = Arc::clone(&finish);
            consumers.push(rt.spawn(async move {
                while let Some(event) = subscription.next().await {
                    if let SubscriptionEvent::Delta { snapshot, .. } = event
                        && snapshot.version == finish.target.load(Ordering::Acquire)
                        && finish.reached.fetch_add(1, Ordering::AcqRel) + 1 == subscribers
                    {
                        finish.all.notify_one();
                    }
                }
            }));
        }
        let mut version = 0i64;
        let mut once = || {
            version += 1;
            finish.target.store(version, Ordering::Release);
            finish.reached.store(0, Ordering::Release);
            let delta = Arc::new(Delta {
                counts: Counts {
                    pending: 1,
                    ..Counts::default()
                },
                ..Delta::default()
            });
            let started = Instant::now();
            rt.block_on(async {
                let waiting = finish.all.notified();
                engine
                    .deliver(vec![Published {
                        scope,
                        version,
                        as_of: Utc::now(),
                        delta,
                    }])
                    .await;
                let _ = tokio::time::timeout(Duration::from_secs(10), waiting).await;
            });
            started.elapsed()
        };
        let mut samples: Vec<Duration> = (0..200).map(|_| once()).collect();
        samples.sort_unstable();
        println!(
            "fanout to {subscribers}: p50 {:?}, p99 {:?} (200 samples)",
            samples[100], samples[197]
        );
        group.bench_with_input(
            BenchmarkId::from_parameter(subscribers),
            &subscribers,
            |b, _| b.iter_custom(|iters| (0..iters).map(|_| once()).sum()),
        );
        for consumer in consumers {
            consumer.abort();
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = fanout
}
criterion_main!(benches);
