//! Export from one account, import into another: the same tasks (but for ids, owner and
//! version) and the same statistics, activity and trends.

use serde_json::{Value, json};

use super::{ago, all_tasks, export, import, import_csv, statistics};
use crate::common::{Registered, TestApp, expect_json};

/// The fields an import carries over, of every task the caller sees, oldest first.
async fn carried(app: &TestApp, who: &Registered) -> anyhow::Result<Vec<Value>> {
    let fields = [
        "title",
        "description",
        "status",
        "priority",
        "due_at",
        "created_at",
        "started_at",
        "completed_at",
    ];
    let mut tasks = all_tasks(app, &who.access).await?;
    tasks.reverse();
    Ok(tasks
        .iter()
        .map(|task| {
            fields
                .iter()
                .map(|f| (f.to_string(), task[*f].clone()))
                .collect()
        })
        .collect())
}

/// What the dashboard shows of the caller's scope, less what differs by account.
async fn dashboard(app: &TestApp, who: &Registered) -> anyhow::Result<Value> {
    let mut stats = statistics(app, &who.access, "").await?;
    for field in ["scope_id", "version", "as_of"] {
        stats.as_object_mut().map(|o| o.remove(field));
    }
    let activity = expect_json(
        app.get_as("/api/v1/dashboard/activity?days=90", &who.access)
            .await?,
        200,
    )
    .await?;
    let mut trends = Vec::new();
    let from = (chrono::Utc::now() - chrono::Duration::days(100)).date_naive();
    for query in [
        format!("interval=day&from={from}&tz=Europe/Berlin"),
        "interval=week&tz=America/New_York".to_owned(),
        "interval=month&tz=Asia/Kathmandu".to_owned(),
    ] {
        let path = format!("/api/v1/dashboard/trends?{query}");
        let answer = expect_json(app.get_as(&path, &who.access).await?, 200).await?;
        trends.push(answer["buckets"].clone());
    }
    Ok(json!({"stats": stats, "days": activity["days"], "trends": trends}))
}

/// Ada's history, imported from a file, with every kind of value.
async fn history(app: &TestApp, ada: &Registered) -> anyhow::Result<()> {
    let file = format!(
        "title,description,status,priority,due_at,created_at,started_at,completed_at\r\n\
         Plain,,pending,low,,{c0},,\r\n\
         \"Comma, \"\"quote\"\"\",\"line one\nline two\",in_progress,high,2031-05-06T07:08:09Z,{c1},{s1},\r\n\
         '=1+1,'@cmd,completed,urgent,2001-01-01T00:00:00Z,{c2},{s2},{d2}\r\n\
         Done unstarted,,completed,medium,,{c3},,{d3}\r\n\
         Back to pending,,pending,medium,{due},{c3},{s3},\r\n",
        c0 = ago(80, 1),
        c1 = ago(40, 5),
        s1 = ago(30, 0),
        c2 = ago(20, 2),
        s2 = ago(19, 7),
        d2 = ago(2, 0),
        c3 = ago(10, 0),
        d3 = ago(9, 3),
        s3 = ago(9, 0),
        due = ago(1, 0),
    );
    import_csv(app, &ada.access, "", &file).await
}

#[tokio::test]
async fn a_csv_export_imported_into_another_account_gives_the_same_tasks_and_statistics()
-> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    history(&app, &ada).await?;
    // And one made through the API, with the microseconds of a real clock.
    app.create_task(
        &ada.access,
        json!({"title": "Made here", "status": "in_progress"}),
    )
    .await?;

    let file = export(&app, &ada.access, "").await?.text().await?;
    let answer = import(&app, &bob.access, "", "text/csv", file).await?;

    assert_eq!(expect_json(answer, 201).await?["imported"], 6);
    assert_eq!(carried(&app, &bob).await?, carried(&app, &ada).await?);
    assert_eq!(dashboard(&app, &bob).await?, dashboard(&app, &ada).await?);
    Ok(())
}

#[tokio::test]
async fn an_ndjson_export_imported_into_another_account_gives_the_same_tasks() -> anyhow::Result<()>
{
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    history(&app, &ada).await?;

    let file = export(&app, &ada.access, "?format=ndjson")
        .await?
        .text()
        .await?;
    let answer = import(&app, &bob.access, "", "application/x-ndjson", file).await?;

    assert_eq!(expect_json(answer, 201).await?["imported"], 5);
    let (ours, theirs) = (carried(&app, &ada).await?, carried(&app, &bob).await?);
    assert_eq!(theirs, ours);
    assert_eq!(
        ours[2]["title"], "=1+1",
        "the quote mark of the CSV file is gone"
    );
    assert_eq!(dashboard(&app, &bob).await?, dashboard(&app, &ada).await?);
    Ok(())
}
