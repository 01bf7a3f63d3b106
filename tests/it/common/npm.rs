//! The npm packages some tests drive (the browser test's, the JavaScript client's), installed
//! with `npm ci` when missing, so that a fresh checkout passes without `scripts/setup` too.

use std::path::{Path, PathBuf};

use anyhow::{Context, ensure};
use tokio::process::Command;

/// Held while `npm ci` installs packages: tests run at once, and one installs while the others
/// wait and then find its result.
static NPM_CI: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `dir` (relative to the workspace), after checking that Node.js runs and installing its
/// packages when one of the files `needs` (under `node_modules/`) is missing. `what` names the
/// tests in the messages.
pub async fn npm_package(dir: &str, needs: &[&str], what: &str) -> anyhow::Result<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let node = Command::new("node").arg("--version").output().await;
    ensure!(
        node.is_ok_and(|out| out.status.success()),
        "{what} need Node.js (`node` on PATH); run scripts/setup"
    );
    let _installing = NPM_CI.lock().await;
    if needs
        .iter()
        .any(|file| !path.join("node_modules").join(file).is_file())
    {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(&path)
            .status()
            .await
            .context("cannot run npm (it comes with Node.js); run scripts/setup")?;
        ensure!(status.success(), "npm ci --prefix {dir} failed");
    }
    Ok(path)
}
