//! The end of a storm: does every session hold its aggregates' true versions?

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};

use super::population::Population;
use super::session::Cell;
use crate::client::Client;

/// How long the sessions get to catch up with the last writes' deltas.
const SETTLE_DEADLINE: Duration = Duration::from_secs(10);
const SETTLE_INTERVAL: Duration = Duration::from_millis(200);
/// Statistics reads in flight at once.
const READ_CONCURRENCY: usize = 32;

/// The comparison's outcome.
pub struct Verified {
    /// (session, topic) pairs compared.
    pub topics_checked: usize,
    /// Of those, how many held another version than the aggregate's.
    pub mismatches: usize,
    /// The first mismatch, as `session s topic t: held v, true w`.
    pub first_mismatch: Option<String>,
}

/// Reads every aggregate's version through `node` and compares; again until they all match
/// or [`SETTLE_DEADLINE`] passes (the last writes' deltas may still be on their way).
pub async fn versions(
    client: &Client,
    population: &Population,
    cells: &[Arc<Cell>],
    node: usize,
) -> anyhow::Result<Verified> {
    let until = Instant::now() + SETTLE_DEADLINE;
    loop {
        let verified = compare(client, population, cells, node).await?;
        if verified.mismatches == 0 || Instant::now() > until {
            return Ok(verified);
        }
        tokio::time::sleep(SETTLE_INTERVAL).await;
    }
}

async fn compare(
    client: &Client,
    population: &Population,
    cells: &[Arc<Cell>],
    node: usize,
) -> anyhow::Result<Verified> {
    let users: Vec<anyhow::Result<i64>> = stream::iter(&population.accounts)
        .map(|account| client.aggregate_version(node, &account.token, None))
        .buffered(READ_CONCURRENCY)
        .collect()
        .await;
    let users = users.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    let teams: Vec<anyhow::Result<i64>> = stream::iter(population.teams.iter().enumerate())
        .map(|(g, team)| {
            let owner = population.owner_of_team(g);
            client.aggregate_version(node, &owner.token, Some(team))
        })
        .buffered(READ_CONCURRENCY)
        .collect()
        .await;
    let teams = teams.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    let mut verified = Verified {
        topics_checked: 0,
        mismatches: 0,
        first_mismatch: None,
    };
    for (s, cell) in cells.iter().enumerate() {
        let user = population.user_of_session(s);
        let truths = [users[user], teams[population.team_of_user(user)]];
        let held = cell.view().versions;
        for (t, (held, truth)) in held.iter().zip(truths).enumerate() {
            verified.topics_checked += 1;
            if *held != Some(truth) {
                verified.mismatches += 1;
                verified.first_mismatch.get_or_insert_with(|| {
                    format!("session {s} topic {t}: held {held:?}, true {truth}")
                });
            }
        }
    }
    Ok(verified)
}
