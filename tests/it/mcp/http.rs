//! `/mcp` over plain HTTP: the bearer check and its metadata document, sessions bound to their
//! user, bounded and ended with the sign-in, and bad input answered with JSON-RPC errors,
//! never a 500.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Answer, initialize, open_session, post, post_raw, request};
use crate::common::{PASSWORD, TestApp, poll_until};

/// The JSON-RPC error code of an answer.
fn error_code(answer: &Answer) -> Option<i64> {
    answer.messages.first()?["error"]["code"].as_i64()
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_token_mcp_answers_401_naming_the_protected_resource_metadata()
-> anyhow::Result<()> {
    let app = TestApp::spawn().await?;

    let answer = post(&app, None, None, &initialize()).await?;
    let forged = post(&app, Some("not-a-token"), None, &initialize()).await?;
    let metadata = app.get("/.well-known/oauth-protected-resource").await?;

    assert_eq!(answer.status, 401);
    let challenge = (answer.headers.get("www-authenticate"))
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let address = app.url("/.well-known/oauth-protected-resource");
    assert_eq!(challenge, format!("Bearer resource_metadata=\"{address}\""));
    assert_eq!(error_code(&answer), Some(-32600));
    assert_eq!(
        answer.messages[0]["error"]["data"]["code"],
        "unauthenticated"
    );
    assert_eq!(forged.status, 401);
    assert_eq!(metadata.status(), 200);
    let document: Value = metadata.json().await?;
    assert_eq!(document["resource"], app.url("/mcp"));
    assert_eq!(document["bearer_methods_supported"], json!(["header"]));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_metadata_names_the_configured_identity_provider() -> anyhow::Result<()> {
    let app = TestApp::builder()
        .with_arg("--oidc-issuer")
        .with_arg("http://127.0.0.1:9/realms/acme")
        .with_arg("--oidc-audience")
        .with_arg("taskpulse")
        .with_arg("--public-url")
        .with_arg("https://tasks.example.com/")
        .spawn()
        .await?;

    let document: Value = app
        .get("/.well-known/oauth-protected-resource")
        .await?
        .json()
        .await?;

    assert_eq!(
        document["authorization_servers"],
        json!(["http://127.0.0.1:9/realms/acme"])
    );
    assert_eq!(document["resource"], "https://tasks.example.com/mcp");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_answers_only_its_own_user() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let eve = app.register("eve@example.com").await?;
    let session = open_session(&app, &ada.access).await?;
    let list = request(1, "tools/list", json!({}));

    let own = post(&app, Some(&ada.access), Some(&session), &list).await?;
    let stolen = post(&app, Some(&eve.access), Some(&session), &list).await?;
    let made_up = post(&app, Some(&eve.access), Some("no-such-session"), &list).await?;

    assert_eq!(own.status, 200);
    assert_eq!(
        own.messages.last().map(|m| m["result"]["tools"].is_array()),
        Some(true)
    );
    assert_eq!(stolen.status, 404);
    assert!(error_code(&stolen).is_some(), "a JSON-RPC error");
    assert_eq!(made_up.status, 404);
    assert!(error_code(&made_up).is_some(), "a JSON-RPC error");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_holds_a_bounded_number_of_sessions() -> anyhow::Result<()> {
    let app = TestApp::builder()
        .with_arg("--mcp-max-sessions-per-user")
        .with_arg("2")
        .spawn()
        .await?;
    let ada = app.register("ada@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let first = open_session(&app, &ada.access).await?;
    open_session(&app, &ada.access).await?;

    let third = post(&app, Some(&ada.access), None, &initialize()).await?;
    let bobs = post(&app, Some(&bob.access), None, &initialize()).await?;
    let deleted = (app.http.delete(app.url("/mcp")))
        .bearer_auth(&ada.access)
        .header("mcp-session-id", &first)
        .send()
        .await?;
    let after_delete = post(&app, Some(&ada.access), None, &initialize()).await?;

    assert_eq!(third.status, 429);
    assert!(error_code(&third).is_some());
    assert_eq!(bobs.status, 200, "another user is not limited by ada's");
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        after_delete.status, 200,
        "a deleted session gives its place back"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_out_ends_the_sessions_opened_with_that_sign_in() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let session = open_session(&app, &ada.access).await?;
    let list = request(1, "tools/list", json!({}));
    // A second sign-in of ada's, which outlives the first.
    let signed_in: Value = app
        .post_json(
            "/api/v1/auth/login",
            &json!({ "email": ada.email, "password": PASSWORD }),
        )
        .await?
        .json()
        .await?;
    let second = signed_in["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let before = post(&app, Some(&second), Some(&session), &list).await?;

    let out = app
        .post_json(
            "/api/v1/auth/logout",
            &json!({ "refresh_token": ada.refresh }),
        )
        .await?;

    assert_eq!(
        before.status, 200,
        "ada's other sign-in may use the session"
    );
    assert_eq!(out.status(), 204);
    let refused = post(&app, Some(&ada.access), Some(&session), &list).await?;
    assert_eq!(refused.status, 401, "the signed-out token");
    poll_until(Duration::from_secs(5), || async {
        let answer = post(&app, Some(&second), Some(&session), &list).await?;
        Ok(match answer.status {
            404 => Ok(()),
            other => Err(other.to_string()),
        })
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_answered_with_json_rpc_errors_never_a_500() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let token = Some(ada.access.as_str());
    let session = open_session(&app, &ada.access).await?;
    let session = Some(session.as_str());

    let not_json = post_raw(&app, token, session, b"{\"jsonrpc\": \"2.0\", ".to_vec()).await?;
    let not_rpc = post(&app, token, session, &json!({"hello": "world"})).await?;
    let unknown_method = post(
        &app,
        token,
        session,
        &request(2, "tasks/teleport", json!({})),
    )
    .await?;
    let schema_breaking = post(
        &app,
        token,
        session,
        &request(
            3,
            "tools/call",
            json!({"name": "get_task", "arguments": {"id": 7}}),
        ),
    )
    .await?;
    let huge = json!({"title": "x".repeat(200 * 1024)});
    let oversized = post(
        &app,
        token,
        session,
        &request(
            4,
            "tools/call",
            json!({"name": "create_task", "arguments": huge}),
        ),
    )
    .await?;
    let still_fine = post(&app, token, session, &request(5, "tools/list", json!({}))).await?;

    for (what, answer) in [
        ("not JSON", &not_json),
        ("not JSON-RPC", &not_rpc),
        ("an unknown method", &unknown_method),
        ("oversized", &oversized),
    ] {
        assert!(answer.status < 500, "{what}: {}", answer.status);
        assert!(
            error_code(answer).is_some(),
            "{what}: {:?}",
            answer.messages
        );
    }
    assert_eq!(error_code(&not_json), Some(-32700));
    assert_eq!(error_code(&unknown_method), Some(-32601));
    assert_eq!(oversized.status, 413);
    let result = &schema_breaking.messages.last().cloned().unwrap_or_default()["result"];
    assert_eq!(result["isError"], true, "{result}");
    assert_eq!(result["structuredContent"]["code"], "malformed_request");
    assert_eq!(still_fine.status, 200, "the session survives bad input");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_session_is_ended() -> anyhow::Result<()> {
    let app = TestApp::builder()
        .with_arg("--mcp-idle-timeout")
        .with_arg("500ms")
        .spawn()
        .await?;
    let ada = app.register("ada@example.com").await?;
    let session = open_session(&app, &ada.access).await?;
    let list = request(1, "tools/list", json!({}));

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let answer = post(&app, Some(&ada.access), Some(&session), &list).await?;

    assert_eq!(answer.status, 404, "{:?}", answer.messages);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn mcp_messages_spend_the_users_rate_limit_budget() -> anyhow::Result<()> {
    let app = TestApp::builder()
        .with_arg("--rate-limit-per-second")
        .with_arg("1")
        .with_arg("--rate-limit-burst")
        .with_arg("3")
        .spawn()
        .await?;
    let ada = app.register("ada@example.com").await?;
    let session = open_session(&app, &ada.access).await?;
    let list = request(1, "tools/list", json!({}));

    // The burst of 3 is spent by the session's opening and a request or two more.
    let mut answers = Vec::new();
    for _ in 0..10 {
        answers.push(post(&app, Some(&ada.access), Some(&session), &list).await?);
    }

    assert_eq!(answers[0].status, 200);
    let limited = (answers.iter().find(|answer| answer.status == 429))
        .ok_or_else(|| anyhow::anyhow!("no request was limited"))?;
    assert!(limited.headers.contains_key("retry-after"));
    assert_eq!(limited.messages[0]["error"]["data"]["code"], "rate_limited");
    Ok(())
}
