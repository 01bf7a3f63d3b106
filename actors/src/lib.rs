#![doc = include_str!("../README.md")]

mod aggregate;
mod bus;
mod cluster;
mod config;
mod engine;
mod error;
mod live;
mod metrics;
mod model;
mod stats;
mod store;
mod subscription;
mod supervisor;

pub use cluster::ClusterLink;
pub use config::{ClusterConfig, EngineConfig, SignalMode};
pub use engine::{
    Activity, ActivityDay, Breakdown, CheckOptions, CheckReport, Engine, MemberStat, NewTask, Page,
    SharedByMe, SharedOverview, SharedWithMe, Statistics, TaskPatch, TaskQuery, TaskScope,
    TeamDetail, UserRef,
};
pub use error::{Error, FieldError, Result};
pub use live::Snapshot;
pub use metrics::{CLUSTER_LAG_BUCKETS, ClusterFigures, DELIVERY_BUCKETS, MetricsSnapshot};
pub use model::{Permission, Priority, Role, Task, TaskId, TaskStatus, TeamId, User, UserId};
pub use stats::{Aggregate, Counts, DayCounts, Delta, MemberCounts, Scope};
pub use store::aggregates::Published;
pub use store::shares::Share;
pub use store::teams::{Member, TeamMembership};
pub use store::{
    AuditEntry, AuditRecord, DatabaseOptions, DatabaseSource, EmbeddedCluster, LocatedDatabase,
    Pool, PoolOptions, PooledConnection, connect_pool, database_name, ensure_database,
    locate_database, manager_config, probe, rebuild_aggregates, redact, revert_all_migrations,
    run_migrations, with_database, write_audit,
};
pub use store::{
    NewRefreshToken, NewUser, SpentRefreshToken, UserCredentials, create_user,
    find_refresh_token_family, find_user, find_user_by_email, insert_refresh_token,
    revoke_refresh_family, spend_refresh_token,
};
pub use subscription::{Subscription, SubscriptionEvent};
