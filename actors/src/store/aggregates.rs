//! The aggregate rows: deltas applied inside the writing transaction, each bumping its row's
//! version by exactly one (the statement is `write/`). Reading them back is `hydrate.rs`.

use diesel_async::AsyncPgConnection;

use super::write::Write;
use crate::error::Result;
use crate::published::Published;
use crate::stats::DeltaSet;

/// Whether each change is also appended to the change log (several nodes may share the
/// database) or not (a node alone for good).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChangeLog {
    Append,
    Skip,
}

/// Applies every delta of a command to its rows, in `DeltaSet` (= lock) order, inside the
/// caller's transaction: as few statements as the parameter limit allows (one, for any command
/// that changes one task). Answers what to publish once committed.
pub(crate) async fn apply_deltas(
    conn: &mut AsyncPgConnection,
    set: DeltaSet,
    log: ChangeLog,
) -> Result<Vec<Published>> {
    let mut published = Vec::with_capacity(set.len());
    let mut write = Write::new(log);
    for (scope, delta) in set {
        if write.parameters() > STATEMENT_PARAMETERS {
            let full = std::mem::replace(&mut write, Write::new(log));
            published.extend(full.run(conn).await?.published);
        }
        write.delta(scope, delta)?;
    }
    published.extend(write.run(conn).await?.published);
    Ok(published)
}

/// Where [`apply_deltas`] starts another statement: well below PostgreSQL's limit, whatever one
/// more scope's day and member rows add.
const STATEMENT_PARAMETERS: usize = 8_000;
