//! The session flows behind `/api/v1/auth/*`. Each change and its audit entry are written in
//! one transaction; Argon2 runs in turn on the blocking pool (`password::hash`/`check`), with
//! no database connection held meanwhile.

use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::json;
use taskpulse_actors::{
    AuditEntry, Error as EngineError, NewRefreshToken, NewUser, SpentRefreshToken, User, UserId,
    create_user, find_refresh_token_family, find_user, find_user_by_email, insert_refresh_token,
    revoke_refresh_family, spend_refresh_token, write_audit,
};
use uuid::Uuid;

use super::jwt::AccessToken;
use super::password;
use super::refresh::{generate_refresh_token, hash_refresh_token};
use crate::error::ApiError;
use crate::state::AppState;

/// A new account's details (already validated). No `Debug`: it holds a password.
#[derive(Clone)]
pub struct Registration {
    /// The sign-in email.
    pub email: String,
    /// The password in clear (hashed here, never stored or logged).
    pub password: String,
    /// The name shown to others.
    pub display_name: String,
}

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
    /// A new refresh token (text for the client; only its hash is stored).
    pub refresh_token: String,
}

/// Creates the account with its statistics row, and signs it in.
pub async fn register(state: &AppState, registration: Registration) -> Result<Session, ApiError> {
    let Registration {
        email,
        password,
        display_name,
    } = registration;
    let password_hash = password::hash(password).await?;
    let mut conn = state.pool.get().await.map_err(EngineError::from)?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let user = create_user(
            conn,
            NewUser {
                email: &email,
                password_hash: &password_hash,
                display_name: &display_name,
            },
        )
        .await?;
        let session = start_session(state, conn, user, Uuid::now_v7()).await?;
        audit(conn, session.user.id, "auth.register", json!({})).await?;
        Ok(session)
    })
    .await
}

/// Signs in with email and password. Unknown emails and wrong passwords get the same answer
/// after the same work: one lookup, one Argon2 verification, one audit entry.
pub async fn login(state: &AppState, credentials: Credentials) -> Result<Session, ApiError> {
    let found = {
        let mut conn = state.pool.get().await.map_err(EngineError::from)?;
        find_user_by_email(&mut conn, &credentials.email).await?
    };
    let (user, stored_hash) = match found {
        Some(found) => (Some(found.user), Some(found.password_hash)),
        None => (None, None),
    };
    let matches = password::check(credentials.password, stored_hash).await?;

    let mut conn = state.pool.get().await.map_err(EngineError::from)?;
    match user {
        Some(user) if matches => {
            conn.transaction::<_, ApiError, _>(async |conn| {
                let session = start_session(state, conn, user, Uuid::now_v7()).await?;
                audit(conn, session.user.id, "auth.login", json!({})).await?;
                Ok(session)
            })
            .await
        }
        _ => {
            let (actor_id, reason) = match &user {
                Some(user) => (Some(user.id), "wrong_password"),
                None => (None, "unknown_email"),
            };
            write_audit(
                &mut conn,
                AuditEntry {
                    actor_id,
                    action: "auth.login_failed",
                    target_type: "user",
                    target_id: actor_id.map(|id| id.0),
                    team_id: None,
                    details: json!({ "reason": reason }),
                },
            )
            .await?;
            Err(ApiError::invalid_credentials())
        }
    }
}

/// What spending a refresh token came to, decided inside the transaction and answered after
/// it commits (a detected reuse must stay revoked even though the request fails).
enum Renewal {
    Renewed(Session),
    Reused,
    Unusable,
}

/// Trades a live refresh token for a new pair in the same family. A token that was used
/// before revokes its whole family.
pub async fn refresh(state: &AppState, refresh_token: &str) -> Result<Session, ApiError> {
    let token_hash = hash_refresh_token(refresh_token);
    let mut conn = state.pool.get().await.map_err(EngineError::from)?;
    let renewal = conn
        .transaction::<_, ApiError, _>(async |conn| {
            match spend_refresh_token(conn, &token_hash).await? {
                SpentRefreshToken::Spent { user_id, family_id } => {
                    let Some(user) = find_user(conn, user_id).await? else {
                        return Ok(Renewal::Unusable);
                    };
                    let session = start_session(state, conn, user, family_id).await?;
                    let details = json!({ "family_id": family_id });
                    audit(conn, user_id, "auth.refresh", details).await?;
                    Ok(Renewal::Renewed(session))
                }
                SpentRefreshToken::AlreadyUsed { user_id, family_id } => {
                    let revoked = revoke_refresh_family(conn, family_id).await?;
                    let details = json!({ "family_id": family_id, "revoked_tokens": revoked });
                    audit(conn, user_id, "auth.refresh_reused", details).await?;
                    Ok(Renewal::Reused)
                }
                SpentRefreshToken::Unusable => Ok(Renewal::Unusable),
            }
        })
        .await?;
    match renewal {
        Renewal::Renewed(session) => Ok(session),
        Renewal::Reused => {
            tracing::warn!("a spent refresh token was presented again; its family is revoked");
            Err(ApiError::Refused {
                code: "refresh_token_reused",
                detail: "this refresh token was already used; every token of its session is \
                         revoked: sign in again"
                    .to_owned(),
            })
        }
        Renewal::Unusable => Err(ApiError::Refused {
            code: "invalid_refresh_token",
            detail: "the refresh token is unknown, expired or revoked: sign in again".to_owned(),
        }),
    }
}

/// Revokes the family of the presented refresh token. Unknown tokens change nothing and are
/// not an error (as in RFC 7009): the client is signed out either way.
pub async fn logout(state: &AppState, refresh_token: &str) -> Result<(), ApiError> {
    let token_hash = hash_refresh_token(refresh_token);
    let mut conn = state.pool.get().await.map_err(EngineError::from)?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        if let Some((user_id, family_id)) = find_refresh_token_family(conn, &token_hash).await? {
            let revoked = revoke_refresh_family(conn, family_id).await?;
            let details = json!({ "family_id": family_id, "revoked_tokens": revoked });
            audit(conn, user_id, "auth.logout", details).await?;
        }
        Ok(())
    })
    .await
}

/// Stores a new refresh token in `family_id` and issues an access token, for `user`.
async fn start_session(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    user: User,
    family_id: Uuid,
) -> Result<Session, ApiError> {
    let refresh = generate_refresh_token();
    let ttl = chrono::Duration::from_std(state.refresh_token_ttl)
        .map_err(|_| ApiError::Internal("the refresh token lifetime is out of range".to_owned()))?;
    insert_refresh_token(
        conn,
        NewRefreshToken {
            user_id: user.id,
            family_id,
            token_hash: &refresh.hash,
            expires_at: Utc::now() + ttl,
        },
    )
    .await?;
    let access = state
        .access_tokens
        .issue(user.id)
        .map_err(|err| ApiError::Internal(format!("cannot sign an access token: {err}")))?;
    Ok(Session {
        user,
        access,
        refresh_token: refresh.token,
    })
}

/// One audit entry about the user's own account.
async fn audit(
    conn: &mut AsyncPgConnection,
    user: UserId,
    action: &'static str,
    details: serde_json::Value,
) -> Result<(), ApiError> {
    write_audit(
        conn,
        AuditEntry {
            actor_id: Some(user),
            action,
            target_type: "user",
            target_id: Some(user.0),
            team_id: None,
            details,
        },
    )
    .await?;
    Ok(())
}
