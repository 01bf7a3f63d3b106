"""What the benchmark scripts share: a throwaway database on the local PostgreSQL, a `serve`
process on a free loopback port, and one `taskpulse-loadgen` run read back as JSON."""

import json
import os
import subprocess
import sys
import tempfile
import uuid

SERVER = os.environ.get("TASKPULSE_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
SECRET = "bench-secret-0123456789abcdef0123456789"


def psql(sql):
    subprocess.run(["psql", f"{SERVER}/postgres", "-qAtc", sql], check=True)


class Database:
    """A fresh database, migrated by `binary`, dropped on exit."""

    def __init__(self, binary):
        self.binary = binary
        self.name = f"taskpulse_bench_{uuid.uuid4().hex[:12]}"
        self.url = f"{SERVER}/{self.name}"

    def __enter__(self):
        psql(f'CREATE DATABASE "{self.name}"')
        subprocess.run([self.binary, "migrate", "--database-url", self.url], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    def __exit__(self, *_):
        psql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class Node:
    """One `serve` process of `binary` on a free loopback port; `stop()` ends it."""

    def __init__(self, binary, db, flags=()):
        self.data = tempfile.mkdtemp(prefix="taskpulse-bench-")
        self.proc = subprocess.Popen(
            [binary, "serve", "--listen", "127.0.0.1:0", "--database-url", db.url,
             "--data-dir", self.data, "--jwt-secret", SECRET, "--no-rate-limit",
             "--no-migrate", *flags],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "RUST_LOG": "warn"})
        for line in self.proc.stdout:
            if line.startswith("taskpulse listening on "):
                self.url = line.split()[-1]
                break
        else:
            sys.exit(f"{binary} serve did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def loadgen(binary, urls, rate, duration, users, read_duration="0s", hot_team=None,
            server_pid=None, warmup="0s"):
    """One bounded run of the load generator `binary` (`taskpulse-loadgen`) against `urls`
    (loopback), its JSON report. With `hot_team`, that many connections create tasks in one
    team instead (`--hot-team`); with `server_pid`, the report has the CPU per write of that
    server and of PostgreSQL."""
    args = [binary, "--json", "--read-duration", read_duration, "--rate", str(rate),
            "--duration", duration, "--users", str(users), "--warmup", warmup]
    if hot_team:
        args += ["--hot-team", str(hot_team)]
    if server_pid:
        args += ["--server-pid", str(server_pid)]
    for url in urls:
        args += ["--url", url]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def describe(report):
    cpu = report.get("cpu_per_write_ms")
    return _describe(report) + (
        f", CPU/write: server {cpu['server']:.2f} ms, PostgreSQL {cpu['postgres']:.2f} ms"
        if cpu else "")


def describe_reads(report):
    r = report["stats_get_ms"]
    return (f"{report['stats_get_rps']:7.0f} reads/s, p50 {r['p50']:.2f} ms p99 {r['p99']:.2f} ms, "
            f"errors {report['errors']}")


def _describe(report):
    ws = report["commit_to_ws_ms"]
    if ws["count"] == 0:
        w = report["write_ms"]
        return (f"{report['writes_per_second']:7.0f} writes/s, write p50 {w['p50']:.2f} ms "
                f"p99 {w['p99']:.2f} ms, errors {report['errors']}")
    return (f"{report['writes_per_second']:7.0f} writes/s, write→ws p50 {ws['p50']:.2f} ms "
            f"p99 {ws['p99']:.2f} ms, errors {report['errors']}")
