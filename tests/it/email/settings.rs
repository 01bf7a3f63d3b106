//! `PATCH /api/v1/me`: the time zone and the email choice, checked, kept and audited.

use serde_json::json;

use super::set_me;
use crate::common::{TestApp, assert_problem, expect_json};

#[tokio::test]
async fn settings_start_as_utc_and_off_and_a_change_is_kept() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ann = app.register("ann@example.com").await?;

    let before = expect_json(app.get_as("/api/v1/me", &ann.access).await?, 200).await?;
    let changed = set_me(
        &app,
        &ann.access,
        json!({"time_zone": "Europe/Berlin", "email_notifications": "daily"}),
    )
    .await?;
    let only_zone = set_me(&app, &ann.access, json!({"time_zone": "Asia/Tokyo"})).await?;
    let after = expect_json(app.get_as("/api/v1/me", &ann.access).await?, 200).await?;

    assert_eq!(before["time_zone"], "UTC");
    assert_eq!(before["email_notifications"], "off");
    assert_eq!(before["email"], "ann@example.com");
    assert_eq!(changed["time_zone"], "Europe/Berlin");
    assert_eq!(changed["email_notifications"], "daily");
    assert_eq!(changed["id"], before["id"]);
    assert_eq!(only_zone["email_notifications"], "daily");
    assert_eq!(after, only_zone);
    Ok(())
}

#[tokio::test]
async fn a_bad_time_zone_or_choice_is_refused_naming_the_field() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ann = app.register("ann@example.com").await?;

    for (body, field) in [
        (json!({"time_zone": "Mars/Olympus"}), "time_zone"),
        (json!({"time_zone": ""}), "time_zone"),
        (
            json!({"email_notifications": "weekly"}),
            "email_notifications",
        ),
    ] {
        let response = app.patch_as("/api/v1/me", &ann.access, &body).await?;
        let problem = assert_problem(response, 422, "validation_failed").await?;
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
    let wrong_type = json!({"email_notifications": 1});
    let response = app.patch_as("/api/v1/me", &ann.access, &wrong_type).await?;
    assert_problem(response, 400, "malformed_request").await?;
    let me = expect_json(app.get_as("/api/v1/me", &ann.access).await?, 200).await?;
    assert_eq!(
        (&me["time_zone"], &me["email_notifications"]),
        (&json!("UTC"), &json!("off"))
    );
    Ok(())
}

#[tokio::test]
async fn a_change_is_audited_and_without_smtp_no_mail_is_queued() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ann = app.register("ann@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    set_me(&app, &bob.access, json!({"email_notifications": "instant"})).await?;
    set_me(&app, &ann.access, json!({"email_notifications": "daily"})).await?;

    let task = app
        .create_task(&ann.access, json!({"title": "Ship v2"}))
        .await?;
    app.share(
        &ann.access,
        crate::common::id_of(&task).as_str(),
        &bob.user_id,
        "view",
    )
    .await?;
    crate::common::poll_until(std::time::Duration::from_secs(10), || async {
        let page =
            expect_json(app.get_as("/api/v1/notifications", &bob.access).await?, 200).await?;
        let count = page["items"].as_array().map_or(0, Vec::len);
        Ok(if count >= 1 {
            Ok(())
        } else {
            Err("no notification yet".to_owned())
        })
    })
    .await?;

    let mut conn = app.db.connect().await?;
    let email_rows = count(
        &mut conn,
        "SELECT count(*) AS n FROM outbox WHERE channel = 'email'",
    )
    .await?;
    let audited = count(
        &mut conn,
        "SELECT count(*) AS n FROM audit_log WHERE action = 'user.update'",
    )
    .await?;
    assert_eq!(email_rows, 0);
    assert_eq!(audited, 2);
    Ok(())
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

pub(crate) async fn count(
    conn: &mut diesel_async::AsyncPgConnection,
    sql: &str,
) -> anyhow::Result<i64> {
    use diesel_async::RunQueryDsl;
    let row: Count = diesel::sql_query(sql).get_result(conn).await?;
    Ok(row.n)
}

#[tokio::test]
async fn a_bad_smtp_url_stops_start_up_without_repeating_it() -> anyhow::Result<()> {
    for url in [
        "ftp://mailer:hunter2@mail.example.com",
        "smtp://mailer:hunter2@host?tls=maybe",
    ] {
        let started = TestApp::builder()
            .with_arg(&format!("--smtp-url={url}"))
            .spawn()
            .await;

        let Err(err) = started else {
            anyhow::bail!("{url} was taken");
        };
        let message = format!("{err:#}");
        assert!(message.contains("--smtp-url"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }
    Ok(())
}
