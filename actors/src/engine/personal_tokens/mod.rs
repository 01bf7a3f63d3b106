//! Personal access tokens (API.md, "Personal access tokens"): long-lived credentials for
//! scripts, integrations and assistants. The engine stores and checks digests; generating the
//! secret and hashing it is the caller's (the HTTP layer), as for refresh tokens.
//! Using a token is `token_use.rs`.

mod token_use;

use chrono::{DateTime, Duration, Utc};
use diesel_async::AsyncConnection;
use serde_json::json;
use uuid::Uuid;

use super::Engine;
use super::paging::{Page, PageRequest};
use super::validate::Checks;
use crate::audit_action::AuditAction;
use crate::endings::Ending;
use crate::error::{Entity, Error, FieldError, Result};
use crate::model::UserId;
use crate::store::audit::{AuditEntry, write_audit};
use crate::store::personal_tokens::{self as store, NewTokenRow, TokenRow};

pub(crate) use token_use::TokenCache;

/// A token's name: 1..=100 characters, not blank.
const NAME: (usize, usize) = (1, 100);
/// How many days a token may live: 1..=365 (none: until revoked).
const EXPIRES_IN_DAYS: (i64, i64) = (1, 365);
/// Live (neither revoked nor expired) tokens a user may hold at once.
pub const MAX_LIVE_TOKENS: i64 = 50;

/// What a token lets its bearer do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenScopes {
    /// Read only: every route that writes refuses it.
    Read,
    /// Read and write.
    ReadWrite,
}

impl TokenScopes {
    /// The scopes as the contract spells them.
    pub const fn as_strs(self) -> &'static [&'static str] {
        match self {
            TokenScopes::Read => &["read"],
            TokenScopes::ReadWrite => &["read", "write"],
        }
    }

    /// Whether the token may write.
    pub const fn can_write(self) -> bool {
        matches!(self, TokenScopes::ReadWrite)
    }

    /// `["read"]` or `["read", "write"]`, in any order, each once; `None` for anything else.
    pub fn parse(scopes: &[String]) -> Option<Self> {
        let mut sorted: Vec<&str> = scopes.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        match sorted.as_slice() {
            ["read"] => Some(TokenScopes::Read),
            ["read", "write"] => Some(TokenScopes::ReadWrite),
            _ => None,
        }
    }
}

/// A personal access token as its owner sees it: never its secret, which only its creator
/// saw once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalToken {
    /// Its id (UUIDv7).
    pub id: Uuid,
    /// Whose it is.
    pub user: UserId,
    /// Its owner's name for it.
    pub name: String,
    /// What it allows.
    pub scopes: TokenScopes,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working by itself; `None`: when revoked.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last used (to the minute); `None`: never.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl TryFrom<TokenRow> for PersonalToken {
    type Error = Error;

    fn try_from(row: TokenRow) -> Result<Self> {
        // The table's CHECK admits only the two sets.
        let scopes = TokenScopes::parse(&row.scopes).ok_or_else(|| {
            Error::Database(format!("token {} has unknown scopes", row.id).into())
        })?;
        Ok(Self {
            id: row.id,
            user: UserId(row.user_id),
            name: row.name,
            scopes,
            created_at: row.created_at,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
        })
    }
}

/// A token to create. It holds the secret's digest only: the secret never reaches the engine.
#[derive(Debug, Clone)]
pub struct NewPersonalToken {
    /// 1..=100 characters, not blank.
    pub name: String,
    /// `["read"]` or `["read", "write"]`.
    pub scopes: Vec<String>,
    /// 1..=365; `None`: it works until revoked.
    pub expires_in_days: Option<i64>,
    /// SHA-256 of the secret the caller hands out.
    pub digest: [u8; 32],
}

impl Engine {
    /// Creates a token for `actor` (audited `token.create`). Every broken rule is reported at
    /// once (422): the name, the scopes, the lifetime, and more than
    /// [`MAX_LIVE_TOKENS`] live tokens.
    pub async fn create_personal_token(
        &self,
        actor: UserId,
        new: NewPersonalToken,
    ) -> Result<PersonalToken> {
        let mut checks = Checks::default();
        checks.length("name", &new.name, NAME.0, NAME.1);
        checks.not_blank("name", &new.name);
        checks.finish()?;
        let scopes = TokenScopes::parse(&new.scopes).ok_or_else(|| {
            Error::Validation(vec![FieldError::new(
                "scopes",
                "must be [\"read\"] or [\"read\", \"write\"]",
            )])
        })?;
        let expires_at = match new.expires_in_days {
            None => None,
            Some(days) if (EXPIRES_IN_DAYS.0..=EXPIRES_IN_DAYS.1).contains(&days) => {
                Some(Utc::now() + Duration::days(days))
            }
            Some(_) => {
                return Err(Error::Validation(vec![FieldError::new(
                    "expires_in_days",
                    "must be 1..=365",
                )]));
            }
        };
        let mut conn = self.conn().await?;
        conn.transaction::<_, Error, _>(async |conn| {
            if !store::lock_owner(conn, actor).await? {
                return Err(Error::NotFound(Entity::User));
            }
            if store::count_live(conn, actor).await? >= MAX_LIVE_TOKENS {
                return Err(Error::Validation(vec![FieldError::new(
                    "tokens",
                    format!("at most {MAX_LIVE_TOKENS} live tokens per user: revoke one first"),
                )]));
            }
            let row = store::insert(
                conn,
                NewTokenRow {
                    id: Uuid::now_v7(),
                    user_id: actor,
                    name: &new.name,
                    scopes: scopes.as_strs(),
                    digest: &new.digest,
                    expires_at,
                },
            )
            .await?;
            let details =
                json!({ "name": row.name, "scopes": row.scopes, "expires_at": expires_at });
            audit_token(conn, actor, AuditAction::TokenCreate, row.id, details).await?;
            PersonalToken::try_from(row)
        })
        .await
    }

    /// A page of the caller's tokens (not revoked; expired ones included), newest first.
    pub async fn personal_tokens(
        &self,
        actor: UserId,
        limit: Option<i64>,
        cursor: Option<&str>,
    ) -> Result<Page<PersonalToken>> {
        let request = PageRequest::parse(limit, cursor)?;
        let mut conn = self.conn().await?;
        let rows = store::list(&mut conn, actor, request.cursor, request.rows()).await?;
        let tokens = rows
            .into_iter()
            .map(PersonalToken::try_from)
            .collect::<Result<Vec<_>>>()?;
        Ok(request.page(tokens, |token| token.id))
    }

    /// Revokes one of the caller's tokens (audited `token.delete`): it stops working at once on
    /// every node, and the WebSocket sessions it opened are closed. `NotFound` for a token
    /// that is not the caller's or is already revoked.
    pub async fn revoke_personal_token(&self, actor: UserId, id: Uuid) -> Result<()> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, Error, _>(async |conn| {
            let name = store::revoke(conn, actor, id)
                .await?
                .ok_or(Error::NotFound(Entity::Token))?;
            audit_token(
                conn,
                actor,
                AuditAction::TokenDelete,
                id,
                json!({ "name": name }),
            )
            .await
        })
        .await?;
        // A token's id is the "session" its credentials carry: ending it reuses the path of
        // sign-in session endings (memory on every node, the cluster signal, closed sockets).
        self.inner.cluster.end(Ending::Session(id));
        Ok(())
    }
}

async fn audit_token(
    conn: &mut diesel_async::AsyncPgConnection,
    user: UserId,
    action: AuditAction,
    token: Uuid,
    details: serde_json::Value,
) -> Result<()> {
    write_audit(
        conn,
        AuditEntry {
            actor_id: Some(user),
            action,
            target_type: "token",
            target_id: Some(token),
            team_id: None,
            details,
            audience: Vec::new(),
        },
    )
    .await
}
