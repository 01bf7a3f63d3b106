//! User accounts: creating one (with its aggregate row) and finding one by id or by email.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{user_stats, users};
use crate::error::{ConflictCode, Error, Result};
use crate::model::{User, UserId};

#[diesel::declare_sql_function]
extern "SQL" {
    /// PostgreSQL's `lower(text)`: emails are unique whatever their case.
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// An account to create; the password is already hashed.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    /// The sign-in email, as the user spelled it.
    pub email: &'a str,
    /// The Argon2id PHC string of the password.
    pub password_hash: &'a str,
    /// The name shown to others.
    pub display_name: &'a str,
}

/// A user with the password hash that signs them in, for checking credentials.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    /// The account.
    pub user: User,
    /// The Argon2id PHC string of its password.
    #[cfg_attr(not(feature = "local-accounts"), expect(dead_code))]
    pub password_hash: String,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
struct UserRow {
    id: Uuid,
    email: String,
    password_hash: String,
    display_name: String,
    created_at: DateTime<Utc>,
}

impl UserRow {
    fn into_credentials(self) -> UserCredentials {
        UserCredentials {
            user: User {
                id: UserId(self.id),
                email: self.email,
                display_name: self.display_name,
                created_at: self.created_at,
            },
            password_hash: self.password_hash,
        }
    }
}

/// Creates the account and its (empty, version 0) statistics row on `conn`, inside the
/// caller's transaction: the engine expects every user to have one. An email that is taken
/// in any letter case is a [`Error::Conflict`] with code `email_taken`.
pub async fn create_user(conn: &mut AsyncPgConnection, new: NewUser<'_>) -> Result<User> {
    create_user_unless_email_taken(conn, new)
        .await?
        .ok_or_else(|| Error::Conflict {
            code: ConflictCode::EmailTaken,
            message: "an account with this email already exists".to_owned(),
        })
}

/// Creates the account and its statistics row as [`create_user`] does, unless its email is
/// taken (in any letter case): then nothing is written and the answer is `None`. Inside a
/// transaction this leaves it usable, where a failed insert would abort it.
pub async fn create_user_unless_email_taken(
    conn: &mut AsyncPgConnection,
    new: NewUser<'_>,
) -> Result<Option<User>> {
    let inserted = diesel::insert_into(users::table)
        .values((
            users::id.eq(UserId::new().0),
            users::email.eq(new.email),
            users::password_hash.eq(new.password_hash),
            users::display_name.eq(new.display_name),
        ))
        .on_conflict_do_nothing()
        .returning(UserRow::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    match inserted {
        Some(row) => Ok(Some(insert_user_stats(conn, &row).await?)),
        None => Ok(None),
    }
}

/// The (empty, version 0) statistics row every user has.
async fn insert_user_stats(conn: &mut AsyncPgConnection, row: &UserRow) -> Result<User> {
    diesel::insert_into(user_stats::table)
        .values(user_stats::user_id.eq(row.id))
        .execute(conn)
        .await?;
    Ok(User {
        id: UserId(row.id),
        email: row.email.clone(),
        display_name: row.display_name.clone(),
        created_at: row.created_at,
    })
}

/// The account whose email matches `email` in any letter case, with its password hash.
#[cfg(feature = "local-accounts")]
pub async fn find_user_by_email(
    conn: &mut AsyncPgConnection,
    email: &str,
) -> Result<Option<UserCredentials>> {
    // PostgreSQL text cannot hold NUL: no stored email has one.
    if email.contains('\0') {
        return Ok(None);
    }
    let row = users::table
        .filter(lower(users::email).eq(lower(email)))
        .select(UserRow::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(UserRow::into_credentials))
}

/// Locks the account's row for its deletion; answers whether it exists.
pub(crate) async fn lock_user(conn: &mut AsyncPgConnection, id: UserId) -> Result<bool> {
    let found: Option<Uuid> = users::table
        .find(id.0)
        .select(users::id)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    Ok(found.is_some())
}

/// Deletes the account; its refresh tokens, memberships, shares and aggregate rows go with
/// it.
pub(crate) async fn delete_user(conn: &mut AsyncPgConnection, id: UserId) -> Result<()> {
    diesel::delete(users::table.find(id.0))
        .execute(conn)
        .await?;
    Ok(())
}

/// The account with this id.
pub async fn find_user(conn: &mut AsyncPgConnection, id: UserId) -> Result<Option<User>> {
    let row = users::table
        .find(id.0)
        .select(UserRow::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(|row| row.into_credentials().user))
}

/// The account with its settings: time zone and email choice, as stored; with `lock`, its row
/// locked until the transaction ends (a change of settings).
pub(crate) async fn find_with_settings(
    conn: &mut AsyncPgConnection,
    id: UserId,
    lock: bool,
) -> Result<Option<(User, String, String)>> {
    let query = users::table.find(id.0).select((
        UserRow::as_select(),
        users::time_zone,
        users::email_notifications,
    ));
    let row = if lock {
        query
            .for_update()
            .first::<(UserRow, String, String)>(conn)
            .await
    } else {
        query.first::<(UserRow, String, String)>(conn).await
    };
    Ok(row
        .optional()?
        .map(|(row, zone, choice)| (row.into_credentials().user, zone, choice)))
}

/// Sets the account's time zone and email choice (already checked).
pub(crate) async fn update_settings(
    conn: &mut AsyncPgConnection,
    id: UserId,
    time_zone: &str,
    email_notifications: &str,
) -> Result<()> {
    diesel::update(users::table.find(id.0))
        .set((
            users::time_zone.eq(time_zone),
            users::email_notifications.eq(email_notifications),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
