#![doc = include_str!("../README.md")]

mod error;
mod model;
mod store;

pub use error::{Error, FieldError, Result};
pub use model::{Permission, Priority, Role, Task, TaskId, TaskStatus, TeamId, User, UserId};
pub use store::{
    AuditEntry, AuditRecord, DatabaseOptions, DatabaseSource, EmbeddedCluster, LocatedDatabase,
    Pool, PoolOptions, PooledConnection, connect_pool, database_name, ensure_database,
    locate_database, probe, rebuild_aggregates, redact, revert_all_migrations, run_migrations,
    with_database, write_audit,
};
pub use store::{
    NewRefreshToken, NewUser, SpentRefreshToken, UserCredentials, create_user,
    find_refresh_token_family, find_user, find_user_by_email, insert_refresh_token,
    revoke_refresh_family, spend_refresh_token,
};
