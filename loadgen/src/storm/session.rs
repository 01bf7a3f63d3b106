//! One storm session: a client as the contract asks clients to be. It subscribes to its
//! topics, follows their versions, and when its node goes away comes back on another one after
//! a jittered exponential backoff, resuming every topic with `since_version`.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use super::tally::Tally;
use crate::client::{Client, Incoming, Socket, backoff, connect, send_json};

/// Who a session is and where it starts.
pub struct Plan {
    /// Its index among the sessions (spreads the orphans of a node over the survivors).
    pub index: usize,
    /// Its user's access token.
    pub token: String,
    /// The topics it follows, e.g. `["user", "team:<id>"]`.
    pub topics: Vec<String>,
    /// The node it connects to first.
    pub node: usize,
}

/// What the run reads of a session while it runs.
#[derive(Debug, Clone)]
pub struct View {
    /// The node it is on, or trying.
    pub node: usize,
    /// Whether every topic is live (snapshot or `subscribed` received since the last connect).
    pub live: bool,
    /// The version it holds of each topic, in [`Plan::topics`] order.
    pub versions: Vec<Option<i64>>,
    /// When it last became live after losing its connection.
    pub back_at: Option<Instant>,
    /// When it last lost its connection.
    pub dropped_at: Option<Instant>,
}

/// A session's [`View`], shared with the run.
pub struct Cell(Mutex<View>);

impl Cell {
    pub fn new(node: usize, topics: usize) -> Self {
        Self(Mutex::new(View {
            node,
            live: false,
            versions: vec![None; topics],
            back_at: None,
            dropped_at: None,
        }))
    }

    /// A copy of the view (a poisoned lock only means a session task panicked mid-update).
    pub fn view(&self) -> View {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether `test` holds of the view (no copy).
    pub fn holds(&self, test: impl FnOnce(&View) -> bool) -> bool {
        test(&self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn update(&self, change: impl FnOnce(&mut View)) {
        change(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

/// How one connection ended.
enum Ended {
    Stopped,
    Dropped,
}

/// Counters a session keeps to itself until it stops (no lock per delta).
#[derive(Default)]
pub struct Counts {
    /// Deltas whose version was not the previous one + 1.
    pub gaps: u64,
    /// Snapshots that arrived while the topic was live (the server collapsed queued deltas).
    pub snapshots_mid_run: u64,
    /// `subscribed` answers whose version was not the one the replay had reached.
    pub subscribed_mismatches: u64,
    /// Connection losses.
    pub drops: u64,
    /// Connection attempts that failed (a dead node refuses them).
    pub failed_connects: u64,
    /// `error` messages from the server.
    pub errors: u64,
    /// Subscriptions sent again after an `unavailable` error (the server's "try again").
    pub subscribe_retries: u64,
    /// The first of them.
    pub first_error: Option<String>,
}

/// Follows `plan` until `stop` turns true; hands back its counters.
pub async fn follow(
    client: Client,
    plan: Plan,
    cell: Arc<Cell>,
    tally: Arc<Tally>,
    mut stop: watch::Receiver<bool>,
) -> Counts {
    let mut counts = Counts::default();
    let mut versions: Vec<Option<i64>> = vec![None; plan.topics.len()];
    let (mut node, mut attempt) = (plan.node, 0u32);
    loop {
        if *stop.borrow() {
            return counts;
        }
        cell.update(|view| view.node = node);
        match connect(&client.ws_url(node, &plan.token)).await {
            Ok(mut socket) => {
                attempt = 0;
                let connection = Connection {
                    plan: &plan,
                    cell: &cell,
                    tally: &tally,
                    counts: &mut counts,
                    versions: &mut versions,
                };
                if let Ended::Stopped = connection.follow(&mut socket, &mut stop).await {
                    return counts;
                }
                counts.drops += 1;
                cell.update(|view| {
                    view.live = false;
                    view.dropped_at = Some(Instant::now());
                });
            }
            Err(_) => {
                counts.failed_connects += 1;
                attempt += 1;
            }
        }
        node = next_node(node, plan.index, client.node_count());
        tokio::select! {
            () = tokio::time::sleep(backoff(attempt)) => {}
            _ = stop.changed() => return counts,
        }
    }
}

/// Where a session goes when its node fails: another node, the orphans of one node spread
/// evenly over the others by session index.
fn next_node(node: usize, index: usize, nodes: usize) -> usize {
    if nodes < 2 {
        return node;
    }
    (node + 1 + index % (nodes - 1)) % nodes
}

/// One connection of a session: subscribe (resuming what it holds), then follow.
struct Connection<'a> {
    plan: &'a Plan,
    cell: &'a Cell,
    tally: &'a Tally,
    counts: &'a mut Counts,
    versions: &'a mut Vec<Option<i64>>,
}

impl Connection<'_> {
    async fn follow(self, socket: &mut Socket, stop: &mut watch::Receiver<bool>) -> Ended {
        let subscribed_at = Instant::now();
        for t in 0..self.plan.topics.len() {
            if self.subscribe(socket, t).await.is_err() {
                return Ended::Dropped;
            }
        }
        let resuming: Vec<bool> = self.versions.iter().map(Option::is_some).collect();
        let mut pending = vec![true; self.plan.topics.len()];
        // Topics the server asked to subscribe again later, and when.
        let mut retry: Vec<(usize, Instant)> = Vec::new();
        let mut retries = 0u32;
        loop {
            let retry_at = retry.iter().map(|&(_, at)| at).min();
            let frame = tokio::select! {
                frame = socket.next() => frame,
                _ = stop.changed() => return Ended::Stopped,
                () = sleep_until(retry_at), if retry_at.is_some() => {
                    let now = Instant::now();
                    let due: Vec<usize> = (retry.iter()).filter(|&&(_, at)| at <= now).map(|&(t, _)| t).collect();
                    retry.retain(|&(_, at)| at > now);
                    for t in due {
                        self.counts.subscribe_retries += 1;
                        if self.subscribe(socket, t).await.is_err() {
                            return Ended::Dropped;
                        }
                    }
                    continue;
                }
            };
            let text = match frame {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Close(_)) | Err(_)) | None => return Ended::Dropped,
                Some(Ok(_)) => continue,
            };
            let Some(message) = Incoming::parse(&text) else {
                continue;
            };
            let topic = message.topic.as_deref();
            let position = self
                .plan
                .topics
                .iter()
                .position(|name| Some(name.as_str()) == topic);
            if message.kind == "error" {
                self.counts.errors += 1;
                (self.counts.first_error).get_or_insert_with(|| text.to_string());
                // "Try again": as a client should, after a jittered, growing wait.
                if let Some(t) = position.filter(|&t| pending[t])
                    && message.code.as_deref() == Some("unavailable")
                {
                    retry.push((t, Instant::now() + backoff(retries)));
                    retries += 1;
                }
                continue;
            }
            let Some(t) = position else {
                continue;
            };
            let Some(version) = message.version else {
                continue;
            };
            let held = self.versions[t];
            match message.kind.as_str() {
                "snapshot" if pending[t] => {
                    pending[t] = false;
                    if resuming[t] {
                        self.tally.resumed(false, subscribed_at.elapsed());
                    }
                }
                "snapshot" => self.counts.snapshots_mid_run += 1,
                "delta" if held.is_none_or(|held| version != held + 1) => self.counts.gaps += 1,
                "delta" => {}
                "subscribed" => {
                    if held != Some(version) {
                        self.counts.subscribed_mismatches += 1;
                    }
                    if pending[t] {
                        pending[t] = false;
                        self.tally.resumed(true, subscribed_at.elapsed());
                    }
                }
                _ => continue,
            }
            self.versions[t] = Some(version);
            let live = !pending.contains(&true);
            self.cell.update(|view| {
                view.versions[t] = Some(version);
                if live && !view.live {
                    view.live = true;
                    if resuming.contains(&true) {
                        view.back_at = Some(Instant::now());
                    }
                }
            });
        }
    }
}

impl Connection<'_> {
    /// Subscribes to topic `t`, resuming from the version held if there is one.
    async fn subscribe(&self, socket: &mut Socket, t: usize) -> anyhow::Result<()> {
        let topic = &self.plan.topics[t];
        let message = match self.versions[t] {
            Some(since) => json!({ "type": "subscribe", "topic": topic, "since_version": since }),
            None => json!({ "type": "subscribe", "topic": topic }),
        };
        send_json(socket, &message).await
    }
}

/// Sleeps until `at` (forever without one: the branch is disabled then).
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::next_node;

    #[test]
    fn orphans_of_one_node_spread_over_the_others() {
        let targets: Vec<usize> = (0..6).map(|index| next_node(2, index, 3)).collect();
        assert_eq!(targets, [0, 1, 0, 1, 0, 1]);
        assert!((0..6).all(|index| next_node(0, index, 3) != 0));
        assert_eq!(next_node(0, 5, 1), 0, "one node: nowhere else to go");
    }
}
