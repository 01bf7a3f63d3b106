//! What the storm and fan-out modes need of the REST API beyond tasks: accounts whose email
//! is known (teams add members by it), team members, the aggregates' true versions, and
//! the health route.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};

use super::{Client, REGISTER_CONCURRENCY};
use crate::for_user;

/// A registered user.
#[derive(Clone, Debug)]
pub struct Account {
    /// Its email address (teams add members by it).
    pub email: String,
    /// Its access token (15 minutes by default: longer than any bounded run).
    pub token: String,
}

impl Client {
    /// Registers `count` users, user `i` through node `nodes[i mod len]`.
    pub async fn register_accounts(
        &self,
        count: usize,
        tag: &str,
        nodes: &[usize],
    ) -> anyhow::Result<Vec<Account>> {
        let suffix = uuid::Uuid::now_v7().simple().to_string();
        let suffix = &suffix[24..];
        let registered: Vec<anyhow::Result<Account>> = stream::iter(0..count)
            .map(|index| async move {
                let email = format!("loadgen-{tag}-{suffix}-{index}@example.com");
                let node = nodes[index % nodes.len()];
                for_user(self.register_account(node, &email, "Load").await, index)
            })
            .buffered(REGISTER_CONCURRENCY)
            .collect()
            .await;
        registered.into_iter().collect()
    }

    /// Registers one user through `node`.
    pub(super) async fn register_account(
        &self,
        node: usize,
        email: &str,
        name: &str,
    ) -> anyhow::Result<Account> {
        let body = json!({ "email": email, "password": "loadgen-password", "display_name": name });
        let response = self
            .http
            .post(format!("{}/api/v1/auth/register", self.nodes[node].base))
            .json(&body)
            .send()
            .await
            .with_context(|| format!("node {node}: registration failed"))?;
        if response.status() != 201 {
            bail!(
                "node {node}: registration answered {} (run the server with --no-rate-limit)",
                response.status()
            );
        }
        let session: Value = response.json().await?;
        let token = session["access_token"]
            .as_str()
            .context("no access token")?;
        Ok(Account {
            email: email.to_owned(),
            token: token.to_owned(),
        })
    }

    /// Adds `member` to `team` with `role`, as the team's owner (`token`), through `node`.
    pub async fn add_member(
        &self,
        node: usize,
        token: &str,
        team: &str,
        member: &Account,
        role: &str,
    ) -> anyhow::Result<()> {
        let response = self
            .http
            .post(format!(
                "{}/api/v1/teams/{team}/members",
                self.nodes[node].base
            ))
            .bearer_auth(token)
            .json(&json!({ "email": member.email, "role": role }))
            .send()
            .await?;
        if response.status() != 201 {
            bail!(
                "node {node}: adding a member answered {}",
                response.status()
            );
        }
        response.bytes().await?;
        Ok(())
    }

    /// The version of an aggregate as `GET /api/v1/dashboard/statistics` on `node` gives it:
    /// the caller's own scope, or `team`'s.
    pub async fn aggregate_version(
        &self,
        node: usize,
        token: &str,
        team: Option<&str>,
    ) -> anyhow::Result<i64> {
        let query = team.map(|team| format!("?team_id={team}"));
        let response = self
            .http
            .get(format!(
                "{}/api/v1/dashboard/statistics{}",
                self.nodes[node].base,
                query.unwrap_or_default()
            ))
            .bearer_auth(token)
            .send()
            .await?;
        if response.status() != 200 {
            bail!(
                "node {node}: reading statistics answered {}",
                response.status()
            );
        }
        let statistics: Value = response.json().await?;
        statistics["version"]
            .as_i64()
            .context("statistics without a version")
    }

    /// One `GET /api/v1/health` on `node`: how long a 200 took, or why there was none.
    pub async fn health(&self, node: usize) -> anyhow::Result<Duration> {
        let sent = Instant::now();
        let response = self
            .http
            .get(format!("{}/api/v1/health", self.nodes[node].base))
            .send()
            .await?;
        let status = response.status();
        response.bytes().await?;
        if status != 200 {
            bail!("node {node}: health answered {status}");
        }
        Ok(sent.elapsed())
    }

    /// Whether `node` still accepts connections and answers `GET /api/v1/health/live`.
    pub async fn is_alive(&self, node: usize) -> bool {
        let request = self
            .http
            .get(format!("{}/api/v1/health/live", self.nodes[node].base))
            .timeout(Duration::from_secs(1))
            .send();
        matches!(request.await, Ok(response) if response.status() == 200)
    }

    /// The WebSocket URL of `node`, authenticated with `token`.
    pub fn ws_url(&self, node: usize, token: &str) -> String {
        format!("{}/api/v1/ws?access_token={token}", self.nodes[node].ws)
    }
}
