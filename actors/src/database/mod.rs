//! Getting a database ready for an engine, none of which needs one running: finding or
//! starting a PostgreSQL server, creating the database, migrations, and bulk loads (demo data
//! with the `demo-data` feature, rebuilding every aggregate row from the tasks).

#[cfg(feature = "embedded-cluster")]
mod embedded;
mod locate;
mod migrate;
mod url;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

#[cfg(feature = "demo-data")]
pub use crate::store::seed::DemoData;
#[cfg(feature = "embedded-cluster")]
pub use embedded::EmbeddedCluster;
pub use locate::{DatabaseOptions, DatabaseSource, LocatedDatabase, locate_database, probe};
pub use migrate::{revert_all_migrations, run_migrations};
pub use url::{
    DEFAULT_SCHEMA, database_name, in_schema, parse as parse_url, redact, schema_of, with_database,
    with_default_schema,
};

use crate::error::{Error, Result};

/// Generates demo data and rebuilds every aggregate row, in one transaction. Run it while no
/// engine serves the database: running engines would not know of the rows.
#[cfg(feature = "demo-data")]
pub async fn seed(url: &str, data: &DemoData) -> Result<()> {
    let mut conn = connect(url).await?;
    crate::store::seed::seed(&mut conn, data).await
}

/// Recomputes every aggregate row from the tasks and bumps every version, in one transaction.
/// For bulk loads made behind the engine's back; live engines see the versions jump and
/// re-read their rows.
pub async fn rebuild_aggregates(url: &str) -> Result<()> {
    let mut conn = connect(url).await?;
    crate::store::truth::rebuild_aggregates(&mut conn).await
}

/// A connection in the URL's schema (taskpulse's by default).
async fn connect(url: &str) -> Result<AsyncPgConnection> {
    let url = with_default_schema(url)?;
    AsyncPgConnection::establish(&url)
        .await
        .map_err(|err| Error::DatabaseUnavailable(format!("{}: {err}", redact(&url))))
}

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
        .map_err(|err| Error::DatabaseUnavailable(format!("{}: {err}", redact(&maintenance))))?;
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
