//! The audit log end to end (API.md, "Audit log"): the caller's own actions, a team's entries
//! for its admins and owners, and cursor pages.

use crate::common::{TestApp, assert_problem, expect_json, id_of};
use serde_json::{Value, json};

fn actions(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["action"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn the_callers_own_actions_come_newest_first() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let task = app
        .create_task(&ada.access, json!({"title": "Write"}))
        .await?;
    app.create_task(&bob.access, json!({"title": "Not Ada's"}))
        .await?;

    let page = expect_json(app.get_as("/api/v1/audit-logs", &ada.access).await?, 200).await?;

    let items = page["items"].as_array().expect("items");
    assert!(
        items.iter().all(|e| e["actor_id"] == ada.user_id.as_str()),
        "{page}"
    );
    let newest = &items[0];
    assert_eq!(newest["action"], "task.create");
    assert_eq!(newest["target_type"], "task");
    assert_eq!(newest["target_id"], id_of(&task).as_str());
    assert!(newest["team_id"].is_null());
    assert_eq!(newest["details"]["title"], "Write");
    assert!(newest["id"].is_string() && newest["at"].is_string());
    assert!(page["next_cursor"].is_null());
    Ok(())
}

#[tokio::test]
async fn entries_page_by_cursor_without_repeats() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    for n in 0..4 {
        app.create_task(&ada.access, json!({"title": format!("t{n}")}))
            .await?;
    }
    let all = expect_json(app.get_as("/api/v1/audit-logs", &ada.access).await?, 200).await?;
    let everything: Vec<String> = all["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(id_of)
        .collect();

    let mut seen = Vec::new();
    let mut path = "/api/v1/audit-logs?limit=2".to_owned();
    loop {
        let page = expect_json(app.get_as(&path, &ada.access).await?, 200).await?;
        seen.extend(page["items"].as_array().into_iter().flatten().map(id_of));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/audit-logs?limit=2&cursor={cursor}"),
            None => break,
        }
    }

    assert_eq!(seen, everything);
    assert!(seen.len() >= 4);
    for query in ["limit=0", "limit=201", "cursor=nope"] {
        let response = app
            .get_as(&format!("/api/v1/audit-logs?{query}"), &ada.access)
            .await?;
        assert_problem(response, 422, "validation_failed").await?;
    }
    Ok(())
}

#[tokio::test]
async fn a_teams_entries_are_for_its_admins_and_owners() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let owner = app.register("owner@example.com").await?;
    let admin = app.register("admin@example.com").await?;
    let member = app.register("member@example.com").await?;
    let viewer = app.register("viewer@example.com").await?;
    let outsider = app.register("out@example.com").await?;
    let team = app.create_team(&owner.access, "Team").await?;
    app.add_member(&owner.access, &team, &admin.user_id, "admin")
        .await?;
    app.add_member(&owner.access, &team, &member.user_id, "member")
        .await?;
    app.add_member(&owner.access, &team, &viewer.user_id, "viewer")
        .await?;
    app.create_task(
        &member.access,
        json!({"title": "Team work", "team_id": team}),
    )
    .await?;
    app.create_task(&member.access, json!({"title": "Private"}))
        .await?;
    let path = format!("/api/v1/audit-logs?team_id={team}");

    for who in [&owner, &admin] {
        let page = expect_json(app.get_as(&path, &who.access).await?, 200).await?;
        let items = page["items"].as_array().expect("items");
        assert!(
            items.iter().all(|e| e["team_id"] == team.as_str()),
            "{page}"
        );
        assert_eq!(
            actions(&page).first().map(String::as_str),
            Some("task.create")
        );
        assert_eq!(items[0]["actor_id"], member.user_id.as_str());
        assert!(actions(&page).iter().any(|a| a == "team.create"));
    }
    for who in [&member, &viewer] {
        assert_problem(app.get_as(&path, &who.access).await?, 403, "forbidden").await?;
    }
    assert_problem(app.get_as(&path, &outsider.access).await?, 404, "not_found").await?;
    let bad = app
        .get_as("/api/v1/audit-logs?team_id=nope", &owner.access)
        .await?;
    assert_problem(bad, 400, "malformed_request").await?;
    let anonymous = app.get("/api/v1/audit-logs").await?;
    assert_problem(anonymous, 401, "unauthenticated").await?;
    Ok(())
}
