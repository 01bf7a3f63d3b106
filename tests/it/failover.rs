//! PostgreSQL fails over under two nodes (API.md, "Several nodes", its last paragraph): a
//! primary with a synchronous standby made by the test, two `taskpulse serve` processes on the
//! multi-host URL, writes flowing through both while the primary is killed
//! (`pg_ctl stop -m immediate`) and the standby promoted. Only 201 or 503 with `Retry-After`
//! is answered, both nodes write again after the promotion, every acknowledged write is on the
//! new primary, the statistics equal the rows (`taskpulse check` and each node's answer), a
//! WebSocket subscriber keeps receiving deltas, and health goes down and comes back. Timings
//! are printed, not asserted (BENCHMARKS.md, "Database failover"). `failover/standby.rs`: a
//! node whose connections reach a standby; `failover/bad_url.rs`: URLs refused at start-up.

mod bad_url;
mod pair;
mod standby;
mod writers;

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use taskpulse_actors::database::with_default_schema;
use taskpulse_testdb::target_dir;
use tokio::process::{Child, Command};

use crate::cluster::ws::{Received, next, receive, subscribe};
use crate::common::{Api, BINARY, expect_json, poll_until, start_server_on};
use pair::PostgresPair;
use writers::{Outcome, Writer};

/// Bound on recovering after the promotion (the target is 5 s; this only keeps a broken
/// build from hanging).
const RECOVERY: Duration = Duration::from_secs(60);

/// A `taskpulse serve` process and its data directory.
struct Node {
    api: Api,
    child: Child,
    data_dir: PathBuf,
}

impl Node {
    async fn start(url: &str, secret: &str) -> anyhow::Result<Self> {
        Self::start_with(url, secret, &[]).await
    }

    async fn start_with(url: &str, secret: &str, more: &[&str]) -> anyhow::Result<Self> {
        let data_dir = target_dir()
            .join("taskpulse-test-data")
            .join(uuid::Uuid::now_v7().simple().to_string());
        let mut args = vec![
            "--jwt-secret",
            secret,
            "--db-pool-size",
            "6",
            // A request waits this long for a connection before it is answered 503: the
            // outage below is longer, so writes meet it as clients would.
            "--db-timeout",
            "1s",
            "--cluster-check-every",
            "1s",
        ];
        args.extend_from_slice(more);
        let (child, base_url) = start_server_on(url, &data_dir, &args).await?;
        let address = base_url.trim_start_matches("http://").to_owned();
        Ok(Self {
            api: Api::at(&address),
            child,
            data_dir,
        })
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_promoted_standby_takes_over_and_no_acknowledged_write_is_lost() -> anyhow::Result<()> {
    // Arrange: the pair, two nodes on both hosts, a user, a subscriber on b, writers on both.
    let pair = PostgresPair::start().await?;
    let url = pair.url("taskpulse");
    let secret = format!(
        "{}{}",
        uuid::Uuid::now_v7().simple(),
        uuid::Uuid::now_v7().simple()
    );
    let a = Node::start(&url, &secret).await?;
    let b = Node::start(&url, &secret).await?;
    let ann = a.api.register("ann@example.com").await?;
    let mut on_b = subscribe(&b.api.base_url, &ann.access, "user", None).await?;
    receive(&mut on_b).await?;
    let writers = [
        Writer::start(a.api.clone(), ann.access.clone(), "a"),
        Writer::start(b.api.clone(), ann.access.clone(), "b"),
    ];
    let health = writers::HealthWatch::start(a.api.clone());
    for writer in &writers {
        writer.wait_for_writes(5).await?;
    }

    // Act: the primary dies; three seconds later (longer than health's 2 s database check)
    // the standby is promoted.
    pair.stop_primary().await?;
    let stopped = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    pair.promote_standby().await?;
    let promoted = Instant::now();
    let mut first_writes = Vec::new();
    for writer in &writers {
        first_writes.push(writer.first_write_after(promoted, RECOVERY).await?);
    }
    let healthy_again = health.healthy_after(promoted, RECOVERY).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let outcomes: Vec<Vec<Outcome>> =
        futures_util::future::join_all(writers.into_iter().map(Writer::stop)).await;
    let unhealthy_seen = health.stop().await;

    // Assert: only 201 or 503 + Retry-After, at every moment.
    let unexpected: Vec<&str> = outcomes
        .iter()
        .flatten()
        .filter_map(|o| match o {
            Outcome::Other(answer) => Some(answer.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "answers other than 201 and 503 + Retry-After: {unexpected:?}"
    );
    let refused = outcomes
        .iter()
        .flatten()
        .filter(|o| matches!(o, Outcome::Unavailable))
        .count();
    assert!(
        refused > 0,
        "no write met the failover: the test did not test it"
    );
    assert!(
        unhealthy_seen,
        "health never reported the database down during the failover"
    );

    // Every acknowledged write is on the new primary.
    let acknowledged: HashSet<String> = outcomes
        .iter()
        .flatten()
        .filter_map(|o| match o {
            Outcome::Created(title) => Some(title.clone()),
            _ => None,
        })
        .collect();
    let rows = titles_on(&pair.url_of(1, "taskpulse")).await?;
    let lost: Vec<&String> = acknowledged.difference(&rows).collect();
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");

    // The statistics equal the rows: in the database (`check`, over the multi-host URL) and in
    // each node's answer.
    let check = Command::new(BINARY)
        .args(["check", "--all", "--database-url", &url])
        .env("RUST_LOG", "warn")
        .output()
        .await?;
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success() && report.contains("consistent"),
        "{report}"
    );
    let total = i64::try_from(rows.len())?;
    for node in [&a, &b] {
        poll_until(RECOVERY, || async {
            let stats = expect_json(
                node.api
                    .get_as("/api/v1/dashboard/statistics", &ann.access)
                    .await?,
                200,
            )
            .await?;
            Ok(if stats["total"] == total {
                Ok(())
            } else {
                Err(stats.to_string())
            })
        })
        .await?;
    }

    // The subscriber on b is still there and its last delta has every row.
    let last = last_message(&mut on_b).await?;
    assert_eq!(
        last["stats"]["total"], total,
        "the subscriber's last message: {last}"
    );

    let ms = |d: Duration| d.as_millis();
    println!(
        "failover: primary stopped, promoted {} ms later; first write after the promotion: \
         a {} ms, b {} ms; health healthy {} ms after it; {} acknowledged, {} answered 503",
        ms(promoted - stopped),
        ms(first_writes[0]),
        ms(first_writes[1]),
        ms(healthy_again),
        acknowledged.len(),
        refused
    );
    Ok(())
}

/// The titles of every task on the server at `url`.
async fn titles_on(url: &str) -> anyhow::Result<HashSet<String>> {
    #[derive(diesel::QueryableByName)]
    struct Title {
        #[diesel(sql_type = diesel::sql_types::Text)]
        title: String,
    }
    let mut conn = AsyncPgConnection::establish(&with_default_schema(url)?).await?;
    let titles: Vec<Title> = diesel::sql_query("SELECT title::text AS title FROM tasks")
        .load(&mut conn)
        .await?;
    Ok(titles.into_iter().map(|t| t.title).collect())
}

/// The session's messages until it is quiet for two seconds; answers the last one and fails
/// when the session closed.
async fn last_message(socket: &mut crate::cluster::ws::Socket) -> anyhow::Result<Value> {
    let mut last = Value::Null;
    loop {
        match next(socket, Duration::from_secs(2)).await {
            Ok(Received::Message(message)) => last = message,
            Ok(Received::Closed(why)) => anyhow::bail!("the subscriber's session closed: {why}"),
            Err(_quiet) => return Ok(last),
        }
    }
}
