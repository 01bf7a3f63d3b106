//! Rate limiting: `/api/v1/auth/*` per client IP, the other `/api/v1` routes per user; over
//! the limit, 429 `rate_limited` with `Retry-After`; `--no-rate-limit` switches it off.

use crate::common::{PASSWORD, TestApp, assert_problem};
use serde_json::json;

async fn login(app: &TestApp, email: &str) -> anyhow::Result<reqwest::Response> {
    login_from(app, email, None).await
}

/// Signs in, through a proxy that says the request came from `forwarded_for`.
async fn login_from(
    app: &TestApp,
    email: &str,
    forwarded_for: Option<&str>,
) -> anyhow::Result<reqwest::Response> {
    let body = json!({ "email": email, "password": PASSWORD });
    let mut request = app.http.post(app.url("/api/v1/auth/login")).json(&body);
    if let Some(forwarded_for) = forwarded_for {
        request = request.header("X-Forwarded-For", forwarded_for);
    }
    Ok(request.send().await?)
}

#[tokio::test]
async fn exceeding_the_auth_limit_answers_429_with_retry_after() -> anyhow::Result<()> {
    let app = TestApp::builder()
        .with_arg("--rate-limit-auth-per-minute")
        .with_arg("3")
        .spawn()
        .await?;
    app.register("ada@example.com").await?;
    for _ in 0..2 {
        assert_eq!(login(&app, "ada@example.com").await?.status(), 200);
    }

    let response = login(&app, "ada@example.com").await?;

    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // One request per 20 s comes back: the next is let through within that.
    assert!(matches!(retry_after, Some(1..=20)), "{retry_after:?}");
    assert_problem(response, 429, "rate_limited").await?;
    // Operators see it counted by limit.
    let metrics = app.get("/metrics").await?.text().await?;
    assert!(
        metrics.contains("taskpulse_rate_limited_total{limit=\"auth\"} 1\n"),
        "{metrics}"
    );
    Ok(())
}

#[tokio::test]
async fn the_api_limit_is_per_user_not_per_address() -> anyhow::Result<()> {
    let app = TestApp::builder()
        .with_arg("--rate-limit-per-second")
        .with_arg("1")
        .with_arg("--rate-limit-burst")
        .with_arg("2")
        .spawn()
        .await?;
    let ada = app.register("ada@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    for _ in 0..2 {
        assert_eq!(app.get_as("/api/v1/me", &ada.access).await?.status(), 200);
    }

    let limited = app.get_as("/api/v1/me", &ada.access).await?;
    let other = app.get_as("/api/v1/me", &bob.access).await?;

    assert!(limited.headers().contains_key("retry-after"));
    assert_problem(limited, 429, "rate_limited").await?;
    assert_eq!(other.status(), 200, "another user keeps their own budget");
    assert_eq!(
        app.get("/api/v1/health").await?.status(),
        200,
        "never limited"
    );
    Ok(())
}

#[tokio::test]
async fn no_rate_limit_switches_it_off() -> anyhow::Result<()> {
    let app = TestApp::builder()
        .with_arg("--rate-limit-auth-per-minute")
        .with_arg("1")
        .with_arg("--no-rate-limit")
        .spawn()
        .await?;
    app.register("ada@example.com").await?;

    for _ in 0..5 {
        assert_eq!(login(&app, "ada@example.com").await?.status(), 200);
    }
    Ok(())
}

async fn login_via(app: &TestApp, forwarded_for: &str) -> anyhow::Result<reqwest::Response> {
    login_from(app, "ada@example.com", Some(forwarded_for)).await
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() -> anyhow::Result<()> {
    let app = TestApp::builder()
        .with_arg("--rate-limit-auth-per-minute")
        .with_arg("3")
        .with_arg("--trusted-proxies")
        .with_arg("127.0.0.1,::1")
        .spawn()
        .await?;
    app.register("ada@example.com").await?;
    for _ in 0..3 {
        assert_eq!(login_via(&app, "203.0.113.1").await?.status(), 200);
    }

    let limited = login_via(&app, "203.0.113.1").await?;
    let other = login_via(&app, "198.51.100.1, 203.0.113.2").await?;

    assert_problem(limited, 429, "rate_limited").await?;
    assert_eq!(other.status(), 200, "another client behind the proxy");
    Ok(())
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_does_not_escape_the_limit() -> anyhow::Result<()> {
    let app = TestApp::builder()
        .with_arg("--rate-limit-auth-per-minute")
        .with_arg("3")
        .spawn()
        .await?;
    app.register("ada@example.com").await?;
    for n in 1..=2 {
        assert_eq!(
            login_via(&app, &format!("203.0.113.{n}")).await?.status(),
            200
        );
    }

    let response = login_via(&app, "203.0.113.3").await?;

    assert_problem(response, 429, "rate_limited").await?;
    Ok(())
}
