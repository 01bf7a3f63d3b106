#![doc = include_str!("../README.md")]

mod account;
mod aggregate;
mod audit_action;
mod bus;
mod cluster;
mod config;
pub mod database;
mod endings;
mod engine;
mod error;
mod feed;
mod known_members;
mod metrics;
mod model;
mod notice;
mod notify;
mod outbox;
mod published;
mod single_flight;
mod slots;
mod stats;
mod store;
mod subscription;
mod supervisor;
mod webhook_notice;

#[cfg(feature = "local-accounts")]
pub use account::{AccountFields, Password};
pub use account::{DisplayName, Email};
pub use audit_action::AuditAction;
/// IANA time zones, as history reads take them.
pub use chrono_tz::Tz;
pub use cluster::ClusterLink;
pub use config::{ClusterConfig, EngineConfig, NotificationConfig, SignalMode};
pub use endings::Ending;
pub use engine::{
    Account, Activity, ActivityDay, Breakdown, CheckOptions, CheckReport, DIGEST_HOUR,
    DIGEST_LINES, EXTERNAL_EMAIL_DOMAIN, EmailOutbox, Engine, ExternalIdentity, IMPORT_MAX_ERRORS,
    IMPORT_MAX_TASKS, ImportLine, ImportedTask, MAX_LIVE_TOKENS, Mail, MailContent, MemberStat,
    NewAccount, NewPersonalToken, NewTask, Page, PersonalToken, SettingsPatch, SharedByMe,
    SharedOverview, SharedWithMe, Statistics, TaskExport, TaskPatch, TaskQuery, TaskScope,
    TeamDetail, TokenScopes, Trends, TrendsQuery, UserRef, next_digest, parse_interval, parse_tz,
    window_error,
};
pub use engine::{
    Attempt, GIVE_UP_AFTER, MAX_WEBHOOK_URL, MAX_WEBHOOKS, NewWebhook, PendingEvent, Progress,
    Webhook, WebhookBatch, WebhookDelivery, WebhookOutbox, retry_delay,
};
#[cfg(feature = "local-accounts")]
pub use engine::{NewSessionToken, SignInAttempt, SignInCandidate, SignedIn};
pub use error::{ConflictCode, Entity, Error, FieldError, RefusalCode, Result};
pub use feed::{FeedEvent, FeedSubscription, FeedTopic};
pub use metrics::{
    CLUSTER_LAG_BUCKETS, ClusterFigures, DELIVERY_BUCKETS, FeedFigures, MetricsSnapshot,
    OutboxFigures,
};
pub use model::{
    EmailChoice, NotificationKind, Permission, Priority, Role, Task, TaskId, TaskStatus, TeamId,
    User, UserId, WebhookEvent,
};
pub use notify::{CommittedFor, NotificationSubscription};
pub use published::{Published, Snapshot};
pub use stats::history::{History, MilestoneChange, Milestones};
pub use stats::trends::{Bucket, Interval, Percentiles, TrendsWindow, WindowError};
pub use stats::{Aggregate, Counts, DayCounts, Delta, MemberCounts, Scope};
pub use store::notifications::NotificationRecord;
pub use store::shares::Share;
pub use store::teams::{Member, TeamMembership};
pub use store::{AuditRecord, PoolFigures, PoolOptions, StatementEvent, StatementHook};
pub use subscription::{Subscription, SubscriptionEvent};
