//! A primary and a synchronous standby made for one test from the installed PostgreSQL
//! programs (initdb, pg_basebackup -R, pg_ctl), each on a TCP port of its own on 127.0.0.1,
//! both in a directory under the target dir that is removed when the pair is dropped. As root
//! the programs run as the `postgres` system user (PostgreSQL refuses root), as the embedded
//! cluster does.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use taskpulse_testdb::target_dir;
use tokio::process::Command;

/// The standby's `application_name`, which the primary's `synchronous_standby_names` names.
const STANDBY_NAME: &str = "standby";

/// The two servers.
pub struct PostgresPair {
    dir: PathBuf,
    bin: PathBuf,
    run_as: Option<(u32, u32)>,
    /// The primary's port, then the standby's.
    pub ports: [u16; 2],
}

impl PostgresPair {
    /// Makes and starts the primary, clones it into the standby and waits until the primary
    /// counts the standby as synchronous: from then on a commit is acknowledged only once the
    /// standby has it.
    pub async fn start() -> anyhow::Result<Self> {
        let dir = target_dir()
            .join("taskpulse-failover")
            .join(uuid::Uuid::now_v7().simple().to_string());
        std::fs::create_dir_all(&dir)?;
        let pair = Self {
            dir,
            bin: bin_dir()?,
            run_as: run_as()?,
            ports: [free_port()?, free_port()?],
        };
        if let Some((uid, gid)) = pair.run_as {
            std::os::unix::fs::chown(&pair.dir, Some(uid), Some(gid))?;
        }
        pair.make_primary().await?;
        pair.make_standby().await?;
        pair.wait_until_synchronous().await?;
        Ok(pair)
    }

    /// `postgres://postgres@127.0.0.1:P,127.0.0.1:S/<database>?target_session_attrs=read-write`.
    pub fn url(&self, database: &str) -> String {
        let [primary, standby] = self.ports;
        format!(
            "postgres://postgres@127.0.0.1:{primary},127.0.0.1:{standby}/{database}\
             ?target_session_attrs=read-write"
        )
    }

    /// One server's URL (0: the first primary, 1: the standby).
    pub fn url_of(&self, server: usize, database: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{database}",
            self.ports[server]
        )
    }

    /// Kills the primary the way a crash would: `pg_ctl stop -m immediate` (no checkpoint,
    /// sessions cut).
    pub async fn stop_primary(&self) -> anyhow::Result<()> {
        self.pg_ctl("primary", &["stop", "-m", "immediate", "-w"])
            .await
    }

    /// Promotes the standby and waits until it takes writes.
    pub async fn promote_standby(&self) -> anyhow::Result<()> {
        self.pg_ctl("standby", &["promote", "-w", "-t", "60"]).await
    }

    async fn make_primary(&self) -> anyhow::Result<()> {
        let data = self.data("primary");
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
        .await?;
        // synchronous_commit=on with a synchronous standby: a commit returns only once the
        // standby has flushed it, which is what makes "nothing acknowledged is lost" hold.
        self.configure(
            "primary",
            &format!(
                "port = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n\
                 synchronous_standby_names = '{STANDBY_NAME}'\nsynchronous_commit = on\n\
                 max_connections = 60\n",
                self.ports[0]
            ),
        )?;
        self.start_server("primary").await
    }

    async fn make_standby(&self) -> anyhow::Result<()> {
        let data = self.data("standby");
        let port = self.ports[0].to_string();
        self.run(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-D",
                &data,
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",
            ],
        )
        .await?;
        // After what -R wrote (the auto file is read last): a port of its own, a name the
        // primary's synchronous_standby_names knows, and none of its own (copied from the
        // primary: once promoted it would wait on every commit for a standby it lacks).
        self.configure_auto(
            "standby",
            &format!(
                "port = {}\nprimary_conninfo = 'host=127.0.0.1 port={port} user=postgres \
                 application_name={STANDBY_NAME}'\nsynchronous_standby_names = ''\n",
                self.ports[1]
            ),
        )?;
        self.start_server("standby").await
    }

    async fn wait_until_synchronous(&self) -> anyhow::Result<()> {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = AsyncPgConnection::establish(&self.url_of(0, "postgres")).await?;
        for _ in 0..300 {
            let sync: Count = diesel::sql_query(
                "SELECT count(*) AS n FROM pg_stat_replication WHERE sync_state = 'sync'",
            )
            .get_result(&mut conn)
            .await?;
            if sync.n == 1 {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("the standby did not become synchronous within 30 s")
    }

    fn data(&self, server: &str) -> String {
        self.dir.join(server).to_string_lossy().into_owned()
    }

    fn configure(&self, server: &str, lines: &str) -> anyhow::Result<()> {
        append(&self.dir.join(server).join("postgresql.conf"), lines)
    }

    fn configure_auto(&self, server: &str, lines: &str) -> anyhow::Result<()> {
        append(&self.dir.join(server).join("postgresql.auto.conf"), lines)
    }

    async fn start_server(&self, server: &str) -> anyhow::Result<()> {
        let log = self.dir.join(format!("{server}.log"));
        self.pg_ctl(
            server,
            &["start", "-w", "-t", "60", "-l", &log.to_string_lossy()],
        )
        .await
    }

    async fn pg_ctl(&self, server: &str, args: &[&str]) -> anyhow::Result<()> {
        let data = self.data(server);
        let mut all = vec!["-D", data.as_str()];
        all.extend_from_slice(args);
        self.run("pg_ctl", &all).await
    }

    async fn run(&self, program: &str, args: &[&str]) -> anyhow::Result<()> {
        let mut command = Command::new(self.bin.join(program));
        command.args(args).current_dir(&self.dir);
        if let Some((uid, gid)) = self.run_as {
            command.uid(uid).gid(gid);
        }
        let output = command
            .output()
            .await
            .with_context(|| format!("cannot run {program}"))?;
        if !output.status.success() {
            bail!(
                "{program} {args:?} failed: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }
}

impl Drop for PostgresPair {
    fn drop(&mut self) {
        for server in ["primary", "standby"] {
            let mut command = std::process::Command::new(self.bin.join("pg_ctl"));
            command.args(["-D", &self.data(server), "stop", "-m", "immediate", "-w"]);
            if let Some((uid, gid)) = self.run_as {
                use std::os::unix::process::CommandExt;
                command.uid(uid).gid(gid);
            }
            // Already stopped is fine: the failover stops the primary.
            let _ = command.output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn append(path: &Path, lines: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new().append(true).open(path)?;
    file.write_all(lines.as_bytes())?;
    Ok(())
}

/// A port nothing listens on now.
fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The newest `/usr/lib/postgresql/*/bin` with every program the pair needs, else PATH's.
fn bin_dir() -> anyhow::Result<PathBuf> {
    let programs = ["initdb", "pg_ctl", "pg_basebackup", "postgres"];
    let has_all = |dir: &Path| programs.iter().all(|p| dir.join(p).is_file());
    let mut installed: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| has_all(bin))
        .collect();
    installed.sort();
    if let Some((_, bin)) = installed.pop() {
        return Ok(bin);
    }
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .find(|dir| has_all(dir))
        .context("PostgreSQL's server programs are not installed (scripts/setup installs them)")
}

/// The `postgres` system user's ids when the test runs as root.
fn run_as() -> anyhow::Result<Option<(u32, u32)>> {
    use nix::unistd::{Uid, User};
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    let user = User::from_name("postgres")?
        .context("running as root needs a `postgres` system user to run PostgreSQL as")?;
    Ok(Some((user.uid.as_raw(), user.gid.as_raw())))
}
