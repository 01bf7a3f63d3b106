//! Everything that reads or writes the engine's tables: the pool, and one file per table
//! family. The only module that names a table.

pub(crate) mod aggregates;
pub(crate) mod audit;
pub(crate) mod change_log;
pub(crate) mod durable_outbox;
pub(crate) mod email_outbox;
pub(crate) mod export;
pub(crate) mod external_identities;
pub(crate) mod feed;
pub(crate) mod hydrate;
pub(crate) mod import;
pub(crate) mod notifications;
pub(crate) mod personal_tokens;
mod pool;
mod pool_watch;
#[cfg(feature = "local-accounts")]
pub(crate) mod refresh_tokens;
pub(crate) mod schema;
#[cfg(feature = "demo-data")]
pub(crate) mod seed;
pub(crate) mod shares;
mod sql;
pub(crate) mod task_context;
pub(crate) mod tasks;
pub(crate) mod teams;
pub(crate) mod truth;
pub(crate) mod users;
mod warm_up;
pub(crate) mod webhook_outbox;
pub(crate) mod webhooks;
pub(crate) mod write;

pub use audit::AuditRecord;
pub(crate) use audit::{AuditEntry, write_audit};
pub(crate) use pool::{Pool, PooledConnection, connect_pool, figures as pool_figures};
pub use pool::{PoolFigures, PoolOptions, StatementEvent, StatementHook};
pub(crate) use pool_watch::drop_if_unavailable;

/// One trivial query: does the database answer?
pub(crate) async fn ping(conn: &mut diesel_async::AsyncPgConnection) -> crate::error::Result<()> {
    use diesel_async::RunQueryDsl;
    diesel::sql_query("SELECT 1").execute(conn).await?;
    Ok(())
}
