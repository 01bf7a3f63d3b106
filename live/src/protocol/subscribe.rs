//! Subscribing a session to a topic: an aggregate (a snapshot, then deltas) or a feed
//! (`subscribed`, then entries), with the checks and answers of docs/websocket.md.

use ractor::ActorRef;

use taskpulse_actors::{Error as EngineError, FeedTopic, Scope, UserId};

use super::ErrorCode;
use super::forward::{forward, forward_feed};
use super::messages::{ServerMessage, Topic, parse_topic};
use super::session::{SessionMsg, SessionState};

impl SessionState {
    pub(super) async fn subscribe(
        &mut self,
        myself: &ActorRef<SessionMsg>,
        user: UserId,
        topic: String,
        since_version: Option<i64>,
        since: Option<String>,
    ) {
        let Some(parsed) = parse_topic(&topic, user) else {
            return self
                .send(ServerMessage::error(
                    ErrorCode::InvalidTopic,
                    "topics are `user`, `team:<team id>`, `feed:user` or `feed:team:<team id>`",
                    Some(&topic),
                ))
                .await;
        };
        let max = self.hub.settings().max_topics_per_session;
        if !self.topics.contains_key(&topic) && self.topics.len() >= max {
            return self
                .send(ServerMessage::error(
                    ErrorCode::TooManyTopics,
                    &format!("at most {max} topics per session"),
                    Some(&topic),
                ))
                .await;
        }
        let outcome = match (parsed, since_version, since) {
            (Topic::Aggregate(scope), since_version, None) => {
                self.subscribe_aggregate(myself, user, &topic, scope, since_version)
                    .await
            }
            (Topic::Feed(feed), None, since) => {
                self.subscribe_feed(myself, user, &topic, feed, since).await
            }
            (Topic::Aggregate(_), _, Some(_)) => Err((
                ErrorCode::MalformedMessage,
                "`since` resumes feed topics; aggregate topics resume with `since_version`",
            )),
            (Topic::Feed(_), Some(_), _) => Err((
                ErrorCode::MalformedMessage,
                "`since_version` resumes aggregate topics; feed topics resume with `since`",
            )),
        };
        if let Err((code, message)) = outcome {
            self.send(ServerMessage::error(code, message, Some(&topic)))
                .await;
        }
    }

    async fn subscribe_aggregate(
        &mut self,
        myself: &ActorRef<SessionMsg>,
        user: UserId,
        topic: &str,
        scope: Scope,
        since: Option<i64>,
    ) -> Result<(), (ErrorCode, &'static str)> {
        let subscription = self
            .hub
            .engine()
            .subscribe(user, scope, since)
            .await
            .map_err(refused)?;
        let forwarder = forward(
            topic.to_owned(),
            subscription,
            self.out.clone(),
            myself.clone(),
        );
        if let Some(previous) = self.topics.insert(topic.to_owned(), forwarder) {
            previous.abort();
        }
        Ok(())
    }

    async fn subscribe_feed(
        &mut self,
        myself: &ActorRef<SessionMsg>,
        user: UserId,
        topic: &str,
        feed: FeedTopic,
        since: Option<String>,
    ) -> Result<(), (ErrorCode, &'static str)> {
        let since = match since.as_deref().map(uuid::Uuid::try_parse) {
            None => None,
            Some(Ok(id)) => Some(id),
            Some(Err(_)) => return Err(INVALID_SINCE),
        };
        let subscription = match self.hub.engine().subscribe_feed(user, feed, since).await {
            Ok(subscription) => subscription,
            Err(EngineError::Validation(_)) => return Err(INVALID_SINCE),
            Err(err) => return Err(refused(err)),
        };
        // Nothing of the feed before `subscribed`, nothing of an earlier subscription after.
        if let Some(previous) = self.topics.remove(topic) {
            previous.abort();
        }
        self.send(ServerMessage::Subscribed { topic }).await;
        let forwarder = forward_feed(
            topic.to_owned(),
            subscription,
            self.out.clone(),
            myself.clone(),
        );
        self.topics.insert(topic.to_owned(), forwarder);
        Ok(())
    }
}

/// The `error` answer to a `since` that names no audit entry.
const INVALID_SINCE: (ErrorCode, &str) = (
    ErrorCode::InvalidSince,
    "`since` must be the id of an audit entry (the `id` of a `feed` message's entry)",
);

/// The `error` answer to a subscription the engine refused.
fn refused(err: EngineError) -> (ErrorCode, &'static str) {
    match err {
        EngineError::Forbidden(_) | EngineError::NotFound(_) => {
            (ErrorCode::Forbidden, "you may not read this topic")
        }
        err => {
            tracing::warn!(error = %err, "websocket subscribe failed");
            (
                ErrorCode::Unavailable,
                "the topic cannot be subscribed now; try again",
            )
        }
    }
}
