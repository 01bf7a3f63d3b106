//! The engine embedded in a plain Rust program, without HTTP: start it on a database, write,
//! read, subscribe, shut down.
//!
//! `cargo run -p taskpulse-actors --example embed` (uses `DATABASE_URL`, else the local
//! server or an embedded cluster, like `taskpulse serve`).

use std::time::Duration;

use diesel::sql_types::{Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use taskpulse_actors::{
    DatabaseOptions, Engine, EngineConfig, NewTask, PoolOptions, Scope, SubscriptionEvent,
    TaskPatch, TaskStatus, UserId, connect_pool, ensure_database, locate_database, run_migrations,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = DatabaseOptions {
        url: std::env::var("DATABASE_URL").ok(),
        database: "taskpulse_embed_example".to_owned(),
        ..DatabaseOptions::default()
    };
    let database = locate_database(&options).await?;
    ensure_database(&database.url).await?;
    run_migrations(&database.url).await?;
    let pool = connect_pool(&database.url, &PoolOptions::default()).await?;
    let engine = Engine::start(pool.clone(), EngineConfig::default()).await?;

    // Accounts belong to the embedding service; the engine needs the user row and its
    // (zeroed) aggregate row.
    let ann = UserId::new();
    let mut conn = pool.get().await?;
    diesel::sql_query(
        "INSERT INTO users (id, email, password_hash, display_name) VALUES ($1, $2, '-', 'Ann')",
    )
    .bind::<SqlUuid, _>(ann.0)
    .bind::<Text, _>(format!("ann-{}@example.com", ann.0.simple()))
    .execute(&mut conn)
    .await?;
    diesel::sql_query("INSERT INTO user_stats (user_id) VALUES ($1)")
        .bind::<SqlUuid, _>(ann.0)
        .execute(&mut conn)
        .await?;
    drop(conn);

    let mut live = engine.subscribe(ann, Scope::User(ann), None).await?;
    let task = engine
        .create_task(
            ann,
            NewTask {
                title: "Try the engine".to_owned(),
                ..NewTask::default()
            },
        )
        .await?;
    engine
        .update_task(
            ann,
            task.id,
            TaskPatch {
                status: Some(TaskStatus::Completed),
                ..TaskPatch::default()
            },
            None,
        )
        .await?;

    let stats = engine.statistics(ann, Scope::User(ann)).await?;
    println!(
        "statistics: total {}, completed {}, version {}",
        stats.total, stats.completed, stats.version
    );
    for _ in 0..3 {
        match tokio::time::timeout(Duration::from_secs(5), live.next()).await? {
            Some(SubscriptionEvent::Snapshot(s)) => println!("snapshot at version {}", s.version),
            Some(SubscriptionEvent::Delta { delta, snapshot }) => {
                println!("delta to version {}: {:?}", snapshot.version, delta.counts)
            }
            other => println!("{other:?}"),
        }
    }
    let report = engine.check(Default::default()).await?;
    println!("consistent: {}", report.is_consistent());
    engine.shutdown().await;
    if stats.completed == 1 && report.is_consistent() {
        Ok(())
    } else {
        Err("unexpected state".into())
    }
}
