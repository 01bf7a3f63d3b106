//! A private PostgreSQL cluster made from the installed server programs, for machines that
//! have PostgreSQL installed but no server running. It listens only on a Unix socket inside its
//! own data directory and is stopped when its handle is dropped.

use std::fs::{self, File};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use nix::unistd::{Gid, Uid, User};
use std::os::unix::fs::chown;

use crate::error::{Error, Result};

/// The system user PostgreSQL runs as when taskpulse runs as root (PostgreSQL refuses root).
const SERVICE_USER: &str = "postgres";
/// How often the watcher checks that the server runs.
const WATCH_EVERY: Duration = Duration::from_secs(1);
/// The watcher's wait after a failed restart: doubling from the first to the last.
const RESTART_BACKOFF: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(30));
/// A Unix socket path is at most 107 bytes; the socket file adds `/.s.PGSQL.5432`.
const MAX_SOCKET_DIR_LEN: usize = 90;

/// A running embedded cluster.
#[derive(Debug)]
pub struct EmbeddedCluster {
    data_dir: PathBuf,
    bin_dir: PathBuf,
    run_as: Option<(Uid, Gid)>,
    keep_running: bool,
}

impl EmbeddedCluster {
    /// Initialises the cluster in `data_dir` if needed and starts it, or adopts it when it is
    /// already running. Concurrent callers (several test processes) are serialised by a lock
    /// file beside the directory.
    pub async fn start(data_dir: &Path, keep_running: bool) -> Result<Self> {
        let data_dir = data_dir.to_path_buf();
        tokio::task::spawn_blocking(move || Self::start_blocking(data_dir, keep_running))
            .await
            .map_err(|err| Error::Embedded(format!("start-up task failed: {err}")))?
    }

    /// The URL of `database` on this cluster (over its Unix socket).
    pub fn url(&self, database: &str) -> String {
        let host: String =
            url::form_urlencoded::byte_serialize(self.data_dir.to_string_lossy().as_bytes())
                .collect();
        format!("postgresql:///{database}?user=postgres&host={host}")
    }

    /// The cluster's data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Stops the server (fast shutdown: open sessions are ended, nothing committed is lost).
    pub fn stop(&self) -> Result<()> {
        self.pg_ctl(&["stop", "-m", "fast", "-w", "-t", "60"])
            .map(|_| ())
    }

    /// Watches the server and starts it again when its postmaster dies (killed, out of
    /// memory…), waiting longer after each failed attempt (1 s doubling to 30 s), so that
    /// taskpulse recovers by itself as it does from any database outage. Ends when the
    /// returned handle is aborted.
    pub fn keep_alive(&self) -> tokio::task::JoinHandle<()> {
        let cluster = self.watcher();
        tokio::spawn(async move {
            let mut backoff = RESTART_BACKOFF.0;
            loop {
                tokio::time::sleep(WATCH_EVERY).await;
                let watched = cluster.watcher();
                let restarted =
                    tokio::task::spawn_blocking(move || watched.restart_if_down()).await;
                match restarted {
                    Ok(Ok(false)) => backoff = RESTART_BACKOFF.0,
                    Ok(Ok(true)) => {
                        tracing::warn!(
                            "the embedded PostgreSQL cluster had stopped: started it again"
                        );
                        backoff = RESTART_BACKOFF.0;
                    }
                    Ok(Err(err)) => {
                        tracing::warn!(error = %err, ?backoff, "the embedded PostgreSQL cluster is down and did not start");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(RESTART_BACKOFF.1);
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "the embedded cluster's watcher failed")
                    }
                }
            }
        })
    }

    /// A handle on the same server that never stops it when dropped (only the owner's does).
    fn watcher(&self) -> Self {
        Self {
            data_dir: self.data_dir.clone(),
            bin_dir: self.bin_dir.clone(),
            run_as: self.run_as,
            keep_running: true,
        }
    }

    /// Starts the server when it is not running; answers whether it had to.
    fn restart_if_down(&self) -> Result<bool> {
        if self.is_running() {
            return Ok(false);
        }
        self.start_server()?;
        Ok(true)
    }

    fn start_server(&self) -> Result<()> {
        let socket_dir = self.data_dir.to_string_lossy().into_owned();
        let log = self.data_dir.join("server.log");
        let options = format!("-k {socket_dir} -c listen_addresses='' -p 5432");
        self.pg_ctl(&[
            "start",
            "-w",
            "-t",
            "60",
            "-l",
            &log.to_string_lossy(),
            "-o",
            &options,
        ])
        .map(|_| ())
    }

    fn start_blocking(data_dir: PathBuf, keep_running: bool) -> Result<Self> {
        let bin_dir = find_bin_dir().ok_or_else(|| {
            Error::Embedded(
                "PostgreSQL's server programs (initdb, pg_ctl, postgres) are not installed: \
                 neither on PATH nor under /usr/lib/postgresql/*/bin"
                    .to_owned(),
            )
        })?;
        let run_as = service_user()?;
        let parent = data_dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::create_dir_all(parent).map_err(|err| data_dir_error(parent, &err))?;
        let parent = fs::canonicalize(parent).map_err(|err| data_dir_error(parent, &err))?;
        let data_dir = parent.join(data_dir.file_name().unwrap_or("postgres".as_ref()));
        if data_dir.as_os_str().len() > MAX_SOCKET_DIR_LEN {
            return Err(Error::DataDir {
                path: data_dir,
                message: format!(
                    "the path is too long for a Unix socket (at most {MAX_SOCKET_DIR_LEN} bytes); \
                     choose a shorter --data-dir"
                ),
            });
        }

        let lock = File::create(parent.join("postgres.lock"))
            .map_err(|err| data_dir_error(&parent, &err))?;
        lock.lock().map_err(|err| data_dir_error(&parent, &err))?;

        let cluster = Self {
            data_dir,
            bin_dir,
            run_as,
            keep_running,
        };
        if !cluster.data_dir.join("PG_VERSION").exists() {
            cluster.initialise(&parent)?;
        }
        if !cluster.is_running() {
            cluster.start_server()?;
        }
        drop(lock);
        Ok(cluster)
    }

    fn initialise(&self, parent: &Path) -> Result<()> {
        if let Some((uid, gid)) = self.run_as {
            // The service user must be able to reach its directory through ours.
            fs::set_permissions(parent, fs::Permissions::from_mode(0o755))
                .map_err(|err| data_dir_error(parent, &err))?;
            fs::create_dir_all(&self.data_dir)
                .map_err(|err| data_dir_error(&self.data_dir, &err))?;
            chown(&self.data_dir, Some(uid.as_raw()), Some(gid.as_raw()))
                .map_err(|err| data_dir_error(&self.data_dir, &err))?;
        } else {
            fs::create_dir_all(&self.data_dir)
                .map_err(|err| data_dir_error(&self.data_dir, &err))?;
        }
        fs::set_permissions(&self.data_dir, fs::Permissions::from_mode(0o700))
            .map_err(|err| data_dir_error(&self.data_dir, &err))?;
        let data = self.data_dir.to_string_lossy().into_owned();
        self.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-instructions",
            ],
        )
        .map(|_| ())
    }

    fn is_running(&self) -> bool {
        self.pg_ctl(&["status"]).is_ok()
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<String> {
        let data = self.data_dir.to_string_lossy().into_owned();
        let mut all = vec!["-D", data.as_str()];
        all.extend_from_slice(args);
        self.run("pg_ctl", &all)
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<String> {
        let mut command = Command::new(self.bin_dir.join(program));
        command.args(args).current_dir(&self.data_dir);
        if let Some((uid, gid)) = self.run_as {
            command.uid(uid.as_raw()).gid(gid.as_raw());
        }
        let output = command
            .output()
            .map_err(|err| Error::Embedded(format!("cannot run {program}: {err}")))?;
        let text = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        if output.status.success() {
            Ok(text)
        } else {
            Err(Error::Embedded(format!(
                "{program} {} failed: {}",
                args.first().copied().unwrap_or_default(),
                text.trim()
            )))
        }
    }
}

impl Drop for EmbeddedCluster {
    fn drop(&mut self) {
        if self.keep_running {
            return;
        }
        if let Err(err) = self.stop() {
            tracing::warn!(error = %err, "could not stop the embedded PostgreSQL cluster");
        }
    }
}

/// Where `initdb`, `pg_ctl` and `postgres` are: on PATH, else the newest Debian-style install.
fn find_bin_dir() -> Option<PathBuf> {
    let has_all = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|p| dir.join(p).is_file())
    };
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    if let Some(dir) = on_path.into_iter().find(|dir| has_all(dir)) {
        return Some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| has_all(bin))
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// The user to run PostgreSQL as: none when we are not root, `postgres` when we are.
fn service_user() -> Result<Option<(Uid, Gid)>> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    match User::from_name(SERVICE_USER) {
        Ok(Some(user)) => Ok(Some((user.uid, user.gid))),
        _ => Err(Error::Embedded(format!(
            "taskpulse runs as root, which PostgreSQL refuses, and there is no `{SERVICE_USER}` \
             system user to run it as; run taskpulse as an ordinary user or create that user"
        ))),
    }
}

fn data_dir_error(path: &Path, err: &std::io::Error) -> Error {
    Error::DataDir {
        path: path.to_path_buf(),
        message: err.to_string(),
    }
}
