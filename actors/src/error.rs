//! The engine's one error type: what an embedder (and the HTTP layer) can match on.

use std::path::PathBuf;

/// Everything the engine can answer instead of a result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The thing does not exist, or the caller may not see it (the two are not told apart).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller may see the thing but may not do this to it.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A conditional write named a version that is no longer current.
    #[error("version mismatch: the current version is {current}")]
    VersionMismatch {
        /// The version the row has now.
        current: i64,
    },
    /// Input broke a rule; one entry per offending field.
    #[error("invalid input: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Validation(Vec<FieldError>),
    /// The change would clash with existing data (a taken email, the last owner leaving, …).
    #[error("conflict: {message}")]
    Conflict {
        /// A stable snake_case code for the clash.
        code: &'static str,
        /// What clashed, for a person.
        message: String,
    },
    /// PostgreSQL could not be reached, or a connection could not be had in time.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A query failed for a reason other than the ones above.
    #[error("database error")]
    Database(#[from] diesel::result::Error),
    /// A migration failed to apply or revert.
    #[error("migration failed: {0}")]
    Migration(String),
    /// No PostgreSQL could be found or started; the text says what was tried.
    #[error("{0}")]
    NoDatabase(String),
    /// The data directory could not be created or used.
    #[error("data directory {}: {message}", path.display())]
    DataDir {
        /// The directory at fault.
        path: PathBuf,
        /// What went wrong with it.
        message: String,
    },
    /// The embedded PostgreSQL cluster could not be initialised, started or stopped.
    #[error("embedded PostgreSQL: {0}")]
    Embedded(String),
    /// An actor did not answer in time or is gone.
    #[error("engine unavailable: {0}")]
    EngineUnavailable(String),
}

/// One field that broke a validation rule.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The field's name as the caller spelled it.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// A field error from its parts.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<diesel_async::pooled_connection::bb8::RunError> for Error {
    fn from(err: diesel_async::pooled_connection::bb8::RunError) -> Self {
        Error::Unavailable(err.to_string())
    }
}
