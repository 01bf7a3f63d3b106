//! Request bodies above [`MAX_BODY_BYTES`] are refused with 413, whether they announce their
//! length or arrive chunked (poem's `SizeLimit` refuses bodies without `Content-Length`). A task
//! import takes a file of up to [`MAX_IMPORT_BYTES`] instead.
//!
//! A refused body is read on and thrown away (up to [`DRAIN_BYTES`] more, for at most
//! [`DRAIN_TIME`]) before the 413 goes out, as web servers do: a server that answers and closes
//! while the client is still sending resets the connection, and most clients then report a
//! broken pipe instead of the answer.

use std::time::Duration;

use futures_util::{Stream, StreamExt};
use poem::http::Method;
use poem::http::header::CONTENT_LENGTH;
use poem::{Body, Endpoint, Request};

use crate::error::ApiError;

/// Request bodies larger than this are refused with 413 (docs/architecture.md, "Rules and limits").
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// `POST /api/v1/tasks/import` takes files up to this size (docs/export-import.md).
pub const MAX_IMPORT_BYTES: usize = 50 * 1024 * 1024;

/// The route whose body may be as large as [`MAX_IMPORT_BYTES`].
const IMPORT_PATH: &str = "/api/v1/tasks/import";

/// How much of a refused body is read past before the connection is given up.
const DRAIN_BYTES: u64 = 64 * 1024 * 1024;

/// How long a refused body is read past at most.
const DRAIN_TIME: Duration = Duration::from_secs(10);

/// The middleware function, for `EndpointExt::around`.
pub async fn limit_body<E: Endpoint>(next: E, mut req: Request) -> poem::Result<E::Output> {
    let (limit, said) = if req.method() == Method::POST && req.uri().path() == IMPORT_PATH {
        (MAX_IMPORT_BYTES, "50 MiB")
    } else {
        (MAX_BODY_BYTES, "64 KiB")
    };
    let too_large = || ApiError::PayloadTooLarge(format!("the request body is larger than {said}"));
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(length) if length > limit as u64 => {
            if length <= limit as u64 + DRAIN_BYTES {
                drain(req.take_body().into_bytes_stream(), 0).await;
            }
            return Err(too_large().into());
        }
        Some(_) => {}
        None => {
            // No announced length: read at most the limit, so a chunked body cannot exceed it.
            let body = read_at_most(req.take_body(), limit)
                .await?
                .ok_or_else(too_large)?;
            req.set_body(Body::from_vec(body));
        }
    }
    next.call(req).await
}

/// The body, if it is at most `limit` bytes long; otherwise `None`, the rest read past.
async fn read_at_most(body: Body, limit: usize) -> poem::Result<Option<Vec<u8>>> {
    let mut stream = body.into_bytes_stream();
    let mut read = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(poem::error::ReadBodyError::Io)?;
        if read.len() + chunk.len() > limit {
            drain(stream, (read.len() + chunk.len()) as u64).await;
            return Ok(None);
        }
        read.extend_from_slice(&chunk);
    }
    Ok(Some(read))
}

/// Reads past what is left of a refused body, within [`DRAIN_BYTES`] and [`DRAIN_TIME`].
async fn drain<S, B, E>(mut stream: S, mut read: u64)
where
    S: Stream<Item = Result<B, E>> + Unpin,
    B: AsRef<[u8]>,
{
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        while let Some(Ok(chunk)) = stream.next().await {
            read += chunk.as_ref().len() as u64;
            if read > DRAIN_BYTES + MAX_IMPORT_BYTES as u64 {
                return;
            }
        }
    })
    .await;
}
