//! One file per OpenAPI tag.

mod health;

pub use health::HealthApi;

/// The OpenAPI tags, one per group of routes.
#[derive(poem_openapi::Tags)]
pub enum ApiTags {
    /// Liveness and dependency checks.
    Health,
}
