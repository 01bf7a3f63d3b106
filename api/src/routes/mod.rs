//! One file per OpenAPI tag.

mod auth;
mod health;
mod problem;
mod strict;

pub use auth::AuthApi;
pub use health::HealthApi;

/// The OpenAPI tags, one per group of routes.
#[derive(poem_openapi::Tags)]
pub enum ApiTags {
    /// Accounts and sessions: register, sign in, renew and sign out.
    Auth,
    /// Liveness and dependency checks.
    Health,
}
