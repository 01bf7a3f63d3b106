use super::*;

fn broken(kind: DatabaseErrorKind) -> EngineError {
    EngineError::Database(DieselError::DatabaseError(
        kind,
        Box::new("connection closed".to_owned()),
    ))
}

#[test]
fn a_dead_connection_is_database_unavailable_with_retry_after() {
    for err in [
        EngineError::Unavailable("timed out waiting for connection".to_owned()),
        broken(DatabaseErrorKind::ClosedConnection),
        broken(DatabaseErrorKind::UnableToSendCommand),
        EngineError::Database(DieselError::RollbackErrorOnCommit {
            rollback_error: Box::new(DieselError::BrokenTransactionManager),
            commit_error: Box::new(DieselError::DatabaseError(
                DatabaseErrorKind::UnableToSendCommand,
                Box::new("broken pipe".to_owned()),
            )),
        }),
        EngineError::Database(DieselError::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("terminating connection due to administrator command".to_owned()),
        )),
    ] {
        let problem = problem_for_engine_error(&err);
        assert_eq!(problem.status, StatusCode::SERVICE_UNAVAILABLE, "{err:?}");
        assert_eq!(problem.code, "database_unavailable", "{err:?}");
        assert_eq!(problem.retry_after, Some(UNAVAILABLE_RETRY_AFTER_SECS));
    }
}

#[test]
fn other_query_failures_stay_internal_errors() {
    for err in [
        broken(DatabaseErrorKind::UniqueViolation),
        EngineError::Database(DieselError::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("column \"x\" does not exist".to_owned()),
        )),
        EngineError::Database(DieselError::NotFound),
    ] {
        let problem = problem_for_engine_error(&err);
        assert_eq!(problem.status, StatusCode::INTERNAL_SERVER_ERROR, "{err:?}");
        assert_eq!(problem.retry_after, None);
    }
}

#[test]
fn rate_limited_rounds_retry_after_up_to_whole_seconds() {
    let problem = problem_for_api_error(&ApiError::RateLimited {
        retry_after: Duration::from_millis(1200),
    });
    assert_eq!(problem.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(problem.code, "rate_limited");
    assert_eq!(problem.retry_after, Some(2));

    let response = problem.into_response();
    assert_eq!(
        response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok()),
        Some("2")
    );
}
