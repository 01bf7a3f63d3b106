//! Personal access tokens (API.md, "Personal access tokens"): created and shown once, listed
//! without their secret, accepted wherever a bearer token is, limited by their scopes,
//! audited, and revoked at once on every node.

mod input;
mod revocation;
mod scopes;

use serde_json::{Value, json};

use crate::common::{TestApp, expect_json};

/// Creates a token as `access` with `scopes`, asserting 201; answers the whole answer.
pub(crate) async fn create_token(
    app: &TestApp,
    access: &str,
    scopes: &[&str],
) -> anyhow::Result<Value> {
    let body = json!({ "name": "script", "scopes": scopes });
    expect_json(app.post_as("/api/v1/tokens", access, &body).await?, 201).await
}

/// The secret of a created token.
pub(crate) fn secret(created: &Value) -> String {
    created["token"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_created_token_is_shown_once_and_listed_without_its_secret() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;

    let body = json!({ "name": "nightly report", "scopes": ["read"], "expires_in_days": 30 });
    let created = expect_json(
        app.post_as("/api/v1/tokens", &ada.access, &body).await?,
        201,
    )
    .await?;

    let token = secret(&created);
    assert!(token.starts_with("tp_pat_"), "{token}");
    assert_eq!(token.len(), "tp_pat_".len() + 43);
    assert_eq!(created["name"], "nightly report");
    assert_eq!(created["scopes"], json!(["read"]));
    assert!(created["created_at"].is_string());
    assert!(created["expires_at"].is_string());
    assert_eq!(created["last_used_at"], Value::Null);
    let listed = expect_json(app.get_as("/api/v1/tokens", &ada.access).await?, 200).await?;
    assert_eq!(listed["next_cursor"], Value::Null);
    let items = listed["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], created["id"]);
    assert!(items[0].get("token").is_none(), "{listed}");
    assert!(!listed.to_string().contains(&token));
    Ok(())
}

#[tokio::test]
async fn a_token_without_expiry_says_so_and_others_do_not_see_it() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let grace = app.register("grace@example.com").await?;

    let created = create_token(&app, &ada.access, &["read", "write"]).await?;

    assert_eq!(created["expires_at"], Value::Null);
    assert_eq!(created["scopes"], json!(["read", "write"]));
    let theirs = expect_json(app.get_as("/api/v1/tokens", &grace.access).await?, 200).await?;
    assert_eq!(theirs["items"], json!([]));
    Ok(())
}

#[tokio::test]
async fn a_token_works_on_rest_and_records_its_use() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let token = secret(&create_token(&app, &ada.access, &["read", "write"]).await?);

    let me = expect_json(app.get_as("/api/v1/me", &token).await?, 200).await?;
    let task = app
        .create_task(&token, json!({ "title": "by a script" }))
        .await?;

    assert_eq!(me["email"], "ada@example.com");
    assert_eq!(task["owner_id"], me["id"]);
    let listed = expect_json(app.get_as("/api/v1/tokens", &ada.access).await?, 200).await?;
    assert!(listed["items"][0]["last_used_at"].is_string(), "{listed}");
    Ok(())
}

#[tokio::test]
async fn creating_first_use_and_deleting_are_audited_once_each() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let created = create_token(&app, &ada.access, &["read"]).await?;
    let token = secret(&created);

    for _ in 0..3 {
        expect_json(app.get_as("/api/v1/me", &token).await?, 200).await?;
    }
    let path = format!(
        "/api/v1/tokens/{}",
        created["id"].as_str().unwrap_or_default()
    );
    expect_json(app.delete_as(&path, &ada.access).await?, 204).await?;

    let log = expect_json(app.get_as("/api/v1/audit-logs", &ada.access).await?, 200).await?;
    let about_token: Vec<&str> = log["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|entry| entry["target_id"] == created["id"])
        .filter_map(|entry| entry["action"].as_str())
        .collect();
    // Newest first.
    assert_eq!(
        about_token,
        ["token.delete", "token.first_use", "token.create"]
    );
    assert!(!log.to_string().contains(&token), "no secret in the log");
    Ok(())
}

#[tokio::test]
async fn an_expired_token_is_401() -> anyhow::Result<()> {
    use diesel_async::RunQueryDsl;
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let body = json!({ "name": "short", "scopes": ["read"], "expires_in_days": 1 });
    let created = expect_json(
        app.post_as("/api/v1/tokens", &ada.access, &body).await?,
        201,
    )
    .await?;
    // A day cannot pass in a test: the row's expiry is moved into the past instead.
    let mut conn = app.db.connect().await?;
    diesel::sql_query("UPDATE personal_access_tokens SET expires_at = now() - interval '1 second'")
        .execute(&mut conn)
        .await?;

    let response = app.get_as("/api/v1/me", &secret(&created)).await?;

    crate::common::assert_problem(response, 401, "unauthenticated").await?;
    Ok(())
}
