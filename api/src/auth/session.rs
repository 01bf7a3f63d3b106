//! The session flows behind `/api/v1/auth/*`, over the engine's account commands: here only
//! what the engine must not see — Argon2 (run in turn on the blocking pool, with no database
//! connection held), refresh-token generation and digests, and access-token signing.

use chrono::Utc;
use taskpulse_actors::{AccountFields, NewAccount, NewSessionToken, SignInAttempt, SignedIn, User};

use super::jwt::AccessToken;
use super::password;
use super::refresh::{generate_refresh_token, hash_refresh_token};
use crate::error::ApiError;
use crate::state::AppState;

/// What a sign-in presents. No `Debug`: it holds a password.
#[derive(Clone)]
pub struct Credentials {
    /// The sign-in email, in any letter case.
    pub email: String,
    /// The password in clear.
    pub password: String,
}

/// A signed-in user and the token pair that continues the session. No `Debug`: it holds
/// credentials.
#[derive(Clone)]
pub struct Session {
    /// The user.
    pub user: User,
    /// A new access token.
    pub access: AccessToken,
    /// A new refresh token (text for the client; only its digest is stored).
    pub refresh_token: String,
}

/// Creates the account with its statistics row, and signs it in.
pub async fn register(state: &AppState, account: AccountFields) -> Result<Session, ApiError> {
    let AccountFields {
        email,
        password,
        display_name,
    } = account;
    let password_hash = password::hash(password.into_clear_text()).await?;
    let (token, refresh_token) = next_token(state)?;
    let account = NewAccount {
        email,
        display_name,
        password_hash,
    };
    let signed_in = state.engine.register(account, token).await?;
    issue(state, signed_in, refresh_token)
}

/// Signs in with email and password. Unknown emails and wrong passwords get the same answer
/// after the same work: one lookup, one Argon2 verification, one audit entry.
pub async fn login(state: &AppState, credentials: Credentials) -> Result<Session, ApiError> {
    let candidate = state.engine.sign_in_candidate(&credentials.email).await?;
    let (user, stored_hash) = match candidate {
        // An account without a password (one the identity provider created) is checked
        // against the dummy hash: the same work, and never a match.
        Some(found) => (
            Some(found.user.id),
            Some(found.password_hash).filter(|hash| hash.starts_with('$')),
        ),
        None => (None, None),
    };
    let matches = password::check(credentials.password, stored_hash).await?;
    let attempt = match user {
        Some(user) if matches => SignInAttempt::Verified(user),
        Some(user) => SignInAttempt::WrongPassword(user),
        None => SignInAttempt::UnknownEmail,
    };
    let (token, refresh_token) = next_token(state)?;
    let signed_in = state.engine.sign_in(attempt, token).await?;
    issue(state, signed_in, refresh_token)
}

/// Trades a live refresh token for a new pair in the same session; the engine revokes the
/// whole session when the token was used before.
pub async fn refresh(state: &AppState, refresh_token: &str) -> Result<Session, ApiError> {
    let presented = hash_refresh_token(refresh_token);
    let (token, refresh_token) = next_token(state)?;
    let signed_in = state.engine.refresh_session(&presented, token).await?;
    issue(state, signed_in, refresh_token)
}

/// Ends the session of the presented refresh token (unknown tokens too answer success).
pub async fn logout(state: &AppState, refresh_token: &str) -> Result<(), ApiError> {
    Ok(state
        .engine
        .sign_out(&hash_refresh_token(refresh_token))
        .await?)
}

/// A fresh refresh token: its digest for the engine, its text for the client.
fn next_token(state: &AppState) -> Result<(NewSessionToken, String), ApiError> {
    let refresh = generate_refresh_token();
    let ttl = chrono::Duration::from_std(state.refresh_token_ttl)
        .map_err(|_| ApiError::Internal("the refresh token lifetime is out of range".to_owned()))?;
    let token = NewSessionToken {
        token_hash: refresh.hash.to_vec(),
        expires_at: Utc::now() + ttl,
    };
    Ok((token, refresh.token))
}

/// Signs the access token of a session the engine started.
fn issue(
    state: &AppState,
    signed_in: SignedIn,
    refresh_token: String,
) -> Result<Session, ApiError> {
    let access = state
        .access_tokens
        .issue(signed_in.user.id, signed_in.session_id)
        .map_err(|err| ApiError::Internal(format!("cannot sign an access token: {err}")))?;
    Ok(Session {
        user: signed_in.user,
        access,
        refresh_token,
    })
}
