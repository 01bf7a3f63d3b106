//! Tasks and shares end to end (API.md, "Tasks"): each route's success and error answers.

// Who may read, change, delete and share a task.
mod matrix;
// Listing: filters, scopes and cursor pagination.
mod listing;
// Sharing a task with other users.
mod shares;

use crate::common::{TestApp, assert_problem, expect_json, id_of};
use serde_json::{Value, json};

/// An RFC 3339 time, whatever its spelling of UTC.
fn instant(value: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    value.as_str()?.parse().ok()
}

#[tokio::test]
async fn a_new_task_has_every_field_and_the_defaults() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;

    let task = app
        .create_task(&ada.access, json!({"title": "Write"}))
        .await?;

    let fields = [
        "id",
        "title",
        "description",
        "status",
        "priority",
        "due_at",
        "owner_id",
        "team_id",
        "version",
        "created_at",
        "updated_at",
        "started_at",
        "completed_at",
    ];
    let object = task.as_object().expect("an object");
    for field in fields {
        assert!(object.contains_key(field), "{field} missing from {task}");
    }
    assert_eq!(object.len(), fields.len(), "{task}");
    assert_eq!(task["status"], "pending");
    assert_eq!(task["priority"], "medium");
    assert_eq!(task["description"], "");
    assert_eq!(task["version"], 1);
    assert_eq!(task["owner_id"], ada.user_id.as_str());
    assert!(task["due_at"].is_null() && task["team_id"].is_null());
    assert!(task["started_at"].is_null() && task["completed_at"].is_null());
    Ok(())
}

#[tokio::test]
async fn started_at_is_the_first_entry_into_progress_and_stays() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let task = app
        .create_task(&ada.access, json!({"title": "Ship"}))
        .await?;
    let path = format!("/api/v1/tasks/{}", id_of(&task));
    let set = async |status: &str| -> anyhow::Result<Value> {
        let body = json!({ "status": status });
        expect_json(app.patch_as(&path, &ada.access, &body).await?, 200).await
    };

    let started = set("in_progress").await?;
    let first = instant(&started["started_at"]).expect("started_at set on entering in_progress");
    assert!(instant(&started["created_at"]).is_some_and(|created| created <= first));

    // Kept when the status moves on, and not moved by entering in_progress again.
    let done = set("completed").await?;
    assert_eq!(instant(&done["started_at"]), Some(first));
    assert!(instant(&done["completed_at"]).is_some_and(|completed| completed >= first));
    let reopened = set("pending").await?;
    assert_eq!(instant(&reopened["started_at"]), Some(first));
    assert!(
        reopened["completed_at"].is_null(),
        "reopening clears completed_at"
    );
    let again = set("in_progress").await?;
    assert_eq!(instant(&again["started_at"]), Some(first));

    // A task created in progress started when it was created; one created completed never did.
    let running = json!({"title": "Running", "status": "in_progress"});
    let running = app.create_task(&ada.access, running).await?;
    assert_eq!(running["started_at"], running["created_at"]);
    let finished = json!({"title": "Finished", "status": "completed"});
    let finished = app.create_task(&ada.access, finished).await?;
    assert!(finished["started_at"].is_null());
    Ok(())
}

#[tokio::test]
async fn a_task_created_completed_carries_completed_at() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;

    let body = json!({"title": "Done", "status": "completed", "priority": "urgent",
                      "due_at": "2030-01-02T03:04:05Z", "description": "d"});
    let task = app.create_task(&ada.access, body).await?;

    assert_eq!(task["status"], "completed");
    assert_eq!(task["priority"], "urgent");
    assert_eq!(
        instant(&task["due_at"]),
        instant(&json!("2030-01-02T03:04:05Z"))
    );
    assert!(task["completed_at"].is_string());
    Ok(())
}

#[tokio::test]
async fn broken_rules_answer_422_with_every_field() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;

    let response = app
        .post_as(
            "/api/v1/tasks",
            &ada.access,
            &json!({"title": "", "status": "done", "priority": "whenever"}),
        )
        .await?;

    let problem = assert_problem(response, 422, "validation_failed").await?;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert!(
        fields.contains(&"status") && fields.contains(&"priority"),
        "{problem}"
    );
    Ok(())
}

#[tokio::test]
async fn a_blank_or_too_long_title_is_422() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;

    for title in [String::new(), "x".repeat(201)] {
        let response = app
            .post_as("/api/v1/tasks", &ada.access, &json!({"title": title}))
            .await?;
        let problem = assert_problem(response, 422, "validation_failed").await?;
        assert_eq!(problem["errors"][0]["field"], "title");
    }
    Ok(())
}

#[tokio::test]
async fn unreadable_requests_are_400_malformed() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;

    let not_json = app
        .http
        .post(app.url("/api/v1/tasks"))
        .bearer_auth(&ada.access)
        .header("content-type", "application/json")
        .body("{\"title\": ")
        .send()
        .await?;
    assert_problem(not_json, 400, "malformed_request").await?;
    let wrong_type = app
        .post_as("/api/v1/tasks", &ada.access, &json!({"title": 5}))
        .await?;
    assert_problem(wrong_type, 400, "malformed_request").await?;
    let enum_not_string = app
        .post_as(
            "/api/v1/tasks",
            &ada.access,
            &json!({"title": "t", "status": 1}),
        )
        .await?;
    assert_problem(enum_not_string, 400, "malformed_request").await?;
    let bad_id = app.get_as("/api/v1/tasks/not-a-uuid", &ada.access).await?;
    assert_problem(bad_id, 400, "malformed_request").await?;
    Ok(())
}

#[tokio::test]
async fn every_task_route_wants_a_bearer_token() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let id = uuid::Uuid::now_v7();
    let routes = [
        (reqwest::Method::POST, "/api/v1/tasks".to_owned()),
        (reqwest::Method::GET, "/api/v1/tasks".to_owned()),
        (reqwest::Method::GET, format!("/api/v1/tasks/{id}")),
        (reqwest::Method::PATCH, format!("/api/v1/tasks/{id}")),
        (reqwest::Method::DELETE, format!("/api/v1/tasks/{id}")),
        (reqwest::Method::POST, format!("/api/v1/tasks/{id}/shares")),
        (reqwest::Method::GET, format!("/api/v1/tasks/{id}/shares")),
        (
            reqwest::Method::DELETE,
            format!("/api/v1/tasks/{id}/shares/{id}"),
        ),
    ];

    for (method, path) in routes {
        let response = app
            .http
            .request(method, app.url(&path))
            .json(&json!({}))
            .send()
            .await?;
        assert_problem(response, 401, "unauthenticated").await?;
    }
    Ok(())
}

#[tokio::test]
async fn an_unknown_task_is_404() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let path = format!("/api/v1/tasks/{}", uuid::Uuid::now_v7());

    assert_problem(app.get_as(&path, &ada.access).await?, 404, "not_found").await?;
    assert_problem(
        app.patch_as(&path, &ada.access, &json!({"title": "x"}))
            .await?,
        404,
        "not_found",
    )
    .await?;
    assert_problem(app.delete_as(&path, &ada.access).await?, 404, "not_found").await?;
    Ok(())
}

#[tokio::test]
async fn a_patch_changes_only_what_it_names_and_bumps_the_version() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let task = app
        .create_task(
            &ada.access,
            json!({"title": "Write", "due_at": "2030-01-01T00:00:00Z"}),
        )
        .await?;
    let path = format!("/api/v1/tasks/{}", id_of(&task));

    let renamed = expect_json(
        app.patch_as(&path, &ada.access, &json!({"title": "Rewrite"}))
            .await?,
        200,
    )
    .await?;
    assert_eq!(renamed["title"], "Rewrite");
    assert_eq!(renamed["version"], 2);
    assert_eq!(
        instant(&renamed["due_at"]),
        instant(&json!("2030-01-01T00:00:00Z")),
        "absent due_at is kept"
    );

    let cleared = expect_json(
        app.patch_as(&path, &ada.access, &json!({"due_at": null}))
            .await?,
        200,
    )
    .await?;
    assert!(cleared["due_at"].is_null(), "null due_at clears it");
    assert_eq!(cleared["version"], 3);

    let done = expect_json(
        app.patch_as(&path, &ada.access, &json!({"status": "completed"}))
            .await?,
        200,
    )
    .await?;
    assert!(done["completed_at"].is_string());
    let fetched = expect_json(app.get_as(&path, &ada.access).await?, 200).await?;
    assert_eq!(fetched, done);
    Ok(())
}

#[tokio::test]
async fn a_patch_with_a_bad_enum_is_422() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let task = app
        .create_task(&ada.access, json!({"title": "Write"}))
        .await?;
    let path = format!("/api/v1/tasks/{}", id_of(&task));

    let response = app
        .patch_as(&path, &ada.access, &json!({"status": "done"}))
        .await?;

    let problem = assert_problem(response, 422, "validation_failed").await?;
    assert_eq!(problem["errors"][0]["field"], "status");
    Ok(())
}

#[tokio::test]
async fn if_match_applies_the_change_only_at_that_version() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let task = app
        .create_task(&ada.access, json!({"title": "Write"}))
        .await?;
    let url = app.url(&format!("/api/v1/tasks/{}", id_of(&task)));
    let patch = |if_match: &str, title: &str| {
        app.http
            .patch(&url)
            .bearer_auth(&ada.access)
            .header("if-match", if_match)
            .json(&json!({"title": title}))
            .send()
    };

    expect_json(patch("\"1\"", "quoted").await?, 200).await?;
    expect_json(patch("2", "bare").await?, 200).await?;
    let stale = patch("\"1\"", "stale").await?;
    assert_problem(stale, 412, "version_mismatch").await?;
    let garbage = patch("\"one\"", "garbage").await?;
    assert_problem(garbage, 400, "malformed_request").await?;

    let current = expect_json(
        app.get_as(&format!("/api/v1/tasks/{}", id_of(&task)), &ada.access)
            .await?,
        200,
    )
    .await?;
    assert_eq!(current["title"], "bare");
    assert_eq!(current["version"], 3);
    Ok(())
}

#[tokio::test]
async fn a_deleted_task_is_gone() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let task = app
        .create_task(&ada.access, json!({"title": "Write"}))
        .await?;
    let path = format!("/api/v1/tasks/{}", id_of(&task));

    let response = app.delete_as(&path, &ada.access).await?;

    assert_eq!(response.status(), 204);
    assert_problem(app.get_as(&path, &ada.access).await?, 404, "not_found").await?;
    Ok(())
}

#[tokio::test]
async fn team_tasks_need_a_writing_member() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let vic = app.register("vic@example.com").await?;
    let out = app.register("out@example.com").await?;
    let team = app.create_team(&ada.access, "Platform").await?;
    app.add_member(&ada.access, &team, &vic.user_id, "viewer")
        .await?;
    let body = json!({"title": "Team work", "team_id": team});

    let task = app.create_task(&ada.access, body.clone()).await?;
    assert_eq!(task["team_id"], team.as_str());
    let viewer = app.post_as("/api/v1/tasks", &vic.access, &body).await?;
    assert_problem(viewer, 403, "forbidden").await?;
    let outsider = app.post_as("/api/v1/tasks", &out.access, &body).await?;
    assert_problem(outsider, 404, "not_found").await?;
    Ok(())
}
