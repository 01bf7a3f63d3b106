//! The connection pool every engine query goes through.

use std::sync::Arc;
use std::time::Duration;

use ::bb8::QueueStrategy;
use diesel::ConnectionError;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use futures_util::FutureExt;

use super::pool_watch::{Watch, WatchedManager};
use super::warm_up::warm_up;

/// A pool of async PostgreSQL connections.
pub(crate) type Pool = ::bb8::Pool<WatchedManager>;
/// One connection checked out of the [`Pool`].
pub(crate) type PooledConnection<'a> = ::bb8::PooledConnection<'a, WatchedManager>;

/// Called for every statement the engine's connections send and prepare (for seeing what a
/// command costs; keep it cheap, it runs on the request path).
pub type StatementHook = Arc<dyn Fn(StatementEvent<'_>) + Send + Sync>;

/// What a [`StatementHook`] is told, with the statement's SQL text.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum StatementEvent<'a> {
    /// A statement is about to be sent.
    Sent(&'a str),
    /// A statement was prepared and is kept for reuse on its connection.
    Prepared(&'a str),
}

/// How the pool is sized and how long a caller waits for a connection.
#[derive(Clone)]
pub struct PoolOptions {
    /// The most connections open at once.
    pub max_size: u32,
    /// How many connections are kept open even while idle, opened in the background (at most
    /// `max_size`); `None`: each opened when first needed. Open ahead, a burst — the clients
    /// of a node that died, all back at once — never waits for PostgreSQL to start backends.
    pub min_idle: Option<u32>,
    /// How long a request waits for a free connection before it is told the database is
    /// unavailable.
    pub connection_timeout: Duration,
    /// How many of them one aggregate's writes may hold at once; the others wait in the
    /// engine, not in PostgreSQL's lock queue (`engine/write_gates.rs`).
    pub writes_per_aggregate: u32,
    /// Sees every statement sent on the pool's connections.
    pub on_statement: Option<StatementHook>,
}

impl std::fmt::Debug for PoolOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolOptions")
            .field("max_size", &self.max_size)
            .field("min_idle", &self.min_idle)
            .field("connection_timeout", &self.connection_timeout)
            .field("writes_per_aggregate", &self.writes_per_aggregate)
            .field("on_statement", &self.on_statement.as_ref().map(|_| ".."))
            .finish()
    }
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 16,
            min_idle: None,
            connection_timeout: Duration::from_secs(5),
            writes_per_aggregate: 2,
            on_statement: None,
        }
    }
}

/// Builds a pool; it connects in the background, so a database that is down now does not stop
/// start-up.
pub(crate) fn connect_pool(url: &str, options: &PoolOptions) -> Pool {
    // No test query on checkout (a round trip before every use): a connection that broke is
    // found by the error its next query raises, answered as `Unavailable`, and dropped by the
    // pool when it comes back (`has_broken`: its socket closed, its transaction state lost, or
    // its server gone read-only).
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    let hook = options.on_statement.clone();
    // Every connection carries a `Watch`: it tells the pool to drop a connection whose server
    // went away or turned read-only (a failover, `pool_watch.rs`), and feeds the statement hook.
    config.custom_setup = Box::new(move |url| {
        let hook = hook.clone();
        async move {
            let mut conn = AsyncPgConnection::establish(url).await?;
            // Each statement is prepared once per connection; by default PostgreSQL then plans
            // its first five executions one by one before settling on the generic plan. Ours
            // are key lookups, for which the generic plan is the one it settles on, and the
            // planning is what a burst pays on the connections it wakes (the clients of a
            // node that died, resuming on the others: BENCHMARKS.md, "Storms and fan-out").
            conn.batch_execute("SET plan_cache_mode = force_generic_plan")
                .await
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
            // Best effort: a database not migrated yet (the first start) fails it harmlessly.
            if let Err(err) = warm_up(&mut conn).await {
                tracing::debug!(%err, "a new connection was not warmed up");
            }
            conn.set_instrumentation(Watch {
                hook,
                server_gone: false,
            });
            Ok(conn)
        }
        .boxed()
    });
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    ::bb8::Pool::builder()
        // The connection used last goes out first: under a load that needs few connections the
        // same few PostgreSQL backends do the work, with their caches (and the CPU's) warm,
        // instead of all of them in turn.
        .queue_strategy(QueueStrategy::Lifo)
        .max_size(options.max_size)
        .min_idle(options.min_idle.map(|idle| idle.min(options.max_size)))
        .connection_timeout(options.connection_timeout)
        // Unchecked: start-up does not wait for the connections kept idle either.
        .build_unchecked(WatchedManager(manager))
}

/// How the engine's connections are used, for metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolFigures {
    /// Connections open now.
    pub connections: u32,
    /// Of which idle.
    pub idle_connections: u32,
    /// Checkouts that had to wait for a free connection, since start.
    pub gets_waited: u64,
    /// Checkouts that timed out waiting (answered as `Unavailable`), since start.
    pub gets_timed_out: u64,
    /// Connections dropped because they broke (found by the error they raised), since start.
    pub connections_closed_broken: u64,
    /// Time spent waiting for connections, summed.
    pub wait_time: Duration,
}

pub(crate) fn figures(pool: &Pool) -> PoolFigures {
    let state = pool.state();
    let stats = &state.statistics;
    PoolFigures {
        connections: state.connections,
        idle_connections: state.idle_connections,
        gets_waited: stats.get_waited,
        gets_timed_out: stats.get_timed_out,
        connections_closed_broken: stats.connections_closed_broken,
        wait_time: stats.get_wait_time,
    }
}

#[cfg(test)]
mod tests {
    use diesel::sql_types::Text;
    use diesel_async::RunQueryDsl;
    use taskpulse_testdb::TestDb;

    use super::{PoolOptions, connect_pool};

    #[tokio::test]
    async fn every_connection_plans_a_statement_once_not_per_execution() -> anyhow::Result<()> {
        let db = TestDb::empty().await?;
        let pool = connect_pool(&db.url, &PoolOptions::default());
        let mut conn = pool.get().await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let setting = diesel::dsl::sql::<Text>("current_setting('plan_cache_mode')");
        let mode: String = diesel::select(setting).get_result(&mut *conn).await?;
        assert_eq!(mode, "force_generic_plan");
        Ok(())
    }
}
