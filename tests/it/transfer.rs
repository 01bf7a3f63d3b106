//! Task export and import end to end (API.md, "Export and import"; docs/export-import.md): the
//! files, their headers, filters and visibility, escaping, the snapshot, all-or-nothing
//! imports, limits, permissions and the round trip between two accounts.

// `GET /api/v1/tasks/export`.
mod export;
// `POST /api/v1/tasks/import`.
mod import;
// The import's media types and body sizes.
mod limits;
// Export from one account, import into another.
mod round_trip;

use std::collections::HashMap;

use anyhow::Context;
use serde_json::Value;

use crate::common::{Api, expect_json};

/// The export's header.
const HEADER: &str = "id,title,description,status,priority,due_at,owner_id,team_id,created_at,\
                      started_at,completed_at,version";

/// GET the export with `query` (e.g. `?format=ndjson`) as `access`.
async fn export(api: &Api, access: &str, query: &str) -> anyhow::Result<reqwest::Response> {
    api.get_as(&format!("/api/v1/tasks/export{query}"), access)
        .await
}

/// The CSV export's text with `query`, asserting 200.
async fn export_csv(api: &Api, access: &str, query: &str) -> anyhow::Result<String> {
    let response = export(api, access, query).await?;
    assert_eq!(response.status(), 200);
    Ok(response.text().await?)
}

/// POST `body` to the import (with `query`, e.g. `?team_id=…`) as `content_type`.
async fn import(
    api: &Api,
    access: &str,
    query: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> anyhow::Result<reqwest::Response> {
    Ok(api
        .http
        .post(api.url(&format!("/api/v1/tasks/import{query}")))
        .bearer_auth(access)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await?)
}

/// Imports a CSV file as `access`, asserting 201 and the count.
pub(crate) async fn import_csv(
    api: &Api,
    access: &str,
    query: &str,
    file: &str,
) -> anyhow::Result<()> {
    let count = csv::Reader::from_reader(file.as_bytes()).records().count();
    let answer = expect_json(
        import(api, access, query, "text/csv", file.to_owned()).await?,
        201,
    )
    .await?;
    anyhow::ensure!(answer["imported"] == count, "{answer}");
    Ok(())
}

/// The records of a CSV file by column name, asserting its header is the export's.
fn records(file: &str) -> anyhow::Result<Vec<HashMap<String, String>>> {
    let mut reader = csv::Reader::from_reader(file.as_bytes());
    let header: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
    assert_eq!(header.join(","), HEADER);
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        rows.push(
            header
                .iter()
                .cloned()
                .zip(record.iter().map(str::to_owned))
                .collect(),
        );
    }
    Ok(rows)
}

/// The caller's statistics (or a team's, with `?team_id=…`).
async fn statistics(api: &Api, access: &str, query: &str) -> anyhow::Result<Value> {
    let path = format!("/api/v1/dashboard/statistics{query}");
    expect_json(api.get_as(&path, access).await?, 200).await
}

/// Every task the caller may see (all pages), newest first.
async fn all_tasks(api: &Api, access: &str) -> anyhow::Result<Vec<Value>> {
    let mut tasks = Vec::new();
    let mut path = "/api/v1/tasks?limit=200".to_owned();
    loop {
        let page = expect_json(api.get_as(&path, access).await?, 200).await?;
        tasks.extend(page["items"].as_array().context("items")?.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/tasks?limit=200&cursor={cursor}"),
            None => return Ok(tasks),
        }
    }
}

/// An RFC 3339 time `days` days and `hours` hours before now, in UTC.
fn ago(days: i64, hours: i64) -> String {
    use chrono::SubsecRound;
    (chrono::Utc::now() - chrono::Duration::days(days) - chrono::Duration::hours(hours))
        .trunc_subsecs(0)
        .to_rfc3339()
}
