//! Instant mails: a notification of a user who chose `instant` arrives as a mail with a
//! plain-text and an HTML part; a user who chose `off` gets none; a refused attempt is retried;
//! without `tls=none` nothing goes out in the clear.

use serde_json::json;

use super::{SmtpServer, mailing_app, set_me};
use crate::common::{TestApp, id_of, poll_until};

#[tokio::test]
async fn a_share_with_an_instant_user_arrives_as_a_mail_naming_the_task() -> anyhow::Result<()> {
    let smtp = SmtpServer::start(&[]).await?;
    let app = mailing_app(&smtp).await?;
    share_with_instant_bob(&app, "Ship <v2> & more", "edit").await?;

    let mails = smtp.wait_for("bob@example.com", 1).await?;
    let mail = &mails[0];
    assert_eq!(mail["multipart"], "multipart/alternative");
    assert_eq!(mail["mail_from"], "noreply@taskpulse.test");
    let subject = mail["subject"].as_str().unwrap_or_default();
    assert!(subject.contains("“Ship <v2> & more”"), "{subject}");
    let text = mail["text"].as_str().unwrap_or_default();
    assert!(text.contains("Ship <v2> & more"), "{text}");
    let html = mail["html"].as_str().unwrap_or_default();
    assert!(html.contains("Ship &lt;v2&gt; &amp; more"), "{html}");
    assert!(!html.contains("<v2>"), "{html}");
    assert!(smtp.accepted_for("ann@example.com")?.is_empty());
    Ok(())
}

#[tokio::test]
async fn a_user_who_chose_off_gets_no_mail() -> anyhow::Result<()> {
    let smtp = SmtpServer::start(&[]).await?;
    let app = mailing_app(&smtp).await?;
    let ann = app.register("ann@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let cid = app.register("cid@example.com").await?;
    set_me(&app, &cid.access, json!({"email_notifications": "instant"})).await?;
    set_me(&app, &bob.access, json!({"email_notifications": "off"})).await?;

    let task = app
        .create_task(&ann.access, json!({"title": "Quiet"}))
        .await?;
    // Bob's share first: by the time Cid's mail is out, Bob's notification was made before it.
    app.share(&ann.access, &id_of(&task), &bob.user_id, "view")
        .await?;
    app.share(&ann.access, &id_of(&task), &cid.user_id, "view")
        .await?;

    smtp.wait_for("cid@example.com", 1).await?;
    let inbox = app.get_as("/api/v1/notifications", &bob.access).await?;
    let inbox: serde_json::Value = inbox.json().await?;
    assert_eq!(inbox["items"].as_array().map_or(0, Vec::len), 1);
    assert!(smtp.accepted_for("bob@example.com")?.is_empty());
    assert_eq!(smtp.messages()?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_refused_first_attempt_is_retried_and_arrives() -> anyhow::Result<()> {
    let smtp = SmtpServer::start(&["--refuse-first", "1"]).await?;
    let app = mailing_app(&smtp).await?;
    share_with_instant_bob(&app, "Retry me", "view").await?;

    let mails = smtp.wait_for("bob@example.com", 1).await?;
    let all = smtp.messages()?;
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(
        (&all[0]["status"], &all[1]["status"]),
        (&json!(451), &json!(250))
    );
    assert_eq!(all[0]["subject"], mails[0]["subject"]);
    // The same mail, not a second one: its Message-ID is kept over attempts.
    let message_id = mails[0]["message_id"].as_str().unwrap_or_default();
    assert!(message_id.ends_with("@taskpulse.test>"), "{message_id}");
    assert_eq!(all[0]["message_id"], mails[0]["message_id"]);
    // Sent once it was accepted: no third attempt.
    let queued = "SELECT count(*) AS n FROM outbox WHERE channel = 'email'";
    until_count(&app, queued, 0, "the mail is still queued").await?;
    let metrics = app.get("/metrics").await?.text().await?;
    for line in [
        "taskpulse_mail_attempts_total{outcome=\"sent\"} 1",
        "taskpulse_mail_attempts_total{outcome=\"failed\"} 1",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    }
    Ok(())
}

#[tokio::test]
async fn the_password_file_signs_in_as_the_urls_user() -> anyhow::Result<()> {
    let smtp = SmtpServer::start(&["--auth", "mailer:s3cret pass"]).await?;
    let dir = taskpulse_testdb::target_dir().join("smtp-passwords");
    std::fs::create_dir_all(&dir)?;
    let file = dir.join(uuid::Uuid::now_v7().simple().to_string());
    std::fs::write(&file, "s3cret pass\n")?;
    let url = smtp.url.replace("smtp://", "smtp://mailer@");
    let app = TestApp::builder()
        .with_arg(&format!("--smtp-url={url}"))
        .with_arg(&format!("--smtp-password-file={}", file.display()))
        .spawn()
        .await?;
    share_with_instant_bob(&app, "Signed in", "view").await?;

    let mails = smtp.wait_for("bob@example.com", 1).await?;
    assert_eq!(mails[0]["login"], "mailer");
    std::fs::remove_file(&file)?;
    Ok(())
}

#[tokio::test]
async fn smtp_without_tls_none_never_sends_in_the_clear() -> anyhow::Result<()> {
    // The test server offers no STARTTLS: an `smtp://` URL that does not say `tls=none`
    // requires it, so the attempt fails (and is retried later) before any message is sent.
    let smtp = SmtpServer::start(&[]).await?;
    let url = smtp.url.replace("?tls=none", "");
    let app = TestApp::builder()
        .with_arg(&format!("--smtp-url={url}"))
        .spawn()
        .await?;
    share_with_instant_bob(&app, "In the clear?", "view").await?;

    let failing =
        "SELECT count(*) AS n FROM outbox WHERE channel = 'email' AND failing_since IS NOT NULL";
    until_count(&app, failing, 1, "no failed attempt yet").await?;
    assert!(smtp.messages()?.is_empty(), "{:?}", smtp.messages()?);
    Ok(())
}

/// Ann shares a task titled `title` with Bob (`permission`), who chose instant mails: one
/// notification, to be mailed to bob@example.com.
async fn share_with_instant_bob(
    app: &TestApp,
    title: &str,
    permission: &str,
) -> anyhow::Result<()> {
    let ann = app.register("ann@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    set_me(app, &bob.access, json!({"email_notifications": "instant"})).await?;
    let task = app
        .create_task(&ann.access, json!({ "title": title }))
        .await?;
    app.share(&ann.access, &id_of(&task), &bob.user_id, permission)
        .await?;
    Ok(())
}

/// Waits (up to 20 s) until `sql`, a `SELECT count(*) AS n …`, answers `n`.
async fn until_count(app: &TestApp, sql: &str, n: i64, waiting: &str) -> anyhow::Result<()> {
    poll_until(std::time::Duration::from_secs(20), || async {
        let mut conn = app.db.connect().await?;
        let found = super::settings::count(&mut conn, sql).await?;
        Ok(if found == n {
            Ok(())
        } else {
            Err(waiting.to_owned())
        })
    })
    .await
}
