//! Where the signing secret comes from: a generated one survives a restart (sessions too), and
//! a configured one that is too short stops start-up with a clear message.

use std::process::Stdio;

use serde_json::{Value, json};
use taskpulse_testdb::{TestDb, target_dir};

use crate::common::{BINARY, PASSWORD, start_server};

#[tokio::test]
async fn a_generated_secret_survives_a_restart() -> anyhow::Result<()> {
    let db = TestDb::migrated().await?;
    let data_dir = target_dir()
        .join("taskpulse-test-data")
        .join(uuid::Uuid::now_v7().simple().to_string());
    let http = reqwest::Client::new();
    let (mut first, base) = start_server(&db, &data_dir, &[]).await?;
    let body = json!({"email": "ada@example.com", "password": PASSWORD, "display_name": "Ada"});
    let session: Value = http
        .post(format!("{base}/api/v1/auth/register"))
        .json(&body)
        .send()
        .await?
        .json()
        .await?;
    let access = session["access_token"].as_str().unwrap_or_default();
    first.kill().await?;

    let (mut second, base) = start_server(&db, &data_dir, &[]).await?;
    let me = http
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(access)
        .send()
        .await?;

    assert_eq!(me.status(), 200);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data_dir.join("jwt-secret"))?
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    second.kill().await?;
    std::fs::remove_dir_all(&data_dir)?;
    Ok(())
}

#[tokio::test]
async fn a_short_configured_secret_stops_start_up_without_echoing_it() -> anyhow::Result<()> {
    let data_dir = target_dir()
        .join("taskpulse-test-data")
        .join(uuid::Uuid::now_v7().simple().to_string());

    let output = tokio::process::Command::new(BINARY)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--jwt-secret",
            "hunter2-too-short",
        ])
        .arg("--data-dir")
        .arg(&data_dir)
        .stdin(Stdio::null())
        .output()
        .await?;

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("at least 32 bytes"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
    let _ = std::fs::remove_dir_all(&data_dir);
    Ok(())
}
