//! Accounts of an external identity provider, created just in time: the first request with a
//! provider's token creates the account its (issuer, subject) pair maps to; every later one
//! finds it, from memory once seen. The pair is the identity: an email the provider sends is
//! stored when no account has it yet, and never used to find (or take over) an existing one.

use std::time::Instant;

use dashmap::DashMap;
use diesel_async::AsyncConnection;
use serde_json::json;
use uuid::Uuid;

use super::Engine;
use crate::account::{DisplayName, Email};
use crate::audit_action::AuditAction;
use crate::error::{ConflictCode, Error, Result};
use crate::model::UserId;
use crate::store::audit::{AuditEntry, write_audit};
use crate::store::external_identities::{
    find_external_identity, insert_external_identity, lock_external_identity,
};
use crate::store::users::{NewUser, create_user_unless_email_taken};

/// The domain of the stand-in email of an external account whose provider sent none that
/// could be used (`.invalid` is reserved: no mail is ever delivered there).
pub const EXTERNAL_EMAIL_DOMAIN: &str = "external.invalid";
/// What an external account has for a password hash: not a hash, so no password matches.
const NO_PASSWORD: &str = "!";
/// Beyond this many remembered pairs the memory starts over (each is looked up once again).
const MAX_REMEMBERED: usize = 200_000;

/// Whom an identity provider's valid token names.
#[derive(Debug, Clone)]
pub struct ExternalIdentity {
    /// The provider (its `iss`).
    pub issuer: String,
    /// The person, as the provider names them (by default its `sub`); 1..=1024 characters.
    pub subject: String,
    /// The email the provider gives, if any (stored only when no account has it).
    pub email: Option<Email>,
    /// The name the provider gives, if any.
    pub display_name: Option<DisplayName>,
}

/// (issuer, subject) pairs seen, with their users.
#[derive(Default)]
pub(crate) struct KnownExternalAccounts(DashMap<String, UserId>);

fn pair_key(issuer: &str, subject: &str) -> String {
    // Issuers are URLs: they hold no newline, so the key names one pair.
    format!("{issuer}\n{subject}")
}

impl Engine {
    /// The user an (issuer, subject) pair maps to, answered from memory only: `None` when the
    /// pair was not seen on this node yet (or its account was deleted since). Then ask
    /// [`Engine::external_account`].
    pub fn known_external_account(&self, issuer: &str, subject: &str) -> Option<UserId> {
        let known = &self.inner.known_external_accounts.0;
        let key = pair_key(issuer, subject);
        let user = *known.get(&key)?;
        if self.has_ended(user, None) {
            known.remove(&key);
            return None;
        }
        Some(user)
    }

    /// The user of an external identity, created on first sight with its (empty) statistics
    /// row and the mapping, audited as `auth.external_account_created`, all in one
    /// transaction. Concurrent first sightings of one pair create one account. The email is
    /// stored when no account has it in any letter case; otherwise (and without one) the
    /// account gets a stand-in `…@external.invalid`: an existing account is never joined.
    pub async fn external_account(&self, identity: &ExternalIdentity) -> Result<UserId> {
        if let Some(user) = self.known_external_account(&identity.issuer, &identity.subject) {
            return Ok(user);
        }
        let mut conn = self.conn().await?;
        let (user, created) = conn
            .transaction::<_, Error, _>(async |conn| {
                let (issuer, subject) = (&identity.issuer, &identity.subject);
                lock_external_identity(conn, issuer, subject).await?;
                if let Some(user) = find_external_identity(conn, issuer, subject).await? {
                    return Ok((user, false));
                }
                let display_name = display_name(identity);
                let mut email_used = false;
                let mut user = None;
                if let Some(email) = &identity.email {
                    let new = NewUser {
                        email: email.as_str(),
                        password_hash: NO_PASSWORD,
                        display_name: &display_name,
                    };
                    user = create_user_unless_email_taken(conn, new).await?;
                    email_used = user.is_some();
                }
                let user = match user {
                    Some(user) => user,
                    None => {
                        let stand_in =
                            format!("{}@{EXTERNAL_EMAIL_DOMAIN}", Uuid::now_v7().simple());
                        let new = NewUser {
                            email: &stand_in,
                            password_hash: NO_PASSWORD,
                            display_name: &display_name,
                        };
                        create_user_unless_email_taken(conn, new)
                            .await?
                            .ok_or_else(|| Error::Conflict {
                                code: ConflictCode::EmailTaken,
                                message: "a stand-in email is taken".to_owned(),
                            })?
                    }
                };
                insert_external_identity(conn, issuer, subject, user.id).await?;
                let details = json!({
                    "issuer": issuer,
                    "email_from_provider": email_used,
                    "email_taken": identity.email.is_some() && !email_used,
                });
                write_audit(
                    conn,
                    AuditEntry {
                        actor_id: Some(user.id),
                        action: AuditAction::AuthExternalAccountCreated,
                        target_type: "user",
                        target_id: Some(user.id.0),
                        team_id: None,
                        details,
                        audience: Vec::new(),
                    },
                )
                .await?;
                Ok((user.id, true))
            })
            .await?;
        if created {
            tracing::info!(user = %user.0, issuer = %identity.issuer, "created an external account");
        }
        let known = &self.inner.known_external_accounts.0;
        if known.len() >= MAX_REMEMBERED {
            known.clear();
        }
        known.insert(pair_key(&identity.issuer, &identity.subject), user);
        self.inner.known_accounts.remember(user, Instant::now());
        Ok(user)
    }
}

/// The name the provider gave, else its email, else the subject (cut to the longest name),
/// else a plain "External user".
fn display_name(identity: &ExternalIdentity) -> String {
    if let Some(name) = &identity.display_name {
        return name.as_str().to_owned();
    }
    let candidates = [
        identity
            .email
            .as_ref()
            .map(|email| email.as_str().to_owned()),
        Some(identity.subject.chars().take(100).collect::<String>()),
    ];
    candidates
        .into_iter()
        .flatten()
        .find_map(|text| DisplayName::parse(&text).ok())
        .map_or_else(
            || "External user".to_owned(),
            |name| name.as_str().to_owned(),
        )
}
