//! The email outbox over a real database (no SMTP here: the engine claims and records, the
//! tests play the sender): instant mails are queued by the statement that makes the
//! notification, only for users who chose `instant` and only when mail is on; a failed mail is
//! due again after a growing delay, a sent one is gone; one node's claim is not another's; a
//! digest lists what came since the last and is armed again for the next 08:00.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use diesel::sql_types::{BigInt, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use taskpulse_actors::{
    EmailChoice, Engine, EngineConfig, Mail, MailContent, NewTask, NotificationConfig, Permission,
    SettingsPatch, Tz, UserId, UserRef,
};

use crate::common::{TestEngine, eventually};

const DEADLINE: Duration = Duration::from_secs(10);

fn mailing(email: bool) -> EngineConfig {
    EngineConfig {
        notifications: NotificationConfig {
            email,
            ..NotificationConfig::default()
        },
        ..EngineConfig::default()
    }
}

async fn choose(engine: &Engine, user: UserId, choice: EmailChoice) -> anyhow::Result<()> {
    let patch = SettingsPatch {
        email_notifications: Some(choice),
        ..SettingsPatch::default()
    };
    engine.update_settings(user, patch).await?;
    Ok(())
}

/// Ann shares a task titled `title` with each of `with`.
async fn share(t: &TestEngine, ann: UserId, title: &str, with: &[UserId]) -> anyhow::Result<()> {
    let task = NewTask {
        title: title.to_owned(),
        ..NewTask::default()
    };
    let task = t.engine.create_task(ann, task).await?;
    for user in with {
        t.engine
            .share_task(ann, task.id, UserRef::Id(*user), Permission::View)
            .await?;
    }
    Ok(())
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

async fn count(conn: &mut AsyncPgConnection, sql: &str) -> anyhow::Result<i64> {
    let row: Count = diesel::sql_query(sql).get_result(conn).await?;
    Ok(row.count)
}

/// Waits until the in-app worker has made `count` notifications.
async fn notifications_made(t: &TestEngine, expected: i64) -> anyhow::Result<()> {
    let made = eventually(DEADLINE, || async {
        match t.conn().await {
            Ok(mut conn) => count(&mut conn, "SELECT count(*) AS count FROM notifications")
                .await
                .is_ok_and(|n| n >= expected),
            Err(_) => false,
        }
    })
    .await;
    anyhow::ensure!(made, "{expected} notifications were not made");
    Ok(())
}

async fn make_due(t: &TestEngine) -> anyhow::Result<()> {
    let mut conn = t.conn().await?;
    diesel::sql_query("UPDATE outbox SET due_at = now() WHERE channel = 'email'")
        .execute(&mut conn)
        .await?;
    Ok(())
}

#[derive(diesel::QueryableByName)]
struct Due {
    #[diesel(sql_type = Timestamptz)]
    due_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    details: String,
}

async fn email_rows(t: &TestEngine) -> anyhow::Result<Vec<Due>> {
    let mut conn = t.conn().await?;
    Ok(diesel::sql_query(
        "SELECT due_at, details::text AS details FROM outbox WHERE channel = 'email' ORDER BY id",
    )
    .load(&mut conn)
    .await?)
}

#[tokio::test]
async fn instant_mails_are_queued_for_instant_users_only_and_only_when_mail_is_on()
-> anyhow::Result<()> {
    for email in [true, false] {
        let t = TestEngine::with_config(mailing(email)).await?;
        let ann = t.user("ann").await?;
        let (bob, cid) = (t.user("bob").await?, t.user("cid").await?);
        choose(&t.engine, bob, EmailChoice::Instant).await?;
        choose(&t.engine, cid, EmailChoice::Off).await?;

        share(&t, ann, "Ship v2", &[bob, cid]).await?;
        notifications_made(&t, 2).await?;
        let mails = t.engine.email_outbox().claim(10).await?;

        if email {
            assert_eq!(mails.len(), 1);
            assert!(mails[0].to_email.starts_with("bob-"));
            let MailContent::Notification { text, kind, .. } = &mails[0].content else {
                anyhow::bail!("not an instant mail: {:?}", mails[0]);
            };
            assert_eq!(kind, "task_shared");
            assert!(text.contains("“Ship v2”"), "{text}");
        } else {
            assert!(mails.is_empty());
            assert!(email_rows(&t).await?.is_empty());
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_failed_mail_is_due_again_after_a_growing_delay_and_a_sent_one_is_gone()
-> anyhow::Result<()> {
    let t = TestEngine::with_config(mailing(true)).await?;
    let (ann, bob) = (t.user("ann").await?, t.user("bob").await?);
    choose(&t.engine, bob, EmailChoice::Instant).await?;
    share(&t, ann, "Flaky", &[bob]).await?;
    notifications_made(&t, 1).await?;
    let outbox = t.engine.email_outbox();

    let first = one(outbox.claim(10).await?)?;
    outbox.failed(&first).await?;
    let after_first = email_rows(&t).await?;
    let nothing_yet = outbox.claim(10).await?;
    make_due(&t).await?;
    let second = one(outbox.claim(10).await?)?;
    outbox.failed(&second).await?;
    let after_second = email_rows(&t).await?;
    make_due(&t).await?;
    let third = one(outbox.claim(10).await?)?;
    outbox.sent(&third).await?;

    let delay = |rows: &[Due]| rows.first().map(|r| r.due_at - Utc::now());
    assert!(nothing_yet.is_empty());
    assert_eq!(
        (first.attempt(), second.attempt(), third.attempt()),
        (1, 2, 3)
    );
    let first_delay = delay(&after_first).unwrap_or_default();
    let second_delay = delay(&after_second).unwrap_or_default();
    assert!(first_delay > TimeDelta::zero() && first_delay <= TimeDelta::seconds(1));
    assert!(second_delay > TimeDelta::seconds(1) && second_delay <= TimeDelta::seconds(2));
    assert!(email_rows(&t).await?.is_empty());
    Ok(())
}

fn one(mut mails: Vec<Mail>) -> anyhow::Result<Mail> {
    anyhow::ensure!(mails.len() == 1, "{} mails claimed", mails.len());
    mails.pop().ok_or_else(|| anyhow::anyhow!("no mail"))
}

#[tokio::test]
async fn a_mail_one_node_holds_is_not_claimed_by_another() -> anyhow::Result<()> {
    let t = TestEngine::with_config(mailing(true)).await?;
    let other = t.peer(mailing(true)).await?;
    let (ann, bob) = (t.user("ann").await?, t.user("bob").await?);
    choose(&t.engine, bob, EmailChoice::Instant).await?;
    share(&t, ann, "Mine", &[bob]).await?;
    notifications_made(&t, 1).await?;

    let held = t.engine.email_outbox().claim(10).await?;
    let elsewhere = other.email_outbox().claim(10).await?;

    assert_eq!(held.len(), 1);
    assert!(elsewhere.is_empty());
    other.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_digest_lists_what_came_since_and_is_armed_for_the_next_eight() -> anyhow::Result<()> {
    let t = TestEngine::with_config(mailing(true)).await?;
    let (ann, dan) = (t.user("ann").await?, t.user("dan").await?);
    let patch = SettingsPatch {
        time_zone: Some("Europe/Berlin".to_owned()),
        email_notifications: Some(EmailChoice::Daily),
    };
    t.engine.update_settings(dan, patch).await?;
    let armed = email_rows(&t).await?;
    share(&t, ann, "One", &[dan]).await?;
    share(&t, ann, "Two", &[dan]).await?;
    notifications_made(&t, 2).await?;
    let outbox = t.engine.email_outbox();

    let not_yet = outbox.claim(10).await?;
    make_due(&t).await?;
    let digest = one(outbox.claim(10).await?)?;
    outbox.sent(&digest).await?;
    let rearmed = email_rows(&t).await?;
    make_due(&t).await?;
    let nothing_new = outbox.claim(10).await?;
    let still_armed = email_rows(&t).await?;

    let berlin: Tz = "Europe/Berlin".parse()?;
    assert_eq!(armed.len(), 1);
    let armed_at = armed[0].due_at.with_timezone(&berlin);
    assert_eq!(armed_at.format("%H:%M").to_string(), "08:00");
    assert!(armed[0].due_at > Utc::now() && armed[0].due_at <= Utc::now() + TimeDelta::days(1));
    assert!(not_yet.is_empty());
    let MailContent::Digest { lines, total, .. } = &digest.content else {
        anyhow::bail!("not a digest: {digest:?}");
    };
    assert_eq!(*total, 2);
    let texts: Vec<&str> = lines.iter().map(|(_, text)| text.as_str()).collect();
    assert!(
        texts[0].contains("“One”") && texts[1].contains("“Two”"),
        "{texts:?}"
    );
    assert_eq!(rearmed.len(), 1);
    let local = rearmed[0].due_at.with_timezone(&berlin);
    assert_eq!(local.format("%H:%M").to_string(), "08:00");
    assert!(rearmed[0].due_at > Utc::now());
    assert_ne!(rearmed[0].details, armed[0].details);
    assert!(nothing_new.is_empty());
    assert_eq!(still_armed.len(), 1);
    assert!(still_armed[0].due_at > Utc::now());
    Ok(())
}

#[tokio::test]
async fn a_queued_mail_is_not_sent_once_its_user_switched_mail_off() -> anyhow::Result<()> {
    let t = TestEngine::with_config(mailing(true)).await?;
    let (ann, bob) = (t.user("ann").await?, t.user("bob").await?);
    choose(&t.engine, bob, EmailChoice::Instant).await?;
    share(&t, ann, "Too late", &[bob]).await?;
    notifications_made(&t, 1).await?;
    let queued = email_rows(&t).await?;

    choose(&t.engine, bob, EmailChoice::Off).await?;
    let claimed = t.engine.email_outbox().claim(10).await?;

    assert_eq!(queued.len(), 1);
    assert!(claimed.is_empty());
    assert!(email_rows(&t).await?.is_empty());
    Ok(())
}
