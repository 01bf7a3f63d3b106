//! One verification of a bearer token, for REST and WebSocket alike: an access token of
//! ours, or else — when an identity provider is configured — one of the provider's, whose
//! account is found (or created, on first sight) by its issuer and subject.

use taskpulse_actors::{Engine, UserId};

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
}

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
    if let Some(claims) = access_tokens.verify_claims(token) {
        return Ok(VerifiedToken {
            subject: Subject {
                user: UserId(claims.sub),
                session: claims.sid,
            },
            expires_at: claims.exp,
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
    })
}
