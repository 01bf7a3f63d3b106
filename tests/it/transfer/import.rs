//! `POST /api/v1/tasks/import`: all or nothing, errors by line, permissions and what the
//! aggregates and the audit log show of an import.

use serde_json::{Value, json};

use super::{ago, all_tasks, import, import_csv, statistics};
use crate::common::{TestApp, assert_problem, expect_json};

/// `(line, field)` of each error of a 422 answer.
fn error_places(problem: &Value) -> Vec<(i64, String)> {
    problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["line"].as_i64().unwrap_or(-1),
                e["field"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The day (`YYYY-MM-DD`) of an RFC 3339 time.
fn day(time: &str) -> String {
    time.get(..10).unwrap_or_default().to_owned()
}

#[tokio::test]
async fn an_import_stores_every_task_and_moves_each_aggregate_by_one_version() -> anyhow::Result<()>
{
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let team = app.create_team(&ada.access, "Ada's").await?;
    let query = format!("?team_id={team}");
    let user_before = statistics(&app, &ada.access, "").await?;
    let team_before = statistics(&app, &ada.access, &query).await?;
    let (created, started, completed) = (ago(20, 0), ago(19, 0), ago(3, 0));
    let file = format!(
        "title,status,priority,created_at,started_at,completed_at,due_at\r\n\
         Done,completed,high,{created},{started},{completed},\r\n\
         Going,in_progress,,{created},{started},,2000-01-01T00:00:00Z\r\n\
         Waiting,,low,{created},,,\r\n"
    );

    import_csv(&app, &ada.access, &query, &file).await?;

    let user_after = statistics(&app, &ada.access, "").await?;
    let team_after = statistics(&app, &ada.access, &query).await?;
    for (before, after) in [(&user_before, &user_after), (&team_before, &team_after)] {
        assert_eq!(
            after["version"],
            before["version"].as_i64().unwrap_or(-9) + 1
        );
        assert_eq!(after["total"], 3);
        assert_eq!(after["completed"], 1);
        assert_eq!(after["in_progress"], 1);
        assert_eq!(after["pending"], 1);
        assert_eq!(after["overdue"], 1, "due in 2000 and still open");
    }
    let activity = expect_json(
        app.get_as("/api/v1/dashboard/activity?days=30", &ada.access)
            .await?,
        200,
    )
    .await?;
    let days = activity["days"].as_array().cloned().unwrap_or_default();
    let on = |date: String| days.iter().find(|d| d["date"] == date.as_str()).cloned();
    assert_eq!(
        on(day(&created)).map(|d| d["created"].clone()),
        Some(json!(3))
    );
    assert_eq!(
        on(day(&completed)).map(|d| d["completed"].clone()),
        Some(json!(1))
    );
    let tasks = all_tasks(&app, &ada.access).await?;
    assert!(tasks.iter().all(|t| t["owner_id"] == ada.user_id.as_str()
        && t["team_id"] == team.as_str()
        && t["version"] == 1));
    let done = tasks
        .iter()
        .find(|t| t["title"] == "Done")
        .cloned()
        .unwrap_or_default();
    let instant = |v: &Value| {
        v.as_str()
            .and_then(|s| s.parse::<chrono::DateTime<chrono::Utc>>().ok())
    };
    assert_eq!(instant(&done["created_at"]), created.parse().ok());
    assert_eq!(instant(&done["started_at"]), started.parse().ok());
    assert_eq!(instant(&done["completed_at"]), completed.parse().ok());
    Ok(())
}

#[tokio::test]
async fn one_bad_line_refuses_the_whole_file_and_names_its_line() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let before = statistics(&app, &ada.access, "").await?;
    let file = "title,status\nfine,pending\nalso fine,completed\n,pending\nlast,done\n";

    let response = import(&app, &ada.access, "", "text/csv", file).await?;

    let problem = assert_problem(response, 422, "validation_failed").await?;
    assert_eq!(
        error_places(&problem),
        [
            (3, "completed_at".to_owned()),
            (4, "title".to_owned()),
            (5, "status".to_owned())
        ],
        "{problem}"
    );
    assert!(
        all_tasks(&app, &ada.access).await?.is_empty(),
        "nothing written"
    );
    let after = statistics(&app, &ada.access, "").await?;
    assert_eq!(after["version"], before["version"]);
    assert_eq!(after["total"], 0);
    Ok(())
}

#[tokio::test]
async fn a_time_in_the_future_is_refused() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let file = format!("title,created_at,due_at\nahead,{tomorrow},{tomorrow}\n");

    let response = import(&app, &ada.access, "", "text/csv", file).await?;

    let problem = assert_problem(response, 422, "validation_failed").await?;
    assert_eq!(
        error_places(&problem),
        [(2, "created_at".to_owned())],
        "{problem}"
    );
    assert!(all_tasks(&app, &ada.access).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn times_out_of_order_are_refused() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let file = format!(
        "title,status,created_at,started_at,completed_at\n\
         started first,in_progress,{},{},\n\
         done before started,completed,{},{},{}\n",
        ago(2, 0),
        ago(3, 0),
        ago(5, 0),
        ago(2, 0),
        ago(4, 0),
    );

    let response = import(&app, &ada.access, "", "text/csv", file).await?;

    let problem = assert_problem(response, 422, "validation_failed").await?;
    assert_eq!(
        error_places(&problem),
        [(2, "started_at".to_owned()), (3, "completed_at".to_owned())],
        "{problem}"
    );
    Ok(())
}

#[tokio::test]
async fn a_malformed_csv_line_is_refused_with_its_line() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let file = "title,priority\r\nfine,low\r\n\"two\r\nlines\",high\r\nthree,cells,here\r\n";

    let response = import(&app, &ada.access, "", "text/csv", file).await?;

    let problem = assert_problem(response, 422, "validation_failed").await?;
    assert_eq!(
        error_places(&problem),
        [(5, "body".to_owned())],
        "{problem}"
    );
    assert!(all_tasks(&app, &ada.access).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn an_empty_file_or_one_without_a_title_column_is_refused() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;

    let empty = import(&app, &ada.access, "", "text/csv", "").await?;
    let header_only = import(&app, &ada.access, "", "text/csv", "title\r\n").await?;
    let no_title = import(&app, &ada.access, "", "text/csv", "status\npending\n").await?;
    let blank_ndjson = import(&app, &ada.access, "", "application/x-ndjson", "\n\n").await?;

    for response in [empty, header_only, blank_ndjson] {
        let problem = assert_problem(response, 422, "validation_failed").await?;
        assert_eq!(problem["errors"][0]["field"], "body", "{problem}");
    }
    let problem = assert_problem(no_title, 422, "validation_failed").await?;
    assert_eq!(
        error_places(&problem),
        [(1, "title".to_owned())],
        "{problem}"
    );
    Ok(())
}

#[tokio::test]
async fn a_team_import_needs_role_member_or_above() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let vic = app.register("vic@example.com").await?;
    let mel = app.register("mel@example.com").await?;
    let out = app.register("out@example.com").await?;
    let team = app.create_team(&ada.access, "Ada's").await?;
    app.add_member(&ada.access, &team, &vic.user_id, "viewer")
        .await?;
    app.add_member(&ada.access, &team, &mel.user_id, "member")
        .await?;
    let query = format!("?team_id={team}");
    let file = "title\nteam work\n";

    let viewer = import(&app, &vic.access, &query, "text/csv", file).await?;
    let outsider = import(&app, &out.access, &query, "text/csv", file).await?;
    let unknown = import(
        &app,
        &ada.access,
        &format!("?team_id={}", uuid::Uuid::now_v7()),
        "text/csv",
        file,
    )
    .await?;
    let member = import(&app, &mel.access, &query, "text/csv", file).await?;

    assert_problem(viewer, 403, "forbidden").await?;
    assert_problem(outsider, 404, "not_found").await?;
    assert_problem(unknown, 404, "not_found").await?;
    assert_eq!(expect_json(member, 201).await?["imported"], 1);
    let team_stats = statistics(&app, &ada.access, &query).await?;
    assert_eq!(team_stats["total"], 1, "only the member's import landed");
    let tasks = all_tasks(&app, &mel.access).await?;
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["owner_id"], mel.user_id.as_str());
    Ok(())
}

#[tokio::test]
async fn an_ndjson_import_reads_the_task_fields_and_passes_over_the_rest() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let created = ago(6, 0);
    let body = format!(
        "{{\"id\":\"not even a uuid\",\"title\":\"=kept as is\",\"status\":\"completed\",\
         \"created_at\":\"{created}\",\"completed_at\":\"{created}\",\"version\":9,\
         \"colour\":\"red\"}}\n\
         \n\
         {{\"title\":\"second\",\"description\":null,\"priority\":\"urgent\"}}\n"
    );

    let answer = expect_json(
        import(&app, &ada.access, "", "application/x-ndjson", body).await?,
        201,
    )
    .await?;

    assert_eq!(answer, json!({"imported": 2}));
    let tasks = all_tasks(&app, &ada.access).await?;
    let titles: Vec<&str> = tasks.iter().filter_map(|t| t["title"].as_str()).collect();
    assert_eq!(titles, ["second", "=kept as is"]);
    assert_eq!(tasks[1]["version"], 1);
    assert_eq!(tasks[1]["status"], "completed");
    assert_eq!(tasks[0]["priority"], "urgent");
    assert_eq!(tasks[0]["description"], "");
    Ok(())
}

#[tokio::test]
async fn an_ndjson_line_that_is_not_an_object_is_refused_with_its_line() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let body = "{\"title\":\"a\"}\n{\"title\":\"b\"\n{\"title\":7}\n";

    let response = import(&app, &ada.access, "", "application/x-ndjson", body).await?;

    let problem = assert_problem(response, 422, "validation_failed").await?;
    assert_eq!(
        error_places(&problem),
        [(2, "body".to_owned()), (3, "title".to_owned())],
        "{problem}"
    );
    Ok(())
}

#[tokio::test]
async fn an_import_is_one_audit_entry_with_its_count() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let file = "title\none\ntwo\nthree\n";

    import_csv(&app, &ada.access, "", file).await?;

    let page = expect_json(app.get_as("/api/v1/audit-logs", &ada.access).await?, 200).await?;
    let imports: Vec<&Value> = page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["action"] != "auth.register")
        .collect();
    assert_eq!(imports.len(), 1, "{page}");
    assert_eq!(imports[0]["action"], "task.import");
    assert_eq!(imports[0]["target_type"], "task");
    assert_eq!(imports[0]["details"]["count"], 3);
    Ok(())
}
