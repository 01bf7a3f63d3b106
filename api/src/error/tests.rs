use super::*;

#[test]
fn a_dead_connection_is_database_unavailable_with_retry_after() {
    let err = EngineError::Unavailable("timed out waiting for connection".to_owned());
    let problem = problem_for_engine_error(&err);
    assert_eq!(problem.status, StatusCode::SERVICE_UNAVAILABLE, "{err:?}");
    assert_eq!(problem.code, "database_unavailable", "{err:?}");
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
        code: "refresh_token_reused",
        message: "sign in again".to_owned(),
    };
    let problem = problem_for_engine_error(&err);
    assert_eq!(problem.status, StatusCode::UNAUTHORIZED);
    assert_eq!(problem.code, "refresh_token_reused");
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
