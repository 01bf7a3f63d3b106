#![doc = include_str!("../README.md")]

mod error;
mod store;

pub use error::{Error, FieldError, Result};
pub use store::{
    DatabaseOptions, DatabaseSource, EmbeddedCluster, LocatedDatabase, Pool, PoolOptions,
    PooledConnection, connect_pool, database_name, ensure_database, locate_database, probe,
    rebuild_aggregates, redact, revert_all_migrations, run_migrations, with_database,
};
