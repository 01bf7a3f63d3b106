//! CORS for REST from the `--allowed-origins` list (API.md, "WebSocket": the same list drives
//! CORS for REST), the start-up check of that list, and `GET /`.

use std::time::Duration;

use crate::common::{BINARY, TestApp, assert_problem};
use tokio::process::Command;

const APP_ORIGIN: &str = "https://app.example.com";

/// A server allowing only [`APP_ORIGIN`].
async fn app_allowing_one_origin() -> anyhow::Result<TestApp> {
    TestApp::builder()
        .with_arg("--allowed-origins")
        .with_arg(APP_ORIGIN)
        .spawn()
        .await
}

/// A browser's preflight for a POST with a bearer token and a JSON body.
async fn preflight(app: &TestApp, origin: &str) -> anyhow::Result<reqwest::Response> {
    Ok(app
        .http
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/tasks"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await?)
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The comma-separated values of `name`, lower-cased.
fn listed(response: &reqwest::Response, name: &str) -> Vec<String> {
    header(response, name)
        .unwrap_or_default()
        .split(',')
        .map(|v| v.trim().to_ascii_lowercase())
        .collect()
}

#[tokio::test]
async fn preflight_from_an_allowed_origin_lists_methods_and_headers() -> anyhow::Result<()> {
    let app = app_allowing_one_origin().await?;

    let response = preflight(&app, APP_ORIGIN).await?;

    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(
        header(&response, "access-control-allow-origin").as_deref(),
        Some(APP_ORIGIN)
    );
    let methods = listed(&response, "access-control-allow-methods");
    for method in ["get", "post", "patch", "delete"] {
        assert!(methods.iter().any(|m| m == method), "{methods:?}");
    }
    let headers = listed(&response, "access-control-allow-headers");
    for name in ["authorization", "content-type", "if-match"] {
        assert!(headers.iter().any(|h| h == name), "{headers:?}");
    }
    // Tokens are bearer headers, never cookies: credentials stay off.
    assert_eq!(header(&response, "access-control-allow-credentials"), None);
    Ok(())
}

#[tokio::test]
async fn preflight_from_a_refused_origin_is_a_403_problem_without_allow_origin()
-> anyhow::Result<()> {
    let app = app_allowing_one_origin().await?;

    let response = preflight(&app, "https://evil.example.com").await?;

    assert_eq!(header(&response, "access-control-allow-origin"), None);
    assert_eq!(header(&response, "access-control-allow-methods"), None);
    assert_problem(response, 403, "forbidden").await?;
    Ok(())
}

#[tokio::test]
async fn simple_request_from_an_allowed_origin_may_read_the_answer_and_its_ids()
-> anyhow::Result<()> {
    let app = app_allowing_one_origin().await?;

    let response = app
        .http
        .get(app.url("/api/v1/health"))
        .header("origin", APP_ORIGIN)
        .send()
        .await?;

    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "access-control-allow-origin").as_deref(),
        Some(APP_ORIGIN)
    );
    let exposed = listed(&response, "access-control-expose-headers");
    for name in ["x-request-id", "retry-after", "etag"] {
        assert!(exposed.iter().any(|h| h == name), "{exposed:?}");
    }
    assert!(listed(&response, "vary").iter().any(|v| v == "origin"));
    Ok(())
}

#[tokio::test]
async fn error_answers_to_an_allowed_origin_are_readable_too() -> anyhow::Result<()> {
    let app = app_allowing_one_origin().await?;

    let response = app
        .http
        .get(app.url("/api/v1/tasks"))
        .header("origin", APP_ORIGIN)
        .send()
        .await?;

    assert_eq!(
        header(&response, "access-control-allow-origin").as_deref(),
        Some(APP_ORIGIN)
    );
    assert_problem(response, 401, "unauthenticated").await?;
    Ok(())
}

#[tokio::test]
async fn simple_request_from_a_refused_origin_gets_no_allow_origin() -> anyhow::Result<()> {
    let app = app_allowing_one_origin().await?;

    let response = app
        .http
        .get(app.url("/api/v1/health"))
        .header("origin", "https://evil.example.com")
        .send()
        .await?;

    // Answered (CORS is the browser's to enforce), but not readable by that page.
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "access-control-allow-origin"), None);
    assert_eq!(header(&response, "access-control-expose-headers"), None);
    Ok(())
}

#[tokio::test]
async fn star_allows_any_origin() -> anyhow::Result<()> {
    let app = TestApp::builder()
        .with_arg("--allowed-origins")
        .with_arg("*")
        .spawn()
        .await?;

    let simple = app
        .http
        .get(app.url("/api/v1/health"))
        .header("origin", "http://localhost:3000")
        .send()
        .await?;
    let preflight = preflight(&app, "https://anywhere.example").await?;

    assert_eq!(
        header(&simple, "access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(
        header(&preflight, "access-control-allow-origin").as_deref(),
        Some("*")
    );
    Ok(())
}

#[tokio::test]
async fn without_a_list_only_the_servers_own_origin_is_allowed() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;

    let own = preflight(&app, &app.base_url).await?;
    let foreign = preflight(&app, APP_ORIGIN).await?;

    assert_eq!(
        header(&own, "access-control-allow-origin").as_deref(),
        Some(app.base_url.as_str())
    );
    assert_eq!(header(&foreign, "access-control-allow-origin"), None);
    assert_eq!(foreign.status(), 403);
    Ok(())
}

#[tokio::test]
async fn a_bad_allowed_origin_ends_start_up_with_one_clear_line() -> anyhow::Result<()> {
    for bad in [
        "not a url",
        "https://app.example.com/path",
        "ftp://app.example.com",
    ] {
        let output = tokio::time::timeout(
            Duration::from_secs(30),
            Command::new(BINARY)
                .args(["serve", "--listen", "127.0.0.1:0", "--allowed-origins"])
                .arg(format!("{APP_ORIGIN},{bad}"))
                .env_remove("DATABASE_URL")
                .env("RUST_LOG", "off")
                .kill_on_drop(true)
                .output(),
        )
        .await??;

        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{bad}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{bad}: {stderr}");
        assert!(
            stderr.starts_with("taskpulse: error: --allowed-origins:") && stderr.contains(bad),
            "{bad}: {stderr}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn root_redirects_to_the_dashboard() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;

    let response = http.get(app.url("/")).send().await?;

    assert!(
        matches!(response.status().as_u16(), 303 | 308),
        "{}",
        response.status()
    );
    assert_eq!(header(&response, "location").as_deref(), Some("/dashboard"));
    Ok(())
}
