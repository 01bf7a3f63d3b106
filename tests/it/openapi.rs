//! The OpenAPI document describes every REST route of API.md, with the bearer scheme and a
//! documented 401 on every secured operation.

use crate::common::{TestApp, expect_json};
use serde_json::Value;

/// Every REST route of API.md, as `(method, path)`.
const ROUTES: &[(&str, &str)] = &[
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/refresh"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/me"),
    ("post", "/api/v1/tasks"),
    ("get", "/api/v1/tasks"),
    ("get", "/api/v1/tasks/{id}"),
    ("patch", "/api/v1/tasks/{id}"),
    ("delete", "/api/v1/tasks/{id}"),
    ("post", "/api/v1/tasks/{id}/shares"),
    ("get", "/api/v1/tasks/{id}/shares"),
    ("delete", "/api/v1/tasks/{id}/shares/{user_id}"),
    ("post", "/api/v1/teams"),
    ("get", "/api/v1/teams"),
    ("get", "/api/v1/teams/{id}"),
    ("delete", "/api/v1/teams/{id}"),
    ("post", "/api/v1/teams/{id}/members"),
    ("patch", "/api/v1/teams/{id}/members/{user_id}"),
    ("delete", "/api/v1/teams/{id}/members/{user_id}"),
    ("get", "/api/v1/dashboard/statistics"),
    ("get", "/api/v1/dashboard/breakdown"),
    ("get", "/api/v1/dashboard/activity"),
    ("get", "/api/v1/dashboard/shared"),
    ("get", "/api/v1/audit-logs"),
    ("post", "/api/v1/tokens"),
    ("get", "/api/v1/tokens"),
    ("delete", "/api/v1/tokens/{id}"),
    ("get", "/api/v1/notifications"),
    ("post", "/api/v1/notifications/{id}/read"),
    ("post", "/api/v1/notifications/read"),
    ("get", "/api/v1/health"),
    ("get", "/api/v1/health/live"),
    ("get", "/api/v1/health/ready"),
];

/// Routes that need no token.
const PUBLIC: &[&str] = &[
    "/api/v1/auth/register",
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/auth/logout",
    "/api/v1/health",
    "/api/v1/health/live",
    "/api/v1/health/ready",
];

/// Routes that answer their own body with 503 when the service (or this node) is not usable
/// (API.md, "Operations"), rather than a problem.
const OWN_503: &[&str] = &["/api/v1/health", "/api/v1/health/ready"];

#[tokio::test]
async fn every_route_of_the_contract_is_documented() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;

    let spec = expect_json(app.get("/openapi.json").await?, 200).await?;
    // .ci/run lints this copy with an OpenAPI linter (tests/lint).
    std::fs::write(
        taskpulse_testdb::target_dir().join("openapi.json"),
        serde_json::to_vec_pretty(&spec)?,
    )?;

    let mut missing = Vec::new();
    let mut operation_ids = std::collections::HashSet::new();
    for (method, path) in ROUTES {
        let operation = &spec["paths"][path][method];
        if !operation.is_object() {
            missing.push(format!("{method} {path}"));
            continue;
        }
        let responses = operation["responses"].as_object().expect("responses");
        assert!(
            operation["summary"].is_string(),
            "{method} {path} has no summary"
        );
        // Client generators name their functions after these.
        let operation_id = operation["operationId"].as_str();
        assert!(
            operation_id.is_some_and(|id| operation_ids.insert(id.to_owned())),
            "{method} {path} has no operationId of its own: {operation_id:?}"
        );
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{method} {path} documents no success"
        );
        if operation["requestBody"].is_object() {
            for status in ["413", "415"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} takes a body but documents no {status}"
                );
            }
        }
        if !PUBLIC.contains(path) {
            assert!(
                responses.contains_key("401"),
                "{method} {path} documents no 401"
            );
            assert!(
                responses["429"]["headers"]["Retry-After"].is_object(),
                "{method} {path} documents no 429 with Retry-After"
            );
            assert_eq!(
                operation["security"][0]["bearerAuth"],
                Value::Array(vec![]),
                "{method} {path} is not secured by bearerAuth"
            );
            // The bearer checker refuses a read-only personal access token on every write.
            if *method != "get" {
                let forbidden = responses["403"]["description"].as_str().unwrap_or_default();
                assert!(
                    forbidden.contains("`insufficient_scope`"),
                    "{method} {path} documents no 403 insufficient_scope"
                );
            }
        }
        for (status, response) in responses {
            let health_down = OWN_503.contains(path) && status == "503";
            if (status.starts_with('4') || status.starts_with('5')) && !health_down {
                assert!(
                    response["content"]["application/problem+json"].is_object(),
                    "{method} {path} {status} is not problem+json"
                );
            }
        }
    }
    assert!(missing.is_empty(), "undocumented: {missing:?}");
    for path in OWN_503 {
        let content = spec["paths"][path]["get"]["responses"]["503"]["content"].as_object();
        assert!(
            content.is_some_and(|c| c.keys().any(|t| t.starts_with("application/json"))),
            "{path} documents no 503 with its own body"
        );
    }
    assert_eq!(
        spec["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
    Ok(())
}

#[tokio::test]
async fn request_and_response_bodies_carry_examples() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;

    let spec = expect_json(app.get("/openapi.json").await?, 200).await?;

    let schemas = &spec["components"]["schemas"];
    for name in [
        "CreateTaskRequest",
        "UpdateTaskRequest",
        "Task",
        "TaskPage",
        "ShareRequest",
        "Share",
        "CreateTeamRequest",
        "Team",
        "TeamDetailView",
        "AddMemberRequest",
        "Statistics",
        "Breakdown",
        "Activity",
        "SharedOverview",
        "AuditPage",
        "Health",
        "Liveness",
        "Readiness",
    ] {
        assert!(
            schemas[name]["example"].is_object(),
            "{name} has no example"
        );
    }
    Ok(())
}

#[tokio::test]
async fn the_websocket_operation_is_documented_with_its_protocol() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;

    let spec = expect_json(app.get("/openapi.json").await?, 200).await?;
    let operation = &spec["paths"]["/api/v1/ws"]["get"];
    let description = operation["description"].as_str().unwrap_or_default();

    assert_eq!(operation["operationId"], "openWebSocket");
    assert!(operation["responses"]["101"].is_object(), "{operation}");
    for needle in [
        "feed:user",
        "feed:team:<team_id>",
        "`since`",
        "since_version",
        "\"type\":\"feed\"",
        "subscribed",
        "invalid_since",
        "4401",
    ] {
        assert!(
            description.contains(needle),
            "the description lacks {needle}"
        );
    }
    Ok(())
}
