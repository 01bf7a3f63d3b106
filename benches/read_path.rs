//! Dashboard statistics for one user: read from the live aggregate (what taskpulse serves)
//! versus the usual approach — separate `SELECT count(*)` queries per request over the same
//! data, through a pool set up like the engine's — with 10k, 100k and 1M tasks over 100
//! users (so the user read owns 100, 1 000 and 10 000 tasks). Target: ≥ 20× the count(*) path at 1M tasks.
//! Run: `cargo bench --bench read_path` (seeding 1M tasks takes about half a minute).

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use diesel::sql_types::{BigInt, Uuid as SqlUuid};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod, bb8,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use taskpulse_actors::{Engine, EngineConfig, PoolOptions, Scope, UserId};
use taskpulse_testdb::TestDb;
use tokio::runtime::Runtime;

const USERS: i64 = 100;

/// 100 users, `tasks` tasks spread evenly over them, a tenth shared; aggregates rebuilt.
async fn seed(url: &str, tasks: i64) -> anyhow::Result<UserId> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    diesel::sql_query(
        "INSERT INTO users (id, email, password_hash, display_name)
         SELECT gen_random_uuid(), 'bench-' || g || '@example.com', 'x', 'Bench ' || g
         FROM generate_series(1, $1) g",
    )
    .bind::<BigInt, _>(USERS)
    .execute(&mut conn)
    .await?;
    diesel::sql_query(
        "WITH u AS (SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM users)
         INSERT INTO tasks (id, title, owner_id, status, priority, due_at, created_at, completed_at)
         SELECT gen_random_uuid(), 'task ' || g, u.id,
                (ARRAY['pending','in_progress','completed'])[1 + g % 3],
                (ARRAY['low','medium','high','urgent'])[1 + g % 4],
                CASE WHEN g % 2 = 0 THEN now() + (g % 20 - 10) * interval '1 day' END,
                now() - (g % 60) * interval '1 day',
                CASE WHEN g % 3 = 2 THEN now() - (g % 30) * interval '1 hour' END
         FROM generate_series(1, $1) g JOIN u ON u.n = g % $2",
    )
    .bind::<BigInt, _>(tasks)
    .bind::<BigInt, _>(USERS)
    .execute(&mut conn)
    .await?;
    diesel::sql_query(
        "INSERT INTO task_shares (task_id, user_id, permission)
         SELECT t.id, (SELECT id FROM users WHERE id <> t.owner_id ORDER BY id LIMIT 1), 'view'
         FROM tasks t WHERE random() < 0.1 ON CONFLICT DO NOTHING",
    )
    .execute(&mut conn)
    .await?;
    diesel::sql_query("ANALYZE").execute(&mut conn).await?;
    taskpulse_actors::database::rebuild_aggregates(url).await?;
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = SqlUuid)]
        id: uuid::Uuid,
    }
    let user: Id = diesel::sql_query("SELECT id FROM users ORDER BY id LIMIT 1")
        .get_result(&mut conn)
        .await?;
    Ok(UserId(user.id))
}

/// The usual dashboard's own pool: what the `COUNT(*)` way goes through.
type CountingPool = bb8::Pool<AsyncPgConnection>;

async fn counting_pool(url: &str) -> anyhow::Result<CountingPool> {
    // As the engine's: no query on checkout.
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    Ok(bb8::Pool::builder().max_size(8).build(manager).await?)
}

/// The usual dashboard: one `count(*)` per number, every request.
async fn counted_statistics(pool: &CountingPool, user: UserId) -> anyhow::Result<i64> {
    let mut conn = pool.get().await?;
    let queries = [
        "SELECT count(*) AS n FROM tasks WHERE owner_id = $1",
        "SELECT count(*) AS n FROM tasks WHERE owner_id = $1 AND status = 'pending'",
        "SELECT count(*) AS n FROM tasks WHERE owner_id = $1 AND status = 'in_progress'",
        "SELECT count(*) AS n FROM tasks WHERE owner_id = $1 AND status = 'completed'",
        "SELECT count(*) AS n FROM tasks WHERE owner_id = $1 AND status <> 'completed' AND due_at < now()",
        "SELECT count(*) AS n FROM task_shares WHERE user_id = $1",
        "SELECT count(DISTINCT s.task_id) AS n FROM task_shares s JOIN tasks t ON t.id = s.task_id WHERE t.owner_id = $1",
    ];
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut sum = 0;
    for sql in queries {
        let row: N = diesel::sql_query(sql)
            .bind::<SqlUuid, _>(user.0)
            .get_result(&mut conn)
            .await?;
        sum += row.n;
    }
    Ok(sum)
}

fn read_path(c: &mut Criterion) {
    let rt = Runtime::new().unwrap_or_else(|err| panic!("no runtime: {err}"));
    let mut group = c.benchmark_group("statistics_read");
    for tasks in [10_000i64, 100_000, 1_000_000] {
        let (db, pool, engine, user) = rt
            .block_on(async {
                let db = TestDb::migrated().await?;
                let user = seed(&db.url, tasks).await?;
                let pool = counting_pool(&db.url).await?;
                let engine = Engine::start(
                    &db.url,
                    EngineConfig {
                        pool: PoolOptions {
                            max_size: 8,
                            ..PoolOptions::default()
                        },
                        ..EngineConfig::default()
                    },
                )
                .await?;
                engine.statistics(user, Scope::User(user)).await?;
                anyhow::Ok((db, pool, engine, user))
            })
            .unwrap_or_else(|err| panic!("no database for the benchmark: {err:#}"));
        group.bench_with_input(BenchmarkId::new("live_aggregate", tasks), &tasks, |b, _| {
            b.to_async(&rt).iter(|| async {
                engine
                    .statistics(user, Scope::User(user))
                    .await
                    .map(|s| s.total)
                    .unwrap_or(-1)
            })
        });
        group.bench_with_input(BenchmarkId::new("count_queries", tasks), &tasks, |b, _| {
            b.to_async(&rt)
                .iter(|| async { counted_statistics(&pool, user).await.unwrap_or(-1) })
        });
        rt.block_on(engine.shutdown());
        drop((engine, pool, db));
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = read_path
}
criterion_main!(benches);
