//! Finding a PostgreSQL to run on, the zero-configuration way (docs/architecture.md,
//! "Configuration and finding a PostgreSQL"): an explicit URL; else a server on
//! 127.0.0.1:5432; else a private cluster made from the installed PostgreSQL programs.

use std::path::PathBuf;
use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection};

#[cfg(feature = "embedded-cluster")]
use super::embedded::EmbeddedCluster;
use super::url::{parse, redact, with_database};
use crate::error::{Error, Result};

/// The local server tried when no URL is given.
pub const LOCAL_SERVER: &str = "postgres://postgres@127.0.0.1:5432";

/// How a database is to be found.
#[derive(Debug, Clone)]
pub struct DatabaseOptions {
    /// An explicit connection URL; when set nothing else is tried.
    pub url: Option<String>,
    /// Where an embedded cluster lives (in `<data_dir>/postgres`).
    pub data_dir: PathBuf,
    /// The database used on the local server or the embedded cluster.
    pub database: String,
    /// Leave an embedded cluster running when the handle is dropped, for the next process to
    /// reuse (the test harness does; a server stops its cluster).
    pub keep_embedded_running: bool,
}

impl Default for DatabaseOptions {
    fn default() -> Self {
        Self {
            url: None,
            data_dir: PathBuf::from(".taskpulse"),
            database: "taskpulse".to_owned(),
            keep_embedded_running: false,
        }
    }
}

/// Where the database was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseSource {
    /// The URL given in the configuration.
    Configured,
    /// The server answering on 127.0.0.1:5432.
    LocalServer,
    /// A private cluster started from the installed PostgreSQL programs (feature
    /// `embedded-cluster`).
    Embedded,
}

/// A located PostgreSQL database. Holding it keeps an embedded cluster alive.
#[derive(Debug)]
pub struct LocatedDatabase {
    /// The URL of the taskpulse database (it may not exist yet: see [`super::ensure_database`]).
    pub url: String,
    /// How it was found.
    pub source: DatabaseSource,
    /// The embedded cluster, when that is where the database lives.
    #[cfg(feature = "embedded-cluster")]
    pub embedded: Option<EmbeddedCluster>,
}

/// Finds (or starts) a PostgreSQL server, trying in the order of docs/architecture.md.
pub async fn locate_database(options: &DatabaseOptions) -> Result<LocatedDatabase> {
    if let Some(url) = &options.url {
        // Read as the driver will read it, now: a bad URL is one clear line at start-up rather
        // than a connection error later.
        parse(url)?;
        return Ok(LocatedDatabase {
            url: url.clone(),
            source: DatabaseSource::Configured,
            #[cfg(feature = "embedded-cluster")]
            embedded: None,
        });
    }
    let local = format!("{LOCAL_SERVER}/postgres");
    let local_error = match probe(&local).await {
        Ok(()) => {
            return Ok(LocatedDatabase {
                url: with_database(&local, &options.database)?,
                source: DatabaseSource::LocalServer,
                #[cfg(feature = "embedded-cluster")]
                embedded: None,
            });
        }
        Err(err) => err,
    };
    embedded(options, &local_error).await
}

#[cfg(feature = "embedded-cluster")]
async fn embedded(options: &DatabaseOptions, local_error: &str) -> Result<LocatedDatabase> {
    let cluster_dir = options.data_dir.join("postgres");
    match EmbeddedCluster::start(&cluster_dir, options.keep_embedded_running).await {
        Ok(cluster) => Ok(LocatedDatabase {
            url: cluster.url(&options.database),
            source: DatabaseSource::Embedded,
            embedded: Some(cluster),
        }),
        Err(Error::Embedded(why)) => Err(Error::NoDatabase(format!(
            "no PostgreSQL found: DATABASE_URL is not set; {LOCAL_SERVER} did not answer \
             ({local_error}); and no embedded cluster could be started ({why}). Set DATABASE_URL, \
             start a server on 127.0.0.1:5432, or install PostgreSQL's server programs \
             (e.g. `apt-get install postgresql`)"
        ))),
        Err(other) => Err(other),
    }
}

#[cfg(not(feature = "embedded-cluster"))]
async fn embedded(_: &DatabaseOptions, local_error: &str) -> Result<LocatedDatabase> {
    Err(Error::NoDatabase(format!(
        "no PostgreSQL found: DATABASE_URL is not set and {LOCAL_SERVER} did not answer \
         ({local_error}); this build has no embedded cluster (feature `embedded-cluster`). \
         Set DATABASE_URL or start a server on 127.0.0.1:5432"
    )))
}

/// Connects once, with a short deadline, and says why not when it cannot.
pub async fn probe(url: &str) -> Result<(), String> {
    match tokio::time::timeout(Duration::from_secs(3), AsyncPgConnection::establish(url)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err(format!("{} did not answer within 3 s", redact(url))),
    }
}
