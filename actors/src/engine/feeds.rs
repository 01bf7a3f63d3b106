//! Following a feed (docs/feeds.md): the caller's own, or a team's for any of its members.

use uuid::Uuid;

use super::Engine;
use crate::error::{Entity, Error, FieldError, Result};
use crate::feed::{FeedSubscription, FeedTopic};
use crate::model::UserId;
use crate::store::teams;

impl Engine {
    /// Follows `topic`: its entries from now on, or, with `since` (an audit entry's id), the
    /// entries after that one first. `feed:user` is the caller's own (`Forbidden` for anyone
    /// else's); a team's feed is for its members, any role (`NotFound` for anyone else), and
    /// ends with [`crate::FeedEvent::Revoked`] right after the entry that removes the caller
    /// or deletes the team. An unknown `since` is a `Validation` error.
    pub async fn subscribe_feed(
        &self,
        actor: UserId,
        topic: FeedTopic,
        since: Option<Uuid>,
    ) -> Result<FeedSubscription> {
        if let FeedTopic::User(user) = topic
            && user != actor
        {
            return Err(Error::Forbidden("a user's feed is theirs only".to_owned()));
        }
        let since = match since {
            None => None,
            Some(id) => Some(self.inner.feeds.position_of(id).await?.ok_or_else(|| {
                Error::Validation(vec![FieldError::new("since", "no audit entry has this id")])
            })?),
        };
        let subscription = self.inner.feeds.subscribe(actor, topic, since).await?;
        // Checked once attached: a removal that commits after this check is an entry the
        // subscription sees, and it ends there.
        if let FeedTopic::Team(team) = topic {
            let mut conn = self.conn().await?;
            teams::role_of(&mut conn, team, actor)
                .await?
                .ok_or(Error::NotFound(Entity::Team))?;
        }
        Ok(subscription)
    }
}
