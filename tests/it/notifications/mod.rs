//! In-app notifications (API.md, "Notifications and webhooks"): made from the durable outbox
//! for the users a change concerns, read as an inbox with read state.

mod inbox;
mod topic;

use std::time::Duration;

use serde_json::Value;

use crate::common::{TestApp, expect_json, poll_until};

/// The caller's inbox page at `query` (e.g. `?unread=true`).
pub(crate) async fn inbox(app: &TestApp, access: &str, query: &str) -> anyhow::Result<Value> {
    let path = format!("/api/v1/notifications{query}");
    expect_json(app.get_as(&path, access).await?, 200).await
}

/// Waits until the caller has `count` notifications; answers them, newest first.
pub(crate) async fn wait_for(
    app: &TestApp,
    access: &str,
    count: usize,
) -> anyhow::Result<Vec<Value>> {
    poll_until(Duration::from_secs(10), || async {
        let page = inbox(app, access, "?limit=200").await?;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        Ok(if items.len() >= count {
            Ok(items)
        } else {
            Err(page.to_string())
        })
    })
    .await
}
