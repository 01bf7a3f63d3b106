//! Ended sessions lose access at once: after a sign-out, and after a reused refresh token
//! revokes its session, that session's access tokens answer 401 and its open WebSocket
//! sessions close with 4401 — on every node, and on a node started afterwards. A token whose
//! account does not exist is refused everywhere.

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::common::{PASSWORD, Registered, TestApp, assert_problem, poll_until};
use crate::ws::{close_code, connect, receive, send};

async fn sign_out(app: &TestApp, user: &Registered) -> anyhow::Result<()> {
    let response = app
        .post_json(
            "/api/v1/auth/logout",
            &json!({ "refresh_token": user.refresh }),
        )
        .await?;
    anyhow::ensure!(response.status() == 204, "logout: {}", response.status());
    Ok(())
}

/// A second sign-in of the same account: a session of its own.
async fn sign_in_again(app: &TestApp, user: &Registered) -> anyhow::Result<String> {
    let body: Value = app
        .post_json(
            "/api/v1/auth/login",
            &json!({ "email": user.email, "password": PASSWORD }),
        )
        .await?
        .json()
        .await?;
    Ok(body["access_token"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn after_sign_out_the_sessions_access_tokens_are_401_and_other_sessions_go_on()
-> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let other_session = sign_in_again(&app, &ada).await?;
    assert_eq!(app.get_as("/api/v1/me", &ada.access).await?.status(), 200);

    sign_out(&app, &ada).await?;

    for path in [
        "/api/v1/me",
        "/api/v1/tasks",
        "/api/v1/dashboard/statistics",
    ] {
        let response = app.get_as(path, &ada.access).await?;
        assert_problem(response, 401, "unauthenticated").await?;
    }
    assert_eq!(
        app.get_as("/api/v1/me", &other_session).await?.status(),
        200
    );
    Ok(())
}

#[tokio::test]
async fn a_reused_refresh_token_ends_every_access_token_of_its_session() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let other_session = sign_in_again(&app, &ada).await?;
    let renewed: Value = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({ "refresh_token": ada.refresh }),
        )
        .await?
        .json()
        .await?;
    let renewed_access = renewed["access_token"].as_str().unwrap_or_default();
    assert_eq!(
        app.get_as("/api/v1/me", renewed_access).await?.status(),
        200
    );

    let replay = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({ "refresh_token": ada.refresh }),
        )
        .await?;

    assert_problem(replay, 401, "refresh_token_reused").await?;
    for access in [ada.access.as_str(), renewed_access] {
        let response = app.get_as("/api/v1/me", access).await?;
        assert_problem(response, 401, "unauthenticated").await?;
    }
    assert_eq!(
        app.get_as("/api/v1/me", &other_session).await?.status(),
        200
    );
    Ok(())
}

#[tokio::test]
async fn an_open_websocket_session_closes_with_4401_when_its_session_ends() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let other_session = sign_in_again(&app, &ada).await?;
    let mut ended = connect(&app, Some(&ada.access)).await?;
    let mut going_on = connect(&app, Some(&other_session)).await?;
    for socket in [&mut ended, &mut going_on] {
        send(socket, json!({ "type": "subscribe", "topic": "user" })).await?;
        assert_eq!(receive(socket).await?["type"], "snapshot");
    }

    sign_out(&app, &ada).await?;

    let code = tokio::time::timeout(Duration::from_secs(2), close_code(&mut ended)).await??;
    assert_eq!(code, 4401);
    app.create_task(&other_session, json!({ "title": "still live" }))
        .await?;
    assert_eq!(receive(&mut going_on).await?["type"], "delta");
    // And the ended token cannot open a new one.
    let mut again = connect(&app, Some(&ada.access)).await?;
    assert_eq!(close_code(&mut again).await?, 4401);
    Ok(())
}

#[tokio::test]
async fn a_session_ended_on_one_node_ends_on_the_others() -> anyhow::Result<()> {
    let nodes = TestApp::builder().spawn_cluster(2).await?;
    let (a, b) = (&nodes[0], &nodes[1]);
    let ada = a.register("ada@example.com").await?;
    let mut socket = connect(b, Some(&ada.access)).await?;
    send(&mut socket, json!({ "type": "subscribe", "topic": "user" })).await?;
    assert_eq!(receive(&mut socket).await?["type"], "snapshot");

    sign_out(a, &ada).await?;

    let code = tokio::time::timeout(Duration::from_secs(2), close_code(&mut socket)).await??;
    assert_eq!(code, 4401);
    let status = poll_until(Duration::from_secs(2), || async {
        let status = b.get_as("/api/v1/me", &ada.access).await?.status();
        Ok(if status == 401 {
            Ok(status)
        } else {
            Err(format!("status {status}"))
        })
    })
    .await?;
    assert_eq!(status, 401);
    Ok(())
}

#[tokio::test]
async fn a_node_started_after_a_sign_out_refuses_its_tokens() -> anyhow::Result<()> {
    let nodes = TestApp::builder().spawn_cluster(1).await?;
    let ada = nodes[0].register("ada@example.com").await?;
    sign_out(&nodes[0], &ada).await?;

    let late = nodes[0].spawn_peer().await?;

    let response = late.get_as("/api/v1/me", &ada.access).await?;
    assert_problem(response, 401, "unauthenticated").await?;
    Ok(())
}

const SECRET: &str = "a-test-secret-that-is-at-least-32-bytes-long";

#[tokio::test]
async fn a_well_signed_token_of_no_account_is_401_everywhere_and_opens_no_websocket()
-> anyhow::Result<()> {
    let app = TestApp::builder()
        .with_arg("--jwt-secret")
        .with_arg(SECRET)
        .spawn()
        .await?;
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "sub": uuid::Uuid::now_v7(), "iss": "taskpulse", "aud": "taskpulse-api", "typ": "access",
        "iat": now, "nbf": now, "exp": now + 600, "jti": uuid::Uuid::now_v7(),
    });
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )?;

    let attempts = [
        app.get_as("/api/v1/me", &token).await?,
        app.get_as("/api/v1/tasks", &token).await?,
        app.get_as("/api/v1/dashboard/statistics", &token).await?,
        app.get_as("/api/v1/audit-logs", &token).await?,
        app.post_as("/api/v1/tasks", &token, &json!({ "title": "x" }))
            .await?,
        app.post_as("/api/v1/teams", &token, &json!({ "name": "x" }))
            .await?,
    ];
    for response in attempts {
        assert_problem(response, 401, "unauthenticated").await?;
    }
    let mut socket = connect(&app, Some(&token)).await?;
    assert_eq!(close_code(&mut socket).await?, 4401);
    Ok(())
}
