//! `GET /dashboard` serves the live dashboard page and its files from the binary (the browser
//! test, `tests/browser.rs`, drives it in Chromium).

use crate::common::{TestApp, assert_problem};

fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn the_dashboard_page_is_html_with_its_title() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;

    let response = app.get("/dashboard").await?;

    assert_eq!(response.status(), 200);
    assert!(content_type(&response).starts_with("text/html"));
    let page = response.text().await?;
    assert!(
        page.contains("<title>taskpulse — live dashboard</title>"),
        "{page}"
    );
    assert!(page.contains(r#"id="connection""#) && page.contains(r#"id="stat-total""#));
    Ok(())
}

#[tokio::test]
async fn every_file_the_page_loads_is_served_and_others_are_404() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;

    let script = app.get("/dashboard/app.js").await?;
    let style = app.get("/dashboard/dashboard.css").await?;
    let missing = app.get("/dashboard/nope.js").await?;
    let missing_module = app.get("/dashboard/client/nope.js").await?;

    assert_eq!(script.status(), 200);
    assert!(content_type(&script).starts_with("text/javascript"));
    let script = script.text().await?;
    for module in [
        "./client/index.js",
        "./view.js",
        "./feed-view.js",
        "./task-list.js",
        "./trends-view.js",
        "./transfer-view.js",
        "./tokens-view.js",
        "./notifications-view.js",
    ] {
        assert!(script.contains(module), "app.js imports {module}");
        let path = format!("/dashboard/{}", module.trim_start_matches("./"));
        assert_eq!(app.get(&path).await?.status(), 200, "{path}");
    }
    assert_eq!(app.get("/dashboard/chart.js").await?.status(), 200);
    assert_eq!(style.status(), 200);
    assert!(content_type(&style).starts_with("text/css"));
    assert_problem(missing, 404, "not_found").await?;
    assert_problem(missing_module, 404, "not_found").await?;
    Ok(())
}

#[tokio::test]
async fn the_client_package_is_served_as_it_is_published() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let package = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/js/src");

    for entry in std::fs::read_dir(&package)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let response = app.get(&format!("/dashboard/client/{name}")).await?;

        assert_eq!(response.status(), 200, "{name}");
        assert!(content_type(&response).starts_with("text/javascript"));
        assert_eq!(
            response.text().await?,
            std::fs::read_to_string(&path)?,
            "{name}"
        );
    }
    Ok(())
}
