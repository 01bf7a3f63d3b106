//! Helpers for the engine's tests: a fresh database, an engine on it, users.

#![allow(dead_code)] // Each test file uses a different part.

use std::time::Duration;

use diesel::sql_types::{Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use taskpulse_actors::{Engine, EngineConfig, Pool, PoolOptions, UserId, connect_pool};
use taskpulse_testdb::TestDb;

/// An engine on a fresh database.
pub struct TestEngine {
    pub engine: Engine,
    pub pool: Pool,
    pub db: TestDb,
}

impl TestEngine {
    pub async fn start() -> anyhow::Result<Self> {
        Self::with_config(EngineConfig::default()).await
    }

    pub async fn with_config(config: EngineConfig) -> anyhow::Result<Self> {
        let db = TestDb::migrated().await?;
        let pool = connect_pool(
            &db.url,
            &PoolOptions {
                max_size: 20,
                connection_timeout: Duration::from_secs(10),
            },
        )
        .await?;
        let engine = Engine::start(pool.clone(), config).await?;
        Ok(Self { engine, pool, db })
    }

    /// Another node: a second engine, with a pool of its own, on the same database.
    pub async fn peer(&self, config: EngineConfig) -> anyhow::Result<Engine> {
        let pool = connect_pool(
            &self.db.url,
            &PoolOptions {
                max_size: 20,
                connection_timeout: Duration::from_secs(10),
            },
        )
        .await?;
        Ok(Engine::start(pool, config).await?)
    }

    /// A user with an aggregate row, as registration makes one.
    pub async fn user(&self, name: &str) -> anyhow::Result<UserId> {
        let id = UserId::new();
        let mut conn = self.pool.get().await?;
        diesel::sql_query(
            "INSERT INTO users (id, email, password_hash, display_name) VALUES ($1, $2, 'x', $3)",
        )
        .bind::<SqlUuid, _>(id.0)
        .bind::<Text, _>(format!("{name}-{}@example.com", id.0.simple()))
        .bind::<Text, _>(name)
        .execute(&mut conn)
        .await?;
        diesel::sql_query("INSERT INTO user_stats (user_id) VALUES ($1)")
            .bind::<SqlUuid, _>(id.0)
            .execute(&mut conn)
            .await?;
        Ok(id)
    }

    /// Fails with every difference when the aggregates disagree with the truth.
    pub async fn assert_consistent(&self) -> anyhow::Result<()> {
        let report = self.engine.check(Default::default()).await?;
        assert!(
            report.is_consistent(),
            "inconsistent:\n{}",
            report.differences.join("\n")
        );
        Ok(())
    }
}

/// Polls `check` until it holds or `deadline` passes.
pub async fn eventually<F, Fut>(deadline: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let until = tokio::time::Instant::now() + deadline;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
