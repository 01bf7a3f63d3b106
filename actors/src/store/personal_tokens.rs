//! Personal access tokens, stored only as the SHA-256 digest of their secret. A revoked token
//! keeps its row (`revoked_at` set): its audit entries still name it.

use chrono::{DateTime, Utc};
use diesel::dsl::{count_star, now};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::personal_access_tokens as pat;
use crate::error::Result;
use crate::model::UserId;

/// A stored token, as its owner sees it (never its digest).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = pat, check_for_backend(diesel::pg::Pg))]
pub struct TokenRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A token to store.
pub struct NewTokenRow<'a> {
    pub id: Uuid,
    pub user_id: UserId,
    pub name: &'a str,
    pub scopes: &'a [&'a str],
    pub digest: &'a [u8],
    pub expires_at: Option<DateTime<Utc>>,
}

/// Locks the owner's account row, so that concurrent creations count the live tokens one at a
/// time (the limit holds under races). `false` when the account is gone.
pub async fn lock_owner(conn: &mut AsyncPgConnection, user: UserId) -> Result<bool> {
    use super::schema::users;
    let found: Option<Uuid> = users::table
        .filter(users::id.eq(user.0))
        .select(users::id)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    Ok(found.is_some())
}

/// How many of the user's tokens still work (neither revoked nor expired).
pub async fn count_live(conn: &mut AsyncPgConnection, user: UserId) -> Result<i64> {
    Ok(pat::table
        .filter(pat::user_id.eq(user.0))
        .filter(pat::revoked_at.is_null())
        .filter(pat::expires_at.is_null().or(pat::expires_at.gt(now)))
        .select(count_star())
        .first(conn)
        .await?)
}

pub async fn insert(conn: &mut AsyncPgConnection, new: NewTokenRow<'_>) -> Result<TokenRow> {
    Ok(diesel::insert_into(pat::table)
        .values((
            pat::id.eq(new.id),
            pat::user_id.eq(new.user_id.0),
            pat::name.eq(new.name),
            pat::scopes.eq(new.scopes),
            pat::digest.eq(new.digest),
            pat::expires_at.eq(new.expires_at),
        ))
        .returning(TokenRow::as_returning())
        .get_result(conn)
        .await?)
}

/// A page of the user's tokens that are not revoked (expired ones included: their owner
/// should see why a script stopped), newest first, after `before` (a cursor).
pub async fn list(
    conn: &mut AsyncPgConnection,
    user: UserId,
    before: Option<Uuid>,
    rows: i64,
) -> Result<Vec<TokenRow>> {
    let mut query = pat::table
        .filter(pat::user_id.eq(user.0))
        .filter(pat::revoked_at.is_null())
        .select(TokenRow::as_select())
        .order(pat::id.desc())
        .limit(rows)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(pat::id.lt(before));
    }
    Ok(query.load(conn).await?)
}

/// Marks the user's token revoked; `None` when the user has no such live token.
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    user: UserId,
    id: Uuid,
) -> Result<Option<String>> {
    Ok(diesel::update(
        pat::table
            .filter(pat::id.eq(id))
            .filter(pat::user_id.eq(user.0))
            .filter(pat::revoked_at.is_null()),
    )
    .set(pat::revoked_at.eq(now))
    .returning(pat::name)
    .get_result(conn)
    .await
    .optional()?)
}

/// The working token with this digest, locked until the transaction ends (so that only one
/// node records its first use).
pub async fn find_working_for_update(
    conn: &mut AsyncPgConnection,
    digest: &[u8],
) -> Result<Option<TokenRow>> {
    Ok(pat::table
        .filter(pat::digest.eq(digest))
        .filter(pat::revoked_at.is_null())
        .filter(pat::expires_at.is_null().or(pat::expires_at.gt(now)))
        .select(TokenRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?)
}

/// Records a use of the token now.
pub async fn touch(conn: &mut AsyncPgConnection, id: Uuid) -> Result<DateTime<Utc>> {
    Ok(diesel::update(pat::table.filter(pat::id.eq(id)))
        .set(pat::last_used_at.eq(now))
        .returning(pat::last_used_at.assume_not_null())
        .get_result(conn)
        .await?)
}
