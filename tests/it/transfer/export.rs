//! `GET /api/v1/tasks/export`: the files, their headers, filters and visibility, escaping and
//! the snapshot.

use serde_json::{Value, json};

use super::{HEADER, ago, export, export_csv, import_csv, records};
use crate::common::{TestApp, assert_problem, expect_json, id_of};

#[tokio::test]
async fn a_csv_export_is_an_attachment_with_the_header_and_every_task() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let first = app
        .create_task(
            &ada.access,
            json!({"title": "First", "priority": "high",
            "due_at": "2030-01-02T03:04:05Z"}),
        )
        .await?;
    let second = app
        .create_task(
            &ada.access,
            json!({"title": "Second", "status": "in_progress"}),
        )
        .await?;

    let response = export(&app, &ada.access, "").await?;

    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=\"tasks.csv\""
    );
    let file = response.text().await?;
    assert!(file.starts_with(&format!("{HEADER}\r\n")), "{file}");
    assert!(file.ends_with("\r\n"), "records end with CRLF");
    let rows = records(&file)?;
    assert_eq!(rows.len(), 2, "{file}");
    // Oldest first, each value spelled as the REST shape spells it, null as an empty cell.
    for (row, task) in rows.iter().zip([&first, &second]) {
        for column in HEADER.split(',') {
            let expected = match &task[column] {
                Value::Null => String::new(),
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            assert_eq!(row[column], expected, "{column} of {task}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn an_ndjson_export_is_one_rest_task_a_line() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let mut created = Vec::new();
    for title in ["One", "Two, with \"quotes\"", "Three\nlines"] {
        created.push(
            app.create_task(&ada.access, json!({"title": title}))
                .await?,
        );
    }

    let response = export(&app, &ada.access, "?format=ndjson").await?;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=\"tasks.ndjson\""
    );
    let file = response.text().await?;
    let lines: Vec<Value> = file
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert_eq!(lines, created, "each line is the task as REST answers it");
    assert!(file.ends_with('\n'));
    Ok(())
}

#[tokio::test]
async fn an_export_takes_the_listing_filters_and_shows_only_what_the_caller_may_see()
-> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let team = app.create_team(&bob.access, "Bob's").await?;
    app.create_task(&ada.access, json!({"title": "Ada open"}))
        .await?;
    app.create_task(
        &ada.access,
        json!({"title": "Ada done", "status": "completed"}),
    )
    .await?;
    let shared = app
        .create_task(&bob.access, json!({"title": "Bob shares"}))
        .await?;
    app.share(&bob.access, &id_of(&shared), &ada.user_id, "view")
        .await?;
    app.create_task(&bob.access, json!({"title": "Bob private"}))
        .await?;
    app.create_task(&bob.access, json!({"title": "Bob team", "team_id": team}))
        .await?;
    let titles = |file: String| -> anyhow::Result<Vec<String>> {
        Ok(records(&file)?
            .into_iter()
            .map(|r| r["title"].clone())
            .collect())
    };

    let everything = titles(export_csv(&app, &ada.access, "").await?)?;
    let shared_only = titles(export_csv(&app, &ada.access, "?scope=shared").await?)?;
    let done = titles(export_csv(&app, &ada.access, "?status=completed").await?)?;
    let not_a_member = export(&app, &ada.access, &format!("?team_id={team}")).await?;
    app.add_member(&bob.access, &team, &ada.user_id, "viewer")
        .await?;
    let the_team = titles(export_csv(&app, &ada.access, &format!("?team_id={team}")).await?)?;

    assert_eq!(everything, ["Ada open", "Ada done", "Bob shares"]);
    assert_eq!(shared_only, ["Bob shares"]);
    assert_eq!(done, ["Ada done"]);
    assert_problem(not_a_member, 404, "not_found").await?;
    assert_eq!(the_team, ["Bob team"]);
    Ok(())
}

#[tokio::test]
async fn a_bad_format_or_filter_is_a_validation_error_naming_it() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;

    let response = export(&app, &ada.access, "?format=xlsx&status=done").await?;

    let problem = assert_problem(response, 422, "validation_failed").await?;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["status", "format"], "{problem}");
    Ok(())
}

#[tokio::test]
async fn a_formula_title_exports_with_a_quote_mark_and_imports_back_without() -> anyhow::Result<()>
{
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    for title in ["=1+1", "@SUM(A1)", "-3", "+cmd", "'quoted"] {
        app.create_task(
            &ada.access,
            json!({"title": title, "description": "=HYPERLINK(\"x\")"}),
        )
        .await?;
    }

    let file = export_csv(&app, &ada.access, "").await?;
    import_csv(&app, &bob.access, "", &file).await?;
    let again = export_csv(&app, &bob.access, "").await?;

    let cells: Vec<(String, String)> = records(&file)?
        .into_iter()
        .map(|r| (r["title"].clone(), r["description"].clone()))
        .collect();
    let escaped_description = "'=HYPERLINK(\"x\")".to_owned();
    assert_eq!(
        cells,
        [
            ("'=1+1".to_owned(), escaped_description.clone()),
            ("'@SUM(A1)".to_owned(), escaped_description.clone()),
            ("'-3".to_owned(), escaped_description.clone()),
            ("'+cmd".to_owned(), escaped_description.clone()),
            ("''quoted".to_owned(), escaped_description),
        ]
    );
    let imported: Vec<String> = super::all_tasks(&app, &bob.access)
        .await?
        .iter()
        .rev()
        .map(|t| {
            format!(
                "{}|{}",
                t["title"].as_str().unwrap_or_default(),
                t["description"].as_str().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        imported,
        ["=1+1", "@SUM(A1)", "-3", "+cmd", "'quoted"].map(|t| format!("{t}|=HYPERLINK(\"x\")"))
    );
    // What was imported exports exactly as it was exported.
    let strip = |file: &str| -> anyhow::Result<Vec<(String, String)>> {
        Ok(records(file)?
            .into_iter()
            .map(|r| (r["title"].clone(), r["description"].clone()))
            .collect())
    };
    assert_eq!(strip(&again)?, strip(&file)?);
    Ok(())
}

#[tokio::test]
async fn commas_quotes_and_line_breaks_are_quoted_and_read_back() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let title = "Plan, \"carefully\"";
    let description = "first line\nsecond, with a comma\r\nthird \"quoted\"";
    app.create_task(
        &ada.access,
        json!({"title": title, "description": description}),
    )
    .await?;

    let file = export_csv(&app, &ada.access, "").await?;

    assert!(file.contains(",\"Plan, \"\"carefully\"\"\","), "{file}");
    let rows = records(&file)?;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["title"], title);
    assert_eq!(rows[0]["description"], description);
    Ok(())
}

#[tokio::test]
async fn an_export_reads_one_snapshot_while_writes_go_on() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    // Long titles: the file (about 9 MB) is far more than what the channel and the sockets
    // buffer, so most of it is read from the database after the writes below.
    let padding = "x".repeat(180);
    let mut file = String::from("title,created_at\n");
    for n in 0..30_000 {
        file.push_str(&format!("{n:05} {padding},{}\n", ago(10, 0)));
    }
    import_csv(&app, &ada.access, "", &file).await?;
    let page = expect_json(app.get_as("/api/v1/tasks?limit=1", &ada.access).await?, 200).await?;
    let newest = page["items"][0].clone();
    assert!(
        newest["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("29999 "))
    );

    let mut response = export(&app, &ada.access, "").await?;
    assert_eq!(response.status(), 200);
    let mut body = response
        .chunk()
        .await?
        .map(|c| c.to_vec())
        .unwrap_or_default();
    // While the export is under way: the last task changes and goes, a new one comes.
    let path = format!("/api/v1/tasks/{}", id_of(&newest));
    expect_json(
        app.patch_as(&path, &ada.access, &json!({"title": "renamed meanwhile"}))
            .await?,
        200,
    )
    .await?;
    expect_json(app.delete_as(&path, &ada.access).await?, 204).await?;
    app.create_task(&ada.access, json!({"title": "created meanwhile"}))
        .await?;
    let writer = {
        let api = (*app).clone();
        let access = ada.access.clone();
        tokio::spawn(async move {
            for n in 0..20 {
                let body = json!({"title": format!("concurrent {n}")});
                expect_json(api.post_as("/api/v1/tasks", &access, &body).await?, 201).await?;
            }
            anyhow::Ok(())
        })
    };
    while let Some(chunk) = response.chunk().await? {
        body.extend_from_slice(&chunk);
    }
    writer.await??;

    let rows = records(&String::from_utf8(body)?)?;
    assert_eq!(rows.len(), 30_000, "exactly the tasks of the snapshot");
    let last = &rows[29_999];
    assert_eq!(
        last["id"],
        id_of(&newest),
        "the deleted task is in the snapshot"
    );
    assert_eq!(last["title"], newest["title"].as_str().unwrap_or_default());
    assert!(
        rows.iter()
            .all(|r| !r["title"].contains("meanwhile") && !r["title"].starts_with("concurrent"))
    );
    let mut ids: Vec<&String> = rows.iter().map(|r| &r["id"]).collect();
    ids.dedup();
    assert_eq!(ids.len(), 30_000, "no task twice");
    Ok(())
}
