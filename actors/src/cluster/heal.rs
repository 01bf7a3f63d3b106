//! Catching live scopes up with their rows: from a signal (the scopes another node says
//! moved) or from the periodic check (every live scope against its row's version, every team
//! subscription against the team's members). What the change log still holds is applied as
//! deltas; a range it no longer covers makes the aggregate re-read its row.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::Notify;

use super::{Announcement, Node};
use crate::aggregate::AggregateMsg;
use crate::error::Result;
use crate::model::{TeamId, UserId};
use crate::stats::Scope;
use crate::store::change_log::{self, Wanted};
use crate::store::teams::members_of_teams;
use crate::supervisor::SupervisorMsg;

/// The most log rows read in one catch-up; scopes cut short re-read their rows.
const READ_LIMIT: i64 = 10_000;
/// How long the periodic check lets a scope that looks behind catch up by itself.
const IN_FLIGHT_GRACE: Duration = Duration::from_millis(50);
/// Scopes per head query, so one check of many live scopes stays a few small queries.
const HEADS_PER_QUERY: usize = 5_000;

/// Brings each live scope up to at least its target version. Answers how many were behind.
pub(crate) async fn catch_up(
    node: &Node,
    targets: impl IntoIterator<Item = (Scope, i64)>,
) -> Result<usize> {
    let wanted: Vec<Wanted> = targets
        .into_iter()
        .filter_map(|(scope, upto)| {
            let slot = node.slots.slot(&scope)?;
            let after = match slot.current() {
                Some(current) => current.version,
                // Hydrating: its row read may have come just before this change, so it gets
                // the change too (a duplicate of what it read is dropped by version).
                None => slot.actor().map(|_| upto - 1)?,
            };
            (after < upto).then_some(Wanted { scope, after, upto })
        })
        .collect();
    if wanted.is_empty() {
        return Ok(0);
    }
    let changes = {
        let mut conn = node.pool.get().await?;
        change_log::read(&mut conn, &wanted, READ_LIMIT).await?
    };
    node.slots.metrics.cluster.read_from_log(changes.len());
    let now = Utc::now();
    let mut reached: HashMap<Scope, i64> = HashMap::new();
    for change in changes {
        let lag = (now - change.as_of).to_std().unwrap_or_default();
        node.slots.metrics.cluster.received(lag);
        node.link.heard(lag);
        reached.insert(change.scope, change.version);
        if let Some(actor) = node.slots.slot(&change.scope).and_then(|slot| slot.actor()) {
            let _ = actor.cast(AggregateMsg::Apply(change, None));
        }
    }
    for want in &wanted {
        if reached.get(&want.scope).is_none_or(|v| *v < want.upto) {
            // Pruned from the log, or written by a node without one: the row is the truth.
            if let Some(actor) = node.slots.slot(&want.scope).and_then(|slot| slot.actor()) {
                let _ = actor.cast(AggregateMsg::Reload(want.upto));
            }
        }
    }
    Ok(wanted.len())
}

/// Ends `user`'s subscriptions to the team on this node (everyone's, when `None`: the team is
/// gone, and its aggregate is retired).
pub(crate) fn revoke(node: &Node, team: TeamId, user: Option<UserId>) {
    // Forgotten first, so that every read allowed from now on asks the database.
    node.members.forget(team, user);
    match user {
        Some(user) => {
            if let Some(slot) = node.slots.slot(&Scope::Team(team)) {
                slot.revoke_allowed_before(user, Instant::now());
            }
        }
        None => {
            let _ = node
                .supervisor
                .cast(SupervisorMsg::Retire(Scope::Team(team)));
        }
    }
}

/// Runs the periodic check every `heal_every`, and at once when the listener (re)connects.
pub(crate) async fn every_tick(node: Node, heal_now: Arc<Notify>) {
    let mut tick = tokio::time::interval(node.config.heal_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = heal_now.notified() => {}
        }
        if let Err(err) = check(&node).await {
            tracing::debug!(error = %err, "periodic cluster check failed; retrying on the next tick");
        }
    }
}

/// One periodic check: versions first, then team memberships.
async fn check(node: &Node) -> Result<()> {
    let scopes: Vec<Scope> = node
        .slots
        .by_scope
        .iter()
        .map(|entry| *entry.key())
        .collect();
    for chunk in scopes.chunks(HEADS_PER_QUERY) {
        let heads = {
            let mut conn = node.pool.get().await?;
            change_log::heads(&mut conn, chunk).await?
        };
        let behind: Vec<(Scope, i64)> = (heads.into_iter())
            .filter(|(scope, head)| {
                let slot = node.slots.slot(scope);
                slot.and_then(|s| s.current())
                    .is_none_or(|c| c.version < *head)
            })
            .collect();
        if behind.is_empty() {
            continue;
        }
        // A write of this node's own, between its commit and its delivery here, looks behind
        // for a moment: give it that moment rather than read the log for it.
        tokio::time::sleep(IN_FLIGHT_GRACE).await;
        let healed = catch_up(node, behind).await?;
        node.slots.metrics.cluster.healed(healed);
    }
    check_memberships(node).await
}

/// Ends team subscriptions whose user is no longer a member, and retires teams that are gone,
/// whatever became of the signals that said so.
async fn check_memberships(node: &Node) -> Result<()> {
    let subscribed: Vec<TeamId> = (node.slots.by_scope.iter())
        .filter(|entry| entry.value().has_subscribers())
        .filter_map(|entry| match entry.key() {
            Scope::Team(team) => Some(*team),
            Scope::User(_) => None,
        })
        .collect();
    if subscribed.is_empty() {
        return Ok(());
    }
    // Only subscriptions older than this answer may be judged by it.
    let asked = Instant::now();
    let rows = {
        let mut conn = node.pool.get().await?;
        members_of_teams(&mut conn, &subscribed).await?
    };
    let mut members: HashMap<TeamId, HashSet<UserId>> = HashMap::new();
    for (team, user) in rows {
        let entry = members.entry(team).or_default();
        entry.extend(user);
    }
    for team in subscribed {
        let Some(members) = members.get(&team) else {
            revoke(node, team, None);
            continue;
        };
        let Some(slot) = node.slots.slot(&Scope::Team(team)) else {
            continue;
        };
        for user in slot.subscriber_users() {
            if !members.contains(&user) {
                // A revocation this node did not hear of: its memory of the membership goes too.
                node.members.forget(team, Some(user));
                slot.revoke_allowed_before(user, asked);
            }
        }
    }
    Ok(())
}

/// Applies what a batch of signals announced: changes carried whole go to their live
/// aggregates as they are (an aggregate orders what arrives, drops what it has and fills a gap
/// from the log); scopes that only moved are caught up from the log.
pub(crate) async fn heard(node: &Node, announcements: Vec<Announcement>) -> Result<()> {
    let mut moved: HashMap<Scope, i64> = HashMap::new();
    let now = Utc::now();
    for announcement in announcements {
        match announcement {
            Announcement::Changed(change) => {
                let lag = (now - change.as_of).to_std().unwrap_or_default();
                node.slots.metrics.cluster.received(lag);
                node.link.heard(lag);
                if let Some(actor) = node.slots.slot(&change.scope).and_then(|slot| slot.actor()) {
                    let _ = actor.cast(AggregateMsg::Apply(change, None));
                }
            }
            Announcement::Moved(scope, version) => {
                let entry = moved.entry(scope).or_insert(version);
                *entry = (*entry).max(version);
            }
            Announcement::Revoked(team, user) => revoke(node, team, user),
            Announcement::Ended(ending) => node.endings.end(ending),
            Announcement::Notified => node.inboxes.poke(),
        }
    }
    catch_up(node, moved).await.map(|_| ())
}
