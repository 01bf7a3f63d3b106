//! Log set-up: `RUST_LOG` filters (default `info,ractor=warn`, which shows the access log,
//! target `taskpulse::access`), text or JSON lines on stderr.

use std::io::IsTerminal;

use tracing::Dispatch;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;

/// The filter when `RUST_LOG` is not set.
pub const DEFAULT_FILTER: &str = "info,ractor=warn";

/// Installs the global subscriber.
pub fn init(format: LogFormat) {
    // ractor opens an INFO span for every actor (each WebSocket session and live aggregate);
    // an enabled span is kept in the subscriber's registry for the actor's whole life.
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    // Colour codes only for a person at a terminal, never into a file or a collector.
    let ansi = std::io::stderr().is_terminal();
    subscriber(format, filter, std::io::stderr, ansi).init();
}

/// The log lines of `format` through `filter` into `writer`: what [`init`] installs for the
/// whole process, and what an in-process test server installs for its own threads only.
pub fn subscriber<W>(format: LogFormat, filter: EnvFilter, writer: W, ansi: bool) -> Dispatch
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    match format {
        LogFormat::Text => builder.finish().into(),
        LogFormat::Json => builder.json().flatten_event(true).finish().into(),
    }
}
