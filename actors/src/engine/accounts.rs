//! Accounts: creating one, reading one. Signing in with a password and sessions of refresh
//! tokens are `local_accounts.rs` (feature `local-accounts`); accounts of an identity
//! provider, `external_accounts.rs`.

use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::json;

use super::Engine;
use crate::account::{DisplayName, Email};
use crate::audit_action::AuditAction;
use crate::error::{Entity, Error, Result};
use crate::model::{User, UserId};
use crate::store::audit::{AuditEntry, write_audit};
use crate::store::users::{NewUser, create_user, find_user};

/// A new account; its password is already hashed by the caller.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// The sign-in email.
    pub email: Email,
    /// The name shown to others.
    pub display_name: DisplayName,
    /// The password's hash (a PHC string), never the password; for an account that never
    /// signs in with a password, any text that is not a hash (e.g. `!`).
    pub password_hash: String,
}

impl Engine {
    /// Creates an account with its (empty) statistics row, without signing it in: for
    /// services that embed the engine and sign their users in themselves. A taken email, in
    /// any letter case, is a conflict `email_taken`.
    pub async fn create_account(&self, account: NewAccount) -> Result<User> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, Error, _>(async |conn| {
            let user = insert_account(conn, &account).await?;
            audit_account(conn, user.id, AuditAction::UserCreate, json!({})).await?;
            Ok(user)
        })
        .await
    }

    /// The account with this id; [`Error::NotFound`] once it no longer exists.
    pub async fn user(&self, id: UserId) -> Result<User> {
        let mut conn = self.conn().await?;
        find_user(&mut conn, id)
            .await?
            .ok_or(Error::NotFound(Entity::User))
    }
}

pub(super) async fn insert_account(
    conn: &mut AsyncPgConnection,
    account: &NewAccount,
) -> Result<User> {
    let new = NewUser {
        email: account.email.as_str(),
        password_hash: &account.password_hash,
        display_name: account.display_name.as_str(),
    };
    create_user(conn, new).await
}

/// One audit entry about the user's own account.
pub(super) async fn audit_account(
    conn: &mut AsyncPgConnection,
    user: UserId,
    action: AuditAction,
    details: serde_json::Value,
) -> Result<()> {
    write_audit(
        conn,
        AuditEntry {
            actor_id: Some(user),
            action,
            target_type: "user",
            target_id: Some(user.0),
            team_id: None,
            details,
            audience: Vec::new(),
        },
    )
    .await
}
