//! The daily digest: armed when a user chooses `daily`, at 08:00 in their time zone; sent
//! once, listing what they were notified of since, and armed again for the next day.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Text, Timestamptz};
use diesel_async::RunQueryDsl;
use serde_json::json;

use super::{SmtpServer, mailing_app, set_me};
use crate::common::{id_of, poll_until};

#[derive(QueryableByName)]
struct Armed {
    #[diesel(sql_type = Timestamptz)]
    due_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    after: String,
}

async fn armed(app: &crate::common::TestApp, user: &str) -> anyhow::Result<Vec<Armed>> {
    let mut conn = app.db.connect().await?;
    Ok(diesel::sql_query(
        "SELECT due_at, details->>'after' AS after FROM outbox \
         WHERE channel = 'email' AND kind = 'digest' AND recipients[1] = $1::uuid",
    )
    .bind::<Text, _>(user)
    .load(&mut conn)
    .await?)
}

#[tokio::test]
async fn choosing_daily_arms_the_digest_at_eight_in_the_users_zone() -> anyhow::Result<()> {
    let smtp = SmtpServer::start(&[]).await?;
    let app = mailing_app(&smtp).await?;
    let bob = app.register("bob@example.com").await?;

    set_me(
        &app,
        &bob.access,
        json!({"email_notifications": "daily", "time_zone": "America/New_York"}),
    )
    .await?;
    let daily = armed(&app, &bob.user_id).await?;
    set_me(&app, &bob.access, json!({"email_notifications": "instant"})).await?;
    let instant = armed(&app, &bob.user_id).await?;

    assert_eq!(daily.len(), 1);
    let new_york: taskpulse_actors::Tz = "America/New_York".parse()?;
    let due = daily[0].due_at.with_timezone(&new_york);
    assert_eq!(due.format("%H:%M").to_string(), "08:00");
    assert!(daily[0].due_at > Utc::now());
    assert!(daily[0].due_at <= Utc::now() + chrono::TimeDelta::hours(24));
    assert!(instant.is_empty());
    Ok(())
}

#[tokio::test]
async fn the_digest_arrives_once_with_the_notifications_since_the_last() -> anyhow::Result<()> {
    let smtp = SmtpServer::start(&[]).await?;
    let app = mailing_app(&smtp).await?;
    let ann = app.register("ann@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    set_me(&app, &bob.access, json!({"email_notifications": "daily"})).await?;
    let first = app
        .create_task(&ann.access, json!({"title": "Ship v2"}))
        .await?;
    let second = app
        .create_task(&ann.access, json!({"title": "Write docs"}))
        .await?;
    app.share(&ann.access, &id_of(&first), &bob.user_id, "view")
        .await?;
    app.share(&ann.access, &id_of(&second), &bob.user_id, "view")
        .await?;
    poll_until(std::time::Duration::from_secs(10), || async {
        let page = app.get_as("/api/v1/notifications", &bob.access).await?;
        let page: serde_json::Value = page.json().await?;
        let count = page["items"].as_array().map_or(0, Vec::len);
        Ok(if count >= 2 {
            Ok(())
        } else {
            Err("notifications not made yet".to_owned())
        })
    })
    .await?;
    let before = armed(&app, &bob.user_id).await?;

    // 08:00 has come (the test cannot wait for it).
    let mut conn = app.db.connect().await?;
    diesel::sql_query("UPDATE outbox SET due_at = now() WHERE kind = 'digest'")
        .execute(&mut conn)
        .await?;

    let mails = smtp.wait_for("bob@example.com", 1).await?;
    let rearmed = poll_until(std::time::Duration::from_secs(10), || async {
        let rows = armed(&app, &bob.user_id).await?;
        Ok(match <[Armed]>::first(&rows) {
            Some(row) if row.due_at > Utc::now() && row.after != before[0].after => Ok(rows),
            _ => Err("the digest is not armed again yet".to_owned()),
        })
    })
    .await?;

    let mail = &mails[0];
    assert_eq!(mail["subject"], "Your taskpulse digest: 2 notifications");
    let text = mail["text"].as_str().unwrap_or_default();
    let html = mail["html"].as_str().unwrap_or_default();
    for title in ["Ship v2", "Write docs"] {
        assert!(text.contains(title), "{text}");
        assert!(html.contains(title), "{html}");
    }
    assert_eq!(rearmed.len(), 1);
    assert!(rearmed[0].due_at > Utc::now() + chrono::TimeDelta::minutes(1));
    assert_eq!(smtp.messages()?.len(), 1);
    assert!(smtp.accepted_for("ann@example.com")?.is_empty());
    Ok(())
}

#[tokio::test]
async fn a_digest_with_nothing_new_is_not_sent() -> anyhow::Result<()> {
    let smtp = SmtpServer::start(&[]).await?;
    let app = mailing_app(&smtp).await?;
    let bob = app.register("bob@example.com").await?;
    set_me(&app, &bob.access, json!({"email_notifications": "daily"})).await?;

    let mut conn = app.db.connect().await?;
    diesel::sql_query("UPDATE outbox SET due_at = now() WHERE kind = 'digest'")
        .execute(&mut conn)
        .await?;

    let rearmed = poll_until(std::time::Duration::from_secs(10), || async {
        let rows = armed(&app, &bob.user_id).await?;
        Ok(match <[Armed]>::first(&rows) {
            Some(row) if row.due_at > Utc::now() => Ok(rows),
            _ => Err("the digest is not armed again yet".to_owned()),
        })
    })
    .await?;
    assert_eq!(rearmed.len(), 1);
    assert!(smtp.messages()?.is_empty());
    Ok(())
}
