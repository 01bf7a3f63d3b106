//! The signal between nodes: "these scopes changed, so; these subscriptions are revoked;
//! these sessions ended; notifications were made". A change travels whole (its delta) when it fits, so that the other
//! nodes apply it without reading the change log; a change too large for the payload
//! (PostgreSQL caps a NOTIFY near 8 kB) travels as its scope and version only, and is read
//! from the log. Signals are hints, never the only record: a lost one is found by the periodic
//! check (and so is a change carried in a field an older node does not know).

use std::sync::Arc;

use chrono::DateTime;
use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::Node;
use crate::endings::Ending;
use crate::error::Result;
use crate::model::{TeamId, UserId};
use crate::published::Published;
use crate::stats::{Delta, Scope};

/// The channel every node listens on (channels are per database).
pub(crate) const CHANNEL: &str = "taskpulse_changes";

/// The most bytes a payload is filled to (PostgreSQL refuses 8 000 and more).
const PAYLOAD_BUDGET: usize = 7_800;
/// The most announcements one round of the after-commit sender takes from its queue.
const MOST_PER_ROUND: usize = 1_000;

/// One thing the other nodes should hear.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Announcement {
    /// A committed change, delta and all.
    Changed(Published),
    /// The scope's row is at this version now (how, the change log says).
    Moved(Scope, i64),
    /// This member (everyone, when `None`: the team is gone) may no longer read the team.
    Revoked(TeamId, Option<UserId>),
    /// A sign-in session or an account ended: its access tokens stop working.
    Ended(Ending),
    /// In-app notifications were made: the `notifications` topics read them.
    Notified,
}

/// A signal as sent: the sending node and what it announces, in short JSON.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Signal {
    /// The node that committed.
    #[serde(rename = "n")]
    pub node: String,
    /// Changes: ("u" or "t", id, version, commit time in microseconds, delta).
    #[serde(rename = "d", default, skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<(String, Uuid, i64, i64, Delta)>,
    /// Scopes moved, their changes too large to carry: ("u" or "t", id, version).
    #[serde(rename = "c", default, skip_serializing_if = "Vec::is_empty")]
    pub moved: Vec<(String, Uuid, i64)>,
    /// Revocations: (team, member or everyone).
    #[serde(rename = "r", default, skip_serializing_if = "Vec::is_empty")]
    pub revoked: Vec<(Uuid, Option<Uuid>)>,
    /// Endings: ("s" for a session or "a" for an account, id).
    #[serde(rename = "e", default, skip_serializing_if = "Vec::is_empty")]
    pub ended: Vec<(String, Uuid)>,
    /// Notifications were made.
    #[serde(rename = "i", default, skip_serializing_if = "std::ops::Not::not")]
    pub notified: bool,
}

fn kind_and_id(scope: Scope) -> (String, Uuid) {
    match scope {
        Scope::User(user) => ("u".to_owned(), user.0),
        Scope::Team(team) => ("t".to_owned(), team.0),
    }
}

fn scope_of(kind: &str, id: Uuid) -> Option<Scope> {
    match kind {
        "u" => Some(Scope::User(UserId(id))),
        "t" => Some(Scope::Team(TeamId(id))),
        _ => None,
    }
}

/// One announcement as a signal lists it.
enum Entry {
    Changed((String, Uuid, i64, i64, Delta)),
    Moved((String, Uuid, i64)),
    Revoked((Uuid, Option<Uuid>)),
    Ended((String, Uuid)),
    Notified,
}

impl Entry {
    fn of(announcement: &Announcement) -> Entry {
        match announcement {
            Announcement::Changed(change) => {
                let (kind, id) = kind_and_id(change.scope);
                let micros = change.as_of.timestamp_micros();
                let delta = Delta::clone(&change.delta);
                Entry::Changed((kind, id, change.version, micros, delta))
            }
            Announcement::Moved(scope, version) => {
                let (kind, id) = kind_and_id(*scope);
                Entry::Moved((kind, id, *version))
            }
            Announcement::Revoked(team, user) => Entry::Revoked((team.0, user.map(|u| u.0))),
            Announcement::Ended(Ending::Session(session)) => {
                Entry::Ended(("s".to_owned(), *session))
            }
            Announcement::Ended(Ending::Account(user)) => Entry::Ended(("a".to_owned(), user.0)),
            Announcement::Notified => Entry::Notified,
        }
    }

    /// Its length in the payload: its JSON and a separating comma.
    fn len(&self) -> usize {
        let json = match self {
            Entry::Changed(entry) => serde_json::to_vec(entry),
            Entry::Moved(entry) => serde_json::to_vec(entry),
            Entry::Revoked(entry) => serde_json::to_vec(entry),
            Entry::Ended(entry) => serde_json::to_vec(entry),
            Entry::Notified => return r#","i":true"#.len(),
        };
        json.map_or(usize::MAX, |json| json.len() + 1)
    }
}

impl Signal {
    fn empty(node: &str) -> Self {
        Signal {
            node: node.to_owned(),
            ..Signal::default()
        }
    }

    /// The payload's length with no entries, the names of every list counted.
    fn base_len(&self) -> usize {
        let node = serde_json::to_vec(&self.node).map_or(usize::MAX, |json| json.len());
        node + r#"{"n":,"d":[],"c":[],"r":[],"e":[]}"#.len()
    }

    fn push(&mut self, entry: Entry) {
        match entry {
            Entry::Changed(entry) => self.changed.push(entry),
            Entry::Moved(entry) => self.moved.push(entry),
            Entry::Revoked(entry) => self.revoked.push(entry),
            Entry::Ended(entry) => self.ended.push(entry),
            Entry::Notified => self.notified = true,
        }
    }

    /// Packs announcements, in order, into as few signals as the payload limit allows. A
    /// change too large to carry even alone is announced as moved.
    pub fn pack(node: &str, announcements: &[Announcement]) -> Vec<Signal> {
        let mut signals = Vec::new();
        let mut signal = Signal::empty(node);
        let base = signal.base_len();
        let mut len = base;
        for announcement in announcements {
            let mut entry = Entry::of(announcement);
            let mut entry_len = entry.len();
            if base + entry_len > PAYLOAD_BUDGET
                && let Announcement::Changed(change) = announcement
            {
                entry = Entry::of(&Announcement::Moved(change.scope, change.version));
                entry_len = entry.len();
            }
            if len + entry_len > PAYLOAD_BUDGET {
                signals.push(std::mem::replace(&mut signal, Signal::empty(node)));
                len = base;
            }
            signal.push(entry);
            len += entry_len;
        }
        if len > base {
            signals.push(signal);
        }
        signals
    }

    /// What the signal announces (unknown scope kinds, from a newer node, are skipped).
    pub fn announcements(&self) -> impl Iterator<Item = Announcement> + '_ {
        let changed = (self.changed.iter()).filter_map(|(kind, id, version, micros, delta)| {
            Some(Announcement::Changed(Published {
                scope: scope_of(kind, *id)?,
                version: *version,
                as_of: DateTime::from_timestamp_micros(*micros)?,
                delta: Arc::new(delta.clone()),
            }))
        });
        let moved = (self.moved.iter()).filter_map(|(kind, id, version)| {
            Some(Announcement::Moved(scope_of(kind, *id)?, *version))
        });
        let revoked = (self.revoked.iter())
            .map(|(team, user)| Announcement::Revoked(TeamId(*team), user.map(UserId)));
        let ended = self
            .ended
            .iter()
            .filter_map(|(kind, id)| match kind.as_str() {
                "s" => Some(Announcement::Ended(Ending::Session(*id))),
                "a" => Some(Announcement::Ended(Ending::Account(UserId(*id)))),
                _ => None,
            });
        let notified = self.notified.then_some(Announcement::Notified);
        changed
            .chain(moved)
            .chain(revoked)
            .chain(ended)
            .chain(notified)
    }
}

/// The announcements of a committed write.
pub(crate) fn changed(published: &[Published]) -> impl Iterator<Item = Announcement> + '_ {
    published.iter().cloned().map(Announcement::Changed)
}

/// Sends `signals` as NOTIFYs on `conn`: inside the writer's transaction (delivered with its
/// commit) or on a connection of their own.
pub(crate) async fn notify(conn: &mut AsyncPgConnection, signals: &[Signal]) -> Result<()> {
    for signal in signals {
        let payload = serde_json::to_string(signal).unwrap_or_default();
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<Text, _>(CHANNEL)
            .bind::<Text, _>(payload)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// The after-commit sender: whatever the writers announced while the previous NOTIFY was on
/// its way goes out in the next one, so a busy node sends few signals and no committer waits.
pub(crate) async fn send_after_commit(
    node: Node,
    mut queue: mpsc::UnboundedReceiver<Announcement>,
) {
    let mut pending = Vec::new();
    while let Some(first) = queue.recv().await {
        pending.clear();
        pending.push(first);
        while pending.len() < MOST_PER_ROUND {
            match queue.try_recv() {
                Ok(next) => pending.push(next),
                Err(_) => break,
            }
        }
        let signals = Signal::pack(&node.config.node_id, &pending);
        let sent = match node.pool.get().await {
            Ok(mut conn) => notify(&mut conn, &signals).await,
            Err(err) => Err(err.into()),
        };
        let metrics = &node.slots.metrics.cluster;
        match sent {
            Ok(()) => signals.iter().for_each(|_| metrics.signal_sent()),
            Err(err) => {
                metrics.signal_failed();
                tracing::warn!(error = %err, "cannot signal the other nodes; their periodic check will catch up");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::model::TaskId;
    use crate::stats::{Counts, DueChange};

    /// A change whose delta holds `due_changes` due-date changes (about 130 bytes each).
    fn change(scope: Scope, version: i64, due_changes: usize) -> Announcement {
        let now = Utc::now();
        let due = (0..due_changes)
            .map(|_| DueChange {
                task: TaskId::new(),
                before: None,
                after: Some(now),
            })
            .collect();
        let delta = Delta {
            counts: Counts {
                pending: 1,
                medium: 1,
                ..Counts::default()
            },
            due,
            ..Delta::default()
        };
        let as_of = DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
        Announcement::Changed(Published {
            scope,
            version,
            as_of,
            delta: Arc::new(delta),
        })
    }

    fn round_trip(signal: &Signal) -> Vec<Announcement> {
        let payload = serde_json::to_string(signal).unwrap_or_default();
        assert!(payload.len() < 8000, "{} bytes", payload.len());
        let back: Signal = serde_json::from_str(&payload).unwrap_or_default();
        back.announcements().collect()
    }

    #[test]
    fn a_signal_round_trips_through_its_payload() {
        let user = UserId::new();
        let team = TeamId(Uuid::now_v7());
        let announcements = [
            change(Scope::User(user), 8, 1),
            Announcement::Moved(Scope::Team(team), 3),
            Announcement::Revoked(team, Some(user)),
            Announcement::Revoked(team, None),
            Announcement::Ended(Ending::Account(user)),
            Announcement::Notified,
        ];
        let signals = Signal::pack("node-a", &announcements);
        assert_eq!(signals.len(), 1);
        assert_eq!(signals[0].node, "node-a");
        assert_eq!(round_trip(&signals[0]), announcements);
    }

    #[test]
    fn many_announcements_split_into_payloads_under_the_limit_in_order() {
        let announcements: Vec<Announcement> = (0..1000)
            .map(|v| match v % 2 {
                0 => Announcement::Moved(Scope::User(UserId::new()), i64::MAX - v),
                _ => change(Scope::Team(TeamId::new()), v, 3),
            })
            .collect();
        let signals = Signal::pack("a-node-id-of-some-length", &announcements);
        assert!(signals.len() > 10, "{} signals", signals.len());
        let back: Vec<Announcement> = signals.iter().flat_map(round_trip).collect();
        assert_eq!(back.len(), announcements.len());
        // Within a signal, changes are listed before moved scopes; across signals the order holds.
        let versions = |list: &[Announcement]| -> Vec<i64> {
            list.iter()
                .filter_map(|a| match a {
                    Announcement::Changed(change) => Some(change.version),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(versions(&back), versions(&announcements));
    }

    #[test]
    fn a_change_too_large_to_carry_is_announced_as_moved() {
        let team = TeamId::new();
        let large = change(Scope::Team(team), 42, 100);
        let signals = Signal::pack("node-a", &[large]);
        assert_eq!(signals.len(), 1);
        assert_eq!(
            round_trip(&signals[0]),
            [Announcement::Moved(Scope::Team(team), 42)]
        );
    }
}
