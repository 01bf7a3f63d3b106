//! What runs against the nodes during the failover: a writer per node creating tasks one after
//! another and keeping every answer with its time, and a watch on one node's health.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::common::Api;

/// What one write was answered.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// 201: the task with this title is acknowledged.
    Created(String),
    /// 503 `database_unavailable` with `Retry-After`.
    Unavailable,
    /// Anything else (the test fails on it).
    Other(String),
}

type Log = Arc<Mutex<Vec<(Instant, Outcome)>>>;

/// Creates tasks on one node until stopped.
pub struct Writer {
    log: Log,
    task: JoinHandle<()>,
}

impl Writer {
    pub fn start(api: Api, access: String, name: &'static str) -> Self {
        let log: Log = Arc::default();
        let kept = Arc::clone(&log);
        let task = tokio::spawn(async move {
            for i in 0.. {
                let title = format!("{name}-{i}");
                let outcome = write(&api, &access, &title).await;
                let now = Instant::now();
                kept.lock().expect("the log's lock").push((now, outcome));
                // A steady trickle, not a flood: the subject is following the primary.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        Self { log, task }
    }

    /// Waits until `n` writes were acknowledged.
    pub async fn wait_for_writes(&self, n: usize) -> anyhow::Result<()> {
        for _ in 0..300 {
            if self.created_since(None) >= n {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!(
            "fewer than {n} writes acknowledged within 30 s: {:?}",
            self.outcomes()
        )
    }

    /// How long after `moment` the first acknowledged write answered, waiting at most `within`.
    pub async fn first_write_after(
        &self,
        moment: Instant,
        within: Duration,
    ) -> anyhow::Result<Duration> {
        let deadline = moment + within;
        while Instant::now() < deadline {
            let first = (self.log.lock().expect("the log's lock"))
                .iter()
                .find(|(at, o)| *at > moment && matches!(o, Outcome::Created(_)))
                .map(|(at, _)| *at - moment);
            if let Some(first) = first {
                return Ok(first);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let tail: Vec<Outcome> = self.outcomes().into_iter().rev().take(5).collect();
        anyhow::bail!("no write acknowledged within {within:?} of the promotion; last: {tail:?}")
    }

    /// Stops writing (a write in flight is abandoned: it is not counted either way) and answers
    /// every outcome.
    pub async fn stop(self) -> Vec<Outcome> {
        let Self { log, task } = self;
        task.abort();
        let _ = task.await;
        let outcomes = log.lock().expect("the log's lock");
        outcomes.iter().map(|(_, o)| o.clone()).collect()
    }

    fn created_since(&self, moment: Option<Instant>) -> usize {
        (self.log.lock().expect("the log's lock"))
            .iter()
            .filter(|(at, o)| moment.is_none_or(|m| *at > m) && matches!(o, Outcome::Created(_)))
            .count()
    }

    fn outcomes(&self) -> Vec<Outcome> {
        (self.log.lock().expect("the log's lock"))
            .iter()
            .map(|(_, o)| o.clone())
            .collect()
    }
}

/// Creates one task titled `title` and says how it was answered.
pub async fn write(api: &Api, access: &str, title: &str) -> Outcome {
    let body = json!({ "title": title });
    let response = match api.post_as("/api/v1/tasks", access, &body).await {
        Ok(response) => response,
        Err(err) => return Outcome::Other(format!("no answer: {err}")),
    };
    let status = response.status().as_u16();
    let retry_after = response.headers().contains_key("retry-after");
    let body: Value = response.json().await.unwrap_or(Value::Null);
    match status {
        201 => Outcome::Created(title.to_owned()),
        503 if retry_after && body["code"] == "database_unavailable" => Outcome::Unavailable,
        _ => Outcome::Other(format!("{status} (Retry-After: {retry_after}) {body}")),
    }
}

/// Reads one node's health every 100 ms.
pub struct HealthWatch {
    log: Arc<Mutex<Vec<(Instant, bool)>>>,
    task: JoinHandle<()>,
}

impl HealthWatch {
    pub fn start(api: Api) -> Self {
        let log: Arc<Mutex<Vec<(Instant, bool)>>> = Arc::default();
        let kept = Arc::clone(&log);
        let task = tokio::spawn(async move {
            loop {
                let healthy = database_healthy(&api).await;
                kept.lock()
                    .expect("the log's lock")
                    .push((Instant::now(), healthy));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        Self { log, task }
    }

    /// How long after `moment` health first said the database is healthy again.
    pub async fn healthy_after(
        &self,
        moment: Instant,
        within: Duration,
    ) -> anyhow::Result<Duration> {
        let deadline = moment + within;
        while Instant::now() < deadline {
            let first = (self.log.lock().expect("the log's lock"))
                .iter()
                .find(|(at, healthy)| *at > moment && *healthy)
                .map(|(at, _)| *at - moment);
            if let Some(first) = first {
                return Ok(first);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        anyhow::bail!("health did not say the database is healthy within {within:?}")
    }

    /// Stops watching; answers whether the database was ever reported not healthy.
    pub async fn stop(self) -> bool {
        let Self { log, task } = self;
        task.abort();
        let _ = task.await;
        let readings = log.lock().expect("the log's lock");
        readings.iter().any(|(_, healthy)| !healthy)
    }
}

/// Whether `/api/v1/health` lists the database as healthy.
async fn database_healthy(api: &Api) -> bool {
    let Ok(response) = api.get("/api/v1/health").await else {
        return false;
    };
    let Ok(health) = response.json::<Value>().await else {
        return false;
    };
    health["services"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| s["name"] == "database" && s["status"] == "healthy")
}
