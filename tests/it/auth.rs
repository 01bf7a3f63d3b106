//! Authentication end to end (API.md, "Authentication"): accounts, sessions, refresh-token
//! rotation and reuse detection, the bearer check, and the audit rows they write.

// The bearer check and its negative corpus of forged tokens.
mod bearer;
// The signing secret: generated once and kept, or configured and checked.
mod secret;
// Refresh-token rotation, reuse detection and logout.
mod sessions;
// Ended sessions and unknown accounts lose access at once, on every node.
mod ended;
// `DELETE /api/v1/me`.
mod delete_account;
// An external identity provider's tokens: keys, claims, accounts created on first sight.
mod oidc;

mod memory;

use crate::common::{PASSWORD, TestApp, assert_problem};
use diesel::QueryableByName;
use diesel::sql_types::{Jsonb, Nullable, Text};
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

fn register_body(email: &str, password: &str, display_name: &str) -> Value {
    json!({"email": email, "password": password, "display_name": display_name})
}

/// Asserts the `{user, access_token, refresh_token, token_type, expires_in}` shape.
fn assert_session_shape(body: &Value, email: &str) {
    assert!(uuid::Uuid::parse_str(body["user"]["id"].as_str().unwrap_or_default()).is_ok());
    assert_eq!(body["user"]["email"], email);
    assert!(body["user"]["display_name"].is_string());
    assert!(body["user"]["created_at"].is_string());
    assert_eq!(
        body["access_token"].as_str().map(|t| t.split('.').count()),
        Some(3)
    );
    assert!(
        body["refresh_token"]
            .as_str()
            .is_some_and(|t| t.len() >= 43)
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
}

#[derive(QueryableByName)]
struct AuditRow {
    #[diesel(sql_type = Text)]
    action: String,
    #[diesel(sql_type = Nullable<diesel::sql_types::Uuid>)]
    actor_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Jsonb)]
    details: Value,
}

async fn audit_rows(app: &TestApp) -> anyhow::Result<Vec<AuditRow>> {
    let mut conn = app.db.connect().await?;
    Ok(
        diesel::sql_query("SELECT action, actor_id, details FROM audit_log ORDER BY id")
            .load(&mut conn)
            .await?,
    )
}

#[tokio::test]
async fn register_answers_201_with_the_user_and_a_token_pair() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;

    let response = app
        .post_json(
            "/api/v1/auth/register",
            &register_body("Ada@Example.com", PASSWORD, "Ada"),
        )
        .await?;

    assert_eq!(response.status(), 201);
    let body: Value = response.json().await?;
    assert_session_shape(&body, "Ada@Example.com");
    assert_eq!(body["user"]["display_name"], "Ada");
    Ok(())
}

#[tokio::test]
async fn register_creates_the_statistics_row_and_an_audit_row() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;

    let user = app.register("ada@example.com").await?;

    #[derive(QueryableByName)]
    struct Stats {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        version: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        total: i64,
    }
    let mut conn = app.db.connect().await?;
    let stats: Vec<Stats> = diesel::sql_query(
        "SELECT version, pending + in_progress + completed AS total FROM user_stats \
         WHERE user_id = $1::uuid",
    )
    .bind::<Text, _>(&user.user_id)
    .load(&mut conn)
    .await?;
    assert_eq!(stats.len(), 1);
    assert_eq!((stats[0].version, stats[0].total), (0, 0));
    let audit = audit_rows(&app).await?;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "auth.register");
    assert_eq!(
        audit[0].actor_id.map(|id| id.to_string()),
        Some(user.user_id)
    );
    Ok(())
}

#[tokio::test]
async fn a_taken_email_is_409_in_any_letter_case() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.register("ada@example.com").await?;

    let same = app
        .post_json(
            "/api/v1/auth/register",
            &register_body("ada@example.com", PASSWORD, "Ada"),
        )
        .await?;
    let other_case = app
        .post_json(
            "/api/v1/auth/register",
            &register_body("ADA@Example.COM", PASSWORD, "Ada"),
        )
        .await?;

    assert_problem(same, 409, "email_taken").await?;
    assert_problem(other_case, 409, "email_taken").await?;
    Ok(())
}

#[tokio::test]
async fn each_broken_rule_is_a_422_naming_its_field() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let long_email = format!("{}@example.com", "a".repeat(243));
    let cases = [
        (register_body("not-an-email", PASSWORD, "Ada"), "email"),
        (register_body(&long_email, PASSWORD, "Ada"), "email"),
        (
            register_body("ada@example.com", "short12", "Ada"),
            "password",
        ),
        (
            register_body("ada@example.com", &"p".repeat(129), "Ada"),
            "password",
        ),
        (
            register_body("ada@example.com", PASSWORD, ""),
            "display_name",
        ),
        (
            register_body("ada@example.com", PASSWORD, &"n".repeat(101)),
            "display_name",
        ),
    ];

    for (body, field) in cases {
        let response = app.post_json("/api/v1/auth/register", &body).await?;

        let problem = assert_problem(response, 422, "validation_failed").await?;
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .map(|errors| errors.iter().filter_map(|e| e["field"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(fields, [field], "{problem}");
        assert!(problem["errors"][0]["message"].is_string());
    }
    Ok(())
}

#[tokio::test]
async fn the_limits_themselves_are_accepted() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;

    let response = app
        .post_json(
            "/api/v1/auth/register",
            &register_body("ada@example.com", &"p".repeat(128), &"n".repeat(100)),
        )
        .await?;

    assert_eq!(response.status(), 201);
    Ok(())
}

#[tokio::test]
async fn unparsable_or_mistyped_bodies_are_400_malformed_request() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let bodies = [
        "{\"email\": ",
        "[]",
        "{\"email\": 5, \"password\": \"pw-123456\", \"display_name\": \"Ada\"}",
        "{\"email\": \"ada@example.com\"}",
        "{\"email\": \"ada@example.com\", \"password\": true, \"display_name\": \"Ada\"}",
    ];

    for body in bodies {
        let response = app
            .http
            .post(app.url("/api/v1/auth/register"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;

        assert_problem(response, 400, "malformed_request").await?;
    }
    Ok(())
}

#[tokio::test]
async fn login_answers_a_new_pair_whatever_the_email_case() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let user = app.register("ada@example.com").await?;

    let response = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "ADA@example.com", "password": PASSWORD}),
        )
        .await?;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await?;
    assert_session_shape(&body, "ada@example.com");
    assert_eq!(body["user"]["id"], user.user_id.as_str());
    assert_ne!(body["refresh_token"], user.refresh.as_str());
    Ok(())
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_401() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    app.register("ada@example.com").await?;

    let wrong_password = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "ada@example.com", "password": "wrong password"}),
        )
        .await?;
    let unknown_email = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"email": "bob@example.com", "password": PASSWORD}),
        )
        .await?;

    let a = assert_problem(wrong_password, 401, "invalid_credentials").await?;
    let b = assert_problem(unknown_email, 401, "invalid_credentials").await?;
    assert_eq!(a, b);
    Ok(())
}

#[tokio::test]
async fn logins_and_failed_logins_are_audited_without_secrets() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let user = app.register("ada@example.com").await?;
    let login = |email: &str, password: &str| json!({"email": email, "password": password});

    app.post_json("/api/v1/auth/login", &login("ada@example.com", PASSWORD))
        .await?;
    app.post_json("/api/v1/auth/login", &login("ada@example.com", "nope-nope"))
        .await?;
    app.post_json("/api/v1/auth/login", &login("bob@example.com", "nope-nope"))
        .await?;

    let audit = audit_rows(&app).await?;
    let seen: Vec<(&str, Option<String>)> = audit
        .iter()
        .map(|row| (row.action.as_str(), row.actor_id.map(|id| id.to_string())))
        .collect();
    let ada = Some(user.user_id.clone());
    assert_eq!(
        seen,
        [
            ("auth.register", ada.clone()),
            ("auth.login", ada.clone()),
            ("auth.login_failed", ada),
            ("auth.login_failed", None),
        ]
    );
    for row in &audit {
        let details = row.details.to_string();
        assert!(!details.contains(PASSWORD) && !details.contains("nope-nope"));
        assert!(!details.contains(&user.refresh));
    }
    Ok(())
}
