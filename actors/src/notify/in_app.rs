//! In-app rows become their recipients' notifications, in two round trips: claim a batch
//! (with the actors' and teams' names), then make the notifications and delete the rows in one
//! statement. A worker that dies after its claim leaves the rows leased; once the lease runs out
//! another worker makes the same notifications, and what the first had already made is not made
//! twice (`notifications (source_id, user_id)` is unique).

use uuid::Uuid;

use super::Notifier;
use crate::error::Result;
use crate::metrics::OutboxCounters;
use crate::model::NotificationKind;
use crate::notice::notification_text;
use crate::store::durable_outbox::{self, Channel, ClaimedRow};
use crate::store::notifications::{self, NewNotification};

/// Delivers one batch of due in-app rows; answers how many rows it took.
pub(super) async fn deliver_due(notifier: &Notifier) -> Result<usize> {
    let mut conn = notifier.pool.get().await?;
    let config = &notifier.config;
    let claimed =
        durable_outbox::claim(&mut conn, Channel::InApp, config.lease, config.batch).await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let mut made = Vec::new();
    let mut delivered = Vec::with_capacity(claimed.len());
    for row in &claimed {
        let Ok(kind) = row.kind.parse::<NotificationKind>() else {
            // A kind a newer version wrote: left for a node that knows it, after the lease.
            tracing::warn!(kind = %row.kind, "an outbox row of an unknown kind");
            continue;
        };
        delivered.push(row.id);
        let reminder = matches!(
            kind,
            NotificationKind::TaskDueSoon | NotificationKind::TaskOverdue
        );
        // A reminder names the task as it is now; one of a task deleted since makes nothing
        // (the row goes).
        let now_titled;
        let details = match (reminder, &row.task_title) {
            (false, _) => &row.details,
            (true, None) => continue,
            (true, Some(title)) => {
                now_titled = serde_json::json!({ "title": title });
                &now_titled
            }
        };
        let actor = row.actor_name.as_deref().unwrap_or("Someone");
        let text = notification_text(kind, actor, details, row.team_name.as_deref());
        made.extend(
            (row.recipients.iter()).map(|user| new_notification(row, kind, *user, text.clone())),
        );
    }
    let outcome =
        notifications::make_and_deliver(&mut conn, &made, &delivered, config.email).await?;
    let counters = &notifier.counters;
    OutboxCounters::add(
        &counters.notifications_made,
        usize::try_from(outcome.made).unwrap_or(0),
    );
    if outcome.made > 0 {
        notifier.inboxes.poke();
        notifier.announcer.notified();
    }
    if outcome.mailed > 0 {
        notifier.poke_mail();
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
        kind: kind.as_str(),
        task_id: row.task_id,
        team_id: row.team_id,
        actor_id: row.actor_id,
        text,
    }
}
