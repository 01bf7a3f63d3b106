//! The write path's hottest statement: bump a statistics row by a delta and append the change
//! to the log, in one round trip. Written as a query type rather than raw SQL because diesel
//! prepares raw SQL anew on every execution (a second round trip and a fresh plan), while a
//! query type with a static id is prepared once per connection and reused.

use std::marker::PhantomData;

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

/// A statistics table: its name, key, scope kind in the log and counters (in
/// `Counts::fields` order; teams keep only the first seven).
pub(crate) trait StatsTable: Send + Sync + 'static {
    const TABLE: &'static str;
    const KEY: &'static str;
    const KIND: &'static str;
    const COUNTERS: &'static [&'static str];
}

/// The statistics rows' counters, in `Counts::fields` order.
const COUNTERS: [&str; 9] = [
    "pending",
    "in_progress",
    "completed",
    "low",
    "medium",
    "high",
    "urgent",
    "shared_with_me",
    "shared_by_me",
];

/// `user_stats`.
pub(crate) struct UserStats;

impl StatsTable for UserStats {
    const TABLE: &'static str = "user_stats";
    const KEY: &'static str = "user_id";
    const KIND: &'static str = "user";
    const COUNTERS: &'static [&'static str] = &COUNTERS;
}

/// `team_stats`: no sharing counters.
pub(crate) struct TeamStats;

impl StatsTable for TeamStats {
    const TABLE: &'static str = "team_stats";
    const KEY: &'static str = "team_id";
    const KIND: &'static str = "team";
    const COUNTERS: &'static [&'static str] = COUNTERS.split_at(7).0;
}

/// `WITH bumped AS (UPDATE <table> SET <counter> = <counter> + $n, …, version = version + 1,
/// updated_at = now() WHERE <key> = $id RETURNING …) INSERT INTO aggregate_changes … RETURNING
/// version, committed_at`.
pub(crate) struct BumpAndAppend<T> {
    id: Uuid,
    delta: String,
    counts: [i64; 9],
    table: PhantomData<T>,
}

impl<T: StatsTable> BumpAndAppend<T> {
    pub fn new(id: Uuid, delta: String, counts: [i64; 9]) -> Self {
        Self {
            id,
            delta,
            counts,
            table: PhantomData,
        }
    }
}

impl<T: StatsTable> QueryId for BumpAndAppend<T> {
    type QueryId = BumpAndAppend<T>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<T: StatsTable> Query for BumpAndAppend<T> {
    type SqlType = (BigInt, Timestamptz);
}

impl<T: StatsTable> QueryFragment<Pg> for BumpAndAppend<T> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH bumped AS (UPDATE ");
        out.push_sql(T::TABLE);
        out.push_sql(" SET ");
        for (counter, value) in T::COUNTERS.iter().zip(&self.counts) {
            out.push_sql(counter);
            out.push_sql(" = ");
            out.push_sql(counter);
            out.push_sql(" + ");
            out.push_bind_param::<BigInt, _>(value)?;
            out.push_sql(", ");
        }
        out.push_sql("version = version + 1, updated_at = now() WHERE ");
        out.push_sql(T::KEY);
        out.push_sql(" = ");
        out.push_bind_param::<SqlUuid, _>(&self.id)?;
        out.push_sql(
            " RETURNING version, updated_at) \
             INSERT INTO aggregate_changes (scope_kind, scope_id, version, delta, committed_at) \
             SELECT '",
        );
        out.push_sql(T::KIND);
        out.push_sql("', ");
        out.push_bind_param::<SqlUuid, _>(&self.id)?;
        out.push_sql(", version, ");
        out.push_bind_param::<Text, _>(&self.delta)?;
        out.push_sql("::jsonb, updated_at FROM bumped RETURNING version, committed_at");
        Ok(())
    }
}
