//! Subscribing a session to a topic: an aggregate (a snapshot, then deltas), its trends (a
//! snapshot, then the buckets each change moved) or a feed (`subscribed`, then entries), with
//! the checks and answers of docs/websocket.md.

use std::time::Instant;

use chrono::NaiveDate;

use taskpulse_actors::{
    Error as EngineError, FeedTopic, Interval, Scope, Tz, UserId, parse_interval, parse_tz,
};

use super::ErrorCode;
use super::messages::{ServerMessage, Topic, parse_topic};
use super::session::Session;
use super::topics::{
    TrendsSpec, aggregate_frames, feed_frames, notification_frames, trends_frames,
};

/// What a `subscribe` message asks besides its topic.
#[derive(Debug, Default)]
pub(super) struct SubscribeOptions {
    pub since_version: Option<i64>,
    pub since: Option<String>,
    pub tz: Option<String>,
    pub interval: Option<String>,
    pub from: Option<String>,
}

/// A refusal: its code and message.
type Refusal = (ErrorCode, String);

fn refusal(code: ErrorCode, message: &str) -> Refusal {
    (code, message.to_owned())
}

impl Session {
    pub(super) async fn subscribe(
        &mut self,
        user: UserId,
        topic: String,
        options: SubscribeOptions,
    ) {
        let Some(parsed) = parse_topic(&topic, user) else {
            return self.send(ServerMessage::error(
                ErrorCode::InvalidTopic,
                "topics are `user`, `team:<team id>`, `trends:user`, `trends:team:<team id>`, \
                     `feed:user`, `feed:team:<team id>` or `notifications`",
                Some(&topic),
            ));
        };
        let max = self.hub.settings().max_topics_per_session;
        if !self.topics.contains_key(&topic) && self.topics.len() >= max {
            return self.send(ServerMessage::error(
                ErrorCode::TooManyTopics,
                &format!("at most {max} topics per session"),
                Some(&topic),
            ));
        }
        let asked_at = Instant::now();
        let answered = matches!(parsed, Topic::Aggregate(_) | Topic::Trends(_));
        let outcome = match (parsed, options) {
            (Topic::Aggregate(scope), options) => {
                self.subscribe_aggregate(user, &topic, scope, options).await
            }
            (Topic::Trends(scope), options) => {
                self.subscribe_trends(user, &topic, scope, options).await
            }
            (Topic::Feed(feed), options) => self.subscribe_feed(user, &topic, feed, options).await,
            (Topic::Notifications, options) => {
                self.subscribe_notifications(user, &topic, options).await
            }
        };
        match outcome {
            Ok(()) if answered => self.await_answer(&topic, asked_at),
            Ok(()) => {}
            Err((code, message)) => self.send(ServerMessage::error(code, &message, Some(&topic))),
        }
    }

    async fn subscribe_aggregate(
        &mut self,
        user: UserId,
        topic: &str,
        scope: Scope,
        options: SubscribeOptions,
    ) -> Result<(), Refusal> {
        if options.since.is_some() {
            return Err(refusal(ErrorCode::MalformedMessage, SINCE_IS_FOR_FEEDS));
        }
        if options.interval.is_some() || options.from.is_some() {
            return Err(refusal(
                ErrorCode::MalformedMessage,
                "`interval` and `from` belong to `trends:` topics",
            ));
        }
        let tz = zone(options.tz.as_deref())?;
        let engine = self.hub.engine();
        let subscription = match tz == Tz::UTC {
            true => engine.subscribe(user, scope, options.since_version).await,
            // Activity in another zone is counted from the history.
            false => (engine.subscribe_with_history(user, scope, options.since_version)).await,
        }
        .map_err(refused)?;
        // Replaces (and so ends) an earlier subscription to the same topic.
        let frames = aggregate_frames(topic.to_owned(), subscription, tz);
        self.topics.insert(topic.to_owned(), frames);
        Ok(())
    }

    async fn subscribe_trends(
        &mut self,
        user: UserId,
        topic: &str,
        scope: Scope,
        options: SubscribeOptions,
    ) -> Result<(), Refusal> {
        if options.since.is_some() {
            return Err(refusal(ErrorCode::MalformedMessage, SINCE_IS_FOR_FEEDS));
        }
        let spec = TrendsSpec {
            tz: zone(options.tz.as_deref())?,
            interval: match options.interval.as_deref() {
                None => Interval::Week,
                Some(name) => parse_interval(name).map_err(invalid)?,
            },
            from: match options.from.as_deref() {
                None => None,
                Some(day) => Some(NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| {
                    refusal(
                        ErrorCode::ValidationFailed,
                        "`from` must be a date, YYYY-MM-DD",
                    )
                })?),
            },
        };
        // Refused before subscribing: a window the clock can only make longer.
        spec.window(chrono::Utc::now()).map_err(invalid)?;
        let subscription = (self.hub.engine())
            .subscribe_with_history(user, scope, options.since_version)
            .await
            .map_err(refused)?;
        let frames = trends_frames(topic.to_owned(), subscription, spec);
        self.topics.insert(topic.to_owned(), frames);
        Ok(())
    }

    async fn subscribe_feed(
        &mut self,
        user: UserId,
        topic: &str,
        feed: FeedTopic,
        options: SubscribeOptions,
    ) -> Result<(), Refusal> {
        if options.since_version.is_some() {
            return Err(refusal(
                ErrorCode::MalformedMessage,
                "`since_version` resumes aggregate topics; feed topics resume with `since`",
            ));
        }
        if options.tz.is_some() || options.interval.is_some() || options.from.is_some() {
            return Err(refusal(
                ErrorCode::MalformedMessage,
                "feed topics take no `tz`, `interval` or `from`",
            ));
        }
        let since = match options.since.as_deref().map(uuid::Uuid::try_parse) {
            None => None,
            Some(Ok(id)) => Some(id),
            Some(Err(_)) => return Err(invalid_since()),
        };
        let subscription = match self.hub.engine().subscribe_feed(user, feed, since).await {
            Ok(subscription) => subscription,
            Err(EngineError::Validation(_)) => return Err(invalid_since()),
            Err(err) => return Err(refused(err)),
        };
        // Nothing of the feed before `subscribed`, nothing of an earlier subscription after:
        // the session writes its queue before it reads the topics again.
        self.send(ServerMessage::Subscribed {
            topic,
            version: None,
        });
        let frames = feed_frames(topic.to_owned(), subscription);
        self.topics.insert(topic.to_owned(), frames);
        Ok(())
    }
}

impl Session {
    async fn subscribe_notifications(
        &mut self,
        user: UserId,
        topic: &str,
        options: SubscribeOptions,
    ) -> Result<(), Refusal> {
        if options.since_version.is_some()
            || options.tz.is_some()
            || options.interval.is_some()
            || options.from.is_some()
        {
            return Err(refusal(
                ErrorCode::MalformedMessage,
                "`notifications` takes only `since` (the id of a notification)",
            ));
        }
        let invalid_since = || {
            refusal(
                ErrorCode::InvalidSince,
                "`since` must be the id of one of your notifications",
            )
        };
        let since = match options.since.as_deref().map(uuid::Uuid::try_parse) {
            None => None,
            Some(Ok(id)) => Some(id),
            Some(Err(_)) => return Err(invalid_since()),
        };
        let engine = self.hub.engine();
        let subscription = match engine.subscribe_notifications(user, since).await {
            Ok(subscription) => subscription,
            Err(EngineError::Validation(_)) => return Err(invalid_since()),
            Err(err) => return Err(refused(err)),
        };
        // As for feeds: `subscribed` first, then the notifications.
        self.send(ServerMessage::Subscribed {
            topic,
            version: None,
        });
        let frames = notification_frames(topic.to_owned(), subscription);
        self.topics.insert(topic.to_owned(), frames);
        Ok(())
    }
}

const SINCE_IS_FOR_FEEDS: &str =
    "`since` resumes feed topics; aggregate and trends topics resume with `since_version`";

/// The zone a subscription names (UTC when it names none).
fn zone(tz: Option<&str>) -> Result<Tz, Refusal> {
    tz.map_or(Ok(Tz::UTC), |name| parse_tz(name).map_err(invalid))
}

/// The `error` answer to a value the engine refused, with the engine's words.
fn invalid(err: EngineError) -> Refusal {
    match err {
        EngineError::Validation(errors) => {
            let message = (errors.iter())
                .map(|e| format!("`{}` {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ");
            (ErrorCode::ValidationFailed, message)
        }
        err => refused(err),
    }
}

/// The `error` answer to a `since` that names no audit entry.
fn invalid_since() -> Refusal {
    refusal(
        ErrorCode::InvalidSince,
        "`since` must be the id of an audit entry (the `id` of a `feed` message's entry)",
    )
}

/// The `error` answer to a subscription the engine refused.
fn refused(err: EngineError) -> Refusal {
    match err {
        EngineError::Forbidden(_) | EngineError::NotFound(_) => {
            refusal(ErrorCode::Forbidden, "you may not read this topic")
        }
        err => {
            tracing::warn!(error = %err, "websocket subscribe failed");
            refusal(
                ErrorCode::Unavailable,
                "the topic cannot be subscribed now; try again",
            )
        }
    }
}
