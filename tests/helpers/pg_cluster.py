"""A throw-away PostgreSQL cluster for the tests: initdb, start, stop, restart, destroy.

Runs the server as an unprivileged user (initdb refuses root: as root it runs as ``nobody``),
listening only on a unix socket in its own directory (no TCP port to collide with), with trust
authentication for the superuser ``runbook``. fsync is off: the tests crash clients and restart
the server, never the machine.

    python tests/helpers/pg_cluster.py start DIR    start (or reuse) a cluster in DIR; print its URL
    python tests/helpers/pg_cluster.py stop DIR
"""

from __future__ import annotations

import glob
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

USER = "runbook"


class ClusterError(Exception):
    pass


def bindir() -> Path:
    """The PostgreSQL server binaries: $PG_BINDIR, pg_config --bindir, or Debian's layout."""
    candidates = [os.environ.get("PG_BINDIR", "")]
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                         key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0,
                         reverse=True)
    for c in candidates:
        if c and (Path(c) / "initdb").exists() and (Path(c) / "pg_ctl").exists():
            return Path(c)
    raise ClusterError("no PostgreSQL server binaries (initdb, pg_ctl) found; install Debian's "
                       "postgresql package or set PG_BINDIR")


def admin_execute(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql)


def with_database(url: str, name: str) -> str:
    base, sep, query = url.partition("?")
    head, _, _ = base.rpartition("/")
    return f"{head}/{name}{sep}{query}"


class Cluster:
    def __init__(self, base: Path, port: int | None = None) -> None:
        self.base = Path(base)
        self.data = self.base / "data"
        self.sock = self.base / "sock"
        self.log = self.base / "server.log"
        self.port = port or random.randint(20000, 60000)
        self.bin = bindir()

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{USER}@/{dbname}?host={quote(str(self.sock))}&port={self.port}"

    def _as_owner(self, *cmd: str, check: bool = True,
                  timeout: float = 120) -> subprocess.CompletedProcess:
        argv = [str(self.bin / cmd[0]), *cmd[1:]]
        if os.geteuid() == 0:
            argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
        res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                             cwd=self.base, env={**os.environ, "LC_ALL": "C"})
        if check and res.returncode != 0:
            tail = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise ClusterError(f"{cmd[0]} failed ({res.returncode}): {res.stderr.strip()} "
                               f"{res.stdout.strip()[-500:]} {tail}")
        return res

    def start(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        self.base.chmod(0o755)
        if os.geteuid() == 0:  # the server user must reach its directories
            for p in [self.base, *self.base.parents]:
                if p == Path("/"):
                    break
                p.chmod(p.stat().st_mode | 0o111)
        if not (self.data / "PG_VERSION").exists():
            for d in (self.data, self.sock):
                d.mkdir(exist_ok=True)
            self.data.chmod(0o700)
            if os.geteuid() == 0:
                for p in (self.base, self.data, self.sock):
                    os.chown(p, 65534, 65534)
            self._as_owner("initdb", "-D", str(self.data), "-U", USER, "--auth=trust",
                           "--no-sync", "-E", "UTF8", "--locale=C")
            with open(self.data / "postgresql.conf", "a") as f:
                f.write(f"\nlisten_addresses = ''\nunix_socket_directories = '{self.sock}'\n"
                        f"port = {self.port}\nfsync = off\nfull_page_writes = off\n"
                        "max_connections = 200\nshared_buffers = 32MB\n")
        self.run_server()

    def run_server(self) -> None:
        if os.geteuid() == 0 and not self.log.exists():
            self.log.touch()
            os.chown(self.log, 65534, 65534)
        self._as_owner("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                       "start")

    def stop(self, mode: str = "fast") -> None:
        self._as_owner("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop",
                       check=False)

    def restart(self, down_for: float = 0.0) -> None:
        self.stop("fast")
        time.sleep(down_for)  # how long the store is away, the quantity under test
        self.run_server()

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


if __name__ == "__main__":
    cluster = Cluster(Path(sys.argv[2]), int(os.environ.get("PG_PORT", "0")) or None)
    if sys.argv[1] == "start":
        cluster.start()
        print(cluster.url())
    else:
        cluster.stop()
