//! One verification of a bearer token, for REST and WebSocket alike: an access token of
//! ours, or else — when an identity provider is configured — one of the provider's, whose
//! account is found (or created, on first sight) by its issuer and subject; or a personal
//! access token (`tp_pat_…`), found by its digest.

use taskpulse_actors::{Engine, TokenScopes, UserId};

use super::personal::{PERSONAL_TOKEN_PREFIX, personal_token_digest};
use super::provider::Rejection;
use super::{AccessTokens, IdentityProvider, Subject};
use crate::error::ApiError;
use crate::state::AppState;

/// A bearer token that verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedToken {
    /// Whom it speaks for.
    pub subject: Subject,
    /// When it expires (seconds since the epoch).
    pub expires_at: u64,
    /// A personal access token's scopes; `None` for access and provider tokens, which may
    /// do everything their user may.
    pub scopes: Option<TokenScopes>,
}

/// The `expires_at` of a personal access token that never expires: the last second of the
/// year 9999 (far enough, and still a time every client can show).
const NEVER: u64 = 253_402_300_799;

/// Verifies `token`: 401 `unauthenticated` unless it is valid in every respect; 503 when
/// the account of a provider's token must be created and the database is down. Whether its
/// session or account has ended since is the caller's to ask.
pub async fn verify_token(state: &AppState, token: &str) -> Result<VerifiedToken, ApiError> {
    let provider = state.identity_provider.as_deref();
    verify(&state.access_tokens, provider, &state.engine, token).await
}

/// [`verify_token`] with what it needs spelled out: our keys, the provider's, and the engine
/// that finds or creates a provider token's account.
pub async fn verify(
    access_tokens: &AccessTokens,
    identity_provider: Option<&IdentityProvider>,
    engine: &Engine,
    token: &str,
) -> Result<VerifiedToken, ApiError> {
    if token.starts_with(PERSONAL_TOKEN_PREFIX) {
        return verify_personal(engine, token).await;
    }
    if let Some(claims) = access_tokens.verify_claims(token) {
        return Ok(VerifiedToken {
            subject: Subject {
                user: UserId(claims.sub),
                session: claims.sid,
            },
            expires_at: claims.exp,
            scopes: None,
        });
    }
    let invalid = || ApiError::Unauthenticated("the access token is invalid or expired".to_owned());
    let Some(provider) = identity_provider else {
        return Err(invalid());
    };
    let claims = match provider.verify(token).await {
        Ok(claims) => claims,
        Err(Rejection::UnknownKey) => {
            tracing::debug!("a bearer token names a key the identity provider does not publish");
            return Err(invalid());
        }
        Err(Rejection::Invalid) => return Err(invalid()),
    };
    let user = engine.external_account(&claims.identity).await?;
    Ok(VerifiedToken {
        subject: Subject {
            user,
            // Provider tokens belong to no sign-in session of ours: only the account's
            // deletion ends them early.
            session: None,
        },
        expires_at: claims.expires_at,
        scopes: None,
    })
}

/// A personal access token: known, not revoked, not expired. Its id stands for the sign-in
/// session, so that revoking it ends it the way a sign-out ends a session's tokens.
async fn verify_personal(engine: &Engine, token: &str) -> Result<VerifiedToken, ApiError> {
    let found = engine
        .use_personal_token(&personal_token_digest(token))
        .await?
        .ok_or_else(|| {
            ApiError::Unauthenticated(
                "the personal access token is unknown, revoked or expired".to_owned(),
            )
        })?;
    let expires_at = found
        .expires_at
        .map_or(NEVER, |at| u64::try_from(at.timestamp()).unwrap_or(0));
    Ok(VerifiedToken {
        subject: Subject {
            user: found.user,
            session: Some(found.id),
        },
        expires_at,
        scopes: Some(found.scopes),
    })
}
