//! The audit log read forward, for feed topics (docs/feeds.md).
//!
//! An entry's place in a feed is its *position*: the id of the transaction that wrote it, then
//! its own id. Entries are read only below the horizon (the oldest transaction still running,
//! `pg_snapshot_xmin`): every transaction below it has ended, so no entry can appear later at
//! a position already passed. Positions therefore only grow, and they are the same on every
//! node. A long write transaction holds the horizon back and delays the feeds, never reorders
//! them.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::audit::AuditRecord;
use super::sql::Sql;
use crate::error::{Error, Result};

/// Where an entry stands in the order feeds deliver: its transaction, then its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Position {
    pub tx: i64,
    pub id: Uuid,
}

impl Position {
    /// Past every entry of the transactions below `horizon`.
    pub(crate) fn below(horizon: i64) -> Self {
        Self {
            tx: horizon - 1,
            id: Uuid::max(),
        }
    }
}

/// The entries a read wants: a team's, and those in the feed of one of the users; or every
/// entry, when the reader follows too many feeds for PostgreSQL to match them quickly (an
/// array overlap compares every pair) and picks its own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Interest {
    pub teams: Vec<Uuid>,
    pub users: Vec<Uuid>,
    pub everything: bool,
}

/// One entry as a feed delivers it.
#[derive(Debug)]
pub(crate) struct FeedRow {
    pub position: Position,
    pub record: Arc<AuditRecord>,
    /// The users whose `feed:user` shows it.
    pub audience: Vec<Uuid>,
}

/// What a read found: the entries, and the position up to which it found every entry of its
/// interest.
#[derive(Debug)]
pub(crate) struct Read {
    pub rows: Vec<FeedRow>,
    pub done_to: Position,
}

type RowType = (
    BigInt,
    Nullable<BigInt>,
    Nullable<SqlUuid>,
    Nullable<Timestamptz>,
    Nullable<SqlUuid>,
    Nullable<Text>,
    Nullable<Text>,
    Nullable<SqlUuid>,
    Nullable<SqlUuid>,
    Nullable<Text>,
    Nullable<Array<SqlUuid>>,
);

type RowValues = (
    i64,
    Option<i64>,
    Option<Uuid>,
    Option<DateTime<Utc>>,
    Option<Uuid>,
    Option<String>,
    Option<String>,
    Option<Uuid>,
    Option<Uuid>,
    Option<String>,
    Option<Vec<Uuid>>,
);

/// The horizon, once per statement (a scalar sub-query is evaluated once and bounds the index
/// scan).
pub(crate) const HORIZON: &str = "(SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint)";

/// The entries of `interest` after `after`, in order, at most `limit`.
pub(crate) async fn read_after(
    conn: &mut AsyncPgConnection,
    after: Position,
    interest: &Interest,
    limit: i64,
) -> Result<Read> {
    let mut sql = Sql::<RowType>::new();
    // The horizon comes back even when no entry does (the outer row of the lateral join), so
    // that a reader moves past what does not concern it instead of scanning it again.
    sql.generated(format!(
        "SELECT h.horizon, a.tx, a.id, a.at, a.actor_id, a.action, a.target_type, a.target_id, \
         a.team_id, a.details::text, a.audience FROM (SELECT {HORIZON} AS horizon) h \
         LEFT JOIN LATERAL (SELECT * FROM audit_log WHERE (tx, id) > ("
    ))
    .bind(after.tx)
    .sql(", ")
    .bind(after.id)
    .sql(") AND tx < h.horizon AND (")
    .bind(interest.everything)
    .sql(" OR team_id = ANY(")
    .bind(interest.teams.clone())
    .sql(") OR audience && ")
    .bind(interest.users.clone())
    .sql(") ORDER BY tx, id LIMIT ")
    .bind(limit)
    .sql(") a ON TRUE ORDER BY a.tx, a.id");
    let rows: Vec<RowValues> = sql.get_results(conn).await?;
    let horizon = <[_]>::first(&rows).map_or(after.tx, |row| row.0);
    let mut found = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(row) = feed_row(row)? {
            found.push(row);
        }
    }
    let done_to = match found.last() {
        Some(last) if found.len() as i64 >= limit => last.position,
        _ => after.max(Position::below(horizon)),
    };
    Ok(Read {
        rows: found,
        done_to,
    })
}

fn feed_row(row: RowValues) -> Result<Option<FeedRow>> {
    let (_, tx, id, at, actor_id, action, target_type, target_id, team_id, details, audience) = row;
    let (Some(tx), Some(id), Some(at), Some(action), Some(target_type), Some(details)) =
        (tx, id, at, action, target_type, details)
    else {
        return Ok(None);
    };
    let details = serde_json::from_str(&details).map_err(|err| {
        Error::DatabaseUnavailable(format!("an audit entry's details could not be read: {err}"))
    })?;
    Ok(Some(FeedRow {
        position: Position { tx, id },
        record: Arc::new(AuditRecord {
            id,
            at,
            actor_id,
            action,
            target_type,
            target_id,
            team_id,
            details,
        }),
        audience: audience.unwrap_or_default(),
    }))
}

/// Where the feeds stand now: past every entry below the horizon.
pub(crate) async fn head(conn: &mut AsyncPgConnection) -> Result<Position> {
    let mut sql = Sql::<BigInt>::new();
    sql.generated(format!("SELECT {HORIZON}"));
    let horizon: i64 = sql.get_result(conn).await?;
    Ok(Position::below(horizon))
}

/// Which transactions had committed when a snapshot was taken (PostgreSQL's `pg_snapshot`):
/// a subscription made "from now on" skips the entries its snapshot already saw, even those
/// above the horizon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot {
    xmin: i64,
    xmax: i64,
    running: Vec<i64>,
}

impl Snapshot {
    /// Whether the transaction `tx` had committed (or rolled back) when the snapshot was taken.
    pub fn saw(&self, tx: i64) -> bool {
        tx < self.xmin || (tx < self.xmax && !self.running.contains(&tx))
    }

    /// `xmin:xmax:xip,…`, as PostgreSQL writes a `pg_snapshot`.
    fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split(':');
        let xmin = parts.next()?.parse().ok()?;
        let xmax = parts.next()?.parse().ok()?;
        let running = match parts.next()? {
            "" => Vec::new(),
            list => list
                .split(',')
                .map(str::parse)
                .collect::<Result<_, _>>()
                .ok()?,
        };
        Some(Self {
            xmin,
            xmax,
            running,
        })
    }
}

/// The database's snapshot now.
pub(crate) async fn snapshot(conn: &mut AsyncPgConnection) -> Result<Snapshot> {
    let mut sql = Sql::<Text>::new();
    sql.sql("SELECT pg_current_snapshot()::text");
    let text: String = sql.get_result(conn).await?;
    Snapshot::parse(&text)
        .ok_or_else(|| Error::DatabaseUnavailable(format!("an unreadable snapshot: {text}")))
}

/// The position of the entry `id`, if there is one.
pub(crate) async fn position_of(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> Result<Option<Position>> {
    let mut sql = Sql::<BigInt>::new();
    sql.sql("SELECT tx FROM audit_log WHERE id = ").bind(id);
    let tx: Vec<i64> = sql.get_results(conn).await?;
    Ok(<[_]>::first(&tx).map(|&tx| Position { tx, id }))
}

#[cfg(test)]
mod tests {
    use super::Snapshot;

    #[test]
    fn a_snapshot_saw_what_had_ended_below_its_xmax_but_not_what_was_running() {
        let snapshot = Snapshot::parse("100:105:100,103").expect("a snapshot");
        let saw: Vec<i64> = (98..107).filter(|tx| snapshot.saw(*tx)).collect();
        assert_eq!(saw, [98, 99, 101, 102, 104]);
        assert_eq!(Snapshot::parse("7:7:").map(|s| s.saw(6)), Some(true));
        assert_eq!(Snapshot::parse("nonsense"), None);
    }
}
