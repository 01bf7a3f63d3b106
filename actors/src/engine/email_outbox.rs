//! The engine's side of mailing notifications (docs/notifications.md, "Email"): claiming due
//! mails — instant ones, and digests with the notifications they list — and recording what
//! became of each. Sending is the embedder's (crate `api` speaks SMTP: the engine knows no
//! network but its database).
//!
//! A mail is held by one worker at a time (a lease on its outbox row, taken with
//! `FOR UPDATE SKIP LOCKED`); one that fails is tried again after the webhooks' growing delays
//! ([`retry_delay`]) for [`GIVE_UP_AFTER`], then dropped with a warning. At least once: a
//! worker that dies after sending and before recording leaves the mail to be sent again.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde_json::json;
use uuid::Uuid;

use super::Engine;
use super::user_settings::next_digest;
use super::webhook_outbox::{GIVE_UP_AFTER, retry_delay};
use crate::error::Result;
use crate::metrics::OutboxCounters;
use crate::model::{EmailChoice, UserId};
use crate::notify::Notifier;
use crate::store::email_outbox::{self as store, ClaimedMail, DIGEST};

/// The most notifications one digest lists (it says how many there are in all).
pub const DIGEST_LINES: i64 = 50;

/// A mail to send, this worker's until [`Mail::lease_ends`].
#[derive(Debug, Clone)]
pub struct Mail {
    id: Uuid,
    lease: DateTime<Utc>,
    failing_since: Option<DateTime<Utc>>,
    attempts: i32,
    details: serde_json::Value,
    /// The recipient's address.
    pub to_email: String,
    /// The recipient's display name.
    pub to_name: String,
    /// The recipient's time zone (times in the mail are written in it).
    pub time_zone: Tz,
    /// What it says.
    pub content: MailContent,
}

/// What a mail says.
#[derive(Debug, Clone)]
pub enum MailContent {
    /// One notification, mailed as it was made.
    Notification {
        /// Its kind (`task_completed`, …).
        kind: String,
        /// Its text, e.g. `Ann completed “Ship v2”`.
        text: String,
        /// When the change it tells of happened.
        at: DateTime<Utc>,
    },
    /// The notifications made since the previous digest, oldest first.
    Digest {
        /// The first [`DIGEST_LINES`] of them: when, and what.
        lines: Vec<(DateTime<Utc>, String)>,
        /// How many there are in all.
        total: i64,
        /// The last one listed: the next digest starts after it.
        last: Uuid,
    },
}

impl Mail {
    /// When this worker's hold on the mail ends (the database's clock).
    pub fn lease_ends(&self) -> DateTime<Utc> {
        self.lease
    }

    /// 1 for the first attempt.
    pub fn attempt(&self) -> i32 {
        self.attempts
    }

    /// Unique to this mail and the same on every attempt (a `Message-ID`'s left part): a
    /// reader's client can tell a mail sent twice (at least once) from two mails.
    pub fn key(&self) -> String {
        match &self.content {
            MailContent::Notification { .. } => self.id.simple().to_string(),
            // A user's digest row is re-armed every day: each digest is its row and its last line.
            MailContent::Digest { last, .. } => format!("{}.{}", self.id.simple(), last.simple()),
        }
    }
}

/// Claims and records mails for one node's sender.
#[derive(Clone)]
pub struct EmailOutbox {
    engine: Engine,
}

impl Engine {
    /// The handle a mail sender works with.
    pub fn email_outbox(&self) -> EmailOutbox {
        EmailOutbox {
            engine: self.clone(),
        }
    }
}

impl EmailOutbox {
    fn notifier(&self) -> &Arc<Notifier> {
        &self.engine.inner.notifier
    }

    /// Whether this node mails anything: it works the outbox and was told email is on.
    pub fn works(&self) -> bool {
        self.notifier().works() && self.notifier().mails()
    }

    /// Until this node made mails, or `poll_every` passed (digests and retries that fell due,
    /// the mails of a node that died).
    pub async fn wait(&self) {
        let notifier = self.notifier();
        tokio::select! {
            () = notifier.mail_made() => {}
            () = tokio::time::sleep(notifier.poll_every()) => {}
        }
    }

    /// Arms the digest of every user who chose `daily` while nothing was mailed (a sender
    /// calls it when it starts); answers how many it armed.
    pub async fn arm_digests(&self) -> Result<usize> {
        let mut conn = self.engine.conn().await?;
        let unarmed = store::unarmed_daily(&mut conn).await?;
        let now = Utc::now();
        for (user, zone) in &unarmed {
            let zone = zone.parse().unwrap_or(Tz::UTC);
            store::arm_digest(
                &mut conn,
                UserId(*user),
                next_digest(zone, now),
                Uuid::now_v7(),
            )
            .await?;
        }
        Ok(unarmed.len())
    }

    /// Claims up to `limit` due mails for the lease the engine's settings give. Mails of
    /// deleted accounts, instant mails of users who switched mail off since and digests of
    /// users who no longer want one are dropped; a digest with nothing new is re-armed for the
    /// next day without being sent.
    pub async fn claim(&self, limit: i64) -> Result<Vec<Mail>> {
        let mut conn = self.engine.conn().await?;
        let lease = self.notifier().lease();
        let claimed = store::claim(&mut conn, lease, limit).await?;
        let mut mails = Vec::with_capacity(claimed.len());
        for row in claimed {
            let (Some(email), Some(name)) = (row.email.clone(), row.display_name.clone()) else {
                store::delete(&mut conn, row.id, row.leased_until).await?;
                continue;
            };
            let zone: Tz = (row.time_zone.as_deref())
                .and_then(|z| z.parse().ok())
                .unwrap_or(Tz::UTC);
            let content = if row.kind == DIGEST {
                let daily = row.email_notifications.as_deref() == Some(EmailChoice::Daily.as_str());
                if !daily {
                    store::delete(&mut conn, row.id, row.leased_until).await?;
                    continue;
                }
                let after = digest_after(&row);
                let (lines, total) =
                    store::notifications_after(&mut conn, row.recipient, after, DIGEST_LINES)
                        .await?;
                let Some(last) = lines.last().map(|line| line.id) else {
                    // Nothing new: no mail; the next one tomorrow.
                    let due = next_digest(zone, Utc::now());
                    store::reschedule(&mut conn, row.id, row.leased_until, due, &row.details, None)
                        .await?;
                    continue;
                };
                MailContent::Digest {
                    lines: lines.into_iter().map(|line| (line.at, line.text)).collect(),
                    total,
                    last,
                }
            } else if row.email_notifications.as_deref() == Some(EmailChoice::Off.as_str()) {
                // Switched off since it was queued: not sent.
                store::delete(&mut conn, row.id, row.leased_until).await?;
                continue;
            } else {
                MailContent::Notification {
                    kind: text_of(&row, "kind"),
                    text: text_of(&row, "text"),
                    at: row.at,
                }
            };
            mails.push(Mail {
                id: row.id,
                lease: row.leased_until,
                failing_since: row.failing_since,
                attempts: row.attempts,
                details: row.details,
                to_email: email,
                to_name: name,
                time_zone: zone,
                content,
            });
        }
        Ok(mails)
    }

    /// Records a mail sent: an instant one is done; a digest is armed for the next day,
    /// listing what is made after the last one it listed.
    pub async fn sent(&self, mail: &Mail) -> Result<()> {
        OutboxCounters::add(&self.notifier().counters.mails_sent, 1);
        let mut conn = self.engine.conn().await?;
        match &mail.content {
            MailContent::Notification { .. } => store::delete(&mut conn, mail.id, mail.lease).await,
            MailContent::Digest { last, .. } => {
                let due = next_digest(mail.time_zone, Utc::now());
                let details = json!({ "after": last.to_string() });
                store::reschedule(&mut conn, mail.id, mail.lease, due, &details, None).await
            }
        }
    }

    /// Records a failed attempt: the mail is tried again after a growing delay; after
    /// [`GIVE_UP_AFTER`] of failing it is dropped with a warning (a digest waits for the next
    /// day, listing the same notifications and what comes meanwhile).
    pub async fn failed(&self, mail: &Mail) -> Result<()> {
        OutboxCounters::add(&self.notifier().counters.mails_failed, 1);
        let now = Utc::now();
        let failing_since = mail.failing_since.unwrap_or(now);
        let failing = now - failing_since;
        let mut conn = self.engine.conn().await?;
        let details = &mail.details;
        if failing >= TimeDelta::from_std(GIVE_UP_AFTER).unwrap_or(TimeDelta::MAX) {
            tracing::warn!(mail = %mail.id, attempts = mail.attempts, "a mail failed for a day: dropped");
            return match &mail.content {
                MailContent::Notification { .. } => {
                    store::delete(&mut conn, mail.id, mail.lease).await
                }
                MailContent::Digest { .. } => {
                    let due = next_digest(mail.time_zone, now);
                    store::reschedule(&mut conn, mail.id, mail.lease, due, details, None).await
                }
            };
        }
        let delay = retry_delay(mail.attempts, failing);
        let due = now + TimeDelta::from_std(delay).unwrap_or(TimeDelta::MAX);
        store::reschedule(
            &mut conn,
            mail.id,
            mail.lease,
            due,
            details,
            Some(failing_since),
        )
        .await
    }
}

/// Where a claimed digest starts: after the last notification the previous one listed.
fn digest_after(row: &ClaimedMail) -> Uuid {
    (row.details.get("after"))
        .and_then(|after| after.as_str())
        .and_then(|after| after.parse().ok())
        .unwrap_or(Uuid::nil())
}

fn text_of(row: &ClaimedMail, key: &str) -> String {
    (row.details.get(key))
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned()
}
