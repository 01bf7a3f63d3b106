//! Using a personal access token: found by its digest, remembered for a minute so that a
//! token costs no query per request, and its `last_used_at` written at most once a minute.
//! Revocation does not wait for the memory to lapse: a token's id is the session its
//! credentials carry, and `Engine::has_ended` (fed on every node by the cluster signal)
//! refuses it at once.

use std::time::{Duration, Instant};

use dashmap::DashMap;
use diesel_async::AsyncConnection;
use serde_json::json;

use super::{Engine, PersonalToken, audit_token};
use crate::audit_action::AuditAction;
use crate::error::{Error, Result};
use crate::store::personal_tokens as store;

/// How long a token found once is trusted without asking the database again (also the
/// resolution of `last_used_at`). Never longer than the engine remembers endings, so a
/// revocation is remembered for as long as a node may trust the token from memory.
const REMEMBERED_FOR: Duration = Duration::from_secs(60);
/// Beyond this many remembered tokens the memory starts over (each is read again once).
const MAX_REMEMBERED: usize = 100_000;

/// Tokens found recently, by digest.
#[derive(Default)]
pub(crate) struct TokenCache(DashMap<[u8; 32], (PersonalToken, Instant)>);

impl TokenCache {
    fn remembered(&self, digest: &[u8; 32], now: Instant, ttl: Duration) -> Option<PersonalToken> {
        let entry = self.0.get(digest)?;
        let (token, seen) = entry.value();
        (now.duration_since(*seen) < ttl).then(|| token.clone())
    }

    fn remember(&self, digest: [u8; 32], token: PersonalToken, now: Instant) {
        if self.0.len() >= MAX_REMEMBERED {
            self.0.clear();
        }
        self.0.insert(digest, (token, now));
    }
}

impl Engine {
    /// The working token whose secret has this SHA-256 digest: `None` when it is unknown,
    /// revoked (here or on another node) or expired. Its first use is audited
    /// (`token.first_use`).
    pub async fn use_personal_token(&self, digest: &[u8; 32]) -> Result<Option<PersonalToken>> {
        let now = Instant::now();
        let ttl = REMEMBERED_FOR.min(self.inner.config.session_memory);
        let cache = &self.inner.personal_tokens;
        let token = match cache.remembered(digest, now, ttl) {
            Some(token) => token,
            None => match self.read_personal_token(digest).await? {
                Some(token) => {
                    cache.remember(*digest, token.clone(), now);
                    token
                }
                None => return Ok(None),
            },
        };
        let working = !self.has_ended(token.user, Some(token.id))
            && token.expires_at.is_none_or(|at| at > chrono::Utc::now());
        Ok(working.then_some(token))
    }

    /// Reads the token and records this use, in one transaction that holds the token's row:
    /// of two nodes seeing its first use at once, one audits it.
    async fn read_personal_token(&self, digest: &[u8; 32]) -> Result<Option<PersonalToken>> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, Error, _>(async |conn| {
            let Some(row) = store::find_working_for_update(conn, digest).await? else {
                return Ok(None);
            };
            let first_use = row.last_used_at.is_none();
            let mut token = PersonalToken::try_from(row)?;
            token.last_used_at = Some(store::touch(conn, token.id).await?);
            if first_use {
                let details = json!({ "name": token.name });
                audit_token(
                    conn,
                    token.user,
                    AuditAction::TokenFirstUse,
                    token.id,
                    details,
                )
                .await?;
            }
            Ok(Some(token))
        })
        .await
    }
}
