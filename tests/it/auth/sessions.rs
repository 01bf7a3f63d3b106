//! Refresh tokens: single use, rotated on every refresh, a reused one revokes its family, and
//! logout revokes the family too.

use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use crate::common::{TestApp, assert_problem};

async fn refresh(app: &TestApp, token: &str) -> anyhow::Result<reqwest::Response> {
    app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": token}))
        .await
}

#[tokio::test]
async fn refresh_rotates_the_pair_and_the_new_pair_works() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let user = app.register("ada@example.com").await?;

    let response = refresh(&app, &user.refresh).await?;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await?;
    assert_eq!(body["user"]["id"], user.user_id.as_str());
    assert_eq!(body["token_type"], "Bearer");
    let (access, next) = (
        body["access_token"].as_str().unwrap_or_default(),
        body["refresh_token"].as_str().unwrap_or_default(),
    );
    assert_ne!(next, user.refresh);
    assert_eq!(app.get_as("/api/v1/me", access).await?.status(), 200);
    assert_eq!(refresh(&app, next).await?.status(), 200);
    Ok(())
}

#[tokio::test]
async fn a_reused_refresh_token_revokes_its_whole_family() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let user = app.register("ada@example.com").await?;
    let first: Value = refresh(&app, &user.refresh).await?.json().await?;
    let newest = first["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let replay = refresh(&app, &user.refresh).await?;
    let after = refresh(&app, &newest).await?;

    assert_problem(replay, 401, "refresh_token_reused").await?;
    assert_problem(after, 401, "invalid_refresh_token").await?;
    let mut conn = app.db.connect().await?;
    let reused: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT count(*) FROM audit_log WHERE action = 'auth.refresh_reused')",
    ))
    .get_result(&mut conn)
    .await?;
    assert_eq!(reused, 1);
    Ok(())
}

#[tokio::test]
async fn a_reuse_leaves_other_sessions_alone() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let user = app.register("ada@example.com").await?;
    let login: Value = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": user.email, "password": crate::common::PASSWORD}),
        )
        .await?
        .json()
        .await?;
    refresh(&app, &user.refresh).await?;

    let replay = refresh(&app, &user.refresh).await?;
    let other_session = refresh(&app, login["refresh_token"].as_str().unwrap_or_default()).await?;

    assert_problem(replay, 401, "refresh_token_reused").await?;
    assert_eq!(other_session.status(), 200);
    Ok(())
}

#[tokio::test]
async fn two_concurrent_refreshes_of_one_token_succeed_once() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let user = app.register("ada@example.com").await?;

    let (a, b) = tokio::join!(refresh(&app, &user.refresh), refresh(&app, &user.refresh));

    let mut statuses = [a?.status().as_u16(), b?.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 401]);
    Ok(())
}

#[tokio::test]
async fn logout_revokes_the_family() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let user = app.register("ada@example.com").await?;

    let logout = app
        .post_json(
            "/api/v1/auth/logout",
            &json!({"refresh_token": user.refresh}),
        )
        .await?;

    assert_eq!(logout.status(), 204);
    assert_problem(
        refresh(&app, &user.refresh).await?,
        401,
        "invalid_refresh_token",
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn logout_with_an_unknown_token_is_still_204() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;

    let logout = app
        .post_json(
            "/api/v1/auth/logout",
            &json!({"refresh_token": "no-such-token"}),
        )
        .await?;

    assert_eq!(logout.status(), 204);
    Ok(())
}

#[tokio::test]
async fn an_unknown_refresh_token_is_401() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;

    let response = refresh(&app, "no-such-token").await?;

    assert_problem(response, 401, "invalid_refresh_token").await?;
    Ok(())
}

#[tokio::test]
async fn an_expired_refresh_token_is_401() -> anyhow::Result<()> {
    let app = TestApp::builder()
        .with_arg("--refresh-token-ttl")
        .with_arg("1s")
        .spawn()
        .await?;
    let user = app.register("ada@example.com").await?;
    // Age the token in the database instead of waiting for the clock.
    let mut conn = app.db.connect().await?;
    diesel::sql_query(
        "UPDATE refresh_tokens SET created_at = now() - interval '1 hour', \
         expires_at = now() - interval '1 minute'",
    )
    .execute(&mut conn)
    .await?;

    let response = refresh(&app, &user.refresh).await?;

    assert_problem(response, 401, "invalid_refresh_token").await?;
    Ok(())
}
