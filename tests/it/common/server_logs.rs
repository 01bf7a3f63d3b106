//! The log lines of the servers the tests run in this process: each server's runtime threads
//! log through its own subscriber, onto stderr or into a capture the test reads.

use std::cell::RefCell;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context;
use taskpulse::config::LogFormat;
use tokio::runtime::Runtime;
use tracing::dispatcher::DefaultGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

thread_local! {
    /// The log subscriber of the server whose runtime owns this thread.
    static SERVER_LOGS: RefCell<Option<DefaultGuard>> = const { RefCell::new(None) };
}

/// A runtime like `#[tokio::main]`'s whose threads log through `dispatch`: tracing's global
/// subscriber is one per process, so each server's lines are routed by the thread they are
/// written on.
pub(super) fn server_runtime(dispatch: tracing::Dispatch) -> io::Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        // The machine's two cores, whatever machine runs the tests: many servers run at once.
        .worker_threads(2)
        .thread_name("taskpulse-test-app")
        .enable_all()
        .on_thread_start(move || {
            let guard = tracing::dispatcher::set_default(&dispatch);
            SERVER_LOGS.with(|slot| *slot.borrow_mut() = Some(guard));
        })
        .on_thread_stop(|| SERVER_LOGS.with(|slot| drop(slot.borrow_mut().take())))
        .build()
}

/// A server's log subscriber: `filter` (as `RUST_LOG` is read), into `logs` when captured,
/// else onto stderr.
pub(super) fn log_dispatch(
    filter: &str,
    logs: Option<&Logs>,
    format: LogFormat,
) -> anyhow::Result<tracing::Dispatch> {
    let parsed =
        EnvFilter::try_new(filter).with_context(|| format!("bad log filter {filter:?}"))?;
    Ok(match logs {
        Some(logs) => taskpulse::logging::subscriber(format, parsed, logs.clone(), false),
        None => taskpulse::logging::subscriber(format, parsed, io::stderr, false),
    })
}

/// Captured log lines.
#[derive(Clone, Default)]
pub(super) struct Logs(Arc<Mutex<Vec<String>>>);

impl Logs {
    /// The lines captured so far.
    pub(super) fn lines(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl<'a> MakeWriter<'a> for Logs {
    type Writer = LogEvent;

    fn make_writer(&'a self) -> LogEvent {
        LogEvent {
            logs: self.clone(),
            text: Vec::new(),
        }
    }
}

/// One event's text, added to the lines when the subscriber is done writing it.
pub(super) struct LogEvent {
    logs: Logs,
    text: Vec<u8>,
}

impl io::Write for LogEvent {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.text.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LogEvent {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.text);
        let mut lines = (self.logs.0.lock()).unwrap_or_else(PoisonError::into_inner);
        lines.extend(text.lines().map(str::to_owned));
    }
}
