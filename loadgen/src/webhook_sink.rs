//! `--webhook-sink`: the load generator receives the webhooks it makes itself. A receiver on
//! the same two cores takes CPU from the server it measures; this one answers 204 at once and
//! only notes when each request came and its body, which are read after the run. (The tests'
//! Python receiver, tests/webhooks/, checks signatures; this one only counts and orders.)

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

type Received = Arc<Mutex<Vec<(Instant, Bytes)>>>;

/// A webhook receiver on a loopback port, until dropped.
pub struct WebhookSink {
    url: url::Url,
    received: Received,
    accepting: JoinHandle<()>,
}

impl WebhookSink {
    pub async fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let url = url::Url::parse(&format!("http://{}/hook", listener.local_addr()?))?;
        let received = Received::default();
        let accepting = tokio::spawn(accept(listener, Arc::clone(&received)));
        Ok(Self {
            url,
            received,
            accepting,
        })
    }

    /// Where the webhooks are to be sent.
    pub fn url(&self) -> &url::Url {
        &self.url
    }

    fn count(&self) -> usize {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Waits until `expected` requests came, or `limit` passed; then describes them against
    /// the end of the writes (`writes_ended`): how many came while the writes ran and per
    /// second, how long after the writes the last came, and whether each writer's events
    /// came in the order it wrote them (titles `<prefix> <writer>/<seq>`, as `--hot-team`
    /// names its tasks).
    pub async fn report(
        &self,
        writes_started: Instant,
        writes_ended: Instant,
        expected: u64,
        limit: Duration,
    ) -> Value {
        let deadline = Instant::now() + limit;
        while (self.count() as u64) < expected && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let received = self.received.lock().unwrap_or_else(PoisonError::into_inner);
        let during = received
            .iter()
            .filter(|(at, _)| *at <= writes_ended)
            .count();
        let writing = writes_ended.duration_since(writes_started).as_secs_f64();
        let last = received.iter().map(|(at, _)| *at).max();
        let bodies: Vec<Value> = (received.iter())
            .map(|(_, body)| serde_json::from_slice(body).unwrap_or(Value::Null))
            .collect();
        let distinct: HashSet<&str> = bodies.iter().filter_map(|b| b["id"].as_str()).collect();
        json!({
            "expected": expected,
            "received": received.len(),
            "distinct_events": distinct.len(),
            "received_while_writing": during,
            "received_per_second_while_writing": during as f64 / writing.max(1e-9),
            "last_after_writes_s": last.map(|at| at.saturating_duration_since(writes_ended).as_secs_f64()),
            "each_writer_in_order": in_order(&bodies),
        })
    }
}

impl Drop for WebhookSink {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

async fn accept(listener: TcpListener, received: Received) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let received = Arc::clone(&received);
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                let received = Arc::clone(&received);
                async move {
                    let body = request.into_body().collect().await.map(|b| b.to_bytes());
                    let status = match body {
                        Ok(body) => {
                            let mut received =
                                received.lock().unwrap_or_else(PoisonError::into_inner);
                            received.push((Instant::now(), body));
                            StatusCode::NO_CONTENT
                        }
                        Err(_) => StatusCode::BAD_REQUEST,
                    };
                    let mut response = Response::new(Empty::<Bytes>::new());
                    *response.status_mut() = status;
                    Ok::<_, Infallible>(response)
                }
            });
            // A connection the server drops ends here; the server retries what it did not
            // see answered.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Whether every writer's events came with growing sequence numbers; `None` when no body
/// carries a `<prefix> <writer>/<seq>` title.
fn in_order(bodies: &[Value]) -> Option<bool> {
    let mut last: HashMap<&str, u64> = HashMap::new();
    let mut ordered = true;
    for body in bodies {
        let title = body["data"]["title"].as_str().unwrap_or_default();
        let Some((writer, seq)) = title
            .split_once(' ')
            .and_then(|(_, tail)| tail.split_once('/'))
        else {
            continue;
        };
        let Ok(seq) = seq.parse::<u64>() else {
            continue;
        };
        let previous = last.insert(writer, seq);
        ordered &= previous.is_none_or(|previous| previous < seq);
    }
    (!last.is_empty()).then_some(ordered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(title: &str) -> Value {
        json!({ "data": { "title": title } })
    }

    #[test]
    fn order_is_per_writer() {
        let ordered = [
            body("hot 0/1"),
            body("hot 1/1"),
            body("hot 0/2"),
            body("hot 1/2"),
        ];
        assert_eq!(in_order(&ordered), Some(true));
        let swapped = [body("hot 0/2"), body("hot 0/1")];
        assert_eq!(in_order(&swapped), Some(false));
        assert_eq!(in_order(&[body("no sequence")]), None);
    }
}
