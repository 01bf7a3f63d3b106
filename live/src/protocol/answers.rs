//! How long aggregate and trends subscriptions wait for their answer, counted for `/metrics`
//! (`taskpulse_ws_subscribe_answer_seconds{answer}`): from the `subscribe` read off the socket
//! to its snapshot, or to the `subscribed` that ends a resume's replay, written to it. A
//! client's own figure (sent → received) minus this one is the network and the client: it
//! tells a slow node from a slow client when a storm of resumes is slow.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the answer-time buckets, in seconds.
pub const ANSWER_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// What answered a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Answer {
    /// A snapshot: a new subscription, or a resume the engine could not replay.
    Snapshot,
    /// `subscribed`: a resume, after the changes it missed.
    Subscribed,
}

impl Answer {
    const ALL: [Answer; 2] = [Self::Snapshot, Self::Subscribed];

    fn label(self) -> &'static str {
        match self {
            Self::Snapshot => "snapshot",
            Self::Subscribed => "subscribed",
        }
    }
}

/// One answer kind's histogram, as read at scrape time.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerTimes {
    /// `snapshot` or `subscribed`.
    pub answer: &'static str,
    /// Answers per bucket of [`ANSWER_BUCKETS`] (not cumulative); later ones are in `count` only.
    pub buckets: [u64; ANSWER_BUCKETS.len()],
    pub count: u64,
    pub seconds_sum: f64,
}

/// The answer times of a hub's sessions since start.
#[derive(Debug, Default)]
pub(super) struct SubscribeAnswers {
    per_answer: [Histogram; Answer::ALL.len()],
}

#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; ANSWER_BUCKETS.len()],
    count: AtomicU64,
    micros: AtomicU64,
}

impl SubscribeAnswers {
    pub fn record(&self, answer: Answer, waited: Duration) {
        let Some(at) = Answer::ALL.iter().position(|a| *a == answer) else {
            return;
        };
        let histogram = &self.per_answer[at];
        let seconds = waited.as_secs_f64();
        if let Some(bucket) = ANSWER_BUCKETS.iter().position(|bound| seconds <= *bound) {
            histogram.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        }
        histogram.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(waited.as_micros()).unwrap_or(u64::MAX);
        histogram.micros.fetch_add(micros, Ordering::Relaxed);
    }

    pub fn read(&self) -> Vec<AnswerTimes> {
        (Answer::ALL.iter().zip(&self.per_answer))
            .map(|(answer, histogram)| AnswerTimes {
                answer: answer.label(),
                buckets: histogram
                    .buckets
                    .each_ref()
                    .map(|b| b.load(Ordering::Relaxed)),
                count: histogram.count.load(Ordering::Relaxed),
                seconds_sum: histogram.micros.load(Ordering::Relaxed) as f64 / 1e6,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_answer_is_counted_in_its_own_histogram_and_bucket() {
        let answers = SubscribeAnswers::default();
        answers.record(Answer::Subscribed, Duration::from_micros(300));
        answers.record(Answer::Subscribed, Duration::from_millis(40));
        answers.record(Answer::Snapshot, Duration::from_secs(9));
        let read = answers.read();
        let (snapshot, subscribed) = (&read[0], &read[1]);
        assert_eq!(
            (snapshot.answer, subscribed.answer),
            ("snapshot", "subscribed")
        );
        assert_eq!(subscribed.count, 2);
        assert_eq!(subscribed.buckets[0], 1, "0.3 ms ≤ 0.5 ms");
        assert_eq!(subscribed.buckets[6], 1, "40 ms ≤ 50 ms");
        assert!((subscribed.seconds_sum - 0.0403).abs() < 1e-9);
        assert_eq!(snapshot.count, 1);
        assert_eq!(
            snapshot.buckets.iter().sum::<u64>(),
            0,
            "past the last bound: +Inf only"
        );
    }
}
