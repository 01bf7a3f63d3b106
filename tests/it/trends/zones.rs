//! The reader's zone decides the days: today's bucket and activity in zones 25 hours apart,
//! and days of 23 and 25 hours, +05:45 and Lord Howe's half-hour shift end to end with imported
//! past times (the engine's property tests hold every zone to the zone database).

use chrono::Utc;
use serde_json::json;
use taskpulse_actors::Tz;

use super::{date, trends};
use crate::common::{TestApp, expect_json};

#[tokio::test]
async fn the_viewers_zone_decides_which_day_is_today() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    app.create_task(&ada.access, json!({"title": "now"}))
        .await?;

    // 25 hours apart: at any moment these two zones are on different dates.
    for zone in [
        "Pacific/Kiritimati",
        "Pacific/Pago_Pago",
        "Asia/Kathmandu",
        "Australia/Lord_Howe",
    ] {
        let tz: Tz = zone.parse()?;
        let today = Utc::now().with_timezone(&tz).date_naive();
        let body = trends(&app, &ada.access, &format!("?interval=day&tz={zone}")).await?;
        let last = &body["buckets"][11];
        let activity = expect_json(
            app.get_as(
                &format!("/api/v1/dashboard/activity?days=3&tz={zone}"),
                &ada.access,
            )
            .await?,
            200,
        )
        .await?;
        assert_eq!(body["tz"], zone);
        // Checked again after the read, in case the date turned meanwhile.
        if Utc::now().with_timezone(&tz).date_naive() == today {
            assert_eq!(
                (date(&last["start"]), last["created"].as_i64()),
                (today, Some(1)),
                "{zone}"
            );
            assert_eq!(date(&activity["days"][2]["date"]), today, "{zone}");
            assert_eq!(activity["days"][2]["created"], 1, "{zone}");
        }
    }
    Ok(())
}

/// The `created` and `completed` of each day from `from` to `to` in `tz`.
async fn days(
    app: &TestApp,
    access: &str,
    tz: &str,
    from: &str,
    to: &str,
) -> anyhow::Result<Vec<(String, i64, i64)>> {
    let query = format!("?interval=day&tz={tz}&from={from}&to={to}");
    let body = trends(app, access, &query).await?;
    Ok((body["buckets"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter())
    .map(|b| {
        let start = b["start"].as_str().unwrap_or_default().to_owned();
        (
            start,
            b["created"].as_i64().unwrap_or(-1),
            b["completed"].as_i64().unwrap_or(-1),
        )
    })
    .collect())
}

#[tokio::test]
async fn daylight_saving_days_and_odd_offsets_count_exactly() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let file = "title,status,created_at,completed_at\r\n\
        berlin spring 1,pending,2026-03-28T23:30:00Z,\r\n\
        berlin spring 2,pending,2026-03-29T21:59:00Z,\r\n\
        berlin spring 3,pending,2026-03-29T22:00:00Z,\r\n\
        berlin autumn,completed,2026-10-24T22:00:00Z,2026-10-25T22:59:59Z\r\n\
        kathmandu 1,pending,2026-06-01T18:14:59Z,\r\n\
        kathmandu 2,pending,2026-06-01T18:15:00+00:00,\r\n\
        lord howe 1,pending,2026-04-04T13:00:00Z,\r\n\
        lord howe 2,pending,2026-04-05T13:29:59Z,\r\n\
        lord howe 3,pending,2026-04-06T00:00:00+10:30,\r\n";
    crate::transfer::import_csv(&app, &ada.access, "", file).await?;
    let day = |d: &str, created, completed| (d.to_owned(), created, completed);

    // Berlin: 29 March lasts 23 hours, 25 October 25 hours.
    let spring = days(
        &app,
        &ada.access,
        "Europe/Berlin",
        "2026-03-28",
        "2026-03-30",
    )
    .await?;
    assert_eq!(
        spring,
        [
            day("2026-03-28", 0, 0),
            day("2026-03-29", 2, 0),
            day("2026-03-30", 1, 0)
        ]
    );
    let autumn = days(
        &app,
        &ada.access,
        "Europe/Berlin",
        "2026-10-25",
        "2026-10-25",
    )
    .await?;
    assert_eq!(autumn, [day("2026-10-25", 1, 1)]);
    let query = "?interval=day&tz=Europe/Berlin&from=2026-10-25&to=2026-10-25";
    let lead =
        trends(&app, &ada.access, query).await?["buckets"][0]["lead_time_hours"]["p50"].as_f64();
    assert!(
        lead.is_some_and(|h| (h - (25.0 - 1.0 / 3600.0)).abs() < 1e-9),
        "{lead:?}"
    );
    // The same instants in UTC days.
    let utc = days(&app, &ada.access, "UTC", "2026-03-28", "2026-03-30").await?;
    assert_eq!(
        utc,
        [
            day("2026-03-28", 1, 0),
            day("2026-03-29", 2, 0),
            day("2026-03-30", 0, 0)
        ]
    );
    // Kathmandu, +05:45: midnight is 18:15 UTC.
    let kathmandu = days(
        &app,
        &ada.access,
        "Asia/Kathmandu",
        "2026-05-31",
        "2026-06-02",
    )
    .await?;
    assert_eq!(
        kathmandu,
        [
            day("2026-05-31", 0, 0),
            day("2026-06-01", 1, 0),
            day("2026-06-02", 1, 0)
        ]
    );
    // Lord Howe leaves daylight saving on 5 April: that day lasts 24 h 30 min.
    let howe = days(
        &app,
        &ada.access,
        "Australia/Lord_Howe",
        "2026-04-05",
        "2026-04-06",
    )
    .await?;
    assert_eq!(howe, [day("2026-04-05", 2, 0), day("2026-04-06", 1, 0)]);
    Ok(())
}
