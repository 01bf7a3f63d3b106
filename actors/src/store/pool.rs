//! The connection pool every engine query goes through.

use std::time::Duration;

use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::bb8;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};

use crate::error::{Error, Result};

/// A pool of async PostgreSQL connections.
pub type Pool = bb8::Pool<AsyncPgConnection>;
/// One connection checked out of the [`Pool`].
pub type PooledConnection<'a> = bb8::PooledConnection<'a, AsyncPgConnection>;

/// How the pool is sized and how long a caller waits for a connection.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// The most connections open at once.
    pub max_size: u32,
    /// How long a request waits for a free connection before it is told the database is
    /// unavailable.
    pub connection_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 16,
            connection_timeout: Duration::from_secs(5),
        }
    }
}

/// How the engine's pools make and check connections.
pub fn manager_config() -> ManagerConfig<AsyncPgConnection> {
    // No test query on checkout (a round trip before every use): a connection that broke is
    // found by the error its next query raises, answered as `Unavailable`, and dropped by the
    // pool when it comes back (`is_broken`: its socket closed or its transaction state lost).
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    config
}

/// Builds a pool; it connects lazily, so a database that is down now does not stop start-up.
pub async fn connect_pool(url: &str, options: &PoolOptions) -> Result<Pool> {
    let manager =
        AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, manager_config());
    bb8::Pool::builder()
        .max_size(options.max_size)
        .connection_timeout(options.connection_timeout)
        .build(manager)
        .await
        .map_err(|err| Error::Unavailable(err.to_string()))
}
