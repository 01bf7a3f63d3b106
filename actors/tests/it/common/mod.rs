//! Helpers for the engine's tests: a fresh database, an engine on it, users.

#![allow(dead_code)] // Each test file uses a different part.

use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection};
use taskpulse_actors::{DisplayName, Email, Engine, EngineConfig, NewAccount, PoolOptions, UserId};
use taskpulse_testdb::TestDb;

/// An engine on a fresh database.
pub struct TestEngine {
    pub engine: Engine,
    pub db: TestDb,
}

/// The pool the tests' engines use: roomy, and patient under a loaded machine.
pub fn pool_options() -> PoolOptions {
    PoolOptions {
        max_size: 20,
        connection_timeout: Duration::from_secs(10),
        ..PoolOptions::default()
    }
}

impl TestEngine {
    pub async fn start() -> anyhow::Result<Self> {
        Self::with_config(EngineConfig::default()).await
    }

    pub async fn with_config(config: EngineConfig) -> anyhow::Result<Self> {
        let db = TestDb::migrated().await?;
        let engine = Engine::start(&db.url, with_test_pool(config)).await?;
        Ok(Self { engine, db })
    }

    /// Another node: a second engine, with a pool of its own, on the same database.
    pub async fn peer(&self, config: EngineConfig) -> anyhow::Result<Engine> {
        Ok(Engine::start(&self.db.url, with_test_pool(config)).await?)
    }

    /// A connection of the test's own, for looking at (or tampering with) the rows directly.
    pub async fn conn(&self) -> anyhow::Result<AsyncPgConnection> {
        Ok(AsyncPgConnection::establish(&self.db.url).await?)
    }

    /// A user with an aggregate row.
    pub async fn user(&self, name: &str) -> anyhow::Result<UserId> {
        let email = format!("{name}-{}@example.com", uuid::Uuid::now_v7().simple());
        let account = NewAccount {
            email: Email::parse(&email).map_err(anyhow::Error::msg)?,
            display_name: DisplayName::parse(name).map_err(anyhow::Error::msg)?,
            password_hash: "!".to_owned(),
        };
        Ok(self.engine.create_account(account).await?.id)
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

/// `config` with the tests' pool.
fn with_test_pool(config: EngineConfig) -> EngineConfig {
    EngineConfig {
        pool: pool_options(),
        ..config
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
