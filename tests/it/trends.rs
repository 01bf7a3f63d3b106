//! Trends over HTTP (API.md, "Time zones and history"): the buckets' shape and calendar, live
//! counts after writes at the statistics' version, CSV, team scopes, and every refusal as
//! problem+json; `zones.rs`: the reader's zone.

use chrono::{Datelike, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::common::{TestApp, assert_problem, expect_json, id_of};

mod zones;

pub(super) async fn trends(app: &TestApp, access: &str, query: &str) -> anyhow::Result<Value> {
    let path = format!("/api/v1/dashboard/trends{query}");
    expect_json(app.get_as(&path, access).await?, 200).await
}

pub(super) fn date(value: &Value) -> NaiveDate {
    NaiveDate::parse_from_str(value.as_str().unwrap_or_default(), "%Y-%m-%d").unwrap_or_default()
}

#[tokio::test]
async fn the_default_is_twelve_iso_weeks_ending_with_this_one() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;

    let body = trends(&app, &ada.access, "").await?;

    assert_eq!(
        (
            body["scope"].as_str(),
            body["tz"].as_str(),
            body["interval"].as_str()
        ),
        (Some("user"), Some("UTC"), Some("week"))
    );
    let buckets = body["buckets"].as_array().cloned().unwrap_or_default();
    assert_eq!(buckets.len(), 12);
    for (bucket, next) in buckets.iter().zip(buckets.iter().skip(1)) {
        assert_eq!(date(&bucket["start"]).weekday(), chrono::Weekday::Mon);
        assert_eq!(
            date(&bucket["end"]) - date(&bucket["start"]),
            chrono::Duration::days(6)
        );
        assert_eq!(
            date(&next["start"]) - date(&bucket["end"]),
            chrono::Duration::days(1)
        );
    }
    let today = Utc::now().date_naive();
    let last = &buckets[11];
    assert!(
        date(&last["start"]) <= today && today <= date(&last["end"]),
        "{last}"
    );
    assert_eq!(last["created"], 0);
    assert_eq!(last["lead_time_hours"], Value::Null);
    Ok(())
}

#[tokio::test]
async fn writes_move_todays_bucket_at_the_statistics_version() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let first = app
        .create_task(&ada.access, json!({"title": "one"}))
        .await?;
    app.create_task(&ada.access, json!({"title": "two"}))
        .await?;
    // Warm the history before the writes that follow, so that deltas (not a load) keep it.
    trends(&app, &ada.access, "?interval=day").await?;
    let path = format!("/api/v1/tasks/{}", id_of(&first));
    for status in ["in_progress", "completed"] {
        let patch = json!({"status": status});
        expect_json(app.patch_as(&path, &ada.access, &patch).await?, 200).await?;
    }
    app.create_task(
        &ada.access,
        json!({"title": "three", "status": "in_progress"}),
    )
    .await?;

    let body = trends(&app, &ada.access, "?interval=day").await?;
    let stats = expect_json(
        app.get_as("/api/v1/dashboard/statistics", &ada.access)
            .await?,
        200,
    )
    .await?;

    assert_eq!(body["version"], stats["version"]);
    let today = &body["buckets"][11];
    assert_eq!(date(&today["start"]), Utc::now().date_naive());
    let counts = [
        "created",
        "started",
        "completed",
        "open_at_end",
        "in_progress_at_end",
    ]
    .map(|k| today[k].as_i64());
    assert_eq!(
        counts,
        [Some(3), Some(2), Some(1), Some(2), Some(1)],
        "{today}"
    );
    assert_eq!(today["lead_time_hours"]["count"], 1);
    assert!(
        today["lead_time_hours"]["p50"]
            .as_f64()
            .is_some_and(|h| (0.0..0.1).contains(&h))
    );
    assert_eq!(today["cycle_time_hours"]["count"], 1);

    // Deleting the completed task takes it out of every bucket; reopening would too.
    expect_status(app.delete_as(&path, &ada.access).await?, 204);
    let after = trends(&app, &ada.access, "?interval=day").await?;
    let today = &after["buckets"][11];
    assert_eq!(
        (today["created"].as_i64(), today["completed"].as_i64()),
        (Some(2), Some(0))
    );
    assert_eq!(today["lead_time_hours"], Value::Null);
    Ok(())
}

fn expect_status(response: reqwest::Response, status: u16) {
    assert_eq!(response.status().as_u16(), status);
}

#[tokio::test]
async fn months_and_explicit_ranges_and_csv() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;

    let months = trends(
        &app,
        &ada.access,
        "?interval=month&from=2026-01-15&to=2026-03-01&tz=Europe/Berlin",
    )
    .await?;
    let spans: Vec<(String, String)> = (months["buckets"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter())
    .map(|b| {
        (
            b["start"].as_str().unwrap_or_default().to_owned(),
            b["end"].as_str().unwrap_or_default().to_owned(),
        )
    })
    .collect();
    assert_eq!(
        spans,
        [
            ("2026-01-01", "2026-01-31"),
            ("2026-02-01", "2026-02-28"),
            ("2026-03-01", "2026-03-31")
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );

    let response = app
        .get_as(
            "/api/v1/dashboard/trends?interval=day&from=2026-03-28&to=2026-03-30&format=csv",
            &ada.access,
        )
        .await?;
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let csv = response.text().await?;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[0].starts_with("start,end,created,started,completed,open_at_end,in_progress_at_end,lead_time_count,lead_time_p50_hours"));
    assert_eq!(lines[1], "2026-03-28,2026-03-28,0,0,0,0,0,0,,,,0,,,");
    Ok(())
}

#[tokio::test]
async fn a_team_scope_is_for_its_members() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let team = app.create_team(&ada.access, "Ops").await?;
    app.create_task(
        &ada.access,
        json!({"title": "t", "team_id": team, "status": "completed"}),
    )
    .await?;

    let body = trends(&app, &ada.access, &format!("?team_id={team}&interval=day")).await?;
    assert_eq!(
        (body["scope"].as_str(), body["scope_id"].as_str()),
        (Some("team"), Some(team.as_str()))
    );
    assert_eq!(body["buckets"][11]["completed"], 1);
    // Throughput by member, for the page's team view; a user scope has no such list.
    assert_eq!(
        body["buckets"][11]["by_member"],
        json!([{"user_id": ada.user_id, "completed": 1}])
    );
    assert_eq!(body["buckets"][10]["by_member"], json!([]));
    let own = trends(&app, &ada.access, "?interval=day").await?;
    assert!(own["buckets"][11].get("by_member").is_none(), "{own}");
    let refused = app
        .get_as(
            &format!("/api/v1/dashboard/trends?team_id={team}"),
            &bob.access,
        )
        .await?;
    assert_problem(refused, 404, "not_found").await?;
    Ok(())
}

#[tokio::test]
async fn bad_parameters_answer_422_naming_the_field() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let cases = [
        ("?tz=Mars/Olympus", "tz"),
        ("?tz=", "tz"),
        ("?interval=fortnight", "interval"),
        ("?from=2026-02-30", "from"),
        ("?to=yesterday", "to"),
        ("?from=2026-03-02&to=2026-03-01", "from"),
        ("?interval=day&from=2025-01-01&to=2026-12-01", "from"),
        ("?format=xlsx", "format"),
    ];
    for (query, field) in cases {
        let response = app
            .get_as(&format!("/api/v1/dashboard/trends{query}"), &ada.access)
            .await?;
        let body = assert_problem(response, 422, "validation_failed").await?;
        assert_eq!(body["errors"][0]["field"], field, "{query}: {body}");
    }
    let activity = app
        .get_as(
            "/api/v1/dashboard/activity?tz=Nowhere/Atlantis",
            &ada.access,
        )
        .await?;
    let body = assert_problem(activity, 422, "validation_failed").await?;
    assert_eq!(body["errors"][0]["field"], "tz");
    let unauthenticated = app.get("/api/v1/dashboard/trends").await?;
    assert_problem(unauthenticated, 401, "unauthenticated").await?;
    Ok(())
}
