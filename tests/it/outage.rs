//! PostgreSQL goes away and comes back (DESIGN.md, "Failure behaviour"): writes answer 503
//! `database_unavailable` with `Retry-After`, warm dashboards go on answering, health says
//! `degraded`, and everything recovers by itself. The server reaches its database through a
//! TCP proxy that the test cuts and restores.

use std::sync::Arc;
use std::time::Duration;

use crate::common::{ProcessApp, assert_problem, expect_json, poll_until};
use anyhow::Context;
use serde_json::{Value, json};

mod proxy;

use proxy::{Proxy, Upstream};

async fn statistics(app: &ProcessApp, access: &str) -> anyhow::Result<Value> {
    expect_json(
        app.get_as("/api/v1/dashboard/statistics", access).await?,
        200,
    )
    .await
}

async fn count_tasks(app: &ProcessApp) -> anyhow::Result<i64> {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.db.connect().await?;
    let count: Count = diesel::sql_query("SELECT count(*) AS n FROM tasks")
        .get_result(&mut conn)
        .await?;
    Ok(count.n)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_outage_answers_503_keeps_warm_reads_and_recovers_by_itself()
-> anyhow::Result<()> {
    // Arrange: a server behind the proxy, with a short wait for connections. The proxy must
    // exist before the server starts (it migrates at start-up); a scratch database tells it
    // where the test PostgreSQL is, however it was found.
    let upstream = Upstream::of(&taskpulse_testdb::TestDb::empty().await?.url)?;
    let proxy = Proxy::start(upstream).await?;
    let app = ProcessApp::builder()
        .with_database_port(proxy.port)
        .with_arg("--db-timeout")
        .with_arg("500ms")
        .spawn()
        .await?;
    let ada = app.register("ada@example.com").await?;
    app.create_task(&ada.access, json!({"title": "Plan", "priority": "high"}))
        .await?;
    app.create_task(&ada.access, json!({"title": "Ship", "status": "completed"}))
        .await?;
    let warm = statistics(&app, &ada.access).await?;
    assert_eq!(warm["total"], 2, "{warm}");

    // Act: the database goes away.
    proxy.cut().await?;

    // Writes are refused with 503 and a Retry-After, never 500.
    let response = app
        .post_as("/api/v1/tasks", &ada.access, &json!({"title": "Lost?"}))
        .await?;
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    assert!(
        matches!(retry_after, Some(1..)),
        "Retry-After {retry_after:?}"
    );
    assert_problem(response, 503, "database_unavailable").await?;

    // Warm reads of the user scope go on, with the same numbers.
    let during = statistics(&app, &ada.access).await?;
    assert_eq!(
        (&during["total"], &during["completed"], &during["pending"]),
        (&json!(2), &json!(1), &json!(1)),
        "{during}"
    );
    assert_eq!(during["version"], warm["version"], "{during}");
    let breakdown = expect_json(
        app.get_as("/api/v1/dashboard/breakdown", &ada.access)
            .await?,
        200,
    )
    .await?;
    assert_eq!(breakdown["by_priority"]["high"], 1, "{breakdown}");
    expect_json(
        app.get_as("/api/v1/dashboard/activity?days=7", &ada.access)
            .await?,
        200,
    )
    .await?;

    // Health: degraded (database down, engine up), still 200.
    let health = expect_json(app.get("/api/v1/health").await?, 200).await?;
    assert_eq!(health["status"], "degraded", "{health}");
    let service = |name: &str| {
        health["services"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["name"] == name))
            .map(|s| s["status"].clone())
    };
    assert_eq!(service("database"), Some(json!("down")), "{health}");
    assert_eq!(service("engine"), Some(json!("healthy")), "{health}");

    // The database returns: writes succeed again without a restart.
    proxy.restore();
    let created = poll_until(Duration::from_secs(20), || async {
        let response = app
            .post_as("/api/v1/tasks", &ada.access, &json!({"title": "Back"}))
            .await?;
        Ok(match response.status().as_u16() {
            201 => Ok(response.json::<Value>().await?),
            503 => Err("still 503".to_owned()),
            other => anyhow::bail!("a write after the outage answered {other}"),
        })
    })
    .await?;
    assert_eq!(created["title"], "Back");

    // Nothing lost, nothing counted twice: the live numbers equal the rows.
    let after = statistics(&app, &ada.access).await?;
    assert_eq!(after["total"], 3, "{after}");
    assert_eq!(count_tasks(&app).await?, 3);
    // Health recovers by itself too (the cluster listener reconnects within a second).
    let health = poll_until(Duration::from_secs(10), || async {
        let health = expect_json(app.get("/api/v1/health").await?, 200).await?;
        Ok(if health["status"] == "healthy" {
            Ok(health)
        } else {
            Err(health.to_string())
        })
    })
    .await?;
    assert_eq!(health["status"], "healthy", "{health}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_in_flight_when_the_database_goes_away_answer_201_or_503_never_500()
-> anyhow::Result<()> {
    // Arrange: writers keep creating tasks through the proxy.
    let upstream = Upstream::of(&taskpulse_testdb::TestDb::empty().await?.url)?;
    let proxy = Proxy::start(upstream).await?;
    // No rate limit: the writers go as fast as they are answered, and a 429 is not what this
    // test is about.
    let app = Arc::new(
        ProcessApp::builder()
            .with_database_port(proxy.port)
            .with_arg("--db-timeout")
            .with_arg("500ms")
            .with_arg("--no-rate-limit")
            .spawn()
            .await?,
    );
    let ada = app.register("ada@example.com").await?;
    statistics(&app, &ada.access).await?;
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let app = Arc::clone(&app);
            let access = ada.access.clone();
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for n in 0..40 {
                    let body = json!({ "title": format!("w{writer} t{n}") });
                    let response = app.post_as("/api/v1/tasks", &access, &body).await?;
                    statuses.push(response.status().as_u16());
                }
                anyhow::Ok(statuses)
            })
        })
        .collect();

    // Act: the connections break under them, then the database returns.
    poll_until(Duration::from_secs(10), || async {
        let total = statistics(&app, &ada.access).await?["total"]
            .as_i64()
            .unwrap_or_default();
        Ok(if total >= 10 {
            Ok(())
        } else {
            Err(format!("{total} tasks"))
        })
    })
    .await?;
    proxy.cut().await?;
    poll_until(Duration::from_secs(10), || async {
        let health = expect_json(app.get("/api/v1/health").await?, 200).await?;
        Ok(match health["status"].as_str() {
            Some("degraded") => Ok(()),
            other => Err(format!("health {other:?}")),
        })
    })
    .await?;
    proxy.restore();
    let mut statuses = Vec::new();
    for writer in writers {
        statuses.extend(writer.await??);
    }

    // Assert: every write was answered as done or as unavailable.
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 503),
        "{statuses:?}"
    );
    assert!(statuses.contains(&201), "{statuses:?}");
    // After one more write, the live numbers equal the rows (a commit whose answer was lost
    // in the cut still counts, exactly once).
    poll_until(Duration::from_secs(20), || async {
        let response = app
            .post_as("/api/v1/tasks", &ada.access, &json!({"title": "Back"}))
            .await?;
        Ok(match response.status().as_u16() {
            201 => Ok(()),
            other => Err(format!("answered {other}")),
        })
    })
    .await?;
    let created = statuses.iter().filter(|s| **s == 201).count() as i64 + 1;
    let rows = count_tasks(&app).await?;
    assert!(rows >= created, "{rows} rows, {created} answered 201");
    poll_until(Duration::from_secs(5), || async {
        let total = statistics(&app, &ada.access).await?["total"].clone();
        Ok(if total == json!(rows) {
            Ok(())
        } else {
            Err(format!("live total {total}, {rows} rows"))
        })
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_whose_connection_breaks_while_it_waits_answers_503_and_is_all_or_nothing()
-> anyhow::Result<()> {
    use diesel_async::RunQueryDsl;

    // Arrange: a task whose row another session holds locked, so that an edit of it waits
    // for the lock inside its one statement.
    let upstream = Upstream::of(&taskpulse_testdb::TestDb::empty().await?.url)?;
    let proxy = Proxy::start(upstream).await?;
    let app = ProcessApp::builder()
        .with_database_port(proxy.port)
        .with_arg("--db-timeout")
        .with_arg("500ms")
        .spawn()
        .await?;
    let ada = app.register("ada@example.com").await?;
    let task = app
        .create_task(&ada.access, json!({"title": "Before"}))
        .await?;
    let id = task["id"].as_str().context("no id")?.to_owned();
    let mut holder = app.db.connect().await?;
    diesel::sql_query("BEGIN").execute(&mut holder).await?;
    diesel::sql_query(format!("SELECT id FROM tasks WHERE id = '{id}' FOR UPDATE"))
        .execute(&mut holder)
        .await?;
    let edit = {
        let request = app
            .http
            .patch(app.url(&format!("/api/v1/tasks/{id}")))
            .bearer_auth(&ada.access)
            .json(&json!({"title": "After"}));
        tokio::spawn(request.send())
    };
    poll_until(Duration::from_secs(10), || {
        let db = &app.db;
        async move {
            let mut watcher = db.connect().await?;
            #[derive(diesel::QueryableByName)]
            struct Waiting {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            let waiting: Waiting = diesel::sql_query(
                "SELECT count(*) AS n FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .get_result(&mut watcher)
            .await?;
            Ok(if waiting.n > 0 {
                Ok(())
            } else {
                Err("the edit is not waiting for the lock yet".to_owned())
            })
        }
    })
    .await?;

    // Act: the database connection breaks under the waiting edit.
    proxy.cut().await?;
    let response = edit.await??;

    // Assert: 503 with Retry-After. The edit is one statement that PostgreSQL may still run
    // once the lock is free (no server learns whether a write whose answer was cut landed),
    // but it lands whole or not at all: the task is at version 1 with its old title or at
    // version 2 with the new one, with its audit entry, and the live numbers equal the rows.
    assert!(response.headers().contains_key("retry-after"));
    assert_problem(response, 503, "database_unavailable").await?;
    diesel::sql_query("ROLLBACK").execute(&mut holder).await?;
    proxy.restore();
    let task = poll_until(Duration::from_secs(20), || async {
        let response = app
            .get_as(&format!("/api/v1/tasks/{id}"), &ada.access)
            .await?;
        Ok(match response.status().as_u16() {
            200 => Ok(response.json::<Value>().await?),
            other => Err(format!("answered {other}")),
        })
    })
    .await?;
    let audited =
        expect_json(app.get_as("/api/v1/audit-logs", &ada.access).await?, 200).await?["items"]
            .as_array()
            .context("no audit items")?
            .iter()
            .filter(|e| e["action"] == "task.update")
            .count();
    match task["title"].as_str() {
        Some("Before") => assert_eq!((task["version"].clone(), audited), (json!(1), 0)),
        Some("After") => assert_eq!((task["version"].clone(), audited), (json!(2), 1)),
        other => anyhow::bail!("the task's title is {other:?}"),
    }
    let total = statistics(&app, &ada.access).await?["total"].clone();
    assert_eq!(total, json!(count_tasks(&app).await?));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn ready_answers_503_while_the_database_is_down_and_live_stays_200() -> anyhow::Result<()> {
    // Arrange: a ready server behind the proxy.
    let upstream = Upstream::of(&taskpulse_testdb::TestDb::empty().await?.url)?;
    let proxy = Proxy::start(upstream).await?;
    let app = ProcessApp::builder()
        .with_database_port(proxy.port)
        .with_arg("--db-timeout")
        .with_arg("500ms")
        .spawn()
        .await?;
    expect_json(app.get("/api/v1/health/ready").await?, 200).await?;

    // Act: the database goes away.
    proxy.cut().await?;
    let not_ready = expect_json(app.get("/api/v1/health/ready").await?, 503).await?;
    let live = expect_json(app.get("/api/v1/health/live").await?, 200).await?;

    // Assert: not ready because of the database alone; alive all along; ready again once
    // the database returns.
    assert_eq!(not_ready["status"], "not_ready", "{not_ready}");
    let components: Vec<&Value> = not_ready["not_ready"]
        .as_array()
        .context("no not_ready list")?
        .iter()
        .map(|reason| &reason["component"])
        .collect();
    assert_eq!(components, [&json!("database")], "{not_ready}");
    assert_eq!(live["status"], "alive");
    proxy.restore();
    poll_until(Duration::from_secs(20), || async {
        Ok(
            match app.get("/api/v1/health/ready").await?.status().as_u16() {
                200 => Ok(()),
                other => Err(format!("ready answered {other}")),
            },
        )
    })
    .await?;
    Ok(())
}
