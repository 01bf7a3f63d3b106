//! External identities: the (issuer, subject) pairs of an identity provider and the local
//! users they map to.

use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::external_identities;
use crate::error::Result;
use crate::model::UserId;

/// Holds, until the caller's transaction ends, a lock on the pair (issuer, subject): two
/// first sightings of one subject at once are serialised, so the second finds the first's
/// account instead of creating another.
pub(crate) async fn lock_external_identity(
    conn: &mut AsyncPgConnection,
    issuer: &str,
    subject: &str,
) -> Result<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1 || E'\\n' || $2, 0))")
        .bind::<Text, _>(issuer)
        .bind::<Text, _>(subject)
        .execute(conn)
        .await?;
    Ok(())
}

/// The user the pair maps to, if any.
pub(crate) async fn find_external_identity(
    conn: &mut AsyncPgConnection,
    issuer: &str,
    subject: &str,
) -> Result<Option<UserId>> {
    let found = external_identities::table
        .find((issuer, subject))
        .select(external_identities::user_id)
        .first::<uuid::Uuid>(conn)
        .await
        .optional()?;
    Ok(found.map(UserId))
}

/// Maps the pair to `user`.
pub(crate) async fn insert_external_identity(
    conn: &mut AsyncPgConnection,
    issuer: &str,
    subject: &str,
    user: UserId,
) -> Result<()> {
    diesel::insert_into(external_identities::table)
        .values((
            external_identities::issuer.eq(issuer),
            external_identities::subject.eq(subject),
            external_identities::user_id.eq(user.0),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
