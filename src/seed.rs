//! `taskpulse seed`: realistic demo data, generated inside PostgreSQL with set-based inserts
//! (a million tasks take seconds), then every aggregate row rebuilt from it (the engine's
//! `database::seed`).
//!
//! Run it while no server serves the database: running servers would not know of the rows.

use std::time::Instant;

use anyhow::Context;
use taskpulse_actors::database::{DemoData, seed};

use crate::config::SeedArgs;
use crate::database;

/// Every seeded user signs in with this password.
pub const DEMO_PASSWORD: &str = "taskpulse-demo";

/// Seeds the database and prints what it made.
pub async fn run(args: SeedArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let database = database::prepare(&args.database, true).await?;
    let hash = tokio::task::spawn_blocking(|| taskpulse_api::auth::hash_password(DEMO_PASSWORD))
        .await?
        .map_err(|err| anyhow::anyhow!("cannot hash the demo password: {err}"))?;
    // Emails carry a tag of this run, so that seeding twice never collides.
    let tag = uuid::Uuid::now_v7().simple().to_string()[24..].to_owned();

    let data = DemoData {
        tag: tag.clone(),
        password_hash: hash,
        users: args.users,
        teams: args.teams,
        tasks: args.tasks,
    };
    seed(database.url(), &data)
        .await
        .context("seeding failed")?;

    println!(
        "seeded {} users, {} teams, {} tasks in {:.1} s; sign in as seed-{tag}-1@example.com \
         with password {DEMO_PASSWORD:?}",
        args.users,
        args.teams,
        args.tasks,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
