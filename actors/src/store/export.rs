//! Reading every task a filter covers in batches from one server-side cursor, so that an export
//! of any size costs the engine one batch of memory (`engine/export.rs` holds the transaction).

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::tasks;
use super::tasks::{TaskFilter, TaskRecord};
use crate::error::Result;
use crate::model::Task;

/// How many tasks one `FETCH` reads.
pub(crate) const EXPORT_BATCH: usize = 1_000;

/// `DECLARE task_export NO SCROLL CURSOR FOR <query>`: the query keeps its bound parameters
/// (PostgreSQL binds them when the cursor opens).
struct DeclareCursor<Q>(Q);

impl<Q> QueryId for DeclareCursor<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for DeclareCursor<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // A cursor is opened once per export: nothing to gain from keeping it prepared.
        out.unsafe_to_cache_prepared();
        out.push_sql("DECLARE task_export NO SCROLL CURSOR FOR ");
        self.0.walk_ast(out.reborrow())
    }
}

/// Opens the cursor over the tasks `filter` covers, oldest first, inside the caller's
/// transaction (a cursor lives until its transaction ends).
pub(crate) async fn open_task_cursor(
    conn: &mut AsyncPgConnection,
    filter: &TaskFilter,
) -> Result<()> {
    let query = filter
        .visible()
        .select(TaskRecord::as_select())
        .order(tasks::id.asc());
    DeclareCursor(query).execute(conn).await?;
    Ok(())
}

/// The next batch of at most [`EXPORT_BATCH`] tasks from the cursor; empty once it is spent.
pub(crate) async fn fetch_tasks(conn: &mut AsyncPgConnection) -> Result<Vec<Task>> {
    let rows: Vec<TaskRecord> = diesel::sql_query(FETCH).load(conn).await?;
    Ok(rows.into_iter().map(Task::from).collect())
}

const FETCH: &str = "FETCH 1000 FROM task_export";

#[cfg(test)]
mod tests {
    use super::{EXPORT_BATCH, FETCH};

    #[test]
    fn the_fetch_reads_one_batch() {
        assert_eq!(FETCH, format!("FETCH {EXPORT_BATCH} FROM task_export"));
    }
}
