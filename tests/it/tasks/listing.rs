//! `GET /api/v1/tasks`: scopes, filters, limits and cursor pagination.

use serde_json::{Value, json};

use crate::common::{TestApp, assert_problem, expect_json, id_of};

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .map(|items| items.iter().map(id_of).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn pages_follow_the_cursor_newest_first_without_gaps_or_repeats() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let mut created = Vec::new();
    for n in 0..5 {
        created.push(id_of(
            &app.create_task(&ada.access, json!({"title": format!("t{n}")}))
                .await?,
        ));
    }
    created.reverse();

    let mut seen = Vec::new();
    let mut path = "/api/v1/tasks?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let page = expect_json(app.get_as(&path, &ada.access).await?, 200).await?;
        pages += 1;
        assert!(ids(&page).len() <= 2);
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/tasks?limit=2&cursor={cursor}"),
            None => break,
        }
        // A task created mid-listing does not disturb the pages still to come.
        if pages == 1 {
            app.create_task(&ada.access, json!({"title": "late"}))
                .await?;
        }
    }

    assert_eq!(seen, created);
    assert_eq!(pages, 3);
    Ok(())
}

#[tokio::test]
async fn the_default_page_answers_items_and_a_null_cursor() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    app.create_task(&ada.access, json!({"title": "one"}))
        .await?;

    let page = expect_json(app.get_as("/api/v1/tasks", &ada.access).await?, 200).await?;

    assert_eq!(ids(&page).len(), 1);
    assert!(
        page.as_object()
            .is_some_and(|o| o.contains_key("next_cursor"))
    );
    assert!(page["next_cursor"].is_null());
    Ok(())
}

#[tokio::test]
async fn out_of_range_limits_and_bad_enums_are_422() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("scope=mine", "scope"),
        ("status=done", "status"),
        ("priority=whenever", "priority"),
        ("cursor=garbage", "cursor"),
    ] {
        let response = app
            .get_as(&format!("/api/v1/tasks?{query}"), &ada.access)
            .await?;
        let problem = assert_problem(response, 422, "validation_failed").await?;
        assert_eq!(problem["errors"][0]["field"], field, "{query}");
    }
    let bad_team = app
        .get_as("/api/v1/tasks?team_id=nope", &ada.access)
        .await?;
    assert_problem(bad_team, 400, "malformed_request").await?;
    let limit_text = app.get_as("/api/v1/tasks?limit=many", &ada.access).await?;
    assert_problem(limit_text, 400, "malformed_request").await?;
    Ok(())
}

#[tokio::test]
async fn filters_and_scopes_narrow_the_listing() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let urgent = app
        .create_task(&ada.access, json!({"title": "u", "priority": "urgent"}))
        .await?;
    let done = app
        .create_task(&ada.access, json!({"title": "d", "status": "completed"}))
        .await?;
    let bobs = app.create_task(&bob.access, json!({"title": "b"})).await?;
    app.share(&bob.access, &id_of(&bobs), &ada.user_id, "view")
        .await?;
    let team = app.create_team(&bob.access, "Team").await?;
    app.add_member(&bob.access, &team, &ada.user_id, "member")
        .await?;
    let team_task = app
        .create_task(&bob.access, json!({"title": "t", "team_id": team}))
        .await?;
    let list = async |query: &str| -> anyhow::Result<Value> {
        let path = format!("/api/v1/tasks?{query}");
        expect_json(app.get_as(&path, &ada.access).await?, 200).await
    };

    assert_eq!(ids(&list("priority=urgent").await?), [id_of(&urgent)]);
    assert_eq!(ids(&list("status=completed").await?), [id_of(&done)]);
    assert_eq!(
        ids(&list("scope=own").await?),
        [id_of(&done), id_of(&urgent)]
    );
    assert_eq!(ids(&list("scope=shared").await?), [id_of(&bobs)]);
    assert_eq!(ids(&list("scope=team").await?), [id_of(&team_task)]);
    assert_eq!(
        ids(&list(&format!("team_id={team}")).await?),
        [id_of(&team_task)]
    );
    assert_eq!(ids(&list("scope=all").await?).len(), 4);
    let bobs_view = expect_json(app.get_as("/api/v1/tasks", &bob.access).await?, 200).await?;
    assert_eq!(ids(&bobs_view), [id_of(&team_task), id_of(&bobs)]);
    Ok(())
}

#[tokio::test]
async fn listing_a_team_the_caller_is_not_in_is_404() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let team = app.create_team(&bob.access, "Team").await?;

    let response = app
        .get_as(&format!("/api/v1/tasks?team_id={team}"), &ada.access)
        .await?;

    assert_problem(response, 404, "not_found").await?;
    Ok(())
}
