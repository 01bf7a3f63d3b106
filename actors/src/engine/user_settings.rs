//! A user's own settings (`PATCH /api/v1/me`): their time zone and how they are mailed their
//! notifications (docs/notifications.md, "Email"). Choosing `daily` arms their digest at the
//! next 08:00 in their zone, a new zone moves it, another choice drops it — in the settings'
//! own transaction, and only when notifications are mailed at all.

use chrono::{DateTime, Days, LocalResult, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use diesel_async::AsyncConnection;
use serde_json::json;
use uuid::Uuid;

use super::Engine;
use super::accounts::audit_account;
use crate::audit_action::AuditAction;
use crate::error::{Entity, Error, FieldError, Result};
use crate::model::{EmailChoice, User, UserId};
use crate::store::email_outbox;
use crate::store::users::{find_with_settings, update_settings};

/// The hour of the day, in the user's time zone, at which a daily digest is sent.
pub const DIGEST_HOUR: u32 = 8;

/// An account with its settings.
#[derive(Debug, Clone)]
pub struct Account {
    /// The account.
    pub user: User,
    /// The IANA time zone its digest's hour is in (`UTC` by default).
    pub time_zone: Tz,
    /// How its notifications are mailed (`off` by default).
    pub email_notifications: EmailChoice,
}

/// Settings to change; absent ones stay as they are.
#[derive(Debug, Clone, Default)]
pub struct SettingsPatch {
    /// An IANA time zone name, such as `Europe/Berlin`.
    pub time_zone: Option<String>,
    /// How to mail notifications.
    pub email_notifications: Option<EmailChoice>,
}

impl Engine {
    /// The account with its settings; [`Error::NotFound`] once it no longer exists.
    pub async fn account(&self, id: UserId) -> Result<Account> {
        let mut conn = self.conn().await?;
        let found = find_with_settings(&mut conn, id, false).await?;
        found
            .map(|(user, zone, choice)| account(user, &zone, &choice))
            .ok_or(Error::NotFound(Entity::User))
    }

    /// Changes the user's settings (an unknown time zone is a validation error on
    /// `time_zone`), audited as `user.update`; answers the account as it is now.
    pub async fn update_settings(&self, id: UserId, patch: SettingsPatch) -> Result<Account> {
        let zone = match &patch.time_zone {
            Some(name) => Some(name.parse::<Tz>().map_err(|_| {
                Error::Validation(vec![FieldError::new(
                    "time_zone",
                    format!("unknown time zone {name:?}: an IANA name such as Europe/Berlin"),
                )])
            })?),
            None => None,
        };
        let mails = self.inner.notifier.mails();
        let mut conn = self.conn().await?;
        conn.transaction::<_, Error, _>(async |conn| {
            let (user, old_zone, old_choice) = find_with_settings(conn, id, true)
                .await?
                .ok_or(Error::NotFound(Entity::User))?;
            let before = account(user, &old_zone, &old_choice);
            let after = Account {
                time_zone: zone.unwrap_or(before.time_zone),
                email_notifications: patch
                    .email_notifications
                    .unwrap_or(before.email_notifications),
                user: before.user.clone(),
            };
            let mut changed = Vec::new();
            if after.time_zone != before.time_zone {
                changed.push("time_zone");
            }
            if after.email_notifications != before.email_notifications {
                changed.push("email_notifications");
            }
            if changed.is_empty() {
                return Ok(after);
            }
            let zone_name = after.time_zone.name();
            let choice = after.email_notifications.as_str();
            update_settings(conn, id, zone_name, choice).await?;
            match after.email_notifications {
                // Without mail no digest is armed (a mailing server arms it when it starts).
                EmailChoice::Daily if mails => {
                    let due = next_digest(after.time_zone, Utc::now());
                    // Lists what is made from now on (a digest already armed keeps its own).
                    email_outbox::arm_digest(conn, id, due, Uuid::now_v7()).await?;
                }
                EmailChoice::Daily => {}
                EmailChoice::Off | EmailChoice::Instant => {
                    email_outbox::disarm_digest(conn, id).await?;
                }
            }
            let details = json!({
                "changed": changed,
                "time_zone": zone_name,
                "email_notifications": choice,
            });
            audit_account(conn, id, AuditAction::UserUpdate, details).await?;
            Ok(after)
        })
        .await
    }
}

/// The account with its stored settings (a value the database holds but this version does not
/// know reads as the default).
fn account(user: User, zone: &str, choice: &str) -> Account {
    Account {
        user,
        time_zone: zone.parse().unwrap_or(Tz::UTC),
        email_notifications: choice.parse().unwrap_or(EmailChoice::Off),
    }
}

/// The first [`DIGEST_HOUR`] o'clock in `zone` after `now`. Where a clock change makes that
/// hour twice, the first; where it skips it, an hour later.
pub fn next_digest(zone: Tz, now: DateTime<Utc>) -> DateTime<Utc> {
    let hour = NaiveTime::from_hms_opt(DIGEST_HOUR, 0, 0).unwrap_or(NaiveTime::MIN);
    let mut day = now.with_timezone(&zone).date_naive();
    loop {
        let local = day.and_time(hour);
        let at = match zone.from_local_datetime(&local) {
            LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => Some(at),
            LocalResult::None => zone
                .from_local_datetime(&(local + chrono::TimeDelta::hours(1)))
                .earliest(),
        };
        if let Some(at) = at.map(|at| at.with_timezone(&Utc))
            && at > now
        {
            return at;
        }
        match day.checked_add_days(Days::new(1)) {
            Some(next) => day = next,
            None => return now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap_or_default()
    }

    #[test]
    fn the_digest_is_at_eight_in_the_users_zone() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap_or(Tz::UTC);

        // Winter: 08:00 CET is 07:00 UTC; before it, today; after it, tomorrow.
        assert_eq!(
            next_digest(berlin, utc("2026-12-07T06:59:00Z")),
            utc("2026-12-07T07:00:00Z")
        );
        assert_eq!(
            next_digest(berlin, utc("2026-12-07T07:00:00Z")),
            utc("2026-12-08T07:00:00Z")
        );
        assert_eq!(
            next_digest(Tz::UTC, utc("2026-12-07T09:00:00Z")),
            utc("2026-12-08T08:00:00Z")
        );
    }

    #[test]
    fn the_digest_keeps_its_local_hour_across_a_clock_change() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap_or(Tz::UTC);
        let new_york: Tz = "America/New_York".parse().unwrap_or(Tz::UTC);

        // The night of 28–29 March 2026 Berlin moves to CEST: 08:00 is 06:00 UTC from then.
        assert_eq!(
            next_digest(berlin, utc("2026-03-28T07:30:00Z")),
            utc("2026-03-29T06:00:00Z")
        );
        // New York leaves EDT on 1 November 2026: 08:00 is 13:00 UTC from then, 12:00 before.
        assert_eq!(
            next_digest(new_york, utc("2026-10-31T12:30:00Z")),
            utc("2026-11-01T13:00:00Z")
        );
    }
}
