//! Trends topics and zones on the WebSocket (API.md, "Time zones and history"): a snapshot as
//! REST shapes it, then with each change the buckets it moved, whole; resume; a zone's
//! activity on the aggregate topics; refusals.

use chrono::Utc;
use serde_json::{Value, json};
use taskpulse_actors::Tz;

use super::{Adapter, Live, on_both_adapters, receive, send};
use crate::common::{expect_json, id_of};

on_both_adapters!(
    a_trends_topic_sends_its_snapshot_then_the_buckets_each_change_moved,
    a_trends_resume_replays_then_says_subscribed,
    aggregate_topics_count_activity_in_the_subscribers_zone,
    bad_trends_parameters_are_refused_and_the_session_stays,
);

async fn a_trends_topic_sends_its_snapshot_then_the_buckets_each_change_moved(
    adapter: Adapter,
) -> anyhow::Result<()> {
    let app = Live::spawn(adapter).await?;
    let ann = app.register("ann@example.com").await?;
    let task = app
        .create_task(&ann.access, json!({ "title": "one" }))
        .await?;
    let mut socket = app.connect(Some(&ann.access)).await?;
    let subscribe = json!({ "type": "subscribe", "topic": "trends:user", "tz": "Asia/Kathmandu", "interval": "day" });
    send(&mut socket, subscribe).await?;
    let snapshot = receive(&mut socket).await?;

    let path = format!("/api/v1/tasks/{}", id_of(&task));
    let patch = json!({ "status": "completed" });
    expect_json(app.patch_as(&path, &ann.access, &patch).await?, 200).await?;
    let completed = receive(&mut socket).await?;
    let patch = json!({ "priority": "high" });
    expect_json(app.patch_as(&path, &ann.access, &patch).await?, 200).await?;
    let reprioritised = receive(&mut socket).await?;
    let rest = expect_json(
        app.get_as(
            "/api/v1/dashboard/trends?interval=day&tz=Asia/Kathmandu",
            &ann.access,
        )
        .await?,
        200,
    )
    .await?;

    assert_eq!(
        (snapshot["type"].as_str(), snapshot["topic"].as_str()),
        (Some("snapshot"), Some("trends:user"))
    );
    assert_eq!(snapshot["version"], 1);
    assert_eq!(snapshot["trends"]["tz"], "Asia/Kathmandu");
    assert_eq!(
        snapshot["trends"]["buckets"].as_array().map(Vec::len),
        Some(12)
    );
    let today = Utc::now()
        .with_timezone(&"Asia/Kathmandu".parse::<Tz>()?)
        .date_naive();
    let last = &snapshot["trends"]["buckets"][11];
    if last["start"] == json!(today.to_string()) {
        assert_eq!(last["created"], 1);
    }
    assert_eq!(
        (completed["type"].as_str(), completed["version"].as_i64()),
        (Some("delta"), Some(2))
    );
    let moved = completed["buckets"].as_array().cloned().unwrap_or_default();
    assert_eq!(moved.len(), 1, "{completed}");
    assert_eq!(moved[0]["completed"], 1);
    assert_eq!(moved[0]["lead_time_hours"]["count"], 1);
    // A priority change moves no bucket; the version still steps by one.
    assert_eq!(reprioritised["version"], 3);
    assert_eq!(reprioritised["buckets"], json!([]));
    // What the topic holds is what REST answers.
    assert_eq!(rest["version"], 3);
    assert_eq!(rest["buckets"][11], moved[0]);
    Ok(())
}

async fn a_trends_resume_replays_then_says_subscribed(adapter: Adapter) -> anyhow::Result<()> {
    let app = Live::spawn(adapter).await?;
    let ann = app.register("ann@example.com").await?;
    let mut socket = app.connect(Some(&ann.access)).await?;
    send(
        &mut socket,
        json!({ "type": "subscribe", "topic": "trends:user" }),
    )
    .await?;
    let snapshot = receive(&mut socket).await?;
    drop(socket);
    for title in ["a", "b"] {
        app.create_task(&ann.access, json!({ "title": title }))
            .await?;
    }

    let mut socket = app.connect(Some(&ann.access)).await?;
    let resume = json!({ "type": "subscribe", "topic": "trends:user", "since_version": snapshot["version"] });
    send(&mut socket, resume).await?;
    // Deltas from version 1 on, and `subscribed` once the replay is done; on a second node
    // (the axum case) version 2 may come after `subscribed`, live.
    let mut messages = Vec::new();
    while !(messages.iter().any(|m: &Value| m["type"] == "subscribed")
        && messages
            .iter()
            .any(|m| m["version"] == 2 && m["type"] == "delta"))
    {
        messages.push(receive(&mut socket).await?);
    }
    let mut current = app.connect(Some(&ann.access)).await?;
    send(
        &mut current,
        json!({ "type": "subscribe", "topic": "user", "since_version": 2 }),
    )
    .await?;
    let nothing_missed = receive(&mut current).await?;

    assert_eq!(snapshot["version"], 0);
    let deltas: Vec<&Value> = messages.iter().filter(|m| m["type"] == "delta").collect();
    let versions: Vec<Value> = deltas.iter().map(|m| m["version"].clone()).collect();
    assert_eq!(versions, [json!(1), json!(2)], "{messages:?}");
    assert!(
        deltas
            .iter()
            .all(|m| m["buckets"].as_array().is_some_and(|b| b.len() == 1))
    );
    assert_eq!(deltas[1]["buckets"][0]["created"], 2);
    let at = messages
        .iter()
        .position(|m| m["type"] == "subscribed")
        .unwrap_or_default();
    assert_eq!(
        messages[at],
        json!({ "type": "subscribed", "topic": "trends:user", "version": at }),
        "{messages:?}"
    );
    // Nothing to replay: still answered, so the client knows it is live.
    assert_eq!(
        nothing_missed,
        json!({ "type": "subscribed", "topic": "user", "version": 2 })
    );
    Ok(())
}

async fn aggregate_topics_count_activity_in_the_subscribers_zone(
    adapter: Adapter,
) -> anyhow::Result<()> {
    let app = Live::spawn(adapter).await?;
    let ann = app.register("ann@example.com").await?;
    app.create_task(&ann.access, json!({ "title": "now" }))
        .await?;
    let zone = "Pacific/Kiritimati";
    let mut socket = app.connect(Some(&ann.access)).await?;
    send(
        &mut socket,
        json!({ "type": "subscribe", "topic": "user", "tz": zone }),
    )
    .await?;
    let snapshot = receive(&mut socket).await?;

    let today = Utc::now().with_timezone(&zone.parse::<Tz>()?).date_naive();
    let days = snapshot["activity"]["days"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(days.len(), 30);
    let last = &days[29];
    if Utc::now().with_timezone(&zone.parse::<Tz>()?).date_naive() == today {
        assert_eq!(last["date"], json!(today.to_string()));
        assert_eq!(last["created"], 1);
    }
    Ok(())
}

async fn bad_trends_parameters_are_refused_and_the_session_stays(
    adapter: Adapter,
) -> anyhow::Result<()> {
    let app = Live::spawn(adapter).await?;
    let ann = app.register("ann@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let team = app.create_team(&bob.access, "Bob's").await?;
    let mut socket = app.connect(Some(&ann.access)).await?;
    let cases = [
        (
            json!({ "type": "subscribe", "topic": "trends:user", "tz": "Mars/Olympus" }),
            "validation_failed",
        ),
        (
            json!({ "type": "subscribe", "topic": "trends:user", "interval": "year" }),
            "validation_failed",
        ),
        (
            json!({ "type": "subscribe", "topic": "trends:user", "interval": "day", "from": "2020-01-01" }),
            "validation_failed",
        ),
        (
            json!({ "type": "subscribe", "topic": "trends:user", "from": "soon" }),
            "validation_failed",
        ),
        (
            json!({ "type": "subscribe", "topic": "user", "interval": "day" }),
            "malformed_message",
        ),
        (
            json!({ "type": "subscribe", "topic": "feed:user", "tz": "UTC" }),
            "malformed_message",
        ),
        (
            json!({ "type": "subscribe", "topic": format!("trends:team:{team}") }),
            "forbidden",
        ),
        (
            json!({ "type": "subscribe", "topic": "trends:everyone" }),
            "invalid_topic",
        ),
    ];
    for (message, code) in cases {
        send(&mut socket, message.clone()).await?;
        let answer = receive(&mut socket).await?;
        assert_eq!(
            (answer["type"].as_str(), answer["code"].as_str()),
            (Some("error"), Some(code)),
            "{message}: {answer}"
        );
    }
    send(&mut socket, json!({ "type": "ping", "id": 7 })).await?;
    assert_eq!(
        receive(&mut socket).await?,
        json!({ "type": "pong", "id": 7 })
    );
    Ok(())
}
