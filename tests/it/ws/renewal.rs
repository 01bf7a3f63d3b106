//! Renewing the token in band (API.md, WebSocket): `auth` on an authenticated session with a
//! newer token of the same user answers `authenticated` and keeps every subscription; another
//! user's token gets `user_mismatch`, an invalid one `invalid_token`, and the session keeps its
//! own; the session closes with 4401 when the token it holds expires unrenewed.

use std::time::{Duration, Instant};

use chrono::DateTime;
use serde_json::json;

use super::{Adapter, Live, close_code, on_both_adapters, receive, send, subscribed};
use crate::common::{TestApp, expect_json};

on_both_adapters!(a_token_renewed_in_band_keeps_the_session_until_the_new_one_expires);

/// The token lifetime of this case: long enough to renew within it on a loaded machine.
const TTL_SECONDS: u64 = 4;

async fn a_token_renewed_in_band_keeps_the_session_until_the_new_one_expires(
    adapter: Adapter,
) -> anyhow::Result<()> {
    let settings = TestApp::builder()
        .with_arg("--access-token-ttl")
        .with_arg(&format!("{TTL_SECONDS}s"));
    let app = Live::start(adapter, settings).await?;
    let ann = app.register("ann@example.com").await?;
    let bob = app.register("bob@example.com").await?;
    let opened = Instant::now();
    let (mut socket, snapshot) = subscribed(&app, &ann, "user").await?;

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let body = json!({ "refresh_token": ann.refresh });
    let renewed = expect_json(app.post_json("/api/v1/auth/refresh", &body).await?, 200).await?;
    let token = renewed["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let refused = [
        (bob.access.clone(), "user_mismatch"),
        ("not-a-token".to_owned(), "invalid_token"),
    ];
    let mut refusals = Vec::new();
    for (other, _) in &refused {
        send(
            &mut socket,
            json!({ "type": "auth", "access_token": other }),
        )
        .await?;
        refusals.push(receive(&mut socket).await?);
    }
    send(
        &mut socket,
        json!({ "type": "auth", "access_token": token }),
    )
    .await?;
    let authenticated = receive(&mut socket).await?;
    let renewed_at = chrono::Utc::now();
    // Past the first token's expiry: the session and its subscription carry on.
    let first_expiry = Duration::from_secs(TTL_SECONDS) + Duration::from_millis(500);
    tokio::time::sleep(first_expiry.saturating_sub(opened.elapsed())).await;
    app.create_task(&token, json!({ "title": "after renewal" }))
        .await?;
    let delta = receive(&mut socket).await?;
    let code = close_code(&mut socket).await?;

    assert_eq!(snapshot["type"], "snapshot");
    for ((_, code), refusal) in refused.iter().zip(&refusals) {
        assert_eq!(
            (refusal["type"].as_str(), refusal["code"].as_str()),
            (Some("error"), Some(*code)),
            "{refusal}"
        );
    }
    assert_eq!(authenticated["type"], "authenticated", "{authenticated}");
    let expires_at = authenticated["expires_at"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
    assert!(
        expires_at.is_some_and(|at| at > renewed_at),
        "{authenticated}"
    );
    assert_eq!(
        (delta["type"].as_str(), delta["version"].as_i64()),
        (Some("delta"), Some(1)),
        "{delta}"
    );
    // Then the renewed token expires unrenewed.
    assert_eq!(code, 4401);
    assert!(
        opened.elapsed()
            >= Duration::from_millis(1500) + Duration::from_secs(TTL_SECONDS)
                - Duration::from_secs(1)
    );
    Ok(())
}
