//! The rows an import writes inside its transaction (`engine/import.rs`): the team it goes to,
//! locked first as every team write locks it, the tasks in bulk, and their reminders.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{team_members, teams};
use super::write::reminders;
use crate::error::Result;
use crate::model::{NotificationKind, Role, Task, TeamId, UserId};

/// Tasks one `INSERT` writes: each column travels as one array parameter, so the statement's
/// size does not grow with the rows (PostgreSQL's limit is on parameters, not on array sizes).
const ROWS_PER_STATEMENT: usize = 5_000;

/// Takes the team row's and then the member row's key-share lock, in the order every team
/// write takes them (`write/task_steps.rs`), so that the team cannot be deleted nor the member
/// removed until the import commits. Answers the member's role; `None` when the team does not
/// exist or `user` is not in it.
pub(crate) async fn lock_team_for(
    conn: &mut AsyncPgConnection,
    team: TeamId,
    user: UserId,
) -> Result<Option<Role>> {
    let found: Option<Uuid> = teams::table
        .find(team.0)
        .select(teams::id)
        .for_key_share()
        .first(conn)
        .await
        .optional()?;
    if found.is_none() {
        return Ok(None);
    }
    Ok(team_members::table
        .find((team, user))
        .select(team_members::role)
        .for_key_share()
        .first(conn)
        .await
        .optional()?)
}

/// Inserts `tasks` (all of one owner and team), in statements of [`ROWS_PER_STATEMENT`] rows.
pub(crate) async fn insert_tasks(conn: &mut AsyncPgConnection, tasks: &[Task]) -> Result<()> {
    for chunk in tasks.chunks(ROWS_PER_STATEMENT) {
        insert_chunk(conn, chunk).await?;
    }
    Ok(())
}

/// Arms the reminders the imported `tasks` are owed (due and not completed), in the import's
/// transaction: one statement however many.
pub(crate) async fn arm_reminders(conn: &mut AsyncPgConnection, tasks: &[Task]) -> Result<()> {
    let now = Utc::now();
    let owed: Vec<(&Task, NotificationKind, DateTime<Utc>)> = (tasks.iter())
        .flat_map(|t| {
            reminders(t, now)
                .into_iter()
                .map(move |(kind, at)| (t, kind, at))
        })
        .collect();
    if owed.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "INSERT INTO outbox (id, channel, kind, at, due_at, task_id, team_id, recipients, details)          SELECT r.id, 'in_app', r.kind, r.at, r.at, r.task_id, r.team_id, ARRAY[r.owner_id],            r.details FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::uuid[],            $5::uuid[], $6::uuid[], $7::jsonb[])            AS r(id, kind, at, task_id, team_id, owner_id, details)",
    )
    .bind::<Array<SqlUuid>, _>(owed.iter().map(|_| Uuid::now_v7()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(owed.iter().map(|(_, k, _)| k.as_str()).collect::<Vec<_>>())
    .bind::<Array<Timestamptz>, _>(owed.iter().map(|(_, _, at)| *at).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(owed.iter().map(|(t, _, _)| t.id.0).collect::<Vec<_>>())
    .bind::<Array<Nullable<SqlUuid>>, _>(
        (owed.iter()).map(|(t, _, _)| t.team_id.map(|t| t.0)).collect::<Vec<_>>(),
    )
    .bind::<Array<SqlUuid>, _>(owed.iter().map(|(t, _, _)| t.owner_id.0).collect::<Vec<_>>())
    .bind::<Array<diesel::sql_types::Jsonb>, _>(
        (owed.iter())
            .map(|(t, _, _)| serde_json::json!({ "title": t.title, "due_at": t.due_at }))
            .collect::<Vec<_>>(),
    )
    .execute(conn)
    .await?;
    Ok(())
}

async fn insert_chunk(conn: &mut AsyncPgConnection, tasks: &[Task]) -> Result<()> {
    let ids: Vec<Uuid> = tasks.iter().map(|t| t.id.0).collect();
    let titles: Vec<&str> = tasks.iter().map(|t| t.title.as_str()).collect();
    let descriptions: Vec<&str> = tasks.iter().map(|t| t.description.as_str()).collect();
    let statuses: Vec<&str> = tasks.iter().map(|t| t.status.as_str()).collect();
    let priorities: Vec<&str> = tasks.iter().map(|t| t.priority.as_str()).collect();
    let owners: Vec<Uuid> = tasks.iter().map(|t| t.owner_id.0).collect();
    let teams: Vec<Option<Uuid>> = tasks.iter().map(|t| t.team_id.map(|t| t.0)).collect();
    let versions: Vec<i64> = tasks.iter().map(|t| t.version).collect();
    let times = |at: fn(&Task) -> Option<DateTime<Utc>>| -> Vec<Option<DateTime<Utc>>> {
        tasks.iter().map(at).collect()
    };
    diesel::sql_query(INSERT)
        .bind::<Array<SqlUuid>, _>(ids)
        .bind::<Array<Text>, _>(titles)
        .bind::<Array<Text>, _>(descriptions)
        .bind::<Array<Text>, _>(statuses)
        .bind::<Array<Text>, _>(priorities)
        .bind::<Array<Nullable<Timestamptz>>, _>(times(|t| t.due_at))
        .bind::<Array<SqlUuid>, _>(owners)
        .bind::<Array<Nullable<SqlUuid>>, _>(teams)
        .bind::<Array<diesel::sql_types::BigInt>, _>(versions)
        .bind::<Array<Nullable<Timestamptz>>, _>(times(|t| Some(t.created_at)))
        .bind::<Array<Nullable<Timestamptz>>, _>(times(|t| Some(t.updated_at)))
        .bind::<Array<Nullable<Timestamptz>>, _>(times(|t| t.started_at))
        .bind::<Array<Nullable<Timestamptz>>, _>(times(|t| t.completed_at))
        .execute(conn)
        .await?;
    Ok(())
}

const INSERT: &str = "INSERT INTO tasks (id, title, description, status, priority, due_at, \
    owner_id, team_id, version, created_at, updated_at, started_at, completed_at) \
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], \
    $6::timestamptz[], $7::uuid[], $8::uuid[], $9::bigint[], $10::timestamptz[], \
    $11::timestamptz[], $12::timestamptz[], $13::timestamptz[])";
