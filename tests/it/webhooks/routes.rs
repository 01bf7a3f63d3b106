//! `/api/v1/webhooks`: creating (the secret shown once), listing, deleting, who may manage a
//! team's, and every bad URL or event refused with a problem document.

use serde_json::json;

use super::{create_webhook, local_app};
use crate::common::{TestApp, assert_problem, expect_json, id_of};

#[tokio::test]
async fn a_webhook_shows_its_secret_once_is_listed_without_it_and_is_deleted() -> anyhow::Result<()>
{
    let app = local_app().await?;
    let ann = app.register("ann@example.com").await?;

    let created = create_webhook(
        &app,
        &ann.access,
        "http://127.0.0.1:9/hook",
        &["task.created", "task.completed"],
        None,
    )
    .await?;
    let id = id_of(&created);

    assert!(
        created["secret"]
            .as_str()
            .is_some_and(|s| s.starts_with("whsec_"))
    );
    assert_eq!(created["url"], "http://127.0.0.1:9/hook");
    assert_eq!(created["events"], json!(["task.created", "task.completed"]));
    assert_eq!(created["team_id"], json!(null));
    assert!(created["created_at"].is_string());
    let listed = expect_json(app.get_as("/api/v1/webhooks", &ann.access).await?, 200).await?;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed["items"][0]["id"], created["id"]);
    assert!(listed["items"][0].get("secret").is_none(), "{listed}");
    let path = format!("/api/v1/webhooks/{id}");
    assert_eq!(app.delete_as(&path, &ann.access).await?.status(), 204);
    let listed = expect_json(app.get_as("/api/v1/webhooks", &ann.access).await?, 200).await?;
    assert_eq!(listed["items"], json!([]));
    assert_problem(app.delete_as(&path, &ann.access).await?, 404, "not_found").await?;
    Ok(())
}

#[tokio::test]
async fn urls_that_are_not_https_or_point_inside_are_refused() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ann = app.register("ann@example.com").await?;

    for url in [
        "not a url",
        "ftp://127.0.0.1/hook",
        "http://127.0.0.1:9/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://user:secret@127.0.0.1/hook",
    ] {
        let body = json!({ "url": url, "events": ["task.created"] });
        let answer = app.post_as("/api/v1/webhooks", &ann.access, &body).await?;
        let problem = assert_problem(answer, 422, "validation_failed").await?;
        assert_eq!(problem["errors"][0]["field"], "url", "{url}: {problem}");
    }
    let listed = expect_json(app.get_as("/api/v1/webhooks", &ann.access).await?, 200).await?;
    assert_eq!(listed["items"], json!([]));
    Ok(())
}

#[tokio::test]
async fn link_local_addresses_are_refused_even_where_private_ones_are_allowed() -> anyhow::Result<()>
{
    let app = local_app().await?;
    let ann = app.register("ann@example.com").await?;

    for url in [
        "http://169.254.169.254/",
        "http://[fe80::1]/",
        "http://0.0.0.0/",
    ] {
        let body = json!({ "url": url, "events": ["task.created"] });
        let answer = app.post_as("/api/v1/webhooks", &ann.access, &body).await?;
        assert_problem(answer, 422, "validation_failed").await?;
    }
    Ok(())
}

#[tokio::test]
async fn events_must_be_known_and_listed_once() -> anyhow::Result<()> {
    let app = local_app().await?;
    let ann = app.register("ann@example.com").await?;

    for events in [
        json!([]),
        json!(["task.exploded"]),
        json!(["task.created", "task.created"]),
    ] {
        let body = json!({ "url": "http://127.0.0.1:9/", "events": events });
        let answer = app.post_as("/api/v1/webhooks", &ann.access, &body).await?;
        let problem = assert_problem(answer, 422, "validation_failed").await?;
        assert_eq!(problem["errors"][0]["field"], "events", "{problem}");
    }
    let wrong_type = json!({ "url": "http://127.0.0.1:9/", "events": "task.created" });
    let answer = app
        .post_as("/api/v1/webhooks", &ann.access, &wrong_type)
        .await?;
    assert_eq!(answer.status(), 400);
    Ok(())
}

#[tokio::test]
async fn only_a_teams_admins_and_owners_manage_its_webhooks() -> anyhow::Result<()> {
    let app = local_app().await?;
    let owner = app.register("owner@example.com").await?;
    let admin = app.register("admin@example.com").await?;
    let member = app.register("member@example.com").await?;
    let outsider = app.register("outsider@example.com").await?;
    let team = app.create_team(&owner.access, "Core").await?;
    app.add_member(&owner.access, &team, &admin.user_id, "admin")
        .await?;
    app.add_member(&owner.access, &team, &member.user_id, "member")
        .await?;
    let body = json!({ "url": "http://127.0.0.1:9/", "events": ["task.created"], "team_id": team });

    let answer = app
        .post_as("/api/v1/webhooks", &member.access, &body)
        .await?;
    assert_problem(answer, 403, "forbidden").await?;
    let answer = app
        .post_as("/api/v1/webhooks", &outsider.access, &body)
        .await?;
    assert_problem(answer, 404, "not_found").await?;
    let created = create_webhook(
        &app,
        &admin.access,
        "http://127.0.0.1:9/",
        &["task.created"],
        Some(&team),
    )
    .await?;
    assert_eq!(created["team_id"], json!(team));

    let owners = expect_json(app.get_as("/api/v1/webhooks", &owner.access).await?, 200).await?;
    assert_eq!(owners["items"][0]["id"], created["id"], "{owners}");
    let members = expect_json(app.get_as("/api/v1/webhooks", &member.access).await?, 200).await?;
    assert_eq!(members["items"], json!([]));
    let deliveries = format!("/api/v1/webhooks/{}/deliveries", id_of(&created));
    let answer = app.get_as(&deliveries, &member.access).await?;
    assert_problem(answer, 404, "not_found").await?;
    expect_json(app.get_as(&deliveries, &owner.access).await?, 200).await?;
    let path = format!("/api/v1/webhooks/{}", id_of(&created));
    assert_problem(
        app.delete_as(&path, &member.access).await?,
        404,
        "not_found",
    )
    .await?;
    assert_eq!(app.delete_as(&path, &owner.access).await?.status(), 204);
    Ok(())
}
