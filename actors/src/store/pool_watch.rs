//! The pool's connection manager: diesel-async's, plus one rule for following a promotion. A
//! connection whose query failed because its server is gone or can no longer take writes
//! (`error::is_connection_failure`: closed, shutting down, SQLSTATE 25006 from a standby) is
//! dropped when it comes back to the pool instead of being handed out again, so that the next
//! connection is made from the URL and finds the primary of the moment
//! (`target_session_attrs=read-write`). diesel-async alone drops only closed connections and
//! broken transactions: a connection to a standby stays open and would answer 25006 forever.

use bb8::ManageConnection;
use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, PoolError};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::pool::{StatementEvent, StatementHook};
use crate::error::{Error, Result, is_connection_failure};

/// diesel-async's manager, whose connections carry a [`Watch`].
pub(crate) struct WatchedManager(pub(crate) AsyncDieselConnectionManager<AsyncPgConnection>);

impl ManageConnection for WatchedManager {
    type Connection = AsyncPgConnection;
    type Error = PoolError;

    fn connect(&self) -> impl Future<Output = Result<AsyncPgConnection, PoolError>> + Send {
        self.0.connect()
    }

    fn is_valid(
        &self,
        conn: &mut AsyncPgConnection,
    ) -> impl Future<Output = Result<(), PoolError>> + Send {
        self.0.is_valid(conn)
    }

    fn has_broken(&self, conn: &mut AsyncPgConnection) -> bool {
        self.0.has_broken(conn) || saw_its_server_go(conn)
    }
}

/// Whether the connection's [`Watch`] saw a query fail for its server's sake.
fn saw_its_server_go(conn: &mut AsyncPgConnection) -> bool {
    // No query is in flight here (the pool holds the connection by `&mut`), so the
    // instrumentation is not shared and diesel-async hands it out.
    conn.instrumentation()
        .downcast_ref::<Watch>()
        .is_some_and(|watch| watch.server_gone)
}

/// Marks `conn` to be dropped when it goes back to the pool when `outcome` says its server is
/// gone or read-only. The instrumentation sees the errors of statements that return no rows;
/// a query that returns rows (`load`, `get_result`) reports success once it is sent, and its
/// error (a write's 25006 from a standby) arrives with the rows, so the engine's write paths
/// (`Engine::commit`, `Engine::transaction`) tell the connection themselves.
pub(crate) fn drop_if_unavailable<T>(conn: &mut AsyncPgConnection, outcome: &Result<T>) {
    if matches!(outcome, Err(Error::DatabaseUnavailable(_))) {
        // No query is in flight: the caller holds the connection by `&mut`.
        if let Some(watch) = conn.instrumentation().downcast_mut::<Watch>() {
            watch.server_gone = true;
        }
    }
}

/// Each pooled connection's instrumentation: remembers whether a query failed because the
/// server went away or turned read-only, and passes every statement to the engine's hook.
pub(crate) struct Watch {
    pub(crate) hook: Option<StatementHook>,
    pub(crate) server_gone: bool,
}

impl Instrumentation for Watch {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::FinishQuery {
                error: Some(err), ..
            } if is_connection_failure(err) => self.server_gone = true,
            InstrumentationEvent::StartQuery { query, .. } => {
                if let Some(hook) = &self.hook {
                    hook(StatementEvent::Sent(&query.to_string()));
                }
            }
            InstrumentationEvent::CacheQuery { sql, .. } => {
                if let Some(hook) = &self.hook {
                    hook(StatementEvent::Prepared(sql));
                }
            }
            _ => {}
        }
    }
}
