//! The engine embedded in a plain Rust program, without HTTP: start it on a database, write,
//! read, subscribe, shut down.
//!
//! `cargo run -p taskpulse-actors --example embed` (uses `DATABASE_URL`, else the local
//! server or an embedded cluster, like `taskpulse serve`).

use std::time::Duration;

use taskpulse_actors::database::{
    DatabaseOptions, ensure_database, locate_database, run_migrations,
};
use taskpulse_actors::{
    DisplayName, Engine, EngineConfig, ExternalIdentity, NewTask, Scope, SubscriptionEvent,
    TaskPatch, TaskStatus,
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
    let engine = Engine::start(&database.url, EngineConfig::default()).await?;

    // The embedding service signs its users in itself: the engine keeps an account (and its
    // aggregate) for each of its identities, made on first sight, with no password of its own.
    let ann = engine
        .external_account(&ExternalIdentity {
            issuer: "https://accounts.example.com".to_owned(),
            subject: format!("ann-{}", uuid::Uuid::now_v7().simple()),
            email: None,
            display_name: Some(DisplayName::parse("Ann")?),
        })
        .await?;

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
