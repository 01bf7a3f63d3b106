//! The JavaScript client package (`clients/js`, `@taskpulse/client`): its own tests
//! (`node --test`) run against a real server started here, which they may stop and start again
//! on the same address through a small control endpoint (`POST /stop`, `/start`, `/restart`);
//! and its TypeScript types must be what openapi-typescript (the version the package pins,
//! through `clients/js/scripts/types.mjs`) makes of the OpenAPI document the server serves. Needs Node.js (`scripts/setup` installs
//! it and the package's npm dependencies); without it these tests fail, they do not skip.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use crate::common::{TestApp, npm_package};
use anyhow::{Context, bail};
use taskpulse_testdb::target_dir;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::Command;

/// Everything `node --test` runs may take, restarts included.
const NODE_TESTS_WITHIN: Duration = Duration::from_secs(240);

/// `clients/js`, with its `node_modules` installed when missing.
async fn package_dir() -> anyhow::Result<PathBuf> {
    npm_package(
        "clients/js",
        &["ws/package.json", "openapi-typescript/bin/cli.js"],
        "the JavaScript client's tests",
    )
    .await
}

/// Answers one request of the control endpoint: stops, starts or restarts `app`.
async fn control(stream: TcpStream, app: &mut TestApp) -> anyhow::Result<()> {
    let mut stream = BufReader::new(stream);
    let mut request = String::new();
    stream.read_line(&mut request).await?;
    loop {
        let mut header = String::new();
        if stream.read_line(&mut header).await? == 0 || header == "\r\n" {
            break;
        }
    }
    let done = match request.split_whitespace().take(2).collect::<Vec<_>>()[..] {
        ["POST", "/stop"] => app.stop().await,
        ["POST", "/start"] => app.start_again().await,
        ["POST", "/restart"] => app.restart().await,
        _ => Err(anyhow::anyhow!("unknown control request {request:?}")),
    };
    let status = if done.is_ok() {
        "204 No Content"
    } else {
        "500 Internal Server Error"
    };
    let answer = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    stream.get_mut().write_all(answer.as_bytes()).await?;
    done
}

#[tokio::test]
async fn the_js_client_passes_its_tests_against_a_real_server() -> anyhow::Result<()> {
    let dir = package_dir().await?;
    let mut app = TestApp::builder()
        // Short-lived tokens, so tokens are renewed and expire within the tests.
        .with_arg("--access-token-ttl")
        .with_arg("6s")
        // Every client renews every few seconds, all from this machine's address.
        .with_arg("--rate-limit-auth-per-minute")
        .with_arg("100000")
        // The webhook test's receiver is a server of its own on this machine.
        .with_arg("--webhooks-allow-http")
        .with_arg("--webhooks-allow-private")
        .spawn()
        .await?;
    let controls = TcpListener::bind("127.0.0.1:0").await?;
    let control_url = format!("http://{}", controls.local_addr()?);

    // The test files by name: given a directory, Node 20 would run its helpers as tests too.
    let mut files = std::fs::read_dir(dir.join("test"))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()?;
    files.retain(|path| path.to_string_lossy().ends_with(".test.js"));
    files.sort();

    let mut node = Command::new("node")
        // One file at a time: restart.test.js stops the server the others use.
        .args(["--test", "--test-concurrency=1"])
        .args(&files)
        .env("TASKPULSE_URL", &app.base_url)
        .env("TASKPULSE_CONTROL_URL", &control_url)
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start node")?;
    let run = async {
        loop {
            tokio::select! {
                status = node.wait() => break anyhow::Ok(status?),
                accepted = controls.accept() => control(accepted?.0, &mut app).await?,
            }
        }
    };
    let status = tokio::time::timeout(NODE_TESTS_WITHIN, run)
        .await
        .context("node --test did not finish in time")??;

    assert!(
        status.success(),
        "node --test clients/js/test failed ({status}); its report is in the output above"
    );
    Ok(())
}

#[tokio::test]
async fn the_committed_types_are_generated_from_the_served_openapi_document() -> anyhow::Result<()>
{
    let dir = package_dir().await?;
    let app = TestApp::spawn().await?;
    let work = target_dir().join("js-client-types");
    std::fs::create_dir_all(&work)?;
    let generated = work.join(format!("{}.d.ts", uuid::Uuid::now_v7().simple()));

    let output = Command::new("node")
        .arg(dir.join("scripts/types.mjs"))
        .arg(format!("{}/openapi.json", app.base_url))
        .arg(&generated)
        .output()
        .await
        .context("cannot run node")?;
    if !output.status.success() {
        bail!(
            "scripts/types.mjs failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    let committed_path = dir.join("types/openapi.d.ts");
    let fresh = std::fs::read_to_string(&generated)?;
    // After a change to the REST API: UPDATE_JS_TYPES=1 writes the new types in place.
    if std::env::var_os("UPDATE_JS_TYPES").is_some() {
        std::fs::write(&committed_path, &fresh)?;
    }
    let committed = std::fs::read_to_string(&committed_path)
        .context("clients/js/types/openapi.d.ts is missing")?;
    assert!(
        committed == fresh,
        "clients/js/types/openapi.d.ts is stale: regenerate it with \
         `UPDATE_JS_TYPES=1 cargo test --test it js_client::the_committed_types`"
    );
    std::fs::remove_file(&generated)?;
    Ok(())
}
