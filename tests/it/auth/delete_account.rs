//! `DELETE /api/v1/me`: the account goes with its tasks, shares and memberships; every
//! aggregate that counted them stays exact; its tokens and WebSocket sessions end at once; the
//! last owner of a team is refused with 409 `last_owner`.

use std::time::Duration;

use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};
use taskpulse_actors::{CheckOptions, Engine, EngineConfig};

use crate::common::{Registered, TestApp, assert_problem, expect_json, id_of};
use crate::ws::{close_code, connect, receive, send};

async fn statistics(app: &TestApp, user: &Registered, team: Option<&str>) -> anyhow::Result<Value> {
    let path = match team {
        Some(team) => format!("/api/v1/dashboard/statistics?team_id={team}"),
        None => "/api/v1/dashboard/statistics".to_owned(),
    };
    expect_json(app.get_as(&path, &user.access).await?, 200).await
}

/// The engine's own check over the whole database: every aggregate row equals `COUNT(*)`.
async fn assert_consistent(app: &TestApp) -> anyhow::Result<()> {
    let engine = Engine::start(&app.db.url, EngineConfig::default()).await?;
    let report = engine.check(CheckOptions { sample: None }).await?;
    engine.shutdown().await;
    assert!(report.is_consistent(), "{:#?}", report.differences);
    Ok(())
}

async fn count(app: &TestApp, sql: &str) -> anyhow::Result<i64> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut conn = app.db.connect().await?;
    Ok(diesel::sql_query(sql)
        .get_result::<Count>(&mut conn)
        .await?
        .n)
}

#[tokio::test]
async fn the_account_goes_with_its_tasks_shares_and_memberships_and_aggregates_stay_exact()
-> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ann = app.register("ann@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let team = app.create_team(&ann.access, "Ops").await?;
    app.add_member(&ann.access, &team, &bob.user_id, "member")
        .await?;
    let bobs_own = id_of(
        &app.create_task(&bob.access, json!({ "title": "bob's" }))
            .await?,
    );
    app.create_task(
        &bob.access,
        json!({ "title": "bob's in team", "team_id": team }),
    )
    .await?;
    app.create_task(
        &ann.access,
        json!({ "title": "ann's in team", "team_id": team }),
    )
    .await?;
    let anns_own = id_of(
        &app.create_task(&ann.access, json!({ "title": "ann's" }))
            .await?,
    );
    app.share(&bob.access, &bobs_own, &ann.user_id, "view")
        .await?;
    app.share(&ann.access, &anns_own, &bob.user_id, "edit")
        .await?;
    let before = statistics(&app, &ann, None).await?;
    assert_eq!(
        (
            before["shared_with_me"].as_i64(),
            before["shared_by_me"].as_i64()
        ),
        (Some(1), Some(1))
    );

    let deleted = app.delete_as("/api/v1/me", &bob.access).await?;

    assert_eq!(deleted.status(), 204);
    let ann_stats = statistics(&app, &ann, None).await?;
    assert_eq!(
        (
            ann_stats["total"].as_i64(),
            ann_stats["shared_with_me"].as_i64(),
            ann_stats["shared_by_me"].as_i64()
        ),
        (Some(2), Some(0), Some(0)),
        "{ann_stats}"
    );
    let team_stats = statistics(&app, &ann, Some(&team)).await?;
    assert_eq!(team_stats["total"].as_i64(), Some(1), "{team_stats}");
    let detail = expect_json(
        app.get_as(&format!("/api/v1/teams/{team}"), &ann.access)
            .await?,
        200,
    )
    .await?;
    let members: Vec<&str> = (detail["members"].as_array().into_iter().flatten())
        .filter_map(|m| m["user_id"].as_str())
        .collect();
    assert_eq!(members, [ann.user_id.as_str()]);
    let shares = expect_json(
        app.get_as(&format!("/api/v1/tasks/{anns_own}/shares"), &ann.access)
            .await?,
        200,
    )
    .await?;
    assert_eq!(shares["items"], json!([]));
    let gone = app
        .get_as(&format!("/api/v1/tasks/{bobs_own}"), &ann.access)
        .await?;
    assert_problem(gone, 404, "not_found").await?;
    assert_problem(
        app.get_as("/api/v1/me", &bob.access).await?,
        401,
        "unauthenticated",
    )
    .await?;
    let login = app
        .post_json(
            "/api/v1/auth/login",
            &json!({ "email": bob.email, "password": crate::common::PASSWORD }),
        )
        .await?;
    assert_problem(login, 401, "invalid_credentials").await?;
    let bob_rows = format!(
        "SELECT (SELECT count(*) FROM tasks WHERE owner_id = '{id}') \
         + (SELECT count(*) FROM task_shares WHERE user_id = '{id}') \
         + (SELECT count(*) FROM team_members WHERE user_id = '{id}') \
         + (SELECT count(*) FROM refresh_tokens WHERE user_id = '{id}') AS n",
        id = bob.user_id
    );
    assert_eq!(count(&app, &bob_rows).await?, 0);
    let audited = format!(
        "SELECT count(*) AS n FROM audit_log WHERE action = 'user.delete' AND target_id = '{}'",
        bob.user_id
    );
    assert_eq!(count(&app, &audited).await?, 1);
    assert_consistent(&app).await
}

#[tokio::test]
async fn the_last_owner_of_a_team_is_refused_until_the_team_is_handed_over() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ann = app.register("ann@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let team = app.create_team(&ann.access, "Ops").await?;
    app.add_member(&ann.access, &team, &bob.user_id, "owner")
        .await?;
    app.send_as(
        reqwest::Method::PATCH,
        &format!("/api/v1/teams/{team}/members/{}", bob.user_id),
        &ann.access,
        Some(&json!({ "role": "admin" })),
    )
    .await?;

    let refused = app.delete_as("/api/v1/me", &ann.access).await?;

    assert_problem(refused, 409, "last_owner").await?;
    assert_eq!(app.get_as("/api/v1/me", &ann.access).await?.status(), 200);
    let handed_over = app
        .send_as(
            reqwest::Method::PATCH,
            &format!("/api/v1/teams/{team}/members/{}", bob.user_id),
            &ann.access,
            Some(&json!({ "role": "owner" })),
        )
        .await?;
    assert_eq!(handed_over.status(), 200);
    assert_eq!(
        app.delete_as("/api/v1/me", &ann.access).await?.status(),
        204
    );
    assert_consistent(&app).await
}

#[tokio::test]
async fn deleting_the_account_closes_its_websocket_sessions_on_every_node() -> anyhow::Result<()> {
    let nodes = TestApp::builder().spawn_cluster(2).await?;
    let (a, b) = (&nodes[0], &nodes[1]);
    let ann = a.register("ann@example.com").await?;
    let mut sockets = Vec::new();
    for node in [a, b] {
        let mut socket = connect(node, Some(&ann.access)).await?;
        send(&mut socket, json!({ "type": "subscribe", "topic": "user" })).await?;
        assert_eq!(receive(&mut socket).await?["type"], "snapshot");
        sockets.push(socket);
    }

    assert_eq!(a.delete_as("/api/v1/me", &ann.access).await?.status(), 204);

    for socket in &mut sockets {
        let code = tokio::time::timeout(Duration::from_secs(2), close_code(socket)).await??;
        assert_eq!(code, 4401);
    }
    assert_problem(
        b.get_as("/api/v1/tasks", &ann.access).await?,
        401,
        "unauthenticated",
    )
    .await?;
    Ok(())
}
