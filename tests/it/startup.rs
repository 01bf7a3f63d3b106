//! Start-up fails with one clear line and a non-zero exit when the configuration is bad.

use std::time::Duration;

use crate::common::{BINARY, ProcessApp};
use tokio::process::Command;

/// Runs `taskpulse serve` with these arguments and answers (exit code, stderr).
async fn serve_and_fail(args: &[&str]) -> anyhow::Result<(Option<i32>, String)> {
    let output = tokio::time::timeout(
        Duration::from_secs(30),
        Command::new(BINARY)
            .arg("serve")
            .args(args)
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "off")
            .kill_on_drop(true)
            .output(),
    )
    .await??;
    Ok((
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ))
}

#[tokio::test]
async fn unreachable_database_url_ends_with_one_clear_line() -> anyhow::Result<()> {
    let (code, stderr) = serve_and_fail(&[
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        "postgres://postgres:hunter2@127.0.0.1:1/taskpulse",
    ])
    .await?;

    assert_eq!(code, Some(1));
    assert_eq!(stderr.trim().lines().count(), 1, "stderr: {stderr}");
    assert!(
        stderr.starts_with("taskpulse: error: cannot reach the database"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "the password leaked: {stderr}");
    Ok(())
}

#[tokio::test]
async fn unwritable_data_dir_ends_with_one_clear_line() -> anyhow::Result<()> {
    let file = std::env::temp_dir().join(format!("taskpulse-not-a-dir-{}", uuid::Uuid::now_v7()));
    std::fs::write(&file, b"")?;
    let data_dir = file.join("data");

    let (code, stderr) = serve_and_fail(&[
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        &data_dir.to_string_lossy(),
    ])
    .await?;

    std::fs::remove_file(&file)?;
    assert_eq!(code, Some(1));
    assert_eq!(stderr.trim().lines().count(), 1, "stderr: {stderr}");
    assert!(
        stderr.contains("data directory") && stderr.contains("not writable"),
        "{stderr}"
    );
    Ok(())
}

#[tokio::test]
async fn port_in_use_ends_with_one_clear_line() -> anyhow::Result<()> {
    let app = ProcessApp::spawn().await?;
    let taken = app.base_url.trim_start_matches("http://").to_owned();

    let (code, stderr) =
        serve_and_fail(&["--listen", &taken, "--database-url", &app.db.url]).await?;

    assert_eq!(code, Some(1));
    assert_eq!(stderr.trim().lines().count(), 1, "stderr: {stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on {taken}")),
        "{stderr}"
    );
    Ok(())
}

#[tokio::test]
async fn help_documents_every_setting_with_its_environment_variable() -> anyhow::Result<()> {
    let output = Command::new(BINARY)
        .args(["serve", "--help"])
        .output()
        .await?;
    let help = String::from_utf8_lossy(&output.stdout);

    assert!(output.status.success());
    for flag in [
        "--listen",
        "--database-url",
        "--data-dir",
        "--jwt-secret",
        "--log-format",
    ] {
        assert!(help.contains(flag), "--help does not mention {flag}");
    }
    assert!(help.contains("TASKPULSE_LISTEN") && help.contains("TASKPULSE_DATABASE_URL"));
    Ok(())
}

#[tokio::test]
async fn sigterm_stops_the_server_gracefully() -> anyhow::Result<()> {
    let mut app = ProcessApp::spawn().await?;
    let healthy = app.get("/api/v1/health").await?.status();

    let status = app.terminate().await?;
    let after = app.get("/api/v1/health").await;

    assert_eq!(healthy, 200);
    assert!(status.success(), "exit status {status:?}");
    assert!(after.is_err(), "the server still answers after SIGTERM");
    Ok(())
}

/// A config file in the temporary directory, removed on drop.
struct ConfigFile(std::path::PathBuf);

impl ConfigFile {
    fn new(text: &str) -> anyhow::Result<Self> {
        let path = std::env::temp_dir().join(format!("taskpulse-{}.toml", uuid::Uuid::now_v7()));
        std::fs::write(&path, text)?;
        Ok(Self(path))
    }

    fn path(&self) -> String {
        self.0.to_string_lossy().into_owned()
    }
}

impl Drop for ConfigFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[tokio::test]
async fn an_unknown_setting_in_the_config_file_ends_with_one_clear_line() -> anyhow::Result<()> {
    let file = ConfigFile::new("lissten = \"127.0.0.1:0\"\n")?;

    let (code, stderr) = serve_and_fail(&["--config", &file.path()]).await?;

    assert_eq!(code, Some(1));
    assert_eq!(stderr.trim().lines().count(), 1, "stderr: {stderr}");
    assert!(stderr.contains("`lissten` is not a setting"), "{stderr}");
    Ok(())
}

#[tokio::test]
async fn flags_and_environment_beat_the_config_file() -> anyhow::Result<()> {
    // Both values in the file are unusable: the server starts only if the flag (--listen,
    // from ProcessApp) and the environment variable win over them.
    let file = ConfigFile::new("listen = \"not an address\"\ndb-pool-size = \"many\"\n")?;

    let app = ProcessApp::builder()
        .with_arg("--config")
        .with_arg(&file.path())
        .with_env("TASKPULSE_DB_POOL_SIZE", "4")
        .spawn()
        .await?;

    assert_eq!(app.get("/api/v1/health").await?.status(), 200);
    Ok(())
}

#[tokio::test]
async fn the_config_file_sets_what_flags_and_environment_leave_out() -> anyhow::Result<()> {
    let file = ConfigFile::new("allowed-origins = [\"https://app.example.com\"]\n")?;

    let app = ProcessApp::builder()
        .with_arg("--config")
        .with_arg(&file.path())
        .spawn()
        .await?;
    let preflight = app
        .http
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/tasks"))
        .header("Origin", "https://app.example.com")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await?;

    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("https://app.example.com")
    );
    Ok(())
}

#[tokio::test]
async fn a_schema_name_that_is_not_a_plain_identifier_ends_with_one_clear_line()
-> anyhow::Result<()> {
    let (code, stderr) = serve_and_fail(&[
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        "postgres://postgres@127.0.0.1:1/taskpulse",
        "--database-schema",
        "Tasks; DROP",
    ])
    .await?;

    assert_eq!(code, Some(1));
    assert_eq!(stderr.trim().lines().count(), 1, "stderr: {stderr}");
    assert!(stderr.contains("schema name"), "{stderr}");
    Ok(())
}

#[tokio::test]
async fn database_schema_puts_the_tables_in_the_schema_it_names() -> anyhow::Result<()> {
    let app = crate::common::TestApp::builder()
        .with_arg("--database-schema")
        .with_arg("tasks_elsewhere")
        .spawn()
        .await?;
    app.register("ann@example.com").await?;

    let mut conn = app.db.connect().await?;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count = |schema: &str| format!("SELECT count(*) AS n FROM {schema}.users");
    use diesel_async::RunQueryDsl;
    let there: Count = diesel::sql_query(count("tasks_elsewhere"))
        .get_result(&mut conn)
        .await?;
    let default: Count = diesel::sql_query(count("taskpulse"))
        .get_result(&mut conn)
        .await?;

    assert_eq!((there.n, default.n), (1, 0));
    Ok(())
}
