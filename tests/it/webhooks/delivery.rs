//! Delivery: every event a webhook hears reaches a real receiver, signed (checked by the
//! Standard Webhooks library), in commit order, and a failed attempt is retried under the same
//! `webhook-id` while the events after it wait.

use std::time::Duration;

use serde_json::{Value, json};

use super::{ALL_EVENTS, Receiver, create_webhook, local_app, types};
use crate::common::{expect_json, id_of, poll_until};

#[tokio::test]
async fn a_tasks_life_arrives_signed_in_order_and_a_failed_attempt_is_retried_under_its_id()
-> anyhow::Result<()> {
    let app = local_app().await?;
    let receiver = Receiver::start(&["--fail-first"]).await?;
    let ann = app.register("ann@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let hook = create_webhook(&app, &ann.access, &receiver.url, &ALL_EVENTS, None).await?;

    let task = app
        .create_task(&ann.access, json!({"title": "Ship v2"}))
        .await?;
    let path = format!("/api/v1/tasks/{}", id_of(&task));
    let rename = json!({"title": "Ship v3"});
    expect_json(app.patch_as(&path, &ann.access, &rename).await?, 200).await?;
    app.share(&ann.access, &id_of(&task), &bob.user_id, "edit")
        .await?;
    let done = json!({"status": "completed"});
    expect_json(app.patch_as(&path, &bob.access, &done).await?, 200).await?;
    let unshare = format!("{path}/shares/{}", bob.user_id);
    assert_eq!(app.delete_as(&unshare, &ann.access).await?.status(), 204);
    assert_eq!(app.delete_as(&path, &ann.access).await?.status(), 204);

    let delivered = receiver.wait_delivered(6, Duration::from_secs(30)).await?;
    assert_eq!(
        types(&delivered),
        [
            "task.created",
            "task.updated",
            "task.shared",
            "task.completed",
            "task.unshared",
            "task.deleted"
        ]
    );
    for body in &delivered {
        assert_eq!(body["data"]["task_id"], task["id"], "{body}");
        assert!(body["at"].is_string() && body["id"].is_string(), "{body}");
    }
    assert_eq!(delivered[3]["data"]["actor_id"], json!(bob.user_id));
    assert_eq!(delivered[0]["data"]["title"], "Ship v2");
    // Each event was refused once, then sent again under the same webhook-id, and none was
    // sent before the one ahead of it had arrived.
    let requests = receiver.requests()?;
    let ids: Vec<&str> = (requests.iter())
        .filter_map(|r| r["webhook_id"].as_str())
        .collect();
    let mut expected = Vec::new();
    for body in &delivered {
        let id = body["id"].as_str().unwrap_or_default();
        expected.extend([id, id]);
    }
    assert_eq!(ids, expected);
    let verified = receiver
        .verify(hook["secret"].as_str().unwrap_or_default())
        .await?;
    assert_eq!(verified["requests"], 12, "{verified}");
    assert_eq!(verified["verified"], 12, "{verified}");
    // A wrong secret fails the same check: the check is real.
    let forged = receiver
        .verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        .await?;
    assert_eq!(forged["verified"], 0, "{forged}");
    Ok(())
}

#[tokio::test]
async fn the_delivery_log_shows_the_failed_attempt_its_retry_time_and_the_delivery()
-> anyhow::Result<()> {
    let app = local_app().await?;
    let receiver = Receiver::start(&["--fail-first"]).await?;
    let ann = app.register("ann@example.com").await?;
    let hook = create_webhook(&app, &ann.access, &receiver.url, &["task.created"], None).await?;

    app.create_task(&ann.access, json!({"title": "t"})).await?;
    let delivered = receiver.wait_delivered(1, Duration::from_secs(30)).await?;

    let path = format!("/api/v1/webhooks/{}/deliveries", id_of(&hook));
    let log = poll_until(Duration::from_secs(10), || async {
        let page = expect_json(app.get_as(&path, &ann.access).await?, 200).await?;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        Ok(if items.len() >= 2 {
            Ok(items)
        } else {
            Err(page.to_string())
        })
    })
    .await?;
    let (last, first) = (&log[0], &log[1]);
    assert_eq!(first["status"], "failed", "{first}");
    assert_eq!(first["attempt"], 1);
    assert_eq!(first["response_status"], 500);
    assert!(first["next_attempt_at"].is_string(), "{first}");
    assert_eq!(last["status"], "delivered", "{last}");
    assert_eq!(last["attempt"], 2);
    assert_eq!(last["response_status"], 204);
    assert_eq!(last["next_attempt_at"], Value::Null);
    for entry in [first, last] {
        assert_eq!(entry["event_id"], delivered[0]["id"]);
        assert_eq!(entry["event"], "task.created");
    }
    let metrics = app.get("/metrics").await?.text().await?;
    for line in [
        "taskpulse_webhook_attempts_total{outcome=\"delivered\"} 1",
        "taskpulse_webhook_attempts_total{outcome=\"failed\"} 1",
        "taskpulse_webhooks_disabled_total 0",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    }
    Ok(())
}

#[tokio::test]
async fn a_webhook_hears_only_its_events_and_a_teams_hears_the_team() -> anyhow::Result<()> {
    let app = local_app().await?;
    let mine = Receiver::start(&[]).await?;
    let teams = Receiver::start(&[]).await?;
    let ann = app.register("ann@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let team = app.create_team(&ann.access, "Core").await?;
    create_webhook(&app, &bob.access, &mine.url, &["task.completed"], None).await?;
    let events = ["task.created", "team.member_added", "team.member_removed"];
    create_webhook(&app, &ann.access, &teams.url, &events, Some(&team)).await?;

    // Bob's own tasks: only the completion is heard, and nothing of the team's task.
    let own = app
        .create_task(&bob.access, json!({"title": "mine"}))
        .await?;
    let path = format!("/api/v1/tasks/{}", id_of(&own));
    let done = json!({"status": "completed"});
    expect_json(app.patch_as(&path, &bob.access, &done).await?, 200).await?;
    app.add_member(&ann.access, &team, &bob.user_id, "member")
        .await?;
    app.create_task(&bob.access, json!({"title": "team task", "team_id": team}))
        .await?;
    let removal = format!("/api/v1/teams/{team}/members/{}", bob.user_id);
    assert_eq!(app.delete_as(&removal, &ann.access).await?.status(), 204);

    let heard = teams.wait_delivered(3, Duration::from_secs(30)).await?;
    assert_eq!(
        types(&heard),
        ["team.member_added", "task.created", "team.member_removed"]
    );
    assert!(heard.iter().all(|b| b["data"]["team_id"] == json!(team)));
    let own_heard = mine.wait_delivered(1, Duration::from_secs(30)).await?;
    assert_eq!(types(&own_heard), ["task.completed"]);
    // Nothing else arrives.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(mine.requests()?.len(), 1);
    assert_eq!(teams.requests()?.len(), 3);
    Ok(())
}

#[tokio::test]
async fn a_receiver_that_was_down_gets_every_event_in_order_once_back() -> anyhow::Result<()> {
    let app = local_app().await?;
    let receiver = Receiver::start(&[]).await?;
    receiver.set_down(true)?;
    let ann = app.register("ann@example.com").await?;
    create_webhook(&app, &ann.access, &receiver.url, &["task.created"], None).await?;

    for n in 0..5 {
        app.create_task(&ann.access, json!({"title": format!("t{n}")}))
            .await?;
    }
    // Refused, then tried again with growing delays: never any but the first event.
    poll_until(Duration::from_secs(20), || async {
        let tries = receiver.requests()?.len();
        Ok(if tries >= 3 {
            Ok(())
        } else {
            Err(format!("{tries} tries"))
        })
    })
    .await?;
    let tried: Vec<Value> = receiver.requests()?;
    let first = &tried[0]["webhook_id"];
    assert!(tried.iter().all(|r| &r["webhook_id"] == first), "{tried:?}");
    receiver.set_down(false)?;

    let delivered = receiver.wait_delivered(5, Duration::from_secs(30)).await?;
    let titles: Vec<&str> = (delivered.iter())
        .filter_map(|b| b["data"]["title"].as_str())
        .collect();
    assert_eq!(titles, ["t0", "t1", "t2", "t3", "t4"]);
    Ok(())
}

#[tokio::test]
async fn batches_of_one_webhook_share_one_kept_connection() -> anyhow::Result<()> {
    let app = local_app().await?;
    let receiver = Receiver::start(&[]).await?;
    let ann = app.register("ann@example.com").await?;
    create_webhook(&app, &ann.access, &receiver.url, &["task.created"], None).await?;

    for n in 0..3 {
        app.create_task(&ann.access, json!({"title": format!("t{n}")}))
            .await?;
        // Each its own batch: the one before was delivered and recorded.
        receiver
            .wait_delivered(n + 1, Duration::from_secs(10))
            .await?;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let ports: Vec<u64> = (receiver.requests()?.iter())
        .filter_map(|r| r["client_port"].as_u64())
        .collect();
    assert_eq!(ports.len(), 3);
    assert!(ports.iter().all(|p| *p == ports[0]), "{ports:?}");
    Ok(())
}

#[tokio::test]
async fn a_deleted_webhook_sends_nothing_more() -> anyhow::Result<()> {
    let app = local_app().await?;
    let receiver = Receiver::start(&[]).await?;
    receiver.set_down(true)?;
    let ann = app.register("ann@example.com").await?;
    let hook = create_webhook(&app, &ann.access, &receiver.url, &["task.created"], None).await?;
    app.create_task(&ann.access, json!({"title": "t"})).await?;
    poll_until(Duration::from_secs(20), || async {
        Ok(if receiver.requests()?.is_empty() {
            Err("no try yet".to_owned())
        } else {
            Ok(())
        })
    })
    .await?;

    let path = format!("/api/v1/webhooks/{}", id_of(&hook));
    let deleted = app.delete_as(&path, &ann.access).await?;
    assert_eq!(deleted.status(), 204, "{}", deleted.text().await?);
    receiver.set_down(false)?;
    let tries = receiver.requests()?.len();
    tokio::time::sleep(Duration::from_secs(3)).await;

    assert_eq!(receiver.requests()?.len(), tries);
    Ok(())
}
