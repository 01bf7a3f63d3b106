//! The signal between nodes: "these scopes moved to these versions; these subscriptions are
//! revoked". Small on purpose (PostgreSQL caps a NOTIFY payload near 8 kB): the changes
//! themselves are read from the change log. Signals are hints, never the only record: a lost
//! one is found by the periodic check.

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
use crate::stats::Scope;

/// The channel every node listens on (channels are per database).
pub(crate) const CHANNEL: &str = "taskpulse_changes";

/// Entries per NOTIFY: about 60 bytes each keeps a payload well under PostgreSQL's limit.
const ENTRIES_PER_SIGNAL: usize = 100;

/// One thing the other nodes should hear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Announcement {
    /// The scope's row is at this version now.
    Moved(Scope, i64),
    /// This member (everyone, when `None`: the team is gone) may no longer read the team.
    Revoked(TeamId, Option<UserId>),
    /// A sign-in session or an account ended: its access tokens stop working.
    Ended(Ending),
    /// In-app notifications were made: the `notifications` topics read them.
    Notified,
}

/// A signal as sent: the sending node and what it announces, in short JSON.
#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Signal {
    /// The node that committed.
    #[serde(rename = "n")]
    pub node: String,
    /// Scopes moved: ("u" or "t", id, version).
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

impl Signal {
    /// Packs announcements into as few signals as the payload limit allows.
    pub fn pack(node: &str, announcements: &[Announcement]) -> Vec<Signal> {
        announcements
            .chunks(ENTRIES_PER_SIGNAL)
            .map(|chunk| {
                let mut signal = Signal {
                    node: node.to_owned(),
                    ..Signal::default()
                };
                for announcement in chunk {
                    match *announcement {
                        Announcement::Moved(Scope::User(user), version) => {
                            signal.moved.push(("u".to_owned(), user.0, version));
                        }
                        Announcement::Moved(Scope::Team(team), version) => {
                            signal.moved.push(("t".to_owned(), team.0, version));
                        }
                        Announcement::Revoked(team, user) => {
                            signal.revoked.push((team.0, user.map(|u| u.0)));
                        }
                        Announcement::Ended(Ending::Session(session)) => {
                            signal.ended.push(("s".to_owned(), session));
                        }
                        Announcement::Ended(Ending::Account(user)) => {
                            signal.ended.push(("a".to_owned(), user.0));
                        }
                        Announcement::Notified => signal.notified = true,
                    }
                }
                signal
            })
            .collect()
    }

    /// What the signal announces (unknown scope kinds, from a newer node, are skipped).
    pub fn announcements(&self) -> impl Iterator<Item = Announcement> + '_ {
        let moved = self.moved.iter().filter_map(|(kind, id, version)| {
            let scope = match kind.as_str() {
                "u" => Scope::User(UserId(*id)),
                "t" => Scope::Team(TeamId(*id)),
                _ => return None,
            };
            Some(Announcement::Moved(scope, *version))
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
        moved.chain(revoked).chain(ended).chain(notified)
    }
}

/// The announcements of a committed write.
pub(crate) fn moved(published: &[Published]) -> impl Iterator<Item = Announcement> + '_ {
    published
        .iter()
        .map(|p| Announcement::Moved(p.scope, p.version))
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
        while pending.len() < 10 * ENTRIES_PER_SIGNAL {
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
    use super::*;

    #[test]
    fn a_signal_round_trips_through_its_payload() {
        let user = UserId::new();
        let team = TeamId(Uuid::now_v7());
        let announcements = [
            Announcement::Moved(Scope::User(user), 7),
            Announcement::Moved(Scope::Team(team), 3),
            Announcement::Revoked(team, Some(user)),
            Announcement::Revoked(team, None),
            Announcement::Notified,
        ];
        let signals = Signal::pack("node-a", &announcements);
        assert_eq!(signals.len(), 1);
        let payload = serde_json::to_string(&signals[0]).unwrap_or_default();
        let back: Signal = serde_json::from_str(&payload).unwrap_or_default();
        assert_eq!(back.node, "node-a");
        assert_eq!(back.announcements().collect::<Vec<_>>(), announcements);
    }

    #[test]
    fn many_announcements_split_into_payloads_under_the_limit() {
        let announcements: Vec<Announcement> = (0..1000)
            .map(|v| Announcement::Moved(Scope::User(UserId::new()), i64::MAX - v))
            .collect();
        let signals = Signal::pack("a-node-id-of-some-length", &announcements);
        assert_eq!(signals.len(), 10);
        for signal in &signals {
            let payload = serde_json::to_string(signal).unwrap_or_default();
            assert!(payload.len() < 8000, "{} bytes", payload.len());
        }
    }
}
