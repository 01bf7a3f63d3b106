//! A bad `--database-url` (API.md, "Several nodes"): one line saying why, exit status 1, the
//! password never shown.

use tokio::process::Command;

use crate::common::BINARY;

#[tokio::test]
async fn a_bad_database_url_is_one_line_and_exit_1() -> anyhow::Result<()> {
    for (url, reason) in [
        (
            "postgres://u:pw@127.0.0.1:5433,127.0.0.1:5434/x?target_session_attrs=primary",
            "target_session_attrs",
        ),
        ("postgres://u:pw@db1,db2:5434/x", "each names its port"),
        ("postgres://u:pw@/x", "names no host"),
        ("postgres://u:pw@,/x", "empty entry"),
    ] {
        let output = Command::new(BINARY)
            .args(["migrate", "--database-url", url])
            .env("RUST_LOG", "warn")
            .output()
            .await?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{url}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{url}: {stderr}");
        assert!(stderr.contains(reason), "{url}: {stderr}");
        assert!(!stderr.contains("pw"), "the password is shown: {stderr}");
    }
    Ok(())
}
