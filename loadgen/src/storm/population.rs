//! Who takes part in a storm: users, grouped into teams, and the sessions spread over them.

use anyhow::Context;
use futures_util::{StreamExt, stream};

use crate::client::{Account, Client};

/// Sessions per user: the server's default `--ws-max-sessions-per-user` (16, counted per
/// node). A user's sessions all start on one node ([`Population::node_of_user`]) and its
/// orphans spread over the survivors, so no node ever holds more than 16 of one user's.
pub const SESSIONS_PER_USER: usize = 16;
/// Users per team: each team aggregate is written by several users and followed by all their
/// sessions.
const USERS_PER_TEAM: usize = 4;
/// Team set-up requests in flight at once.
const SETUP_CONCURRENCY: usize = 16;

/// The users, their teams and who is in which.
pub struct Population {
    pub accounts: Vec<Account>,
    /// The team ids; team `g` is owned by user `g · USERS_PER_TEAM`.
    pub teams: Vec<String>,
}

impl Population {
    /// The users `sessions` sessions need, registered through `nodes`, in teams of four.
    pub async fn register(
        client: &Client,
        sessions: usize,
        tag: &str,
        nodes: &[usize],
    ) -> anyhow::Result<Self> {
        let users = sessions.div_ceil(SESSIONS_PER_USER);
        let accounts = client.register_accounts(users, tag, nodes).await?;
        let groups: Vec<&[Account]> = accounts.chunks(USERS_PER_TEAM).collect();
        let created: Vec<anyhow::Result<String>> = stream::iter(groups.iter().enumerate())
            .map(|(g, members)| async move {
                let node = nodes[g % nodes.len()];
                let owner = &members[0];
                let team = client
                    .create_team(node, &owner.token, &format!("storm {tag} {g}"))
                    .await?;
                for member in &members[1..] {
                    client
                        .add_member(node, &owner.token, &team, member, "member")
                        .await?;
                }
                Ok(team)
            })
            .buffered(SETUP_CONCURRENCY)
            .collect()
            .await;
        let teams = created
            .into_iter()
            .collect::<anyhow::Result<Vec<_>>>()
            .context("setting up the storm's teams")?;
        Ok(Self { accounts, teams })
    }

    /// The user of session `s`.
    pub fn user_of_session(&self, s: usize) -> usize {
        s % self.accounts.len()
    }

    /// The node user `u`'s sessions start on. One node per user is the harder storm: the
    /// killed node's clients are users the survivors never served — their aggregates cold
    /// there, their memberships never checked.
    pub fn node_of_user(&self, u: usize, nodes: usize) -> usize {
        u % nodes
    }

    /// The team of user `u`.
    pub fn team_of_user(&self, u: usize) -> usize {
        u / USERS_PER_TEAM
    }

    /// The account that owns team `g`.
    pub fn owner_of_team(&self, g: usize) -> &Account {
        &self.accounts[g * USERS_PER_TEAM]
    }

    /// The topics a session of user `u` follows: its own scope and its team's.
    pub fn topics_of_user(&self, u: usize) -> Vec<String> {
        let team = &self.teams[self.team_of_user(u)];
        vec!["user".to_owned(), format!("team:{team}")]
    }
}
