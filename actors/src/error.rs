//! The engine's one error type: what an embedder (and the HTTP layer) can match on.

use std::path::PathBuf;

/// Everything the engine can answer instead of a result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The thing does not exist, or the caller may not see it (the two are not told apart).
    #[error("{} not found", .0.as_str())]
    NotFound(Entity),
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
    #[error("invalid input: {}", .0.iter().map(FieldError::to_string).collect::<Vec<_>>().join("; "))]
    Validation(Vec<FieldError>),
    /// The change would clash with existing data (a taken email, the last owner leaving, …).
    #[error("conflict: {message}")]
    Conflict {
        /// What kind of clash it is.
        code: ConflictCode,
        /// What clashed, for a person.
        message: String,
    },
    /// PostgreSQL could not be reached, or a connection could not be had in time.
    #[error("database unavailable: {0}")]
    DatabaseUnavailable(String),
    /// Presented credentials were refused for a reason the caller can act on (a wrong
    /// password, a spent or unknown refresh token).
    #[error("refused: {message}")]
    Refused {
        /// Why they were refused.
        code: RefusalCode,
        /// What happened, for a person.
        message: String,
    },
    /// A query failed for a reason other than the ones above (a bug or a schema out of step).
    #[error("database error")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
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

/// What an [`Error::NotFound`] did not find.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entity {
    /// A task.
    Task,
    /// A team.
    Team,
    /// A user account.
    User,
    /// A member of a team.
    Member,
    /// A share of a task with a user.
    Share,
    /// The statistics row of a scope.
    StatisticsRow,
    /// A personal access token.
    Token,
    /// An in-app notification.
    Notification,
    /// A webhook.
    Webhook,
}

impl Entity {
    /// Its name in a sentence ("team not found").
    pub const fn as_str(self) -> &'static str {
        match self {
            Entity::Task => "task",
            Entity::Team => "team",
            Entity::User => "user",
            Entity::Member => "member",
            Entity::Share => "share",
            Entity::StatisticsRow => "statistics row",
            Entity::Token => "token",
            Entity::Notification => "notification",
            Entity::Webhook => "webhook",
        }
    }
}

/// The kinds of [`Error::Conflict`]. Not `non_exhaustive`: an embedder that maps them to its
/// own answers (as the HTTP layer does) should hear from the compiler when one is added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConflictCode {
    /// An account with this email (in any letter case) exists.
    EmailTaken,
    /// The change would leave a team without an owner.
    LastOwner,
    /// The user is in the team already.
    AlreadyMember,
}

impl ConflictCode {
    /// Its stable snake_case code.
    pub const fn as_str(self) -> &'static str {
        match self {
            ConflictCode::EmailTaken => "email_taken",
            ConflictCode::LastOwner => "last_owner",
            ConflictCode::AlreadyMember => "already_member",
        }
    }
}

/// The reasons for an [`Error::Refused`]; closed for the same reason as [`ConflictCode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalCode {
    /// The email or the password is wrong (the two are not told apart).
    InvalidCredentials,
    /// A refresh token was presented a second time: its whole session is revoked.
    RefreshTokenReused,
    /// The refresh token is unknown, expired or revoked.
    InvalidRefreshToken,
}

impl RefusalCode {
    /// Its stable snake_case code.
    pub const fn as_str(self) -> &'static str {
        match self {
            RefusalCode::InvalidCredentials => "invalid_credentials",
            RefusalCode::RefreshTokenReused => "refresh_token_reused",
            RefusalCode::InvalidRefreshToken => "invalid_refresh_token",
        }
    }
}

/// One field that broke a validation rule.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The field's name as the caller spelled it.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
    /// For input read from a file (an import): the line the error is on, as a person counts
    /// the file's lines (the first line is 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

impl FieldError {
    /// A field error from its parts.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            line: None,
        }
    }

    /// A field error on `line` of an imported file.
    pub fn on_line(line: u64, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            line: Some(line),
            ..Self::new(field, message)
        }
    }
}

impl std::fmt::Display for FieldError {
    /// `field: message`, after `line N: ` for an error on a line of a file.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<diesel_async::pooled_connection::bb8::RunError> for Error {
    fn from(err: diesel_async::pooled_connection::bb8::RunError) -> Self {
        Error::DatabaseUnavailable(err.to_string())
    }
}

impl From<diesel::result::Error> for Error {
    /// A query that failed because the connection is gone is [`Error::DatabaseUnavailable`],
    /// so that callers can answer "try again" without knowing diesel; anything else is a
    /// [`Error::Database`].
    fn from(err: diesel::result::Error) -> Self {
        if is_connection_failure(&err) {
            Error::DatabaseUnavailable(err.to_string())
        } else {
            Error::Database(Box::new(err))
        }
    }
}

/// Did the query fail because the connection to PostgreSQL is gone, or leads to a server that
/// can no longer take writes (rather than because of what it asked)? A dead database surfaces
/// this way once a connection was had: the socket closed, the server went away mid-query, or it
/// is shutting down or starting up; a primary that became a standby (or a standby reached
/// without `target_session_attrs=read-write`) answers writes with SQLSTATE 25006,
/// `read_only_sql_transaction`. The pool drops such a connection when it comes back
/// (`store/pool_watch.rs`): the next one is made to the primary of the moment.
pub(crate) fn is_connection_failure(err: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error as DieselError};
    match err {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => true,
        // The engine's own read-only transactions (exports, hydration) never write: a 25006 is
        // always the server's state, never the query's fault.
        DieselError::DatabaseError(DatabaseErrorKind::ReadOnlyTransaction, _) => true,
        // SQLSTATE 57P01..57P03 (the server is shutting down or not accepting connections yet)
        // reach diesel only as text.
        DieselError::DatabaseError(_, info) => {
            let message = info.message();
            message.starts_with("terminating connection due to administrator command")
                || message.starts_with("the database system is")
        }
        DieselError::RollbackErrorOnCommit {
            rollback_error,
            commit_error,
        } => is_connection_failure(commit_error) || is_connection_failure(rollback_error),
        // The connection's transaction state is lost: it cannot be used, whatever broke it.
        DieselError::BrokenTransactionManager => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use diesel::result::{DatabaseErrorKind, Error as DieselError};

    use super::Error;

    fn broken(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn a_lost_connection_is_database_unavailable() {
        for err in [
            broken(DatabaseErrorKind::ClosedConnection, "connection closed"),
            broken(DatabaseErrorKind::UnableToSendCommand, "broken pipe"),
            DieselError::RollbackErrorOnCommit {
                rollback_error: Box::new(DieselError::BrokenTransactionManager),
                commit_error: Box::new(broken(
                    DatabaseErrorKind::UnableToSendCommand,
                    "broken pipe",
                )),
            },
            broken(
                DatabaseErrorKind::Unknown,
                "terminating connection due to administrator command",
            ),
            broken(
                DatabaseErrorKind::Unknown,
                "the database system is starting up",
            ),
            broken(
                DatabaseErrorKind::ReadOnlyTransaction,
                "cannot execute INSERT in a read-only transaction",
            ),
        ] {
            let shown = format!("{err:?}");
            assert!(
                matches!(Error::from(err), Error::DatabaseUnavailable(_)),
                "{shown}"
            );
        }
    }

    #[test]
    fn other_query_failures_stay_database_errors() {
        for err in [
            broken(DatabaseErrorKind::UniqueViolation, "duplicate key"),
            broken(DatabaseErrorKind::Unknown, "column \"x\" does not exist"),
            DieselError::NotFound,
        ] {
            let shown = format!("{err:?}");
            assert!(matches!(Error::from(err), Error::Database(_)), "{shown}");
        }
    }
}
