//! Requests hyper refuses itself (a URI or a head too long, too many headers, a malformed
//! request line) never reach the application, and hyper answers them with an empty body; this
//! is the problem document that goes out instead.

use poem::http::StatusCode;

use crate::error::Problem;
use taskpulse_live::shapes::problem::ProblemCode;

/// A problem document for an answer hyper made itself: a status of 400 or above with an empty
/// body (`content-length: 0`), and nothing else in the write. The application never sends
/// such an answer: every error it makes has a problem body.
pub(super) fn problem_for_bare_error(data: &[u8]) -> Option<Vec<u8>> {
    // Cheap tests first: this sees every write of every connection.
    if !(data.starts_with(b"HTTP/1.1 4") || data.starts_with(b"HTTP/1.1 5"))
        || !data.ends_with(b"\r\n\r\n")
    {
        return None;
    }
    let head = std::str::from_utf8(&data[..data.len() - 4]).ok()?;
    if head.contains("\r\n\r\n") {
        return None; // a body follows the head
    }
    let status = StatusCode::from_bytes(head.get(9..12)?.as_bytes()).ok()?;
    let empty = head
        .lines()
        .any(|line| line.eq_ignore_ascii_case("content-length: 0"));
    if !empty {
        return None;
    }
    let (code, detail) = match status {
        StatusCode::URI_TOO_LONG => (ProblemCode::UriTooLong, "the request URI is too long"),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => (
            ProblemCode::HeadersTooLarge,
            "the request's headers are too large or too many",
        ),
        StatusCode::REQUEST_TIMEOUT => (
            ProblemCode::RequestTimeout,
            "the request took too long to arrive",
        ),
        StatusCode::HTTP_VERSION_NOT_SUPPORTED => (
            ProblemCode::HttpVersionNotSupported,
            "this HTTP version is not supported",
        ),
        s if s.is_server_error() => (
            ProblemCode::InternalError,
            "the request could not be handled",
        ),
        _ => (
            ProblemCode::MalformedRequest,
            "the request is not valid HTTP",
        ),
    };
    let body = Problem::new(status, code, detail).into_body();
    Some(
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/problem+json\r\n\
             connection: close\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_error_answers_become_problem_documents_and_nothing_else_does() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\
                     date: Tue, 01 Dec 2026 04:00:00 GMT\r\n\r\n";
        let rewritten = problem_for_bare_error(bare).map(String::from_utf8);
        let Some(Ok(rewritten)) = rewritten else {
            panic!("not rewritten");
        };
        assert!(rewritten.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(rewritten.contains("content-type: application/problem+json"));
        assert!(
            rewritten.contains("\"code\":\"headers_too_large\""),
            "{rewritten}"
        );

        for untouched in [
            &b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 20\r\n\r\n{\"code\":\"not_found\"}",
            b"HTTP/1.1 204 No Content\r\n\r\n",
            b"\x81\x05hello",
        ] {
            assert!(problem_for_bare_error(untouched).is_none());
        }
    }
}
