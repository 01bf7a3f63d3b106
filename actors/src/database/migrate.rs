//! The SQL migrations of `migrations/`, embedded in the binary.

use diesel::Connection;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::{Error, Result};

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations");

/// Applies every pending migration; answers how many ran.
pub async fn run_migrations(url: &str) -> Result<usize> {
    with_harness(url, |conn| {
        conn.run_pending_migrations(MIGRATIONS)
            .map(|done| done.len())
    })
    .await
}

/// Reverts every applied migration, newest first; answers how many were reverted.
pub async fn revert_all_migrations(url: &str) -> Result<usize> {
    with_harness(url, |conn| {
        conn.revert_all_migrations(MIGRATIONS)
            .map(|done| done.len())
    })
    .await
}

type Harness = AsyncConnectionWrapper<AsyncPgConnection>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Diesel's migration harness is synchronous: it runs on a blocking thread over a wrapped
/// async connection (see STACK.md on `block_in_place`).
async fn with_harness<T: Send + 'static>(
    url: &str,
    work: impl FnOnce(&mut Harness) -> Result<T, BoxError> + Send + 'static,
) -> Result<T> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn =
            Harness::establish(&url).map_err(|err| Error::Unavailable(err.to_string()))?;
        work(&mut conn).map_err(|err| Error::Migration(err.to_string()))
    })
    .await
    .map_err(|err| Error::Migration(format!("migration task failed: {err}")))?
}
