//! The REST inbox: what a change puts there, paging, the unread filter, marking read, and bad
//! input answered with problem details.

use serde_json::{Value, json};

use super::{inbox, wait_for};
use crate::common::{TestApp, expect_json, id_of};

/// POST `path` without a body, as `access`.
async fn post(app: &TestApp, path: &str, access: &str) -> anyhow::Result<reqwest::Response> {
    app.send_as(reqwest::Method::POST, path, access, None).await
}

#[tokio::test]
async fn a_share_arrives_in_the_inbox_of_the_user_shared_with() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let task = app
        .create_task(&ada.access, json!({"title": "Ship v2"}))
        .await?;

    app.share(&ada.access, &id_of(&task), &bob.user_id, "edit")
        .await?;
    let items = wait_for(&app, &bob.access, 1).await?;

    assert_eq!(items.len(), 1);
    let n = &items[0];
    assert_eq!(n["kind"], "task_shared");
    assert_eq!(n["task_id"], task["id"]);
    assert_eq!(n["actor_id"].as_str(), Some(ada.user_id.as_str()));
    assert!(
        n["text"].as_str().unwrap_or_default().contains("“Ship v2”"),
        "{n}"
    );
    assert_eq!(n["read_at"], Value::Null);
    assert!(n["at"].is_string() && n["id"].is_string());
    assert_eq!(inbox(&app, &ada.access, "").await?["items"], json!([]));
    Ok(())
}

#[tokio::test]
async fn reading_one_and_all_empties_the_unread_filter() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    for title in ["one", "two", "three"] {
        let task = app
            .create_task(&ada.access, json!({"title": title}))
            .await?;
        app.share(&ada.access, &id_of(&task), &bob.user_id, "view")
            .await?;
    }
    let items = wait_for(&app, &bob.access, 3).await?;

    let newest = id_of(&items[0]);
    let path = format!("/api/v1/notifications/{newest}/read");
    let one = post(&app, &path, &bob.access).await?;
    let unread_after_one = inbox(&app, &bob.access, "?unread=true").await?;
    let all = post(&app, "/api/v1/notifications/read", &bob.access).await?;
    let unread_after_all = inbox(&app, &bob.access, "?unread=true").await?;
    let everything = inbox(&app, &bob.access, "").await?;

    assert_eq!(one.status(), 204);
    let left: Vec<String> = unread_after_one["items"]
        .as_array()
        .map(|a| a.iter().map(id_of).collect())
        .unwrap_or_default();
    assert_eq!(left, [id_of(&items[1]), id_of(&items[2])]);
    assert_eq!(all.status(), 204);
    assert_eq!(unread_after_all["items"], json!([]));
    let read: Vec<bool> = everything["items"]
        .as_array()
        .map(|a| a.iter().map(|n| n["read_at"].is_string()).collect())
        .unwrap_or_default();
    assert_eq!(read, [true, true, true]);
    Ok(())
}

#[tokio::test]
async fn the_inbox_pages_newest_first_with_a_cursor() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    for title in ["one", "two", "three"] {
        let task = app
            .create_task(&ada.access, json!({"title": title}))
            .await?;
        app.share(&ada.access, &id_of(&task), &bob.user_id, "view")
            .await?;
    }
    wait_for(&app, &bob.access, 3).await?;

    let first = inbox(&app, &bob.access, "?limit=2").await?;
    let cursor = first["next_cursor"].as_str().unwrap_or_default().to_owned();
    let second = inbox(&app, &bob.access, &format!("?limit=2&cursor={cursor}")).await?;

    let texts = |page: &Value| -> Vec<String> {
        (page["items"].as_array().into_iter().flatten())
            .map(|n| n["text"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(texts(&first).len(), 2);
    assert!(texts(&first)[0].contains("three") && texts(&first)[1].contains("two"));
    assert_eq!(texts(&second).len(), 1);
    assert!(texts(&second)[0].contains("one"));
    assert_eq!(second["next_cursor"], Value::Null);
    Ok(())
}

#[tokio::test]
async fn bad_paging_and_someone_elses_notification_are_problems() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let task = app
        .create_task(&ada.access, json!({"title": "mine"}))
        .await?;
    app.share(&ada.access, &id_of(&task), &bob.user_id, "view")
        .await?;
    let bobs = wait_for(&app, &bob.access, 1).await?;

    let limit = app
        .get_as("/api/v1/notifications?limit=0", &bob.access)
        .await?;
    let cursor = app
        .get_as("/api/v1/notifications?cursor=nope", &bob.access)
        .await?;
    let unread = app
        .get_as("/api/v1/notifications?unread=maybe", &bob.access)
        .await?;
    let path = format!("/api/v1/notifications/{}/read", id_of(&bobs[0]));
    let not_hers = post(&app, &path, &ada.access).await?;
    let not_an_id = post(&app, "/api/v1/notifications/x/read", &bob.access).await?;
    let anonymous = app.get("/api/v1/notifications").await?;

    for (answer, status, code) in [
        (limit, 422, "validation_failed"),
        (cursor, 422, "validation_failed"),
        (unread, 400, "malformed_request"),
        (not_hers, 404, "not_found"),
        (not_an_id, 400, "malformed_request"),
        (anonymous, 401, "unauthenticated"),
    ] {
        let problem = expect_json(answer, status).await?;
        assert_eq!(problem["code"], code, "{problem}");
    }
    assert_eq!(
        wait_for(&app, &bob.access, 1).await?[0]["read_at"],
        Value::Null
    );
    Ok(())
}

#[tokio::test]
async fn a_completion_by_a_sharee_and_a_team_membership_notify() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let task = app
        .create_task(&ada.access, json!({"title": "Ship v2"}))
        .await?;
    app.share(&ada.access, &id_of(&task), &bob.user_id, "edit")
        .await?;
    let team = app.create_team(&ada.access, "Core").await?;

    let path = format!("/api/v1/tasks/{}", id_of(&task));
    let done = app
        .patch_as(&path, &bob.access, &json!({"status": "completed"}))
        .await?;
    app.add_member(&ada.access, &team, &bob.user_id, "member")
        .await?;
    let adas = wait_for(&app, &ada.access, 1).await?;
    let bobs = wait_for(&app, &bob.access, 2).await?;

    assert_eq!(done.status(), 200);
    assert_eq!(adas[0]["kind"], "task_completed");
    assert_eq!(bobs[0]["kind"], "team_member_added");
    assert_eq!(bobs[0]["team_id"].as_str(), Some(team.as_str()));
    assert!(
        bobs[0]["text"]
            .as_str()
            .unwrap_or_default()
            .contains("Core")
    );
    Ok(())
}

#[tokio::test]
async fn a_task_due_soon_reminds_its_owner_then_tells_them_it_is_overdue() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let due = chrono::Utc::now() + chrono::TimeDelta::seconds(2);
    let body = json!({"title": "Pay rent", "due_at": due.to_rfc3339()});

    let task = app.create_task(&ada.access, body).await?;
    let items = wait_for(&app, &ada.access, 2).await?;

    let kinds: Vec<&str> = items.iter().filter_map(|n| n["kind"].as_str()).collect();
    assert_eq!(kinds, ["task_overdue", "task_due_soon"]);
    assert!(items.iter().all(|n| n["task_id"] == task["id"]));
    assert_eq!(items[0]["text"], "“Pay rent” is overdue");
    assert!(items[0].get("actor_id").is_none(), "{}", items[0]);
    Ok(())
}
