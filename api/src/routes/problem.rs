//! How operations document their error answers. The answers themselves are made in one place,
//! `error.rs`; an operation returns `Result<_, Failure<Docs>>`, where `Docs` lists the
//! problems it can answer so that the OpenAPI document shows each with its status.

use std::marker::PhantomData;

use poem_openapi::ApiResponse;
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;
use taskpulse_actors::Error as EngineError;
use taskpulse_live::shapes::problem::ProblemDetails;

use crate::error::ApiError;

/// The media type of every error answer.
const PROBLEM_JSON: &str = "application/problem+json";

/// The problems an operation documents: `(status, description)` pairs.
pub trait ProblemDocs: Send + Sync + 'static {
    /// Each status the operation can answer with, and when.
    const ANSWERS: &'static [(u16, &'static str)];
}

/// An operation's error: an [`ApiError`], documented by `D`.
pub struct Failure<D> {
    error: ApiError,
    docs: PhantomData<fn() -> D>,
}

impl<D> From<ApiError> for Failure<D> {
    fn from(error: ApiError) -> Self {
        Self {
            error,
            docs: PhantomData,
        }
    }
}

impl<D> From<EngineError> for Failure<D> {
    fn from(error: EngineError) -> Self {
        ApiError::from(error).into()
    }
}

impl<D> From<Failure<D>> for poem::Error {
    fn from(failure: Failure<D>) -> Self {
        failure.error.into()
    }
}

impl<D> poem::IntoResponse for Failure<D> {
    fn into_response(self) -> poem::Response {
        // Operations hand errors to the middleware (via `Into<poem::Error>`), which shapes
        // them; this path exists only because the trait requires it.
        poem::Error::from(self.error).into_response()
    }
}

impl<D: ProblemDocs> ApiResponse for Failure<D> {
    fn meta() -> MetaResponses {
        // Every operation answering with a `Failure` is rate limited (health is not one).
        let rate_limited = (!D::ANSWERS
            .iter()
            .any(|(status, _)| *status == RATE_LIMITED.0))
        .then_some(RATE_LIMITED);
        MetaResponses {
            responses: D::ANSWERS
                .iter()
                .copied()
                .chain(rate_limited)
                .map(|(status, description)| MetaResponse {
                    description,
                    status: Some(status),
                    status_range: None,
                    content: vec![MetaMediaType {
                        content_type: PROBLEM_JSON,
                        schema: ProblemDetails::schema_ref(),
                    }],
                    headers: if status == 429 || status == 503 {
                        vec![retry_after()]
                    } else {
                        vec![]
                    },
                })
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        ProblemDetails::register(registry);
    }
}

/// 400 for requests that cannot be read.
pub const MALFORMED: (u16, &str) = (
    400,
    "`malformed_request`: the body is not JSON of the documented shape, a value has the wrong \
     JSON type, or an id in the path or query is not a UUID",
);
/// 413 for a body above the limit (operations that take a body).
pub const TOO_LARGE: (u16, &str) = (413, "`payload_too_large`: the body is above 64 KiB");
/// 415 for a body that is not JSON (operations that take a body).
pub const NOT_JSON: (u16, &str) = (
    415,
    "`unsupported_media_type`: the body is missing or not `application/json`",
);
/// What a write operation's 403 says of personal access tokens (the bearer checker refuses a
/// `read` token on every method that writes: `auth/scope.rs`), to be joined with `concat!` to
/// an operation's own 403 text.
macro_rules! read_scope_refused {
    () => {
        "`insufficient_scope`: a personal access token with the `read` scope only"
    };
}
pub(crate) use read_scope_refused;

/// 403 on an operation that writes and has no other reason for a 403.
pub const INSUFFICIENT_SCOPE: (u16, &str) = (403, read_scope_refused!());
/// 401 on every secured operation.
pub const UNAUTHENTICATED: (u16, &str) = (401, "`unauthenticated`: no valid bearer access token");
/// 422 with `errors`.
pub const VALIDATION: (u16, &str) = (
    422,
    "`validation_failed`: `errors` lists each field or parameter that breaks a rule \
     (lengths, enum values, ranges, cursors)",
);
/// 429 over the rate limit (documented on every operation that answers problems).
pub const RATE_LIMITED: (u16, &str) = (
    429,
    "`rate_limited`: too many requests from this user or address; `Retry-After` says when to \
     try again",
);

/// The `Retry-After` header of 429 and 503 answers.
fn retry_after() -> poem_openapi::registry::MetaHeader {
    poem_openapi::registry::MetaHeader {
        name: "Retry-After".to_owned(),
        description: Some("Seconds to wait before trying again.".to_owned()),
        required: true,
        deprecated: false,
        schema: u64::schema_ref(),
    }
}

/// 503 when a dependency is down.
pub const UNAVAILABLE: (u16, &str) = (
    503,
    "`database_unavailable` or `engine_unavailable`: try again shortly",
);

/// Declares a [`ProblemDocs`] type: `problems!(/// doc Name: [answers…]);`.
macro_rules! problems {
    ($(#[$doc:meta])* $name:ident: [$($answer:expr),* $(,)?]) => {
        $(#[$doc])*
        pub struct $name;
        impl $crate::routes::problem::ProblemDocs for $name {
            const ANSWERS: &'static [(u16, &'static str)] = &[$($answer),*];
        }
    };
}
pub(crate) use problems;
