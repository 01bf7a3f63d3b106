//! The problem details document (RFC 9457) that every 4xx and 5xx REST answer is, and every
//! `code` it can carry, with the `type` URI derived from it. The codes are public contract:
//! clients match on them, so a string here never changes.

use serde::Serialize;
use taskpulse_actors::FieldError;

/// The base of every problem's `type` URI.
const TYPE_BASE: &str = "https://taskpulse.dev/problems/";

// Declares `ProblemCode` from one list of `Variant => "code"`, so that its variants, `ALL`
// and `as_str` cannot fall out of step.
macro_rules! problem_codes {
    ($($(#[$doc:meta])* $variant:ident => $code:literal,)*) => {
        /// The stable snake_case `code` of a problem+json answer.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ProblemCode {
            $($(#[$doc])* $variant,)*
        }

        impl ProblemCode {
            /// Every code.
            pub const ALL: &[ProblemCode] = &[$(ProblemCode::$variant),*];

            /// The code as clients see it, e.g. `validation_failed`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ProblemCode::$variant => $code,)*
                }
            }
        }
    };
}

problem_codes! {
    /// 400: the request cannot be read (syntax, not rules).
    MalformedRequest => "malformed_request",
    /// 422: values break a rule; `errors` lists each.
    ValidationFailed => "validation_failed",
    /// 413: the body is above the limit.
    PayloadTooLarge => "payload_too_large",
    /// 415: the body is missing or not JSON.
    UnsupportedMediaType => "unsupported_media_type",
    /// 405: the method is not allowed on the resource.
    MethodNotAllowed => "method_not_allowed",
    /// 404: no such resource, or the caller may not see it.
    NotFound => "not_found",
    /// 401: no valid bearer access token.
    Unauthenticated => "unauthenticated",
    /// 401: the email or the password is wrong.
    InvalidCredentials => "invalid_credentials",
    /// 401: a spent refresh token was presented again; its session is revoked.
    RefreshTokenReused => "refresh_token_reused",
    /// 401: the refresh token is unknown, expired or revoked.
    InvalidRefreshToken => "invalid_refresh_token",
    /// 403: email and password accounts are switched off on this server.
    LocalAccountsDisabled => "local_accounts_disabled",
    /// 403: the caller may see the resource but not do this to it.
    Forbidden => "forbidden",
    /// 403: the personal access token's scopes do not allow this request (a `read` token
    /// writing, or any token creating tokens).
    InsufficientScope => "insufficient_scope",
    /// 412: `If-Match` names a version that is no longer current.
    VersionMismatch => "version_mismatch",
    /// 409: an account with this email exists.
    EmailTaken => "email_taken",
    /// 409: the change would leave a team without an owner.
    LastOwner => "last_owner",
    /// 409: the user is in the team already.
    AlreadyMember => "already_member",
    /// 429: too many requests; `Retry-After` says when to try again.
    RateLimited => "rate_limited",
    /// 414: the request URI is too long.
    UriTooLong => "uri_too_long",
    /// 431: the request's headers are too large or too many.
    HeadersTooLarge => "headers_too_large",
    /// 408: the request took too long to arrive.
    RequestTimeout => "request_timeout",
    /// 505: the HTTP version is not supported.
    HttpVersionNotSupported => "http_version_not_supported",
    /// 503: the server or the client's address holds too many connections.
    TooManyConnections => "too_many_connections",
    /// 503: PostgreSQL is unreachable; try again shortly.
    DatabaseUnavailable => "database_unavailable",
    /// 503: the statistics engine is busy or restarting; try again shortly.
    EngineUnavailable => "engine_unavailable",
    /// 500: something failed that should not have; the log has it under the `request_id`.
    InternalError => "internal_error",
}

impl ProblemCode {
    /// The problem's `type`: a URI naming the kind of problem, the code in kebab case.
    pub fn type_uri(self) -> String {
        format!("{TYPE_BASE}{}", self.as_str().replace('_', "-"))
    }
}

/// One field that broke a validation rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct ProblemFieldError {
    /// The field's name as the request spelled it.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
    /// For a file (`POST /api/v1/tasks/import`): the line the error is on, counted as an
    /// editor counts them (a CSV file's header is line 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    pub line: Option<u64>,
}

impl From<FieldError> for ProblemFieldError {
    fn from(error: FieldError) -> Self {
        Self {
            field: error.field,
            message: error.message,
            line: error.line,
        }
    }
}

/// An RFC 9457 problem details document: every 4xx and 5xx answer is one.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(example))]
pub struct ProblemDetails {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", oai(rename = "type"))]
    pub kind: String,
    /// The HTTP status text.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// A stable snake_case code to match on (e.g. `validation_failed`, `unauthenticated`).
    pub code: String,
    /// What happened, for a person.
    pub detail: String,
    /// For `validation_failed`: one entry per offending field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_empty, default))]
    pub errors: Vec<ProblemFieldError>,
    /// For 5xx answers: the id under which the server logged the failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", oai(skip_serializing_if_is_none))]
    pub request_id: Option<String>,
}

impl ProblemDetails {
    /// The document of a problem with `code`, answered with `status` (its `title` is the
    /// status's reason phrase), without field errors or a request id.
    pub fn new(status: u16, title: &str, code: ProblemCode, detail: impl Into<String>) -> Self {
        Self {
            kind: code.type_uri(),
            title: title.to_owned(),
            status,
            code: code.as_str().to_owned(),
            detail: detail.into(),
            errors: Vec::new(),
            request_id: None,
        }
    }
}

#[cfg(feature = "openapi")]
impl poem_openapi::types::Example for ProblemDetails {
    fn example() -> Self {
        ProblemDetails {
            errors: vec![ProblemFieldError {
                field: "password".to_owned(),
                message: "must be 8..=128 characters".to_owned(),
                line: None,
            }],
            ..ProblemDetails::new(
                422,
                "Unprocessable Entity",
                ProblemCode::ValidationFailed,
                "invalid input: password: must be 8..=128 characters",
            )
        }
    }
}

impl Serialize for ProblemCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ProblemCode;

    /// The contract's codes (`API.md` and the OpenAPI document): clients match on them, so this
    /// list changes only by adding to it.
    #[test]
    fn every_code_keeps_its_contract_string() {
        let codes: Vec<&str> = ProblemCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            codes,
            [
                "malformed_request",
                "validation_failed",
                "payload_too_large",
                "unsupported_media_type",
                "method_not_allowed",
                "not_found",
                "unauthenticated",
                "invalid_credentials",
                "refresh_token_reused",
                "invalid_refresh_token",
                "local_accounts_disabled",
                "forbidden",
                "insufficient_scope",
                "version_mismatch",
                "email_taken",
                "last_owner",
                "already_member",
                "rate_limited",
                "uri_too_long",
                "headers_too_large",
                "request_timeout",
                "http_version_not_supported",
                "too_many_connections",
                "database_unavailable",
                "engine_unavailable",
                "internal_error",
            ]
        );
    }

    #[test]
    fn the_type_uri_is_the_code_in_kebab_case() {
        assert_eq!(
            ProblemCode::ValidationFailed.type_uri(),
            "https://taskpulse.dev/problems/validation-failed"
        );
        assert_eq!(
            ProblemCode::NotFound.type_uri(),
            "https://taskpulse.dev/problems/not-found"
        );
    }

    #[test]
    fn a_code_serializes_as_its_string() -> Result<(), serde_json::Error> {
        assert_eq!(
            serde_json::to_string(&ProblemCode::RefreshTokenReused)?,
            "\"refresh_token_reused\""
        );
        Ok(())
    }
}
