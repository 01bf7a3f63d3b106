//! CPU time spent by the server and by PostgreSQL over the write phase (same machine, Linux),
//! so a run can say what one write costs each side.

use serde_json::{Value, json};

/// CPU seconds used so far by the server and by every PostgreSQL process alive now (the
/// server's connections live as long as its pool, so a difference over a run is what the run
/// cost PostgreSQL).
#[derive(Debug, Clone, Copy)]
pub struct CpuSample {
    server_pid: u32,
    server: f64,
    postgres: f64,
}

impl CpuSample {
    pub fn take(server_pid: u32) -> Self {
        Self {
            server_pid,
            server: process_seconds(&server_pid.to_string()),
            postgres: postgres_seconds(),
        }
    }

    /// Milliseconds of CPU per write on each side since `self`.
    pub fn per_write(&self, writes: u64) -> Value {
        let now = Self::take(self.server_pid);
        let per = |seconds: f64| seconds * 1000.0 / writes.max(1) as f64;
        json!({
            "server": per(now.server - self.server),
            "postgres": per(now.postgres - self.postgres),
        })
    }
}

/// Clock ticks per second of `/proc/<pid>/stat` (USER_HZ: 100 on every Linux this runs on).
const TICKS_PER_SECOND: f64 = 100.0;

fn process_seconds(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // The command name may hold spaces: the fields after it follow its closing parenthesis.
    let Some((_, after_name)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime: fields 14 and 15 of the line, 11 and 12 after the name.
    (ticks(11) + ticks(12)) / TICKS_PER_SECOND
}

fn postgres_seconds() -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|pid| pid.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim() == "postgres")
        })
        .map(|pid| process_seconds(&pid))
        .sum()
}

/// CPU seconds over one phase of a storm or a fan-out, on every side of this machine: the load
/// generator itself, PostgreSQL, and each node whose process id was given (`--node-pids`), so
/// that a slow figure can say where the cores went.
pub struct CpuPhase {
    started: std::time::Instant,
    loadgen: f64,
    postgres: f64,
    nodes: Vec<(u32, f64)>,
}

impl CpuPhase {
    pub fn start(node_pids: &[u32]) -> Self {
        Self {
            started: std::time::Instant::now(),
            loadgen: process_seconds(&std::process::id().to_string()),
            postgres: postgres_seconds(),
            nodes: (node_pids.iter())
                .map(|&pid| (pid, process_seconds(&pid.to_string())))
                .collect(),
        }
    }

    /// `{wall_seconds, loadgen, postgres, nodes: [..]}` in CPU seconds since the start; a node
    /// whose process is gone (the killed one) is null.
    pub fn json(&self) -> Value {
        let alive = |pid: u32| std::path::Path::new(&format!("/proc/{pid}/stat")).exists();
        let nodes: Vec<Value> = (self.nodes.iter())
            .map(|&(pid, before)| {
                if alive(pid) {
                    json!(process_seconds(&pid.to_string()) - before)
                } else {
                    Value::Null
                }
            })
            .collect();
        json!({
            "wall_seconds": self.started.elapsed().as_secs_f64(),
            "loadgen": process_seconds(&std::process::id().to_string()) - self.loadgen,
            "postgres": postgres_seconds() - self.postgres,
            "nodes": nodes,
        })
    }
}
