//! The official Python MCP SDK against real nodes: tools, their failures, scopes, resources,
//! and a REST write on one node heard as `notifications/resources/updated` on another.

use serde_json::{Value, json};

use super::{mcp_url, python_client};
use crate::common::TestApp;
use crate::tokens::{create_token, secret};

const TOOLS: [&str; 9] = [
    "create_task",
    "list_tasks",
    "get_task",
    "update_task",
    "delete_task",
    "share_task",
    "list_teams",
    "get_statistics",
    "get_trends",
];

/// The problem code of a failed tool result (and that it is one).
fn problem_code(result: &Value) -> &str {
    assert_eq!(result["is_error"], true, "{result}");
    result["structured"]["code"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_tool_answers_structured_content_with_the_rest_shapes_and_rules() -> anyhow::Result<()>
{
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    app.register("grace@example.com").await?;

    let out = python_client(&["tools", &mcp_url(&app), &ada.access, "grace@example.com"]).await?;

    assert_eq!(out["server"], "taskpulse");
    assert_eq!(out["protocol_version"], "2025-11-25");
    let tools = out["tools"].as_object().cloned().unwrap_or_default();
    for name in TOOLS {
        let tool = &tools[name];
        assert_eq!(tool["input"]["type"], "object", "{name}");
        assert_eq!(tool["output"]["type"], "object", "{name}");
        assert!(
            tool["description"].as_str().is_some_and(|d| d.len() > 40),
            "{name}"
        );
    }
    assert_eq!(tools.len(), TOOLS.len());
    assert_eq!(tools["create_task"]["input"]["required"], json!(["title"]));
    assert_eq!(tools["get_task"]["read_only"], true);
    assert_eq!(tools["delete_task"]["read_only"], false);

    let created = &out["create_task"];
    assert_eq!(created["is_error"], false, "{created}");
    assert_eq!(created["structured"]["title"], "Written by an assistant");
    assert_eq!(created["structured"]["priority"], "high");
    assert_eq!(created["structured"]["status"], "pending");
    assert_eq!(out["get_task"]["structured"], created["structured"]);
    assert_eq!(
        out["list_tasks"]["structured"]["items"][0],
        created["structured"]
    );
    assert_eq!(out["update_task"]["structured"]["status"], "completed");
    assert_eq!(problem_code(&out["stale_update"]), "version_mismatch");
    assert_eq!(out["share_task"]["structured"]["permission"], "view");
    assert_eq!(out["list_teams"]["structured"]["items"], json!([]));
    assert_eq!(out["get_statistics"]["structured"]["completed"], 1);
    assert_eq!(out["get_statistics"]["structured"]["scope"], "user");
    assert!(
        out["get_trends"]["structured"]["buckets"].is_array(),
        "{}",
        out["get_trends"]
    );
    assert_eq!(out["delete_task"]["structured"]["deleted"], true);
    assert_eq!(problem_code(&out["get_deleted"]), "not_found");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn tool_failures_are_error_results_carrying_the_rest_problem() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    app.register("grace@example.com").await?;

    let out = python_client(&["tools", &mcp_url(&app), &ada.access, "grace@example.com"]).await?;

    let blank = &out["blank_title"];
    assert_eq!(problem_code(blank), "validation_failed");
    assert_eq!(blank["structured"]["status"], 422);
    assert_eq!(blank["structured"]["errors"][0]["field"], "title");
    assert_eq!(problem_code(&out["wrong_type"]), "malformed_request");
    assert_eq!(problem_code(&out["bad_status"]), "validation_failed");
    assert_eq!(problem_code(&out["unknown_argument"]), "malformed_request");
    assert_eq!(problem_code(&out["not_a_uuid"]), "malformed_request");
    // An unknown tool is not a tool's failure but a request the server cannot route.
    assert_eq!(out["unknown_tool"]["jsonrpc_error"]["code"], -32602);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_token_reads_but_may_not_call_writing_tools() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let read = secret(&create_token(&app, &ada.access, &["read"]).await?);

    let out = python_client(&["read_only", &mcp_url(&app), &read]).await?;

    assert_eq!(out["list_tasks"]["is_error"], false, "{out}");
    assert_eq!(problem_code(&out["create_task"]), "insufficient_scope");
    assert_eq!(out["create_task"]["structured"]["status"], 403);
    let listed = app.get_as("/api/v1/tasks", &ada.access).await?;
    let listed: Value = listed.json().await?;
    assert_eq!(listed["items"], json!([]), "nothing was written");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn dashboards_are_resources_and_a_write_on_another_node_is_announced() -> anyhow::Result<()> {
    let nodes = TestApp::builder().spawn_cluster(2).await?;
    let (a, b) = (&nodes[0], &nodes[1]);
    let ada = a.register("ada@example.com").await?;
    let team = a.create_team(&ada.access, "crew").await?;

    let out = python_client(&["resources", &mcp_url(a), &ada.access, &team, &b.base_url]).await?;

    let uris = (out["resources"].as_array().cloned().unwrap_or_default())
        .iter()
        .map(|r| r["uri"].as_str().unwrap_or_default().to_owned())
        .collect::<Vec<_>>();
    assert_eq!(
        uris,
        [
            "taskpulse://dashboard/user".to_owned(),
            format!("taskpulse://dashboard/team/{team}")
        ]
    );
    assert_eq!(
        out["templates"],
        json!(["taskpulse://dashboard/team/{team_id}"])
    );
    assert_eq!(out["mime_type"], "application/json");
    let before = &out["before"];
    assert_eq!(before["statistics"]["total"], 0);
    assert_eq!(before["version"], before["statistics"]["version"]);
    assert_eq!(before["version"], before["breakdown"]["version"]);
    assert_eq!(out["team"]["statistics"]["scope"], "team");
    assert!(out["team"]["breakdown"]["by_member"].is_array());
    assert_eq!(
        out["unknown_team"]["code"], -32002,
        "{}",
        out["unknown_team"]
    );
    assert_eq!(out["unknown_team"]["data"]["code"], "not_found");

    assert_eq!(out["write_status"], 201);
    assert_eq!(out["updated_uri"], "taskpulse://dashboard/user", "{out}");
    assert_eq!(out["after"]["statistics"]["total"], 1);
    Ok(())
}
