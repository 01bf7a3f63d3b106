//! The bearer check of `GET /api/v1/me`: a valid access token passes; every token that is
//! missing, garbage, forged, of the wrong kind, out of its time window or tampered with is
//! 401 `unauthenticated`. The server runs with a known secret so the test can forge tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::common::{Registered, TestApp, assert_problem};

const SECRET: &str = "a-test-secret-that-is-at-least-32-bytes-long";

async fn app_with_known_secret() -> anyhow::Result<TestApp> {
    TestApp::builder()
        .with_arg("--jwt-secret")
        .with_arg(SECRET)
        .spawn()
        .await
}

/// Claims the server would issue for `user` now.
fn valid_claims(user: &Registered) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "sub": user.user_id, "iss": "taskpulse", "aud": "taskpulse-api", "typ": "access",
        "iat": now, "nbf": now, "exp": now + 600, "jti": uuid::Uuid::now_v7(),
    })
}

fn sign(algorithm: Algorithm, secret: &[u8], claims: &Value) -> anyhow::Result<String> {
    Ok(jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(secret),
    )?)
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    if let Some(map) = claims.as_object_mut() {
        map.remove(key);
    }
    claims
}

#[tokio::test]
async fn a_token_forged_with_the_right_secret_and_claims_passes() -> anyhow::Result<()> {
    // The control for the corpus below: the forging itself is sound.
    let app = app_with_known_secret().await?;
    let user = app.register("ada@example.com").await?;
    let token = sign(Algorithm::HS256, SECRET.as_bytes(), &valid_claims(&user))?;

    let response = app.get_as("/api/v1/me", &token).await?;

    assert_eq!(response.status(), 200);
    let me: Value = response.json().await?;
    assert_eq!(me["id"], user.user_id.as_str());
    assert_eq!(me["email"], "ada@example.com");
    assert!(me["display_name"].is_string() && me["created_at"].is_string());
    Ok(())
}

#[tokio::test]
async fn me_without_a_token_or_with_garbage_is_401() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;

    let missing = app.get("/api/v1/me").await?;
    let garbage = app.get_as("/api/v1/me", "garbage").await?;
    let basic = app
        .http
        .get(app.url("/api/v1/me"))
        .header("authorization", "Basic YWRhOnB3")
        .send()
        .await?;

    assert!(missing.headers().contains_key("www-authenticate"));
    assert_problem(missing, 401, "unauthenticated").await?;
    assert_problem(garbage, 401, "unauthenticated").await?;
    assert_problem(basic, 401, "unauthenticated").await?;
    Ok(())
}

#[tokio::test]
async fn forged_and_misused_tokens_are_401() -> anyhow::Result<()> {
    let app = app_with_known_secret().await?;
    let user = app.register("ada@example.com").await?;
    let claims = valid_claims(&user);
    let now = chrono::Utc::now().timestamp();
    let key = SECRET.as_bytes();

    let header_none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let (real_header, _, real_signature) = split3(&user.access)?;
    let tampered_payload = URL_SAFE_NO_PAD
        .encode(with(claims.clone(), "sub", json!(uuid::Uuid::now_v7())).to_string());

    let corpus = [
        ("alg none", format!("{header_none}.{payload}.")),
        ("HS512, same secret", sign(Algorithm::HS512, key, &claims)?),
        (
            "wrong key",
            sign(
                Algorithm::HS256,
                b"another-secret-of-at-least-32-bytes!!",
                &claims,
            )?,
        ),
        (
            "expired",
            sign(
                Algorithm::HS256,
                key,
                &with(
                    with(claims.clone(), "exp", json!(now - 120)),
                    "iat",
                    json!(now - 900),
                ),
            )?,
        ),
        (
            "not yet valid",
            sign(
                Algorithm::HS256,
                key,
                &with(claims.clone(), "nbf", json!(now + 120)),
            )?,
        ),
        (
            "wrong issuer",
            sign(
                Algorithm::HS256,
                key,
                &with(claims.clone(), "iss", json!("someone-else")),
            )?,
        ),
        (
            "wrong audience",
            sign(
                Algorithm::HS256,
                key,
                &with(claims.clone(), "aud", json!("another-api")),
            )?,
        ),
        (
            "refresh type",
            sign(
                Algorithm::HS256,
                key,
                &with(claims.clone(), "typ", json!("refresh")),
            )?,
        ),
        (
            "no type",
            sign(Algorithm::HS256, key, &without(claims.clone(), "typ"))?,
        ),
        (
            "no expiry",
            sign(Algorithm::HS256, key, &without(claims.clone(), "exp"))?,
        ),
        ("refresh token as access token", user.refresh.clone()),
        (
            "tampered payload",
            format!("{real_header}.{tampered_payload}.{real_signature}"),
        ),
    ];

    for (name, token) in corpus {
        let response = app.get_as("/api/v1/me", &token).await?;

        assert_eq!(response.status(), 401, "{name}");
        assert_problem(response, 401, "unauthenticated").await?;
    }
    Ok(())
}

fn split3(token: &str) -> anyhow::Result<(&str, &str, &str)> {
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(b), Some(c), None) => Ok((a, b, c)),
        _ => anyhow::bail!("not a compact JWT: {token}"),
    }
}

#[tokio::test]
async fn the_openapi_document_declares_the_bearer_scheme_and_401() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;

    let spec: Value = app.get("/openapi.json").await?.json().await?;

    let scheme = &spec["components"]["securitySchemes"]["bearerAuth"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    assert_eq!(scheme["bearerFormat"], "JWT");
    let me = &spec["paths"]["/api/v1/me"]["get"];
    assert!(me["security"].is_array());
    assert!(me["responses"]["401"]["content"]["application/problem+json"].is_object());
    let register = &spec["paths"]["/api/v1/auth/register"]["post"]["responses"];
    for status in ["201", "400", "409", "422"] {
        assert!(register[status].is_object(), "register documents {status}");
    }
    Ok(())
}
