//! One file (or folder) per OpenAPI tag.

mod audit;
mod auth;
pub(crate) mod choice;
mod dashboard;
mod health;
mod live;
mod notifications;
mod problem;
mod strict;
mod tasks;
mod teams;
mod tokens;
mod webhooks;

pub use audit::AuditApi;
pub use auth::AuthApi;
pub use dashboard::DashboardApi;
pub(crate) use dashboard::{scope as dashboard_scope, trends_query};
pub use health::HealthApi;
pub use live::LiveApi;
pub use notifications::NotificationsApi;
pub(crate) use tasks::{CreateTaskRequest, ShareRequest, UpdateTaskRequest};
pub use tasks::{TasksApi, TransferApi};
pub use teams::TeamsApi;
pub use tokens::TokensApi;
pub use webhooks::WebhooksApi;

/// The OpenAPI tags, one per group of routes.
#[derive(poem_openapi::Tags)]
pub enum ApiTags {
    /// Accounts and sessions: register, sign in, renew and sign out.
    Auth,
    /// Liveness and dependency checks.
    Health,
    /// Tasks, and sharing them with other users.
    Tasks,
    /// Teams and their members.
    Teams,
    /// Live statistics of the caller or of a team, never stale.
    Dashboard,
    /// Who did what: the audit log.
    Audit,
    /// Live statistics and audit feeds over a WebSocket.
    Live,
    /// Personal access tokens for scripts, integrations and assistants.
    Tokens,
    /// In-app notifications: the inbox and its read state.
    Notifications,
    /// Webhooks: signed HTTP requests for every change, at least once, in commit order.
    Webhooks,
}
