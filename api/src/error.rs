//! Where every error becomes an RFC 9457 problem+json answer. Handlers return [`ApiError`] (or
//! let poem's own errors through); [`problem_middleware`] shapes each one, and nothing else
//! writes an error body.

use poem::http::StatusCode;
use std::time::Duration;

use poem::http::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use poem::{Endpoint, IntoResponse, Request, Response};
use taskpulse_actors::{ConflictCode, Error as EngineError, FieldError, RefusalCode};
use taskpulse_live::shapes::problem::{ProblemCode, ProblemDetails};

/// The header that carries a request's id, in and out.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
const PROBLEM_JSON: &str = "application/problem+json";
/// What a 503 tells the client to wait before trying again, in seconds.
const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 2;

/// An error a handler answers with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The engine refused or failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The request itself could not be understood (syntax, not rules).
    #[error("{0}")]
    Malformed(String),
    /// Credentials are missing, invalid or expired.
    #[error("{0}")]
    Unauthenticated(String),
    /// Presented credentials were refused for a reason the client can act on (401 with this
    /// code, e.g. `invalid_credentials`, `refresh_token_reused`).
    #[error("{detail}")]
    Refused {
        /// Why they were refused.
        code: RefusalCode,
        /// What happened, for a person.
        detail: String,
    },
    /// A personal access token's scopes do not allow the request (403 `insufficient_scope`).
    #[error("{0}")]
    InsufficientScope(String),
    /// Email and password accounts are switched off on this server (`--local-accounts
    /// false`): people sign in with the identity provider.
    #[error("sign-in with email and password is switched off on this server")]
    LocalAccountsDisabled,
    /// The client sent too many requests; it may try again after `retry_after`.
    #[error("too many requests: try again in {retry_after:?}")]
    RateLimited {
        /// How long until the next request would be let through.
        retry_after: Duration,
    },
    /// The request body is larger than the route accepts (413); says the limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The request body's media type is not one the route reads (415); says which it reads.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Something that should not fail did; answered as a 500 without the text, which goes to
    /// the log.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// The one answer to a failed sign-in, whether the email or the password was wrong.
    pub fn invalid_credentials() -> Self {
        ApiError::Refused {
            code: RefusalCode::InvalidCredentials,
            detail: "the email or the password is wrong".to_owned(),
        }
    }
}

impl poem::error::ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        problem_for_api_error(self).status
    }
}

/// A problem answer in the making: its status, code and text, and the `Retry-After` it sends.
/// Its body is the one problem document, `taskpulse_live::shapes::problem::ProblemDetails`.
#[derive(Debug)]
pub struct Problem {
    status: StatusCode,
    code: ProblemCode,
    detail: String,
    errors: Vec<FieldError>,
    request_id: Option<String>,
    /// Sent as the `Retry-After` header (seconds), not in the body.
    retry_after: Option<u64>,
}

impl Problem {
    /// A problem with no field errors.
    pub fn new(status: StatusCode, code: ProblemCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            request_id: None,
            retry_after: None,
        }
    }

    /// The same problem, telling the client to try again after `seconds`.
    fn retry_after(self, seconds: u64) -> Self {
        Self {
            retry_after: Some(seconds.max(1)),
            ..self
        }
    }

    /// The problem document.
    fn into_details(self) -> ProblemDetails {
        let title = self.status.canonical_reason().unwrap_or("Error");
        ProblemDetails {
            errors: self.errors.into_iter().map(Into::into).collect(),
            request_id: self.request_id,
            ..ProblemDetails::new(self.status.as_u16(), title, self.code, self.detail)
        }
    }

    /// The body: the problem document as JSON.
    pub fn into_body(self) -> String {
        // Cannot fail: every field is a string, a number or a list of them.
        serde_json::to_string(&self.into_details()).unwrap_or_default()
    }

    fn into_response(self) -> Response {
        let mut builder = Response::builder()
            .status(self.status)
            .header(CONTENT_TYPE, PROBLEM_JSON);
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 9110 §15.5.2: a 401 names the scheme that would be accepted.
            builder = builder.header(WWW_AUTHENTICATE, "Bearer realm=\"taskpulse\"");
        }
        if let Some(seconds) = self.retry_after {
            builder = builder.header(RETRY_AFTER, seconds.to_string());
        }
        builder.body(self.into_body())
    }
}

/// The problem document REST would answer `err` with, for an adapter that carries it in an
/// envelope of its own (MCP's tool results and JSON-RPC errors).
pub(crate) fn problem_document(err: &ApiError) -> ProblemDetails {
    problem_for_api_error(err).into_details()
}

/// The whole problem+json answer to `err`, for an endpoint that answers before poem's error
/// path would (it adds headers of its own, as MCP's 401 does).
pub(crate) fn problem_response(err: &ApiError) -> Response {
    problem_for_api_error(err).into_response()
}

fn problem_for_api_error(err: &ApiError) -> Problem {
    match err {
        ApiError::Engine(engine) => problem_for_engine_error(engine),
        ApiError::Malformed(detail) => Problem::new(
            StatusCode::BAD_REQUEST,
            ProblemCode::MalformedRequest,
            detail.clone(),
        ),
        ApiError::Unauthenticated(detail) => Problem::new(
            StatusCode::UNAUTHORIZED,
            ProblemCode::Unauthenticated,
            detail.clone(),
        ),
        ApiError::Refused { code, detail } => Problem::new(
            StatusCode::UNAUTHORIZED,
            refusal_code(*code),
            detail.clone(),
        ),
        ApiError::InsufficientScope(detail) => Problem::new(
            StatusCode::FORBIDDEN,
            ProblemCode::InsufficientScope,
            detail.clone(),
        ),
        ApiError::LocalAccountsDisabled => Problem::new(
            StatusCode::FORBIDDEN,
            ProblemCode::LocalAccountsDisabled,
            "accounts with email and password are switched off on this server: sign in with \
             its identity provider and present that provider's token",
        ),
        ApiError::RateLimited { retry_after } => Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            ProblemCode::RateLimited,
            "too many requests; slow down and try again after the Retry-After delay",
        )
        // Rounded up: a client that waits the whole seconds is let through.
        .retry_after(retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0)),
        ApiError::PayloadTooLarge(detail) => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ProblemCode::PayloadTooLarge,
            detail.clone(),
        ),
        ApiError::UnsupportedMediaType(detail) => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ProblemCode::UnsupportedMediaType,
            detail.clone(),
        ),
        ApiError::Internal(_) => internal_problem(),
    }
}

fn problem_for_engine_error(err: &EngineError) -> Problem {
    match err {
        EngineError::NotFound(what) => Problem::new(
            StatusCode::NOT_FOUND,
            ProblemCode::NotFound,
            format!("{} not found", what.as_str()),
        ),
        EngineError::Forbidden(why) => {
            Problem::new(StatusCode::FORBIDDEN, ProblemCode::Forbidden, why.clone())
        }
        EngineError::VersionMismatch { current } => Problem::new(
            StatusCode::PRECONDITION_FAILED,
            ProblemCode::VersionMismatch,
            format!("the resource has changed: its current version is {current}"),
        ),
        EngineError::Validation(errors) => Problem {
            errors: errors.clone(),
            ..Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemCode::ValidationFailed,
                err.to_string(),
            )
        },
        EngineError::Conflict { code, message } => {
            Problem::new(StatusCode::CONFLICT, conflict_code(*code), message.clone())
        }
        EngineError::Refused { code, message } => Problem::new(
            StatusCode::UNAUTHORIZED,
            refusal_code(*code),
            message.clone(),
        ),
        EngineError::DatabaseUnavailable(_) => database_unavailable(),
        EngineError::EngineUnavailable(_) => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ProblemCode::EngineUnavailable,
            "the statistics engine is busy or restarting; try again shortly",
        )
        .retry_after(UNAVAILABLE_RETRY_AFTER_SECS),
        EngineError::Database(_)
        | EngineError::Migration(_)
        | EngineError::NoDatabase(_)
        | EngineError::DataDir { .. }
        | EngineError::Embedded(_) => internal_problem(),
        // The engine's error is `non_exhaustive`: a kind added there is a 500 until it is
        // mapped here.
        _ => internal_problem(),
    }
}

/// The problem code of each engine conflict: every one is answered as itself.
fn conflict_code(code: ConflictCode) -> ProblemCode {
    match code {
        ConflictCode::EmailTaken => ProblemCode::EmailTaken,
        ConflictCode::LastOwner => ProblemCode::LastOwner,
        ConflictCode::AlreadyMember => ProblemCode::AlreadyMember,
    }
}

/// The problem code of each refusal of credentials: every one is answered as itself.
fn refusal_code(code: RefusalCode) -> ProblemCode {
    match code {
        RefusalCode::InvalidCredentials => ProblemCode::InvalidCredentials,
        RefusalCode::RefreshTokenReused => ProblemCode::RefreshTokenReused,
        RefusalCode::InvalidRefreshToken => ProblemCode::InvalidRefreshToken,
    }
}

fn database_unavailable() -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ProblemCode::DatabaseUnavailable,
        "the database is unavailable; try again shortly",
    )
    .retry_after(UNAVAILABLE_RETRY_AFTER_SECS)
}

fn internal_problem() -> Problem {
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        ProblemCode::InternalError,
        "an unexpected error occurred; quote the request_id when reporting it",
    )
}

/// The problem for any error that reached the top of the route tree: ours by type, poem's
/// own by its status.
fn problem_for(err: &poem::Error) -> Problem {
    if let Some(api) = err.downcast_ref::<ApiError>() {
        return problem_for_api_error(api);
    }
    if let Some(engine) = err.downcast_ref::<EngineError>() {
        return problem_for_engine_error(engine);
    }
    let status = err.status();
    let detail = err.to_string();
    match status {
        StatusCode::NOT_FOUND => Problem::new(status, ProblemCode::NotFound, "no such resource"),
        StatusCode::METHOD_NOT_ALLOWED => Problem::new(
            status,
            ProblemCode::MethodNotAllowed,
            "this method is not allowed on this resource",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => Problem::new(
            status,
            ProblemCode::PayloadTooLarge,
            "the request body is larger than 64 KiB",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Problem::new(
            status,
            ProblemCode::UnsupportedMediaType,
            "the request body must be application/json",
        ),
        StatusCode::UNAUTHORIZED => Problem::new(
            status,
            ProblemCode::Unauthenticated,
            "a valid bearer access token is required",
        ),
        StatusCode::TOO_MANY_REQUESTS => Problem::new(status, ProblemCode::RateLimited, detail),
        s if s.is_client_error() => Problem::new(
            StatusCode::BAD_REQUEST,
            ProblemCode::MalformedRequest,
            detail,
        ),
        _ => internal_problem(),
    }
}

/// Gives every request an id (the caller's `X-Request-Id` when it is sane, else a new one),
/// turns every error into problem+json (on `/mcp`, a JSON-RPC error carrying it), logs server
/// errors with their cause chain, and echoes the id on every response.
pub async fn problem_middleware<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.chars().all(|c| c.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let mcp = crate::mcp::is_mcp(&path);

    let mut response = match next.call(req).await {
        Ok(response) => response.into_response(),
        Err(err) => {
            let mut problem = problem_for(&err);
            if problem.status == StatusCode::SERVICE_UNAVAILABLE {
                // Expected while a dependency is down: one line each, not an alarm.
                problem.request_id = Some(request_id.clone());
                tracing::warn!(
                    request_id = %request_id, %method, %path,
                    error = %error_chain(&err),
                    "request refused: unavailable"
                );
            } else if problem.status.is_server_error() {
                problem.request_id = Some(request_id.clone());
                tracing::error!(
                    request_id = %request_id, %method, %path,
                    error = %error_chain(&err),
                    "request failed"
                );
            }
            problem.into_response()
        }
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    if mcp {
        // MCP's clients read JSON-RPC: its failures are rewritten as such (here rather than
        // in a layer of its own, which would nest the route's type past the compiler's depth).
        return Ok(crate::mcp::as_jsonrpc(response).await);
    }
    Ok(response)
}

/// "outer: inner: innermost", so a log line tells the whole story.
fn error_chain(err: &poem::Error) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let text = cause.to_string();
        // poem's wrapper displays as its source does: say each message once.
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests;
