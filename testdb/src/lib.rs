//! A fresh PostgreSQL database per test, cloned from a migrated template
//! (`CREATE DATABASE … TEMPLATE …`) and dropped when the test is done. The server is found the
//! way `taskpulse serve` finds it, so tests pass where a server runs and where only the
//! PostgreSQL programs are installed.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use taskpulse_actors::database::{
    DEFAULT_SCHEMA, DatabaseOptions, LocatedDatabase, in_schema, locate_database, run_migrations,
    with_database,
};
use tokio::sync::OnceCell;

/// Serialises template creation across concurrent test processes.
const TEMPLATE_LOCK_KEY: i64 = 0x7461_736b_7075_6c73;

static SERVER: OnceCell<LocatedDatabase> = OnceCell::const_new();

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDb {
    /// Its connection URL.
    pub url: String,
    name: String,
    admin_url: String,
}

impl TestDb {
    /// A fresh database with every migration applied.
    pub async fn migrated() -> anyhow::Result<Self> {
        let admin_url = admin_url().await?;
        let template = ensure_template(&admin_url).await?;
        Self::create(admin_url, Some(&template)).await
    }

    /// A fresh, empty database (no migrations), for testing the migrations themselves.
    pub async fn empty() -> anyhow::Result<Self> {
        Self::create(admin_url().await?, None).await
    }

    /// A connection to this database.
    pub async fn connect(&self) -> anyhow::Result<AsyncPgConnection> {
        connect(&self.url).await
    }

    async fn create(admin_url: String, template: Option<&str>) -> anyhow::Result<Self> {
        let name = format!("taskpulse_test_{}", uuid::Uuid::now_v7().simple());
        let sql = match template {
            Some(template) => format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""),
            None => format!("CREATE DATABASE \"{name}\""),
        };
        let mut conn = connect(&admin_url).await?;
        // Concurrent clones of one template can briefly see each other as "other users".
        let mut attempt = 0;
        loop {
            match diesel::sql_query(&sql).execute(&mut conn).await {
                Ok(_) => break,
                Err(err) if attempt < 50 && err.to_string().contains("being accessed") => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(err) => return Err(err).context("cannot create the test database"),
            }
        }
        Ok(Self {
            // In taskpulse's schema: the tests' own connections find its tables too.
            url: in_schema(&with_database(&admin_url, &name)?, DEFAULT_SCHEMA)?,
            name,
            admin_url,
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        // Drop runs outside async code (and perhaps on a runtime thread): use a thread of its
        // own with a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut conn = connect(&admin_url).await?;
                diesel::sql_query(sql).execute(&mut conn).await?;
                anyhow::Ok(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: could not drop test database {}", self.name);
        }
    }
}

/// The maintenance database of the server the tests use.
async fn admin_url() -> anyhow::Result<String> {
    let located = SERVER
        .get_or_try_init(|| async {
            let options = DatabaseOptions {
                url: std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()),
                data_dir: target_dir().join("taskpulse-test"),
                database: "postgres".to_owned(),
                // Shared by every test process of a run; left running for the next run.
                keep_embedded_running: true,
            };
            locate_database(&options).await
        })
        .await?;
    Ok(with_database(&located.url, "postgres")?)
}

/// Builds the template for the current migrations once (under an advisory lock, since test
/// processes run in parallel) and answers its name.
async fn ensure_template(admin_url: &str) -> anyhow::Result<String> {
    let template = format!(
        "taskpulse_template_{DEFAULT_SCHEMA}_{}",
        migrations_fingerprint()?
    );
    let mut conn = connect(admin_url).await?;
    diesel::sql_query(format!("SELECT pg_advisory_lock({TEMPLATE_LOCK_KEY})"))
        .execute(&mut conn)
        .await?;
    let outcome = build_template_if_missing(&mut conn, admin_url, &template).await;
    diesel::sql_query(format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK_KEY})"))
        .execute(&mut conn)
        .await?;
    outcome.map(|()| template)
}

async fn build_template_if_missing(
    conn: &mut AsyncPgConnection,
    admin_url: &str,
    template: &str,
) -> anyhow::Result<()> {
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let found: Found = diesel::sql_query(format!(
        "SELECT count(*) AS n FROM pg_database WHERE datname = '{template}'"
    ))
    .get_result(conn)
    .await?;
    if found.n > 0 {
        return Ok(());
    }
    // Built under another name and renamed when complete, so that a crash never leaves a
    // half-migrated template behind.
    let building = format!("{template}_building");
    diesel::sql_query(format!(
        "DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"
    ))
    .execute(conn)
    .await?;
    diesel::sql_query(format!("CREATE DATABASE \"{building}\""))
        .execute(conn)
        .await?;
    run_migrations(&with_database(admin_url, &building)?)
        .await
        .context("cannot migrate the test template")?;
    diesel::sql_query(format!(
        "ALTER DATABASE \"{building}\" RENAME TO \"{template}\""
    ))
    .execute(conn)
    .await?;
    Ok(())
}

/// A hash of the engine's migrations (`actors/migrations/`): a changed migration gets a new
/// template.
fn migrations_fingerprint() -> anyhow::Result<String> {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../actors/migrations");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let migration = entry?.path();
        for file in ["up.sql", "down.sql"] {
            let path = migration.join(file);
            if path.is_file() {
                files.push((path.clone(), std::fs::read_to_string(&path)?));
            }
        }
    }
    files.sort();
    let mut hasher = DefaultHasher::new();
    for (path, text) in &files {
        path.file_name().hash(&mut hasher);
        path.parent().and_then(|p| p.file_name()).hash(&mut hasher);
        text.hash(&mut hasher);
    }
    if files.is_empty() {
        bail!("no migrations found in {}", dir.display());
    }
    Ok(format!("{:016x}", hasher.finish()))
}

/// The workspace's `target/` directory.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

async fn connect(url: &str) -> anyhow::Result<AsyncPgConnection> {
    AsyncPgConnection::establish(url).await.with_context(|| {
        format!(
            "cannot connect to {}",
            taskpulse_actors::database::redact(url)
        )
    })
}
