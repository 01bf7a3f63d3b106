//! The engine embedded in a plain Rust program, without HTTP: start it on a database, write,
//! read, subscribe, shut down.
//!
//! `cargo run -p taskpulse-actors --example embed` (uses `DATABASE_URL`, else the local
//! server or an embedded cluster, like `taskpulse serve`).

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use taskpulse_actors::database::{
    DatabaseOptions, ensure_database, locate_database, run_migrations,
};
use taskpulse_actors::{
    DisplayName, Engine, EngineConfig, ExternalIdentity, NewTask, Scope, Snapshot, Subscription,
    SubscriptionEvent, TaskPatch, TaskStatus,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
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
    // How many events show the two writes is not fixed: a busy engine may hand the first
    // snapshot out after one write or both. So follow the subscription to the version just
    // read, with one generous deadline for the whole wait.
    let followed = tokio::time::timeout(Duration::from_secs(30), follow(&mut live, stats.version))
        .await
        .map_err(|_| format!("the subscription never reached version {}", stats.version))??;
    let report = engine.check(Default::default()).await?;
    println!("consistent: {}", report.is_consistent());
    engine.shutdown().await;
    let counts = followed.aggregate.counts;
    if stats.completed == 1
        && counts.completed == 1
        && counts.total() == 1
        && report.is_consistent()
    {
        Ok(())
    } else {
        Err("unexpected state".into())
    }
}

/// Follows a subscription as the engine promises it (a snapshot at any version, then
/// consecutive deltas, a fresh snapshot again when the subscriber fell behind) until it shows
/// `version`, and answers that state.
async fn follow(live: &mut Subscription, version: i64) -> Result<Arc<Snapshot>, Box<dyn Error>> {
    let mut state: Option<Arc<Snapshot>> = None;
    loop {
        match live.next().await {
            Some(SubscriptionEvent::Snapshot(snapshot)) => {
                println!("snapshot at version {}", snapshot.version);
                state = Some(snapshot);
            }
            Some(SubscriptionEvent::Delta { delta, snapshot }) => {
                let before = state.as_ref().map(|s| s.version);
                if before != Some(snapshot.version - 1) {
                    return Err(format!(
                        "a delta to version {} after {before:?}",
                        snapshot.version
                    )
                    .into());
                }
                println!("delta to version {}: {:?}", snapshot.version, delta.counts);
                state = Some(snapshot);
            }
            // Only resumes (`since_version`) end their replay with it; this one does not resume.
            Some(SubscriptionEvent::Resumed { version }) => println!("live again at {version}"),
            Some(SubscriptionEvent::Revoked) | None => return Err("subscription revoked".into()),
        }
        if let Some(state) = state.as_ref().filter(|s| s.version >= version) {
            return Ok(Arc::clone(state));
        }
    }
}
