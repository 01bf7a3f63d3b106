//! `taskpulse check`: loads the checked aggregates into a fresh engine (exactly as a server
//! would hydrate them) and compares them, their rows, and `COUNT(*)` over the tasks.

use anyhow::Context;
use taskpulse_actors::{CheckOptions, Engine, EngineConfig};

use crate::config::CheckArgs;
use crate::database;

/// Runs the check; fails (exit 1) when anything differs.
pub async fn run(args: CheckArgs) -> anyhow::Result<()> {
    let database = database::prepare(&args.database, false).await?;
    let engine = Engine::start(
        database.url(),
        EngineConfig {
            pool: args.database.pool_options(),
            ..EngineConfig::default()
        },
    )
    .await
    .context("cannot start the engine")?;
    let options = CheckOptions {
        sample: if args.all { None } else { args.sample },
    };
    let report = engine
        .check(options)
        .await
        .context("the check could not run")?;
    engine.shutdown().await;
    for difference in &report.differences {
        println!("{difference}");
    }
    println!(
        "checked {} users and {} teams: {}",
        report.users,
        report.teams,
        if report.is_consistent() {
            "consistent".to_owned()
        } else {
            format!("{} differences", report.differences.len())
        }
    );
    if report.is_consistent() {
        Ok(())
    } else {
        anyhow::bail!("the aggregates differ from the tasks")
    }
}
