//! Bad input: names, scopes and lifetimes out of their rules are 422 `validation_failed`
//! naming the field; unknown ids 404; the live-token limit 422; unauthenticated calls 401.

use serde_json::{Value, json};

use super::create_token;
use crate::common::{TestApp, assert_problem};

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["field"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn names_scopes_and_lifetimes_out_of_their_rules_are_422() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let long = "n".repeat(101);
    let cases = [
        (json!({ "name": "", "scopes": ["read"] }), "name"),
        (json!({ "name": "   ", "scopes": ["read"] }), "name"),
        (json!({ "name": long, "scopes": ["read"] }), "name"),
        (json!({ "name": "x", "scopes": [] }), "scopes"),
        (json!({ "name": "x", "scopes": ["write"] }), "scopes"),
        (
            json!({ "name": "x", "scopes": ["read", "admin"] }),
            "scopes",
        ),
        (json!({ "name": "x", "scopes": ["read", "read"] }), "scopes"),
        (
            json!({ "name": "x", "scopes": ["read"], "expires_in_days": 0 }),
            "expires_in_days",
        ),
        (
            json!({ "name": "x", "scopes": ["read"], "expires_in_days": 366 }),
            "expires_in_days",
        ),
    ];
    for (body, field) in cases {
        let response = app.post_as("/api/v1/tokens", &ada.access, &body).await?;
        let problem = assert_problem(response, 422, "validation_failed").await?;
        assert_eq!(fields(&problem), [field], "{body}");
    }
    let wrong_type = json!({ "name": 5, "scopes": ["read"] });
    let response = app
        .post_as("/api/v1/tokens", &ada.access, &wrong_type)
        .await?;
    assert_problem(response, 400, "malformed_request").await?;
    Ok(())
}

#[tokio::test]
async fn unknown_ids_are_404_and_non_uuids_400() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;

    let unknown = "/api/v1/tokens/0193f000-0000-7000-8000-000000000000";
    assert_problem(app.delete_as(unknown, &ada.access).await?, 404, "not_found").await?;
    let malformed = app.delete_as("/api/v1/tokens/nope", &ada.access).await?;
    assert_problem(malformed, 400, "malformed_request").await?;
    Ok(())
}

#[tokio::test]
async fn a_user_holds_at_most_fifty_live_tokens() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    for _ in 0..taskpulse_actors::MAX_LIVE_TOKENS {
        create_token(&app, &ada.access, &["read"]).await?;
    }

    let body = json!({ "name": "one too many", "scopes": ["read"] });
    let response = app.post_as("/api/v1/tokens", &ada.access, &body).await?;

    let problem = assert_problem(response, 422, "validation_failed").await?;
    assert_eq!(fields(&problem), ["tokens"]);
    Ok(())
}

#[tokio::test]
async fn without_credentials_and_with_a_forged_token_it_is_401() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;

    assert_problem(app.get("/api/v1/tokens").await?, 401, "unauthenticated").await?;
    let forged = format!("tp_pat_{}", "A".repeat(43));
    assert_problem(
        app.get_as("/api/v1/me", &forged).await?,
        401,
        "unauthenticated",
    )
    .await?;
    Ok(())
}
