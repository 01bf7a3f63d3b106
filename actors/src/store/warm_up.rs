//! A connection readied when the pool opens it. The reads a burst of resumes makes (the
//! clients of a node that died, back at once on the others: account, membership, cold
//! aggregate, change log) run once with ids that match nothing, so that the burst finds them
//! prepared and planned and the backend's catalog caches filled; otherwise every connection
//! the burst wakes pays for that first, at the worst moment (BENCHMARKS.md, "Storms and
//! fan-out").

use chrono::Utc;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::change_log::{self, Wanted};
use super::hydrate::{WithHistory, hydrate};
use super::teams::role_of;
use super::users::find_user;
use crate::error::Result;
use crate::model::{TeamId, UserId};
use crate::stats::Scope;

/// Runs the burst's reads once on `conn`; they find nothing and change nothing.
pub(super) async fn warm_up(conn: &mut AsyncPgConnection) -> Result<()> {
    let nobody = UserId(Uuid::nil());
    let no_team = TeamId(Uuid::nil());
    find_user(conn, nobody).await?;
    role_of(conn, no_team, nobody).await?;
    let today = Utc::now().date_naive();
    let scopes = [Scope::User(nobody), Scope::Team(no_team)];
    // Each scope kind has its own cold-load statement; the change log has one for all.
    for scope in scopes {
        hydrate(conn, scope, today, WithHistory::No).await?;
    }
    let wanted = scopes.map(|scope| Wanted {
        scope,
        after: 0,
        upto: 0,
    });
    change_log::read(conn, &wanted, 1).await?;
    Ok(())
}
