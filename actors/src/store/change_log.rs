//! The change log (`aggregate_changes`): every aggregate change, appended in the transaction that
//! bumps the aggregate's row. Nodes read the versions they lack from it, resuming subscribers
//! replay from it, and it is pruned in the background. Also the aggregates' heads (the
//! versions their rows are at), which the periodic check compares with what a node holds.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Bool, Double, Text, Timestamptz, Uuid as SqlUuid};
use diesel::{Queryable, QueryableByName};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::sql::Sql;
use crate::error::{Error, Result};
use crate::model::{TeamId, UserId};
use crate::published::Published;
use crate::stats::{Delta, Scope};

/// How a scope is keyed in the log: its kind and its id.
fn key(scope: Scope) -> (&'static str, Uuid) {
    match scope {
        Scope::User(user) => ("user", user.0),
        Scope::Team(team) => ("team", team.0),
    }
}

fn scope_of(kind: &str, id: Uuid) -> Option<Scope> {
    match kind {
        "user" => Some(Scope::User(UserId(id))),
        "team" => Some(Scope::Team(TeamId(id))),
        _ => None,
    }
}

fn decoding(err: serde_json::Error) -> Error {
    Error::DatabaseUnavailable(format!("a logged change could not be decoded: {err}"))
}

/// What to read of one scope's history: the versions after `after`, up to `upto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wanted {
    pub scope: Scope,
    pub after: i64,
    pub upto: i64,
}

/// A logged change, as [`read`] reads it.
#[derive(Queryable)]
struct ChangeRow {
    scope_kind: String,
    scope_id: Uuid,
    version: i64,
    delta: String,
    committed_at: DateTime<Utc>,
}

/// The logged changes in each wanted range, by scope then version, at most `limit` in all.
/// Ranges the log no longer (or never) covered come back short: the caller decides.
pub(crate) async fn read(
    conn: &mut AsyncPgConnection,
    wanted: &[Wanted],
    limit: i64,
) -> Result<Vec<Published>> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let (kinds, ids): (Vec<&str>, Vec<Uuid>) = wanted.iter().map(|w| key(w.scope)).unzip();
    let afters: Vec<i64> = wanted.iter().map(|w| w.after).collect();
    let uptos: Vec<i64> = wanted.iter().map(|w| w.upto).collect();
    let mut sql = Sql::<(Text, SqlUuid, BigInt, Text, Timestamptz)>::new();
    sql.sql(
        "SELECT c.scope_kind, c.scope_id, c.version, c.delta::text AS delta, c.committed_at \
         FROM unnest(",
    )
    .bind(kinds)
    .sql("::text[], ")
    .bind(ids)
    .sql("::uuid[], ")
    .bind(afters)
    .sql("::bigint[], ")
    .bind(uptos)
    .sql(
        "::bigint[]) AS w(kind, id, after, upto) \
         JOIN aggregate_changes c \
           ON c.scope_kind = w.kind AND c.scope_id = w.id AND c.version > w.after \
           AND c.version <= w.upto \
         ORDER BY c.scope_kind, c.scope_id, c.version \
         LIMIT ",
    )
    .bind(limit);
    let rows: Vec<ChangeRow> = sql.load(conn).await?;
    rows.into_iter()
        .filter_map(|row| {
            let scope = scope_of(&row.scope_kind, row.scope_id)?;
            Some((scope, row))
        })
        .map(|(scope, row)| {
            let delta: Delta = serde_json::from_str(&row.delta).map_err(decoding)?;
            Ok(Published {
                scope,
                version: row.version,
                as_of: row.committed_at,
                delta: Arc::new(delta),
            })
        })
        .collect()
}

/// A scope and a version of it (its row's, or a bound).
#[derive(Queryable, QueryableByName)]
struct HeadRow {
    #[diesel(sql_type = Text)]
    scope_kind: String,
    #[diesel(sql_type = SqlUuid)]
    scope_id: Uuid,
    #[diesel(sql_type = BigInt)]
    version: i64,
}

/// The versions the scopes' rows are at now (scopes without a row are left out).
pub(crate) async fn heads(
    conn: &mut AsyncPgConnection,
    scopes: &[Scope],
) -> Result<Vec<(Scope, i64)>> {
    let mut users = Vec::new();
    let mut teams = Vec::new();
    for scope in scopes {
        match scope {
            Scope::User(user) => users.push(user.0),
            Scope::Team(team) => teams.push(team.0),
        }
    }
    let mut sql = Sql::<(Text, SqlUuid, BigInt)>::new();
    sql.sql(
        "SELECT 'user'::text AS scope_kind, user_id AS scope_id, version FROM user_stats \
           WHERE user_id = ANY(",
    )
    .bind(users)
    .sql(
        ") UNION ALL \
         SELECT 'team', team_id, version FROM team_stats WHERE team_id = ANY(",
    )
    .bind(teams)
    .sql(")");
    let rows: Vec<HeadRow> = sql.load(conn).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| Some((scope_of(&row.scope_kind, row.scope_id)?, row.version)))
        .collect())
}

/// How much of the log to keep.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Retention {
    /// The last this many versions of each aggregate.
    pub versions: i64,
    /// Nothing older than this.
    pub age: Duration,
    /// Only aggregates whose row moved this recently can have versions newly past the first
    /// bound (older leftovers go with age).
    pub moved_within: Duration,
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

/// Aggregates per delete statement when pruning by version.
const PRUNE_BATCH: usize = 1000;

/// Deletes what retention no longer keeps. One node at a time (an advisory lock); answers the
/// rows deleted, or `None` when another node is pruning now.
pub(crate) async fn prune(
    conn: &mut AsyncPgConnection,
    retention: Retention,
) -> Result<Option<u64>> {
    conn.transaction::<_, Error, _>(async |conn| {
        let lock: Locked = diesel::sql_query(
            "SELECT pg_try_advisory_xact_lock(hashtext('taskpulse.change_log.prune')) AS locked",
        )
        .get_result(conn)
        .await?;
        if !lock.locked {
            return Ok(None);
        }
        // The deletes below are many small index ranges: compiling them is dearer than running.
        diesel::sql_query("SET LOCAL jit = off").execute(conn).await?;
        let mut deleted = diesel::sql_query(
            "DELETE FROM aggregate_changes WHERE committed_at < now() - make_interval(secs => $1)",
        )
        .bind::<Double, _>(retention.age.as_secs_f64())
        .execute(conn)
        .await?;
        // Older than the last `versions` of their aggregate: one range of the log's primary
        // key per aggregate that moved lately, so the cost follows the aggregates that moved
        // and the rows deleted, never the log's size (a join would scan the whole log).
        let floors: Vec<HeadRow> = diesel::sql_query(
            "SELECT 'user' AS scope_kind, user_id AS scope_id, version - $1 AS version \
               FROM user_stats WHERE version > $1 AND updated_at > now() - make_interval(secs => $2) \
             UNION ALL \
             SELECT 'team', team_id, version - $1 \
               FROM team_stats WHERE version > $1 AND updated_at > now() - make_interval(secs => $2)",
        )
        .bind::<BigInt, _>(retention.versions)
        .bind::<Double, _>(retention.moved_within.as_secs_f64())
        .load(conn)
        .await?;
        for batch in floors.chunks(PRUNE_BATCH) {
            let kinds: Vec<&str> = batch.iter().map(|f| f.scope_kind.as_str()).collect();
            let ids: Vec<Uuid> = batch.iter().map(|f| f.scope_id).collect();
            let below: Vec<i64> = batch.iter().map(|f| f.version).collect();
            deleted += diesel::sql_query(
                "DELETE FROM aggregate_changes c \
                 USING unnest($1::text[], $2::uuid[], $3::bigint[]) AS w(kind, id, floor) \
                 WHERE c.scope_kind = w.kind AND c.scope_id = w.id AND c.version <= w.floor",
            )
            .bind::<Array<Text>, _>(kinds)
            .bind::<Array<SqlUuid>, _>(ids)
            .bind::<Array<BigInt>, _>(below)
            .execute(conn)
            .await?;
        }
        Ok(Some(u64::try_from(deleted).unwrap_or(0)))
    })
    .await
}

#[derive(QueryableByName)]
struct Size {
    #[diesel(sql_type = BigInt)]
    bytes: i64,
    #[diesel(sql_type = BigInt)]
    rows: i64,
}

/// The log's size on disk (indexes included) and its estimated row count.
pub(crate) async fn size(conn: &mut AsyncPgConnection) -> Result<(u64, u64)> {
    let size: Size = diesel::sql_query(
        "SELECT pg_total_relation_size('aggregate_changes') AS bytes, \
                greatest(reltuples, 0)::bigint AS rows \
         FROM pg_class WHERE oid = 'aggregate_changes'::regclass",
    )
    .get_result(conn)
    .await?;
    Ok((
        u64::try_from(size.bytes).unwrap_or(0),
        u64::try_from(size.rows).unwrap_or(0),
    ))
}
