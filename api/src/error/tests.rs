use super::*;

#[test]
fn a_dead_connection_is_database_unavailable_with_retry_after() {
    let err = EngineError::DatabaseUnavailable("timed out waiting for connection".to_owned());
    let problem = problem_for_engine_error(&err);
    assert_eq!(problem.status, StatusCode::SERVICE_UNAVAILABLE, "{err:?}");
    assert_eq!(problem.code, ProblemCode::DatabaseUnavailable, "{err:?}");
    assert_eq!(problem.retry_after, Some(UNAVAILABLE_RETRY_AFTER_SECS));
}

#[test]
fn other_query_failures_stay_internal_errors() {
    let err = EngineError::Database("column \"x\" does not exist".into());
    let problem = problem_for_engine_error(&err);
    assert_eq!(problem.status, StatusCode::INTERNAL_SERVER_ERROR, "{err:?}");
    assert_eq!(problem.retry_after, None);
}

#[test]
fn refused_credentials_are_401_with_their_code() {
    let err = EngineError::Refused {
        code: RefusalCode::RefreshTokenReused,
        message: "sign in again".to_owned(),
    };
    let problem = problem_for_engine_error(&err);
    assert_eq!(problem.status, StatusCode::UNAUTHORIZED);
    assert_eq!(problem.code, ProblemCode::RefreshTokenReused);
}

#[test]
fn rate_limited_rounds_retry_after_up_to_whole_seconds() {
    let problem = problem_for_api_error(&ApiError::RateLimited {
        retry_after: Duration::from_millis(1200),
    });
    assert_eq!(problem.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(problem.code, ProblemCode::RateLimited);
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

#[test]
fn engine_conflicts_and_refusals_keep_their_codes_on_the_wire() {
    for code in [
        ConflictCode::EmailTaken,
        ConflictCode::LastOwner,
        ConflictCode::AlreadyMember,
    ] {
        assert_eq!(conflict_code(code).as_str(), code.as_str());
    }
    for code in [
        RefusalCode::InvalidCredentials,
        RefusalCode::RefreshTokenReused,
        RefusalCode::InvalidRefreshToken,
    ] {
        assert_eq!(refusal_code(code).as_str(), code.as_str());
    }
}
