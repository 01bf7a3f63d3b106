//! Refresh tokens, stored only as hashes. Tokens rotated from one login form a family; spending
//! a token is a single conditional `UPDATE`, so two concurrent spends of one token cannot both
//! succeed.

use chrono::{DateTime, Utc};
use diesel::dsl::now;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::refresh_tokens;
use crate::error::Result;
use crate::model::UserId;

/// A refresh token to store.
#[derive(Debug, Clone)]
pub struct NewRefreshToken<'a> {
    /// Whose session it continues.
    pub user_id: UserId,
    /// The login it descends from.
    pub family_id: Uuid,
    /// The hash of the token (never the token itself).
    pub token_hash: &'a [u8],
    /// When it stops being usable.
    pub expires_at: DateTime<Utc>,
}

/// What spending a refresh token found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpentRefreshToken {
    /// The token was live and is now used: issue its successor in the same family.
    Spent {
        /// Whose token it was.
        user_id: UserId,
        /// Its family.
        family_id: Uuid,
    },
    /// The token had been used before: someone replays it, so its family should be revoked.
    AlreadyUsed {
        /// Whose token it was.
        user_id: UserId,
        /// Its family.
        family_id: Uuid,
    },
    /// Unknown, revoked or expired.
    Unusable,
}

/// Stores a new refresh token on `conn`.
pub async fn insert_refresh_token(
    conn: &mut AsyncPgConnection,
    token: NewRefreshToken<'_>,
) -> Result<()> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(Uuid::now_v7()),
            refresh_tokens::user_id.eq(token.user_id.0),
            refresh_tokens::family_id.eq(token.family_id),
            refresh_tokens::token_hash.eq(token.token_hash),
            refresh_tokens::expires_at.eq(token.expires_at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks the token with this hash used, if it is live. Run it inside a transaction with what
/// follows from the answer: a concurrent spend of the same token waits on the row lock, then
/// finds it used.
pub async fn spend_refresh_token(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8],
) -> Result<SpentRefreshToken> {
    let spent: Option<(Uuid, Uuid)> = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(token_hash))
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null())
            .filter(refresh_tokens::expires_at.gt(now)),
    )
    .set(refresh_tokens::used_at.eq(now))
    .returning((refresh_tokens::user_id, refresh_tokens::family_id))
    .get_result(conn)
    .await
    .optional()?;
    if let Some((user_id, family_id)) = spent {
        return Ok(SpentRefreshToken::Spent {
            user_id: UserId(user_id),
            family_id,
        });
    }
    let found: Option<(Uuid, Uuid, Option<DateTime<Utc>>)> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select((
            refresh_tokens::user_id,
            refresh_tokens::family_id,
            refresh_tokens::used_at,
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(match found {
        Some((user_id, family_id, Some(_used_at))) => SpentRefreshToken::AlreadyUsed {
            user_id: UserId(user_id),
            family_id,
        },
        _ => SpentRefreshToken::Unusable,
    })
}

/// The user and family of the token with this hash, whatever its state.
pub async fn find_refresh_token_family(
    conn: &mut AsyncPgConnection,
    token_hash: &[u8],
) -> Result<Option<(UserId, Uuid)>> {
    let found: Option<(Uuid, Uuid)> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select((refresh_tokens::user_id, refresh_tokens::family_id))
        .first(conn)
        .await
        .optional()?;
    Ok(found.map(|(user_id, family_id)| (UserId(user_id), family_id)))
}

/// Revokes every token of the family that is not revoked yet; answers how many it revoked.
pub async fn revoke_refresh_family(conn: &mut AsyncPgConnection, family_id: Uuid) -> Result<usize> {
    Ok(diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)
    .await?)
}

/// The sessions (families) with a token revoked since `since`: the sign-outs and detected
/// reuses a node starting now must still refuse the access tokens of.
pub(crate) async fn families_revoked_since(
    conn: &mut AsyncPgConnection,
    since: DateTime<Utc>,
) -> Result<Vec<Uuid>> {
    Ok(refresh_tokens::table
        .filter(refresh_tokens::revoked_at.gt(since))
        .select(refresh_tokens::family_id)
        .distinct()
        .load(conn)
        .await?)
}
