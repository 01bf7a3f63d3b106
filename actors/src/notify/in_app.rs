//! In-app rows become their recipients' notifications: claim a batch, name the actors and
//! teams, make the notifications and delete the rows in one transaction. A worker that dies
//! after its claim leaves the rows leased; once the lease runs out another worker makes the
//! same notifications, and what the first one had already made is not made twice
//! (`notifications (source_id, user_id)` is unique).

use std::collections::HashSet;

use diesel_async::AsyncConnection;
use uuid::Uuid;

use super::Notifier;
use crate::error::{Error, Result};
use crate::model::NotificationKind;
use crate::notice::notification_text;
use crate::store::durable_outbox::{self, Channel, ClaimedRow};
use crate::store::notifications::{self, NewNotification, NotificationRecord};

/// Delivers one batch of due in-app rows; answers how many rows it took.
pub(super) async fn deliver_due(notifier: &Notifier) -> Result<usize> {
    let mut conn = notifier.pool.get().await?;
    let config = &notifier.config;
    let claimed =
        durable_outbox::claim(&mut conn, Channel::InApp, config.lease, config.batch).await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let people: Vec<Uuid> = (claimed.iter())
        .flat_map(|row| row.actor_id.iter().chain(row.recipients.iter()).copied())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let team_ids: Vec<Uuid> = (claimed.iter()).filter_map(|row| row.team_id).collect();
    let names = notifications::display_names(&mut conn, &people).await?;
    let teams = notifications::team_names(&mut conn, &team_ids).await?;
    let mut made = Vec::new();
    for row in &claimed {
        let Ok(kind) = row.kind.parse::<NotificationKind>() else {
            // A kind a newer version wrote: left for a node that knows it, after the lease.
            tracing::warn!(kind = %row.kind, "an outbox row of an unknown kind");
            continue;
        };
        let actor = (row.actor_id.and_then(|id| names.get(&id))).map_or("Someone", String::as_str);
        let team = row
            .team_id
            .and_then(|id| teams.get(&id))
            .map(String::as_str);
        let text = notification_text(kind, actor, &row.details, team);
        // An account deleted since the change gets nothing.
        made.extend(
            (row.recipients.iter())
                .filter(|user| names.contains_key(user))
                .map(|user| new_notification(row, kind, *user, text.clone())),
        );
    }
    let delivered: Vec<Uuid> = (claimed.iter())
        .filter(|row| row.kind.parse::<NotificationKind>().is_ok())
        .map(|row| row.id)
        .collect();
    let made: Vec<NotificationRecord> = conn
        .transaction::<_, Error, _>(async |conn| {
            let made = notifications::insert(conn, &made).await?;
            durable_outbox::delete(conn, &delivered).await?;
            Ok(made)
        })
        .await?;
    if !made.is_empty() {
        notifier.inboxes.poke();
        notifier.announcer.notified();
    }
    Ok(claimed.len())
}

fn new_notification(
    row: &ClaimedRow,
    kind: NotificationKind,
    user: Uuid,
    text: String,
) -> NewNotification {
    NewNotification {
        id: Uuid::now_v7(),
        user_id: user,
        source_id: row.id,
        at: row.at,
        kind: kind.as_str().to_owned(),
        task_id: row.task_id,
        team_id: row.team_id,
        actor_id: row.actor_id,
        text,
    }
}
