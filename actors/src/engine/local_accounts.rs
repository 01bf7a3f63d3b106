//! Local accounts (feature `local-accounts`): registering with a password, signing in, and
//! sign-in sessions of rotating refresh tokens. Each command is one transaction with its audit
//! rows, and the security rules live here: a failed sign-in is audited whatever failed, and a
//! refresh token presented twice revokes its whole session. Password hashing and token signing
//! stay with the caller: the engine receives hashes and token digests, never secrets.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::json;
use uuid::Uuid;

use super::Engine;
use super::accounts::{NewAccount, audit_account, insert_account};
use crate::audit_action::AuditAction;
use crate::endings::Ending;
use crate::error::{Error, RefusalCode, Result};
use crate::model::{User, UserId};
use crate::store::audit::{AuditEntry, write_audit};
use crate::store::refresh_tokens::{
    NewRefreshToken, SpentRefreshToken, find_refresh_token_family, insert_refresh_token,
    revoke_refresh_family, spend_refresh_token,
};
use crate::store::users::{find_user, find_user_by_email};

/// The first (or next) refresh token of a sign-in session, as stored.
#[derive(Clone)]
pub struct NewSessionToken {
    /// A digest of the refresh token the client holds (never the token itself).
    pub token_hash: Vec<u8>,
    /// When the token stops being usable.
    pub expires_at: DateTime<Utc>,
}

/// A signed-in user and the sign-in session (the refresh-token family) the tokens belong to.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The user.
    pub user: User,
    /// The sign-in session: the same for every token rotated from one sign-in.
    pub session_id: Uuid,
}

/// What a sign-in attempt is checked against: the account an email names, with its password
/// hash.
#[derive(Clone)]
pub struct SignInCandidate {
    /// The account.
    pub user: User,
    /// Its password's hash.
    pub password_hash: String,
}

/// How the caller's password check came out.
#[derive(Debug, Clone)]
pub enum SignInAttempt {
    /// The password matches this account's hash.
    Verified(UserId),
    /// The account exists but the password does not match.
    WrongPassword(UserId),
    /// No account has the email.
    UnknownEmail,
}

impl Engine {
    /// Creates the account with its (empty) statistics row and starts its first session.
    /// A taken email, in any letter case, is a conflict `email_taken`.
    pub async fn register(&self, account: NewAccount, token: NewSessionToken) -> Result<SignedIn> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, Error, _>(async |conn| {
            let user = insert_account(conn, &account).await?;
            let signed_in = start_session(conn, user, Uuid::now_v7(), token).await?;
            audit_account(
                conn,
                signed_in.user.id,
                AuditAction::AuthRegister,
                json!({}),
            )
            .await?;
            Ok(signed_in)
        })
        .await
    }

    /// The account a sign-in names by email (in any letter case), for the caller to check the
    /// password against; then [`Engine::sign_in`] with the outcome.
    pub async fn sign_in_candidate(&self, email: &str) -> Result<Option<SignInCandidate>> {
        let mut conn = self.conn().await?;
        let found = find_user_by_email(&mut conn, email).await?;
        Ok(found.map(|found| SignInCandidate {
            user: found.user,
            password_hash: found.password_hash,
        }))
    }

    /// Starts a session for a verified attempt. Any other attempt is audited
    /// (`auth.login_failed`, with why) and refused as `invalid_credentials`, the same answer
    /// whichever of email or password was wrong.
    pub async fn sign_in(
        &self,
        attempt: SignInAttempt,
        token: NewSessionToken,
    ) -> Result<SignedIn> {
        let mut conn = self.conn().await?;
        let (actor_id, reason) = match attempt {
            SignInAttempt::Verified(user_id) => {
                return conn
                    .transaction::<_, Error, _>(async |conn| {
                        let user = find_user(conn, user_id)
                            .await?
                            .ok_or_else(refused_sign_in)?;
                        let signed_in = start_session(conn, user, Uuid::now_v7(), token).await?;
                        audit_account(conn, user_id, AuditAction::AuthLogin, json!({})).await?;
                        Ok(signed_in)
                    })
                    .await;
            }
            SignInAttempt::WrongPassword(user_id) => (Some(user_id), "wrong_password"),
            SignInAttempt::UnknownEmail => (None, "unknown_email"),
        };
        write_audit(
            &mut conn,
            AuditEntry {
                actor_id,
                action: AuditAction::AuthLoginFailed,
                target_type: "user",
                target_id: actor_id.map(|id| id.0),
                team_id: None,
                details: json!({ "reason": reason }),
                audience: Vec::new(),
            },
        )
        .await?;
        Err(refused_sign_in())
    }

    /// Trades a live refresh token (by its digest) for the next one of the same session. A
    /// token that was spent before revokes its whole session (`refresh_token_reused`; the
    /// revocation stays even though the call fails); unknown, expired and revoked tokens are
    /// `invalid_refresh_token`.
    pub async fn refresh_session(
        &self,
        token_hash: &[u8],
        next: NewSessionToken,
    ) -> Result<SignedIn> {
        let mut conn = self.conn().await?;
        let renewal = conn
            .transaction::<_, Error, _>(async |conn| {
                match spend_refresh_token(conn, token_hash).await? {
                    SpentRefreshToken::Spent { user_id, family_id } => {
                        let Some(user) = find_user(conn, user_id).await? else {
                            return Ok(Renewal::Unusable);
                        };
                        let signed_in = start_session(conn, user, family_id, next).await?;
                        let details = json!({ "family_id": family_id });
                        audit_account(conn, user_id, AuditAction::AuthRefresh, details).await?;
                        Ok(Renewal::Renewed(signed_in))
                    }
                    SpentRefreshToken::AlreadyUsed { user_id, family_id } => {
                        let revoked = revoke_refresh_family(conn, family_id).await?;
                        let details = json!({ "family_id": family_id, "revoked_tokens": revoked });
                        audit_account(conn, user_id, AuditAction::AuthRefreshReused, details)
                            .await?;
                        Ok(Renewal::Reused(family_id))
                    }
                    SpentRefreshToken::Unusable => Ok(Renewal::Unusable),
                }
            })
            .await?;
        match renewal {
            Renewal::Renewed(signed_in) => Ok(signed_in),
            Renewal::Reused(session) => {
                self.inner.cluster.end(Ending::Session(session));
                tracing::warn!("a spent refresh token was presented again; its session is revoked");
                Err(Error::Refused {
                    code: RefusalCode::RefreshTokenReused,
                    message: "this refresh token was already used; every token of its session \
                              is revoked: sign in again"
                        .to_owned(),
                })
            }
            Renewal::Unusable => Err(Error::Refused {
                code: RefusalCode::InvalidRefreshToken,
                message: "the refresh token is unknown, expired or revoked: sign in again"
                    .to_owned(),
            }),
        }
    }

    /// Ends the session of the refresh token with this digest. An unknown token changes
    /// nothing and is not an error (as in RFC 7009): the client is signed out either way.
    /// Its access tokens stop working at once, on every node.
    pub async fn sign_out(&self, token_hash: &[u8]) -> Result<()> {
        let mut conn = self.conn().await?;
        let ended = conn
            .transaction::<_, Error, _>(async |conn| {
                let Some((user_id, family_id)) =
                    find_refresh_token_family(conn, token_hash).await?
                else {
                    return Ok(None);
                };
                let revoked = revoke_refresh_family(conn, family_id).await?;
                let details = json!({ "family_id": family_id, "revoked_tokens": revoked });
                audit_account(conn, user_id, AuditAction::AuthLogout, details).await?;
                Ok(Some(family_id))
            })
            .await?;
        if let Some(session) = ended {
            self.inner.cluster.end(Ending::Session(session));
        }
        Ok(())
    }
}

/// What spending a refresh token came to, decided inside the transaction and answered after
/// it commits (a detected reuse must stay revoked even though the call fails).
enum Renewal {
    Renewed(SignedIn),
    Reused(Uuid),
    Unusable,
}

fn refused_sign_in() -> Error {
    Error::Refused {
        code: RefusalCode::InvalidCredentials,
        message: "the email or the password is wrong".to_owned(),
    }
}

/// Stores the session's next refresh token.
async fn start_session(
    conn: &mut AsyncPgConnection,
    user: User,
    session_id: Uuid,
    token: NewSessionToken,
) -> Result<SignedIn> {
    insert_refresh_token(
        conn,
        NewRefreshToken {
            user_id: user.id,
            family_id: session_id,
            token_hash: &token.token_hash,
            expires_at: token.expires_at,
        },
    )
    .await?;
    Ok(SignedIn { user, session_id })
}
