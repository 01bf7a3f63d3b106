//! The families `/metrics` writes itself rather than through the recorder: the engine's
//! figures (already bucketed by the engine), the pool's waits, and the counters read from
//! shared state at scrape time.

use std::fmt::Write as _;
use std::time::Duration;

use taskpulse_actors::{CLUSTER_LAG_BUCKETS, DELIVERY_BUCKETS, MetricsSnapshot};
use taskpulse_live::{ANSWER_BUCKETS, AnswerTimes};

/// The engine's own counters, already bucketed by the engine, in the exposition format.
pub(super) fn render_engine(text: &mut String, engine: &MetricsSnapshot) {
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    let cluster = &engine.cluster;
    let counters = [
        (
            "taskpulse_deltas_applied_total",
            "Deltas applied by live aggregates since start.",
            engine.deltas_applied,
        ),
        (
            "taskpulse_subscribers_collapsed_total",
            "Times a slow subscriber's queued deltas were replaced by one fresh snapshot.",
            engine.subscribers_collapsed,
        ),
        (
            "taskpulse_cluster_changes_received_total",
            "Changes committed by other nodes and handed to live aggregates on this node.",
            cluster.changes_received,
        ),
        (
            "taskpulse_cluster_changes_read_from_log_total",
            "Changes of other nodes read from the change log rather than carried by their signal.",
            cluster.changes_read_from_log,
        ),
        (
            "taskpulse_cluster_resume_log_reads_total",
            "Change-log reads for WebSocket subscribers resuming further back than memory reached.",
            cluster.resume_log_reads,
        ),
        (
            "taskpulse_cluster_healed_total",
            "Live aggregates the periodic check found behind their rows and caught up (lost or late signals).",
            cluster.healed,
        ),
        (
            "taskpulse_cluster_signals_sent_total",
            "Signals (NOTIFY) sent to the other nodes.",
            cluster.signals_sent,
        ),
        (
            "taskpulse_cluster_signal_failures_total",
            "Signals that could not be sent (the other nodes' periodic check covers them).",
            cluster.signal_failures,
        ),
        (
            "taskpulse_cluster_listener_connects_total",
            "Times the cluster listener connected (1 + reconnections).",
            cluster.listener_connects,
        ),
        (
            "taskpulse_change_log_pruned_total",
            "Change-log rows pruned by this node.",
            cluster.log_pruned,
        ),
        (
            "taskpulse_feed_entries_delivered_total",
            "Audit entries handed to feed subscribers on this node.",
            engine.feeds.entries_delivered,
        ),
        (
            "taskpulse_feed_catch_ups_total",
            "Times a feed subscriber read the audit log itself (fell behind, resumed with since, or came during a read).",
            engine.feeds.catch_ups,
        ),
    ];
    for (name, help, value) in counters {
        render_family(text, Kind::Counter, name, help, [(String::new(), value)]);
    }
    let outbox = &engine.outbox;
    render_family(
        text,
        Kind::Counter,
        "taskpulse_notifications_made_total",
        "In-app notifications (reminders included) made by this node's outbox worker.",
        [(String::new(), outbox.notifications_made)],
    );
    render_family(
        text,
        Kind::Counter,
        "taskpulse_webhook_attempts_total",
        "Webhook delivery attempts made by this node, by outcome (delivered: answered 2xx).",
        [
            (
                "outcome=\"delivered\"".to_owned(),
                outbox.webhooks_delivered,
            ),
            ("outcome=\"failed\"".to_owned(), outbox.webhooks_failed),
        ],
    );
    render_family(
        text,
        Kind::Counter,
        "taskpulse_webhooks_disabled_total",
        "Webhooks this node disabled after they failed for a day.",
        [(String::new(), outbox.webhooks_disabled)],
    );
    render_family(
        text,
        Kind::Counter,
        "taskpulse_mail_attempts_total",
        "Mail attempts made by this node, by outcome (sent: the SMTP server accepted it).",
        [
            ("outcome=\"sent\"".to_owned(), outbox.mails_sent),
            ("outcome=\"failed\"".to_owned(), outbox.mails_failed),
        ],
    );
    let gauges = [
        (
            "taskpulse_change_log_bytes",
            "The change log's size on disk, indexes included, as last measured.",
            cluster.log_bytes,
        ),
        (
            "taskpulse_change_log_rows",
            "The change log's estimated row count, as last measured.",
            cluster.log_rows,
        ),
        (
            "taskpulse_feed_subscriptions",
            "Feed subscriptions open on this node.",
            engine.feeds.subscriptions,
        ),
    ];
    for (name, help, value) in gauges {
        render_family(text, Kind::Gauge, name, help, [(String::new(), value)]);
    }
    render_histogram(
        text,
        "taskpulse_delta_delivery_seconds",
        "How long a write waited until its live aggregates reflected it.",
        DELIVERY_BUCKETS
            .iter()
            .copied()
            .zip(engine.delivery_buckets),
        engine.deliveries,
        engine.delivery_seconds_sum,
    );
    render_histogram(
        text,
        "taskpulse_cluster_lag_seconds",
        "From a change's commit on another node to its hand-over to a live aggregate on this one.",
        CLUSTER_LAG_BUCKETS.iter().copied().zip(cluster.lag_buckets),
        cluster.lag_count,
        cluster.lag_seconds_sum,
    );
}

/// How requests waited for database connections (bb8 counts them since start).
pub(super) fn render_pool(
    text: &mut String,
    [waited, timed_out, broken]: [u64; 3],
    wait_time: Duration,
) {
    let counters = [
        (
            "taskpulse_db_pool_gets_waited_total",
            "Connection requests that had to wait for a free connection.",
            waited,
        ),
        (
            "taskpulse_db_pool_gets_timed_out_total",
            "Connection requests that timed out waiting (answered 503 database_unavailable).",
            timed_out,
        ),
        (
            "taskpulse_db_pool_connections_closed_broken_total",
            "Connections dropped because they broke (found by the error they raised).",
            broken,
        ),
    ];
    for (name, help, value) in counters {
        render_family(text, Kind::Counter, name, help, [(String::new(), value)]);
    }
    render_family(
        text,
        Kind::Counter,
        "taskpulse_db_pool_wait_seconds_total",
        "Time spent waiting for database connections, summed.",
        [(String::new(), wait_time.as_secs_f64())],
    );
}

/// A counter or a gauge.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    Counter,
    Gauge,
}

/// One family: its HELP and TYPE lines, then a sample per label set (`""` for none, or
/// `reason="client"`).
pub(super) fn render_family<V: std::fmt::Display>(
    text: &mut String,
    kind: Kind,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (String, V)>,
) {
    let kind = match kind {
        Kind::Counter => "counter",
        Kind::Gauge => "gauge",
    };
    // Writing to a String cannot fail.
    let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (labels, value) in samples {
        let _ = if labels.is_empty() {
            writeln!(text, "{name} {value}")
        } else {
            writeln!(text, "{name}{{{labels}}} {value}")
        };
    }
}

/// A histogram from per-bucket (not cumulative) counts.
fn render_histogram(
    text: &mut String,
    name: &str,
    help: &str,
    buckets: impl Iterator<Item = (f64, u64)>,
    count: u64,
    sum: f64,
) {
    let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} histogram");
    render_series(text, name, "", buckets, count, sum);
}

/// One labelled series of a histogram whose header is written; `labels` ends with a comma
/// when there are any (`answer="snapshot",`).
fn render_series(
    text: &mut String,
    name: &str,
    labels: &str,
    buckets: impl Iterator<Item = (f64, u64)>,
    count: u64,
    sum: f64,
) {
    let mut cumulative = 0;
    for (bound, in_bucket) in buckets {
        cumulative += in_bucket;
        let _ = writeln!(text, "{name}_bucket{{{labels}le=\"{bound}\"}} {cumulative}");
    }
    let bare = labels.trim_end_matches(',');
    let braces = if bare.is_empty() {
        String::new()
    } else {
        format!("{{{bare}}}")
    };
    let _ = writeln!(
        text,
        "{name}_bucket{{{labels}le=\"+Inf\"}} {count}\n{name}_sum{braces} {sum}\n{name}_count{braces} {count}"
    );
}

/// `taskpulse_ws_subscribe_answer_seconds`, one series per answer.
pub(super) fn render_subscribe_answers(text: &mut String, answers: &[AnswerTimes]) {
    let name = "taskpulse_ws_subscribe_answer_seconds";
    let _ = writeln!(
        text,
        "# HELP {name} From a WebSocket subscribe to an aggregate or trends topic, read off the \
         socket, to its answer written to it: the snapshot, or the subscribed that ends a \
         resume's replay.\n# TYPE {name} histogram"
    );
    for times in answers {
        let labels = format!("answer=\"{}\",", times.answer);
        let buckets = ANSWER_BUCKETS.iter().copied().zip(times.buckets);
        render_series(text, name, &labels, buckets, times.count, times.seconds_sum);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribe_answers_are_one_family_with_a_series_per_answer() {
        let mut buckets = [0; ANSWER_BUCKETS.len()];
        buckets[1] = 3;
        let answers = [
            AnswerTimes {
                answer: "snapshot",
                buckets: [0; ANSWER_BUCKETS.len()],
                count: 0,
                seconds_sum: 0.0,
            },
            AnswerTimes {
                answer: "subscribed",
                buckets,
                count: 4,
                seconds_sum: 2.5,
            },
        ];
        let mut text = String::new();
        render_subscribe_answers(&mut text, &answers);
        let name = "taskpulse_ws_subscribe_answer_seconds";
        assert_eq!(text.matches(&format!("# TYPE {name} histogram")).count(), 1);
        assert!(text.contains(&format!(
            "{name}_bucket{{answer=\"subscribed\",le=\"0.001\"}} 3\n"
        )));
        assert!(text.contains(&format!(
            "{name}_bucket{{answer=\"subscribed\",le=\"+Inf\"}} 4\n"
        )));
        assert!(text.contains(&format!("{name}_sum{{answer=\"subscribed\"}} 2.5\n")));
        assert!(text.contains(&format!("{name}_count{{answer=\"snapshot\"}} 0\n")));
    }

    #[test]
    fn engine_buckets_are_rendered_cumulative_with_inf_equal_to_count() {
        let mut buckets = [0; DELIVERY_BUCKETS.len()];
        buckets[0] = 2;
        buckets[3] = 1;
        let mut text = String::new();
        render_engine(
            &mut text,
            &MetricsSnapshot {
                outbox: Default::default(),
                live_aggregates: 1,
                deltas_applied: 7,
                delivery_buckets: buckets,
                deliveries: 4,
                delivery_seconds_sum: 0.5,
                subscribers_collapsed: 0,
                cluster: Default::default(),
                feeds: Default::default(),
            },
        );
        assert!(
            text.contains("taskpulse_deltas_applied_total 7\n"),
            "{text}"
        );
        assert!(
            text.contains("taskpulse_delta_delivery_seconds_bucket{le=\"0.00005\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("taskpulse_delta_delivery_seconds_bucket{le=\"0.25\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("taskpulse_delta_delivery_seconds_bucket{le=\"+Inf\"} 4\n"),
            "{text}"
        );
        assert!(
            text.contains("taskpulse_delta_delivery_seconds_count 4\n"),
            "{text}"
        );
        assert!(text.contains("# TYPE taskpulse_delta_delivery_seconds histogram"));
    }
}
