//! `/api/v1/tasks/{id}/shares`: share by id or email, list, change, remove.

use serde_json::json;

use crate::common::{TestApp, assert_problem, expect_json, id_of};

#[tokio::test]
async fn sharing_by_email_answers_the_share_and_lists_it() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let task = app
        .create_task(&ada.access, json!({"title": "Write"}))
        .await?;
    let path = format!("/api/v1/tasks/{}/shares", id_of(&task));

    let share = expect_json(
        app.post_as(
            &path,
            &ada.access,
            &json!({"email": "BOB@example.com", "permission": "view"}),
        )
        .await?,
        201,
    )
    .await?;

    assert_eq!(share["user_id"], bob.user_id.as_str());
    assert_eq!(share["email"], "bob@example.com");
    assert_eq!(share["permission"], "view");
    assert!(share["created_at"].is_string());
    let list = expect_json(app.get_as(&path, &bob.access).await?, 200).await?;
    assert_eq!(list, json!({"items": [share]}));
    Ok(())
}

#[tokio::test]
async fn sharing_again_changes_the_permission() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let task = app
        .create_task(&ada.access, json!({"title": "Write"}))
        .await?;
    let path = format!("/api/v1/tasks/{}/shares", id_of(&task));
    app.share(&ada.access, &id_of(&task), &bob.user_id, "view")
        .await?;

    app.share(&ada.access, &id_of(&task), &bob.user_id, "edit")
        .await?;

    let list = expect_json(app.get_as(&path, &ada.access).await?, 200).await?;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(list["items"][0]["permission"], "edit");
    let edit = app
        .patch_as(
            &format!("/api/v1/tasks/{}", id_of(&task)),
            &bob.access,
            &json!({"title": "Bob's"}),
        )
        .await?;
    expect_json(edit, 200).await?;
    Ok(())
}

#[tokio::test]
async fn a_share_names_exactly_one_user_and_a_known_permission() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let task = app
        .create_task(&ada.access, json!({"title": "Write"}))
        .await?;
    let path = format!("/api/v1/tasks/{}/shares", id_of(&task));

    for body in [
        json!({"permission": "view"}),
        json!({"user_id": bob.user_id, "email": bob.email, "permission": "view"}),
        json!({"user_id": bob.user_id, "permission": "admin"}),
    ] {
        let response = app.post_as(&path, &ada.access, &body).await?;
        assert_problem(response, 422, "validation_failed").await?;
    }
    let unknown = app
        .post_as(
            &path,
            &ada.access,
            &json!({"email": "nobody@example.com", "permission": "view"}),
        )
        .await?;
    assert_problem(unknown, 404, "not_found").await?;
    Ok(())
}

#[tokio::test]
async fn removing_a_share_takes_the_task_away() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let task = app
        .create_task(&ada.access, json!({"title": "Write"}))
        .await?;
    app.share(&ada.access, &id_of(&task), &bob.user_id, "view")
        .await?;
    let share_path = format!("/api/v1/tasks/{}/shares/{}", id_of(&task), bob.user_id);

    let response = app.delete_as(&share_path, &ada.access).await?;

    assert_eq!(response.status(), 204);
    let gone = app
        .get_as(&format!("/api/v1/tasks/{}", id_of(&task)), &bob.access)
        .await?;
    assert_problem(gone, 404, "not_found").await?;
    let again = app.delete_as(&share_path, &ada.access).await?;
    assert_problem(again, 404, "not_found").await?;
    Ok(())
}
