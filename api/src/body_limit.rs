//! Request bodies above [`MAX_BODY_BYTES`] are refused with 413, whether they announce their
//! length or arrive chunked (poem's `SizeLimit` refuses bodies without `Content-Length`).

use poem::error::ReadBodyError;
use poem::http::header::CONTENT_LENGTH;
use poem::{Body, Endpoint, Request};

/// Request bodies larger than this are refused with 413 (docs/architecture.md, "Rules and limits").
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The middleware function, for `EndpointExt::around`.
pub async fn limit_body<E: Endpoint>(next: E, mut req: Request) -> poem::Result<E::Output> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(length) if length > MAX_BODY_BYTES as u64 => {
            return Err(ReadBodyError::PayloadTooLarge.into());
        }
        Some(_) => {}
        None => {
            // No announced length: read at most the limit, so a chunked body cannot exceed it.
            let body = req.take_body().into_bytes_limit(MAX_BODY_BYTES).await?;
            req.set_body(Body::from_bytes(body));
        }
    }
    next.call(req).await
}
