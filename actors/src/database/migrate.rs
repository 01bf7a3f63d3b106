//! The SQL migrations of `actors/migrations/` (inside the crate, so that it packages), embedded
//! in the binary, applied in taskpulse's own schema (the URL's `search_path`, `taskpulse` by
//! default): the migrations name no schema, so everything they create, diesel's own
//! bookkeeping table included, lands there.

use diesel::Connection;
use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel::sql_types::{Array, Bool, Text};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::url::{DEFAULT_SCHEMA, redact, schema_of, with_default_schema};
use crate::error::{Error, Result};

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The tables and types taskpulse's migrations create: a database from before the schema of
/// its own holds (some of) them in `public`. A migration that adds one adds it here.
const TABLES_OF_PUBLIC_DAYS: &[&str] = &[
    "users",
    "refresh_tokens",
    "teams",
    "team_members",
    "tasks",
    "task_shares",
    "audit_log",
    "user_stats",
    "team_stats",
    "team_member_stats",
    "user_activity",
    "team_activity",
    "aggregate_changes",
    "external_identities",
];
const TYPES_OF_PUBLIC_DAYS: &[&str] = &[
    "counter",
    "task_title",
    "task_description",
    "task_status",
    "task_priority",
    "share_permission",
    "audit_action",
    "audit_target_type",
    "aggregate_scope_kind",
    "row_version",
];

/// Applies every pending migration in the URL's schema (created if missing; a database that
/// still holds taskpulse in `public` has it moved there first); answers how many ran.
pub async fn run_migrations(url: &str) -> Result<usize> {
    let url = with_default_schema(url)?;
    prepare_schema(&url).await?;
    with_harness(&url, |conn| {
        conn.run_pending_migrations(MIGRATIONS)
            .map(|done| done.len())
    })
    .await
}

/// Reverts every applied migration in the URL's schema, newest first; answers how many were
/// reverted. The schema itself stays.
pub async fn revert_all_migrations(url: &str) -> Result<usize> {
    let url = with_default_schema(url)?;
    with_harness(&url, |conn| {
        conn.revert_all_migrations(MIGRATIONS)
            .map(|done| done.len())
    })
    .await
}

#[derive(diesel::QueryableByName)]
struct Answer {
    #[diesel(sql_type = Bool)]
    yes: bool,
}

/// Creates the schema, and moves taskpulse's tables into it from `public` where an older
/// version left them (one transaction: a failure leaves the database as it was).
async fn prepare_schema(url: &str) -> Result<()> {
    let schema = schema_of(url)?.unwrap_or_else(|| DEFAULT_SCHEMA.to_owned());
    let mut conn = <AsyncPgConnection as diesel_async::AsyncConnection>::establish(url)
        .await
        .map_err(|err| Error::DatabaseUnavailable(format!("{}: {err}", redact(url))))?;
    let versions: Vec<String> = MigrationSource::<Pg>::migrations(&MIGRATIONS)
        .map_err(|err| Error::Migration(err.to_string()))?
        .iter()
        .map(|migration| migration.name().version().to_string())
        .collect();
    conn.transaction::<_, Error, _>(async |conn| {
        // The schema name was checked to be a plain identifier (`in_schema`).
        diesel::sql_query(format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .execute(conn)
            .await?;
        if schema != "public" && taskpulse_in_public(conn, &schema, &versions[0]).await? {
            move_from_public(conn, &schema, &versions).await?;
            tracing::info!(%schema, "moved taskpulse's tables from public into its own schema");
        }
        Ok(())
    })
    .await
}

/// Whether `public` holds taskpulse (its first migration recorded there, its `users` table
/// beside) and `schema` does not yet: a host application's own diesel migrations in `public`
/// never match.
async fn taskpulse_in_public(
    conn: &mut AsyncPgConnection,
    schema: &str,
    first_version: &str,
) -> Result<bool> {
    let candidates: Answer = diesel::sql_query(format!(
        "SELECT to_regclass('public.__diesel_schema_migrations') IS NOT NULL \
           AND to_regclass('public.users') IS NOT NULL \
           AND to_regclass('{schema}.__diesel_schema_migrations') IS NULL AS yes"
    ))
    .get_result(conn)
    .await?;
    if !candidates.yes {
        return Ok(false);
    }
    let recorded: Answer = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM public.__diesel_schema_migrations WHERE version = $1) AS yes",
    )
    .bind::<Text, _>(first_version)
    .get_result(conn)
    .await?;
    Ok(recorded.yes)
}

/// Moves taskpulse's tables (with their indexes, constraints and data) and types from
/// `public` into `schema`, and its rows of diesel's bookkeeping with them; `public`'s
/// bookkeeping table goes when nothing else is left in it.
async fn move_from_public(
    conn: &mut AsyncPgConnection,
    schema: &str,
    versions: &[String],
) -> Result<()> {
    for table in TABLES_OF_PUBLIC_DAYS {
        diesel::sql_query(format!(
            "ALTER TABLE IF EXISTS public.{table} SET SCHEMA {schema}"
        ))
        .execute(conn)
        .await?;
    }
    for name in TYPES_OF_PUBLIC_DAYS {
        let exists: Answer = diesel::sql_query(format!(
            "SELECT to_regtype('public.{name}') IS NOT NULL AS yes"
        ))
        .get_result(conn)
        .await?;
        if exists.yes {
            diesel::sql_query(format!("ALTER DOMAIN public.{name} SET SCHEMA {schema}"))
                .execute(conn)
                .await?;
        }
    }
    // The table diesel would create, in the new schema.
    diesel::sql_query(format!(
        "CREATE TABLE {schema}.__diesel_schema_migrations (\
           version VARCHAR(50) PRIMARY KEY NOT NULL, \
           run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)"
    ))
    .execute(conn)
    .await?;
    diesel::sql_query(format!(
        "WITH ours AS (DELETE FROM public.__diesel_schema_migrations WHERE version = ANY($1) \
                       RETURNING version, run_on) \
         INSERT INTO {schema}.__diesel_schema_migrations SELECT version, run_on FROM ours"
    ))
    .bind::<Array<Text>, _>(versions)
    .execute(conn)
    .await?;
    let empty: Answer = diesel::sql_query(
        "SELECT NOT EXISTS (SELECT 1 FROM public.__diesel_schema_migrations) AS yes",
    )
    .get_result(conn)
    .await?;
    if empty.yes {
        diesel::sql_query("DROP TABLE public.__diesel_schema_migrations")
            .execute(conn)
            .await?;
    }
    Ok(())
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
        let mut conn = <Harness as Connection>::establish(&url)
            .map_err(|err| Error::DatabaseUnavailable(err.to_string()))?;
        work(&mut conn).map_err(|err| Error::Migration(err.to_string()))
    })
    .await
    .map_err(|err| Error::Migration(format!("migration task failed: {err}")))?
}
