//! The bearer security scheme of every secured operation: `Authorization: Bearer <jwt>`,
//! checked against the server's access-token keys before the handler runs.

use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;
use taskpulse_actors::{TokenScopes, UserId};

use super::Subject;
use super::scope::check_scope;
use super::verify::verify_token;
use crate::error::ApiError;
use crate::state::AppState;

/// A valid access token (ours, or the configured identity provider's, or a personal access
/// token): the operation runs as this user. Missing, malformed, expired, revoked or forged
/// tokens are answered with 401 `unauthenticated` before the handler runs; a personal access
/// token whose scopes do not allow the request, with 403 `insufficient_scope`.
#[derive(Debug, SecurityScheme)]
#[oai(
    rename = "bearerAuth",
    ty = "bearer",
    bearer_format = "JWT",
    checker = "authenticate"
)]
pub struct BearerAuth(pub UserId);

/// A bearer token already verified for this request (by the rate limiter, which needs the
/// user first): the checker below trusts it for the very same token instead of verifying the
/// signature a second time.
#[derive(Debug, Clone)]
pub(crate) struct VerifiedBearer {
    pub token: String,
    pub subject: Subject,
    pub scopes: Option<TokenScopes>,
}

async fn authenticate(req: &Request, bearer: Bearer) -> poem::Result<UserId> {
    let state = req.data::<AppState>().ok_or_else(|| {
        // Only a wiring mistake gets here: `app()` attaches the state to every request.
        poem::Error::from_string(
            "the application state is not attached to the request",
            poem::http::StatusCode::INTERNAL_SERVER_ERROR,
        )
    })?;
    let caller = caller(state, req, &bearer.token).await?;
    check_scope(req.method(), req.uri().path(), caller.scopes)?;
    // The access log names the user (never the token).
    crate::access_log::note_user(req, caller.subject.user);
    Ok(caller.subject.user)
}

/// Whom a bearer token speaks for, and what it may do.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caller {
    /// The user and the sign-in session the token belongs to.
    pub subject: Subject,
    /// A personal access token's scopes (`None`: any other credential).
    pub scopes: Option<TokenScopes>,
}

/// The caller `token` speaks for: verified (or taken from the rate limiter's verification of
/// the very same token), with its sign-in session and its account still there. REST's bearer
/// scheme and MCP both ask this.
pub(crate) async fn caller(
    state: &AppState,
    req: &Request,
    token: &str,
) -> Result<Caller, ApiError> {
    let (subject, scopes) = match req.extensions().get::<VerifiedBearer>() {
        Some(verified) if verified.token == token => (verified.subject, verified.scopes),
        _ => {
            let verified = verify_token(state, token).await?;
            (verified.subject, verified.scopes)
        }
    };
    let Subject { user, session } = subject;
    // A token outlives neither its sign-in session nor its account.
    if state.engine.has_ended(user, session) {
        return Err(ApiError::Unauthenticated(
            "the session has ended".to_owned(),
        ));
    }
    if !state.engine.is_account(user).await? {
        return Err(ApiError::Unauthenticated(
            "the account no longer exists".to_owned(),
        ));
    }
    Ok(Caller { subject, scopes })
}
