//! What a personal access token may do, decided for every secured REST operation in one place
//! (the bearer checker) from the request's method: a `read` token may only make safe requests
//! (GET, HEAD, OPTIONS), and no token may create tokens. Access and provider tokens, which
//! carry no scopes, may do everything their user may.

use poem::http::Method;
use taskpulse_actors::TokenScopes;

use crate::error::ApiError;

/// The path on which tokens are created.
const TOKENS_PATH: &str = "/api/v1/tokens";

/// 403 `insufficient_scope` when a personal access token with `scopes` may not make a
/// `method` request to `path`; `None` for credentials without scopes.
pub(crate) fn check_scope(
    method: &Method,
    path: &str,
    scopes: Option<TokenScopes>,
) -> Result<(), ApiError> {
    let Some(scopes) = scopes else {
        return Ok(());
    };
    // A leaked token must not be able to outlive its own revocation by minting others.
    if method == Method::POST && path.trim_end_matches('/') == TOKENS_PATH {
        return Err(ApiError::InsufficientScope(
            "a personal access token cannot create tokens: sign in to create one".to_owned(),
        ));
    }
    if !method.is_safe() {
        return check_write(Some(scopes));
    }
    Ok(())
}

/// 403 `insufficient_scope` unless the credential may write: every credential but a personal
/// access token with the `read` scope only. REST asks it of unsafe methods, MCP of its writing
/// tools.
pub(crate) fn check_write(scopes: Option<TokenScopes>) -> Result<(), ApiError> {
    match scopes {
        Some(scopes) if !scopes.can_write() => Err(ApiError::InsufficientScope(
            "this personal access token has the `read` scope only; this request writes".to_owned(),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_token_may_only_read() {
        let read = Some(TokenScopes::Read);
        assert!(check_scope(&Method::GET, "/api/v1/tasks", read).is_ok());
        assert!(check_scope(&Method::HEAD, "/api/v1/tasks", read).is_ok());
        for method in [Method::POST, Method::PATCH, Method::PUT, Method::DELETE] {
            assert!(check_scope(&method, "/api/v1/tasks", read).is_err());
        }
    }

    #[test]
    fn no_token_creates_tokens_and_unscoped_credentials_do_anything() {
        let write = Some(TokenScopes::ReadWrite);
        assert!(check_scope(&Method::POST, "/api/v1/tasks", write).is_ok());
        assert!(check_scope(&Method::DELETE, "/api/v1/tokens/x", write).is_ok());
        assert!(check_scope(&Method::POST, "/api/v1/tokens", write).is_err());
        assert!(check_scope(&Method::POST, "/api/v1/tokens", None).is_ok());
    }
}
