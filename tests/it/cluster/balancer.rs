//! HAProxy in front of test nodes, run with the shipped `deploy/haproxy.cfg` whose `bind` and
//! `server` addresses are replaced by the test's loopback ports: the file operators use is the
//! file under test.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use taskpulse_testdb::target_dir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The deployment file, as shipped.
const SHIPPED: &str = include_str!("../../../deploy/haproxy.cfg");

/// A running HAProxy, killed when dropped.
pub struct Haproxy {
    /// `http://127.0.0.1:PORT`: the frontend.
    pub base_url: String,
    /// The `server` names of the config, in the order of the nodes given to [`Haproxy::start`].
    pub servers: Vec<String>,
    child: Child,
    config: PathBuf,
    /// What it wrote: its log on stdout (a line per request, servers going up and down) and
    /// alerts on stderr. The tail is shown when a test fails.
    output: Arc<Mutex<String>>,
}

impl Haproxy {
    /// Starts HAProxy in the foreground in front of `nodes` (`host:port` each) on a free
    /// loopback port, and waits until it answers the health route.
    pub async fn start(nodes: &[String]) -> anyhow::Result<Self> {
        let binary = binary()?;
        let listen = format!("127.0.0.1:{}", free_port()?);
        let config = target_dir()
            .join("taskpulse-test-data")
            .join(format!("haproxy-{}.cfg", uuid::Uuid::now_v7().simple()));
        let (text, servers) = config_for(SHIPPED, &listen, nodes)?;
        std::fs::create_dir_all(config.parent().context("no parent")?)?;
        std::fs::write(&config, text)?;
        // `-db`: foreground, one process, so killing the child kills HAProxy.
        let mut child = Command::new(&binary)
            .arg("-db")
            .arg("-f")
            .arg(&config)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let output = Arc::new(Mutex::new(String::new()));
        collect(child.stdout.take().context("no stdout")?, &output);
        collect(child.stderr.take().context("no stderr")?, &output);
        let mut haproxy = Self {
            base_url: format!("http://{listen}"),
            servers,
            child,
            config,
            output,
        };
        haproxy.wait_until_serving().await?;
        Ok(haproxy)
    }

    /// What HAProxy wrote so far.
    pub fn output(&self) -> String {
        (self.output.lock().unwrap_or_else(PoisonError::into_inner)).clone()
    }

    /// Polls the health route through HAProxy until it answers 200, failing at once when
    /// HAProxy exits (a bad config) and after 15 s otherwise.
    async fn wait_until_serving(&mut self) -> anyhow::Result<()> {
        let http = reqwest::Client::new();
        let health = format!("{}/api/v1/health", self.base_url);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("HAProxy exited ({status}):\n{}", self.output());
            }
            let last = match http.get(&health).send().await {
                Ok(response) if response.status() == 200 => return Ok(()),
                Ok(response) => format!("health through HAProxy: {}", response.status()),
                Err(err) => err.to_string(),
            };
            if tokio::time::Instant::now() >= deadline {
                anyhow::bail!(
                    "HAProxy did not serve: {last}; it wrote:\n{}",
                    self.output()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_file(&self.config);
        if std::thread::panicking() {
            let output = self.output();
            let tail: Vec<&str> = output.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            eprintln!("HAProxy's last lines:\n{}", tail.join("\n"));
        }
    }
}

/// Appends each line `from` yields to `output`.
fn collect(from: impl tokio::io::AsyncRead + Unpin + Send + 'static, output: &Arc<Mutex<String>>) {
    let output = Arc::clone(output);
    tokio::spawn(async move {
        let mut lines = BufReader::new(from).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let mut text = output.lock().unwrap_or_else(PoisonError::into_inner);
            text.push_str(&line);
            text.push('\n');
        }
    });
}

/// `shipped` with its `bind` address replaced by `listen` and its `server` addresses by
/// `nodes`, in order; answers the config and the server names. Fails unless the file has
/// exactly one `bind` and one `server` per node.
pub fn config_for(
    shipped: &str,
    listen: &str,
    nodes: &[String],
) -> anyhow::Result<(String, Vec<String>)> {
    let mut binds = 0;
    let mut servers = Vec::new();
    let mut config = String::with_capacity(shipped.len());
    for line in shipped.lines() {
        let mut words: Vec<&str> = line.split_whitespace().collect();
        match words.first().copied() {
            Some("bind") if words.len() >= 2 => {
                words[1] = listen;
                binds += 1;
            }
            Some("server") if words.len() >= 3 => {
                words[2] = nodes
                    .get(servers.len())
                    .context("the shipped file has more server lines than the test has nodes")?;
                servers.push(words[1].to_owned());
            }
            _ => {
                config.push_str(line);
                config.push('\n');
                continue;
            }
        }
        config.push_str("    ");
        config.push_str(&words.join(" "));
        config.push('\n');
    }
    anyhow::ensure!(binds == 1, "expected one bind line, found {binds}");
    anyhow::ensure!(
        servers.len() == nodes.len(),
        "expected {} server lines, found {}",
        nodes.len(),
        servers.len()
    );
    Ok((config, servers))
}

/// The HAProxy program: on `PATH`, else Debian's `/usr/sbin/haproxy`.
fn binary() -> anyhow::Result<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join("haproxy"));
    on_path
        .chain([PathBuf::from("/usr/sbin/haproxy")])
        .find(|candidate| is_executable(candidate))
        .context("HAProxy is not installed: run scripts/setup (it runs `apt-get install haproxy`)")
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A loopback port nobody listens on now (HAProxy binds it a moment later).
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
