//! The dashboard end to end (API.md, "Dashboard"): shapes, scopes, read-your-writes and the
//! version rule.

use crate::common::{TestApp, assert_problem, expect_json, id_of};
use anyhow::Context;
use serde_json::{Value, json};

async fn stats(app: &TestApp, access: &str, query: &str) -> anyhow::Result<Value> {
    let path = format!("/api/v1/dashboard/statistics{query}");
    expect_json(app.get_as(&path, access).await?, 200).await
}

#[tokio::test]
async fn a_write_is_read_back_at_once_with_the_version_one_higher() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let before = stats(&app, &ada.access, "").await?;

    let task = app
        .create_task(&ada.access, json!({"title": "Write"}))
        .await?;
    let after_create = stats(&app, &ada.access, "").await?;

    assert_eq!(
        after_create["total"],
        before["total"].as_i64().unwrap_or(-1) + 1
    );
    assert_eq!(after_create["pending"], 1);
    assert_eq!(
        after_create["version"],
        before["version"].as_i64().unwrap_or(-1) + 1
    );

    let path = format!("/api/v1/tasks/{}", id_of(&task));
    expect_json(
        app.patch_as(&path, &ada.access, &json!({"title": "Rewrite"}))
            .await?,
        200,
    )
    .await?;
    let after_title = stats(&app, &ada.access, "").await?;
    assert_eq!(
        after_title["version"], after_create["version"],
        "a title edit alone"
    );

    expect_json(
        app.patch_as(&path, &ada.access, &json!({"status": "completed"}))
            .await?,
        200,
    )
    .await?;
    let after_done = stats(&app, &ada.access, "").await?;
    assert_eq!(
        after_done["version"],
        after_create["version"].as_i64().unwrap_or(-1) + 1
    );
    assert_eq!(after_done["completed"], 1);
    assert_eq!(after_done["pending"], 0);
    assert_eq!(after_done["completion_rate"], 1.0);
    Ok(())
}

#[tokio::test]
async fn user_statistics_carry_the_sharing_counters() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let task = app
        .create_task(&ada.access, json!({"title": "Write"}))
        .await?;
    app.share(&ada.access, &id_of(&task), &bob.user_id, "view")
        .await?;

    let mine = stats(&app, &ada.access, "").await?;
    let theirs = stats(&app, &bob.access, "").await?;

    assert_eq!(mine["scope"], "user");
    assert_eq!(mine["scope_id"], ada.user_id.as_str());
    assert!(mine["as_of"].is_string());
    assert_eq!(mine["shared_by_me"], 1);
    assert_eq!(mine["shared_with_me"], 0);
    assert_eq!(theirs["shared_with_me"], 1);
    assert_eq!(theirs["total"], 0);
    assert_eq!(theirs["completion_rate"], 0.0);
    Ok(())
}

#[tokio::test]
async fn a_team_scope_counts_the_team_tasks_without_sharing_counters() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let out = app.register("out@example.com").await?;
    let team = app.create_team(&ada.access, "Team").await?;
    app.add_member(&ada.access, &team, &bob.user_id, "member")
        .await?;
    app.create_task(
        &ada.access,
        json!({"title": "a", "team_id": team, "priority": "high"}),
    )
    .await?;
    app.create_task(
        &bob.access,
        json!({"title": "b", "team_id": team, "status": "completed"}),
    )
    .await?;
    let query = format!("?team_id={team}");

    let team_stats = stats(&app, &bob.access, &query).await?;
    assert_eq!(team_stats["scope"], "team");
    assert_eq!(team_stats["scope_id"], team.as_str());
    assert_eq!(team_stats["total"], 2);
    assert_eq!(team_stats["completion_rate"], 0.5);
    let object = team_stats.as_object().expect("an object");
    assert!(!object.contains_key("shared_with_me") && !object.contains_key("shared_by_me"));

    let path = format!("/api/v1/dashboard/breakdown{query}");
    let breakdown = expect_json(app.get_as(&path, &ada.access).await?, 200).await?;
    assert_eq!(
        breakdown["by_status"],
        json!({"pending": 1, "in_progress": 0, "completed": 1})
    );
    assert_eq!(
        breakdown["by_priority"],
        json!({"low": 0, "medium": 1, "high": 1, "urgent": 0})
    );
    let by_member = breakdown["by_member"].as_array().expect("by_member");
    assert_eq!(by_member.len(), 2);
    assert!(
        by_member
            .iter()
            .any(|m| m["user_id"] == bob.user_id.as_str()
                && m["total"] == 1
                && m["completed"] == 1)
    );

    assert_problem(
        app.get_as(&format!("/api/v1/dashboard/statistics{query}"), &out.access)
            .await?,
        404,
        "not_found",
    )
    .await?;
    assert_problem(app.get_as(&path, &out.access).await?, 404, "not_found").await?;
    Ok(())
}

#[tokio::test]
async fn the_user_breakdown_has_no_members() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    app.create_task(&ada.access, json!({"title": "a", "priority": "urgent"}))
        .await?;

    let breakdown = expect_json(
        app.get_as("/api/v1/dashboard/breakdown", &ada.access)
            .await?,
        200,
    )
    .await?;

    assert_eq!(breakdown["scope"], "user");
    assert_eq!(breakdown["by_priority"]["urgent"], 1);
    assert!(
        breakdown
            .as_object()
            .is_some_and(|o| !o.contains_key("by_member"))
    );
    Ok(())
}

#[tokio::test]
async fn activity_answers_one_entry_per_day_ending_today() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    app.create_task(&ada.access, json!({"title": "a", "status": "completed"}))
        .await?;

    let asked_on = chrono::Utc::now().date_naive();
    let week = expect_json(
        app.get_as("/api/v1/dashboard/activity", &ada.access)
            .await?,
        200,
    )
    .await?;
    let month = expect_json(
        app.get_as("/api/v1/dashboard/activity?days=30", &ada.access)
            .await?,
        200,
    )
    .await?;
    let answered_on = chrono::Utc::now().date_naive();

    let week_dates = dates(&week)?;
    let month_dates = dates(&month)?;
    assert_eq!(week_dates.len(), 7);
    assert_eq!(month_dates.len(), 30);
    for dates in [&week_dates, &month_dates] {
        // The UTC day may turn between the calls; the last entry is the server's today.
        let today = dates.last().copied();
        assert!(
            today == Some(asked_on) || today == Some(answered_on),
            "{dates:?}"
        );
        assert!(
            dates
                .windows(2)
                .all(|pair| pair[0].succ_opt() == Some(pair[1])),
            "not consecutive days: {dates:?}"
        );
    }
    let days = week["days"].as_array().expect("days");
    let sum = |key: &str| days.iter().filter_map(|d| d[key].as_i64()).sum::<i64>();
    assert_eq!((sum("created"), sum("completed")), (1, 1));
    Ok(())
}

/// The `date` of every entry of an activity answer, in order.
fn dates(activity: &Value) -> anyhow::Result<Vec<chrono::NaiveDate>> {
    let days = activity["days"].as_array().context("no days")?;
    days.iter()
        .map(|day| {
            let date = day["date"].as_str().context("a day without a date")?;
            Ok(date.parse()?)
        })
        .collect()
}

#[tokio::test]
async fn activity_days_outside_1_to_90_are_422() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;

    for days in ["0", "91", "-1", "99999999999"] {
        let path = format!("/api/v1/dashboard/activity?days={days}");
        let problem = assert_problem(
            app.get_as(&path, &ada.access).await?,
            422,
            "validation_failed",
        )
        .await?;
        assert_eq!(problem["errors"][0]["field"], "days", "{days}");
    }
    let text = app
        .get_as("/api/v1/dashboard/activity?days=week", &ada.access)
        .await?;
    assert_problem(text, 400, "malformed_request").await?;
    Ok(())
}

#[tokio::test]
async fn the_shared_lists_name_both_directions() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let task = app
        .create_task(&ada.access, json!({"title": "Write"}))
        .await?;
    app.share(&ada.access, &id_of(&task), &bob.user_id, "edit")
        .await?;

    let mine = expect_json(
        app.get_as("/api/v1/dashboard/shared", &ada.access).await?,
        200,
    )
    .await?;
    let theirs = expect_json(
        app.get_as("/api/v1/dashboard/shared", &bob.access).await?,
        200,
    )
    .await?;

    assert_eq!(
        mine,
        json!({"shared_with_me": [], "shared_by_me": [{
            "task_id": id_of(&task), "title": "Write", "status": "pending",
            "shared_with": [bob.user_id]}]})
    );
    assert_eq!(
        theirs,
        json!({"shared_by_me": [], "shared_with_me": [{
            "task_id": id_of(&task), "title": "Write", "status": "pending",
            "owner_id": ada.user_id, "permission": "edit"}]})
    );
    Ok(())
}

#[tokio::test]
async fn dashboard_routes_want_a_bearer_token() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;

    for path in ["statistics", "breakdown", "activity", "shared"] {
        let response = app.get(&format!("/api/v1/dashboard/{path}")).await?;
        assert_problem(response, 401, "unauthenticated").await?;
    }
    Ok(())
}
