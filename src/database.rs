//! Start-up's database steps: locate, create, migrate.

use anyhow::Context;
use taskpulse_actors::database::{
    DatabaseSource, LocatedDatabase, ensure_database, in_schema, locate_database, redact,
    run_migrations, with_default_schema,
};

use crate::config::DatabaseArgs;

/// A ready database: located, created and migrated (unless told not to). Holding it keeps an
/// embedded cluster running.
pub struct Database {
    /// Where it is.
    pub located: LocatedDatabase,
}

impl Database {
    /// Its connection URL.
    pub fn url(&self) -> &str {
        &self.located.url
    }
}

/// Locates the database, creates it when missing, applies migrations when `migrate`.
pub async fn prepare(args: &DatabaseArgs, migrate: bool) -> anyhow::Result<Database> {
    let mut located = locate_database(&args.database_options()).await?;
    located.url = match &args.database_schema {
        Some(schema) => in_schema(&located.url, schema)?,
        None => with_default_schema(&located.url)?,
    };
    let shown = redact(&located.url);
    match located.source {
        DatabaseSource::Configured => tracing::info!(url = %shown, "using the configured database"),
        DatabaseSource::LocalServer => {
            tracing::info!(url = %shown, "using the local PostgreSQL server")
        }
        DatabaseSource::Embedded => {
            tracing::info!(url = %shown, "started the embedded PostgreSQL cluster")
        }
    }
    if ensure_database(&located.url)
        .await
        .with_context(|| format!("cannot reach the database at {shown}"))?
    {
        tracing::info!(url = %shown, "created the database");
    }
    if migrate {
        let applied = run_migrations(&located.url)
            .await
            .with_context(|| format!("cannot migrate the database at {shown}"))?;
        tracing::info!(applied, "migrations are up to date");
    }
    Ok(Database { located })
}

/// `taskpulse migrate`.
pub async fn migrate_only(args: &DatabaseArgs) -> anyhow::Result<()> {
    prepare(args, true).await.map(|_| ())
}
