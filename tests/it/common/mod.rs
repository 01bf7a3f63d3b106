//! What the integration tests share: [`TestApp`], the real server inside the test process;
//! [`ProcessApp`], the real binary as a child process, for the tests about the process itself;
//! and [`Api`], the REST helpers both dereference to.

mod api;
mod app;
mod axum_node;
mod npm;
mod process;
mod server_logs;

pub use api::*;
pub use app::*;
pub use axum_node::AxumNode;
pub use npm::npm_package;
pub use process::*;

/// Asserts a response is problem+json with this status and code, and returns its body.
pub async fn assert_problem(
    response: reqwest::Response,
    status: u16,
    code: &str,
) -> anyhow::Result<serde_json::Value> {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/problem+json"),
        "content type {content_type:?}"
    );
    let body: serde_json::Value = response.json().await?;
    assert_eq!(body["code"], code, "problem body: {body}");
    assert_eq!(body["status"], status, "problem body: {body}");
    assert!(body["type"].is_string() && body["title"].is_string() && body["detail"].is_string());
    Ok(body)
}
