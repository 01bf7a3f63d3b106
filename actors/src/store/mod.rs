//! Everything that talks to PostgreSQL: locating a server, migrations, the pool, and one file
//! per table family.

pub(crate) mod aggregates;
pub(crate) mod audit;
pub(crate) mod change_log;
mod embedded;
pub(crate) mod hydrate;
mod locate;
mod migrate;
mod pool;
mod refresh_tokens;
pub(crate) mod schema;
pub(crate) mod shares;
mod sql;
pub(crate) mod task_context;
pub(crate) mod tasks;
pub(crate) mod teams;
pub(crate) mod truth;
mod url;
mod users;
pub(crate) mod write;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

pub use audit::{AuditEntry, AuditRecord, write_audit};
pub use embedded::EmbeddedCluster;
pub use locate::{DatabaseOptions, DatabaseSource, LocatedDatabase, locate_database, probe};
pub use migrate::{revert_all_migrations, run_migrations};
pub use pool::{Pool, PoolOptions, PooledConnection, connect_pool, manager_config};
pub use refresh_tokens::{
    NewRefreshToken, SpentRefreshToken, find_refresh_token_family, insert_refresh_token,
    revoke_refresh_family, spend_refresh_token,
};
pub use truth::rebuild_aggregates;
pub use url::{database_name, redact, with_database};
pub use users::{NewUser, UserCredentials, create_user, find_user, find_user_by_email};

use crate::error::{Error, Result};

/// Creates the database `url` names when it does not exist yet; answers whether it did.
pub async fn ensure_database(url: &str) -> Result<bool> {
    let name = database_name(url)?;
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(Error::NoDatabase(format!(
            "database name {name:?} may hold only letters, digits, '_' and '-'"
        )));
    }
    let maintenance = with_database(url, "postgres")?;
    let mut conn = AsyncPgConnection::establish(&maintenance)
        .await
        .map_err(|err| Error::Unavailable(format!("{}: {err}", redact(&maintenance))))?;
    let exists: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
        "(SELECT count(*) FROM pg_database WHERE datname = '{name}')"
    )))
    .get_result(&mut conn)
    .await?;
    if exists > 0 {
        return Ok(false);
    }
    match diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .await
    {
        Ok(_) => Ok(true),
        // Another process created it between our look and our create.
        Err(diesel::result::Error::DatabaseError(_, info))
            if info.message().contains("already exists") =>
        {
            Ok(false)
        }
        Err(err) => Err(err.into()),
    }
}
