//! Clients that keep a cluster busy through one address (the balancer): writers that tally
//! what was acknowledged, a reader that records failed reads, and followers that record every
//! WebSocket message of their user's statistics, resuming after every close.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;
use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::ws::{self, Received, Socket};
use crate::common::{Registered, poll_until};

/// Bound on waiting for the load to reach a point, and on a follower catching up.
const WAIT: Duration = Duration::from_secs(20);

/// What one user's writes came to.
#[derive(Debug, Default)]
pub struct Tally {
    /// Answered 2xx: must be there afterwards.
    pub acked: usize,
    /// Cut by a failure (5xx, or no answer at all): may be there or not.
    pub uncertain: usize,
    /// Answered 4xx: not expected at all.
    pub refused: Vec<String>,
}

/// One writer per user, creating tasks one after the other, and one reader of the first
/// user's statistics, until stopped.
pub struct Load {
    stop: Arc<AtomicBool>,
    acked: Arc<AtomicUsize>,
    writers: Vec<JoinHandle<Tally>>,
    reader: JoinHandle<Vec<String>>,
}

impl Load {
    pub fn start(http: &reqwest::Client, base_url: &str, users: &[Registered]) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(AtomicUsize::new(0));
        let client = |access: &str| Client {
            http: http.clone(),
            base_url: base_url.to_owned(),
            access: access.to_owned(),
            stop: Arc::clone(&stop),
            acked: Arc::clone(&acked),
        };
        let writers = (users.iter())
            .map(|user| tokio::spawn(client(&user.access).write_until_stopped()))
            .collect();
        let reader = tokio::spawn(client(&users[0].access).read_until_stopped());
        Self {
            stop,
            acked,
            writers,
            reader,
        }
    }

    /// Writes acknowledged so far, all users together.
    pub fn acked(&self) -> usize {
        self.acked.load(Ordering::Relaxed)
    }

    /// Waits until `count` writes were acknowledged.
    pub async fn until_acked(&self, count: usize) -> anyhow::Result<()> {
        poll_until(WAIT, || async {
            let now = self.acked();
            Ok(if now >= count {
                Ok(())
            } else {
                Err(format!("{now} acked"))
            })
        })
        .await
    }

    /// Stops, and answers each user's tally and every read that failed.
    pub async fn stop(self) -> anyhow::Result<(Vec<Tally>, Vec<String>)> {
        self.stop.store(true, Ordering::Relaxed);
        let mut tallies = Vec::with_capacity(self.writers.len());
        for writer in self.writers {
            tallies.push(writer.await?);
        }
        Ok((tallies, self.reader.await?))
    }
}

/// One user's requests.
struct Client {
    http: reqwest::Client,
    base_url: String,
    access: String,
    stop: Arc<AtomicBool>,
    acked: Arc<AtomicUsize>,
}

impl Client {
    async fn write_until_stopped(self) -> Tally {
        let mut tally = Tally::default();
        while !self.stop.load(Ordering::Relaxed) {
            let title = format!("load {}", tally.acked + tally.uncertain);
            let sent = (self.http.post(format!("{}/api/v1/tasks", self.base_url)))
                .bearer_auth(&self.access)
                .json(&json!({ "title": title }))
                .send()
                .await;
            match sent {
                Ok(response) if response.status().is_success() => {
                    tally.acked += 1;
                    self.acked.fetch_add(1, Ordering::Relaxed);
                    let _ = response.bytes().await;
                }
                Ok(response) if response.status().is_server_error() => tally.uncertain += 1,
                Ok(response) => tally.refused.push(response.status().to_string()),
                Err(_) => tally.uncertain += 1,
            }
        }
        tally
    }

    async fn read_until_stopped(self) -> Vec<String> {
        let mut failed = Vec::new();
        let url = format!("{}/api/v1/dashboard/statistics", self.base_url);
        while !self.stop.load(Ordering::Relaxed) {
            match self.http.get(&url).bearer_auth(&self.access).send().await {
                Ok(response) if response.status() == 200 => {}
                Ok(response) => failed.push(response.status().to_string()),
                Err(err) => failed.push(err.to_string()),
            }
        }
        failed
    }
}

/// What a follower saw.
#[derive(Debug)]
pub enum Seen {
    /// A message: its type and version (-1 when it has none).
    Message(String, i64),
    /// The session ended, for this reason.
    Closed(String),
}

/// One follower per user, each on a session of its own subscribed to `user`.
pub struct Followers {
    heads: watch::Sender<Option<Vec<i64>>>,
    followers: Vec<JoinHandle<anyhow::Result<Vec<Seen>>>>,
}

impl Followers {
    /// Subscribes each user through `base_url` and waits for the snapshots.
    pub async fn start(base_url: &str, users: &[Registered]) -> anyhow::Result<Self> {
        let (heads, targets) = watch::channel(None);
        let mut followers = Vec::with_capacity(users.len());
        for (index, user) in users.iter().enumerate() {
            let mut socket = ws::subscribe(base_url, &user.access, "user", None).await?;
            let snapshot = ws::receive(&mut socket).await?;
            let first = snapshot["version"].as_i64().context("a snapshot version")?;
            let follower = Follower {
                base_url: base_url.to_owned(),
                access: user.access.clone(),
                index,
                targets: targets.clone(),
            };
            followers.push(tokio::spawn(follower.follow(socket, first)));
        }
        Ok(Self { heads, followers })
    }

    /// Lets each follower run until it saw its user's version in `heads`; answers what each
    /// saw.
    pub async fn finish(self, heads: Vec<i64>) -> anyhow::Result<Vec<Vec<Seen>>> {
        self.heads.send_replace(Some(heads));
        let mut logs = Vec::with_capacity(self.followers.len());
        for follower in self.followers {
            logs.push(tokio::time::timeout(WAIT, follower).await???);
        }
        Ok(logs)
    }
}

struct Follower {
    base_url: String,
    access: String,
    index: usize,
    targets: watch::Receiver<Option<Vec<i64>>>,
}

impl Follower {
    async fn follow(mut self, mut socket: Socket, first: i64) -> anyhow::Result<Vec<Seen>> {
        let mut seen = vec![Seen::Message("snapshot".to_owned(), first)];
        let mut last = first;
        loop {
            let target = (self.targets.borrow().as_ref()).and_then(|t| t.get(self.index).copied());
            if target.is_some_and(|target| last >= target) {
                return Ok(seen);
            }
            tokio::select! {
                received = ws::next(&mut socket, WAIT) => match received? {
                    Received::Message(message) => {
                        let kind = message["type"].as_str().unwrap_or("?").to_owned();
                        let version = message["version"].as_i64().unwrap_or(-1);
                        if version >= 0 {
                            last = version;
                        }
                        seen.push(Seen::Message(kind, version));
                    }
                    Received::Closed(why) => {
                        seen.push(Seen::Closed(why));
                        socket = self.resume(last).await?;
                    }
                },
                changed = self.targets.changed() => changed?,
            }
        }
    }

    /// Reconnects and subscribes after `last`.
    async fn resume(&self, last: i64) -> anyhow::Result<Socket> {
        poll_until(WAIT, || async {
            let resumed = ws::subscribe(&self.base_url, &self.access, "user", Some(last)).await;
            Ok(resumed.map_err(|err| err.to_string()))
        })
        .await
    }
}

/// The versions of `log`: one snapshot first, then deltas growing by exactly one, whatever
/// closes come between; describes the first break otherwise.
pub fn consecutive_versions(log: &[Seen]) -> Result<Vec<i64>, String> {
    let mut versions: Vec<i64> = Vec::new();
    for seen in log {
        let Seen::Message(kind, version) = seen else {
            continue;
        };
        match (versions.last(), kind.as_str()) {
            (None, "snapshot") => {}
            (Some(&last), "delta") if *version == last + 1 => {}
            // A resume's end: live again at the version held.
            (Some(&last), "subscribed") if *version == last => continue,
            _ => return Err(format!("{kind} {version} after {:?}", versions.last())),
        }
        versions.push(*version);
    }
    Ok(versions)
}

/// Why each session in `logs` ended.
pub fn closes(logs: &[Vec<Seen>]) -> Vec<&str> {
    (logs.iter().flatten())
        .filter_map(|seen| match seen {
            Seen::Closed(why) => Some(why.as_str()),
            Seen::Message(..) => None,
        })
        .collect()
}
