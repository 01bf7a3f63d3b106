//! The bearer security scheme of every secured operation: `Authorization: Bearer <jwt>`,
//! checked against the server's access-token keys before the handler runs.

use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;
use taskpulse_actors::UserId;

use crate::error::ApiError;
use crate::state::AppState;

/// A valid access token: the operation runs as this user. Missing, malformed, expired or
/// forged tokens are answered with 401 `unauthenticated` before the handler runs.
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
    pub user: UserId,
}

async fn authenticate(req: &Request, bearer: Bearer) -> poem::Result<UserId> {
    if let Some(verified) = req.extensions().get::<VerifiedBearer>()
        && verified.token == bearer.token
    {
        crate::access_log::note_user(req, verified.user);
        return Ok(verified.user);
    }
    let state = req.data::<AppState>().ok_or_else(|| {
        // Only a wiring mistake gets here: `app()` attaches the state to every request.
        poem::Error::from_string(
            "the application state is not attached to the request",
            poem::http::StatusCode::INTERNAL_SERVER_ERROR,
        )
    })?;
    let user = state.access_tokens.verify(&bearer.token).ok_or_else(|| {
        ApiError::Unauthenticated("the access token is invalid or expired".to_owned())
    })?;
    // The access log names the user (never the token).
    crate::access_log::note_user(req, user);
    Ok(user)
}
