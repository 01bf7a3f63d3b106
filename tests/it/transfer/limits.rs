//! `POST /api/v1/tasks/import` at its edges: media types (415) and body sizes (413 above
//! 50 MiB, announced or chunked; the 64 KiB limit of other routes does not apply).

use super::{all_tasks, import};
use crate::common::{TestApp, assert_problem, expect_json};

#[tokio::test]
async fn a_body_that_is_neither_csv_nor_ndjson_is_415() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;

    let json_body = import(
        &app,
        &ada.access,
        "",
        "application/json",
        "{\"title\":\"x\"}",
    )
    .await?;
    let no_type = app
        .http
        .post(app.url("/api/v1/tasks/import"))
        .bearer_auth(&ada.access)
        .body("title\nx\n")
        .send()
        .await?;

    for response in [json_body, no_type] {
        let problem = assert_problem(response, 415, "unsupported_media_type").await?;
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("text/csv"))
        );
    }
    assert!(all_tasks(&app, &ada.access).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn a_file_above_50_mib_is_413_and_one_above_64_kib_is_taken() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let ada = app.register("ada@example.com").await?;
    let mut large = String::from("title\n");
    while large.len() <= 100 * 1024 {
        large.push_str(&format!("task number {}\n", large.len()));
    }
    let mut huge = b"title\n".to_vec();
    huge.resize(51 * 1024 * 1024, b'x');

    let taken = import(&app, &ada.access, "", "text/csv", large.clone()).await?;
    let announced = import(&app, &ada.access, "", "text/csv", huge.clone()).await?;
    let chunked = post_chunked(&app, &ada.access, &huge).await?;

    let answer = expect_json(taken, 201).await?;
    assert_eq!(answer["imported"], large.lines().count() - 1);
    let problem = assert_problem(announced, 413, "payload_too_large").await?;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("50 MiB"))
    );
    assert!(chunked.starts_with("HTTP/1.1 413 "), "{chunked}");
    assert!(
        chunked.contains("payload_too_large") && chunked.contains("50 MiB"),
        "{chunked}"
    );
    Ok(())
}

/// POSTs `body` to the import as a chunked CSV upload (no `Content-Length`) over a plain TCP
/// connection, and answers the response as text. The server may answer and close before the
/// whole body is sent: failing writes are expected then.
async fn post_chunked(app: &TestApp, access: &str, body: &[u8]) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let address = app.base_url.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(address.as_str()).await?;
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "POST /api/v1/tasks/import HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {access}\r\n\
         Content-Type: text/csv\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let chunks: Vec<Vec<u8>> = body.chunks(1024 * 1024).map(<[u8]>::to_vec).collect();
    let sending = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await?;
        for chunk in chunks {
            writer
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            writer.write_all(&chunk).await?;
            writer.write_all(b"\r\n").await?;
        }
        writer.write_all(b"0\r\n\r\n").await?;
        std::io::Result::Ok(())
    });
    let mut answer = Vec::new();
    reader.read_to_end(&mut answer).await?;
    // Whether the server read the whole body before closing does not matter here.
    let _ = sending.await?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}
