"""`runbook serve` under load: event-to-client latency, and the server's CPU and memory.

    .venv/bin/python bench/serve_bench.py [--seconds 180] [--clients 50] [--tuis 5]

Three processes besides this one: the real `runbook serve` (loopback, port 0), an operator (the
real Engine on the wall clock, recording a note every 0.5-1.5 x ``--every`` seconds into the same
SQLite store), and this process as every client: status-page clients that hold /events open (an
EventSource, as the page does) and /tui clients that open the websocket as textual.js does (each
one makes the server spawn a `runbook watch`) and read everything it sends, without drawing it.

Latency is from the operator's commit (time.time() just after COMMIT) to the moment a client
has the server-sent event carrying that seq; for /tui, to the moment the note's text appears in
the watch screen's output. CPU is utime+stime from /proc over the phase's wall time, for the
server process and, apart, for its descendants (the watch processes); memory is VmRSS of the
server and the summed Pss of the descendants at the end of the phase.

Phases, in one run, each with the same runbook and operator rate:
  idle       the server and the operator, no client       (what an idle server costs)
  one        one status-page client                       (latency reference)
  tui1       one /tui session                             (the same for the watch screen)
  load       --clients status pages and --tuis /tui       (the figure asked for)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parent.parent
CLK = os.sysconf("SC_CLK_TCK")


def runbook_now(path: Path) -> Path:
    """The bundled switch-port runbook with its window moved to start this minute."""
    data = yaml.safe_load((ROOT / "runbooks" / "san-port-swap.yaml").read_text())
    start = datetime.now(ZoneInfo(data["timezone"])).replace(second=0, microsecond=0)
    data["window"] = {"start": start.strftime("%Y-%m-%dT%H:%M"),
                      "announced_resume": (start + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


OPERATOR = """
import sys, time
sys.path.insert(0, {root!r})
from runbook.engine.clock import SystemClock
from runbook.engine.run import Actor, new_run
from runbook.format.loader import load_runbook
from runbook.store import Store
store = Store({db!r})
engine = new_run(store, load_runbook({runbook!r}), SystemClock(), Actor("bench", "bench-host"))
print("run", engine.run_id, flush=True)
engine.start("go-no-go")
i = 0
for line in sys.stdin:          # one line = one note
    ev = engine.note(f"bn{{i:05d}}")
    print(ev.seq, f"{{time.time():.6f}}", f"bn{{i:05d}}", flush=True)
    i += 1
"""


class Operator:
    def __init__(self, db: Path, runbook: Path) -> None:
        code = OPERATOR.format(root=str(ROOT), db=str(db), runbook=str(runbook))
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.run_id = self.proc.stdout.readline().split()[1]  # type: ignore[union-attr]
        self.commits: dict[int, float] = {}
        self.notes: dict[str, int] = {}

    def note(self) -> None:
        self.proc.stdin.write("n\n")  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]
        seq, at, text = self.proc.stdout.readline().split()  # type: ignore[union-attr]
        self.commits[int(seq)] = float(at)
        self.notes[text] = int(seq)

    def close(self) -> None:
        self.proc.stdin.close()  # type: ignore[union-attr]
        self.proc.wait(10)


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def descendants(pid: int) -> list[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError):
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        frontier = [p for p, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def kib(pid: int, field: str, name: str = "status") -> int:
    try:
        text = Path(f"/proc/{pid}/{name}").read_text()
    except OSError:
        return 0
    m = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    return int(m.group(1)) if m else 0


class Usage:
    """CPU seconds of the server and of its descendants between start() and stop()."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def _sample(self) -> tuple[float, float]:
        kids = 0.0
        for p in descendants(self.pid):
            with contextlib.suppress(OSError):
                kids += cpu_s(p)
        return cpu_s(self.pid), kids

    def start(self) -> None:
        self.t0, (self.s0, self.k0) = time.monotonic(), self._sample()

    def stop(self) -> dict[str, float]:
        wall = time.monotonic() - self.t0
        s1, k1 = self._sample()
        kids = descendants(self.pid)
        return {"wall_s": wall, "server_cpu": (s1 - self.s0) / wall,
                "watch_cpu": max(0.0, k1 - self.k0) / wall,
                "server_rss_mib": kib(self.pid, "VmRSS") / 1024,
                "watch_pss_mib": sum(kib(p, "Pss", "smaps_rollup") for p in kids) / 1024,
                "watch_processes": sum(1 for p in kids if b"watch" in _cmdline(p))}


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


async def status_client(http, url: str, got: list[tuple[int, float]], stop: asyncio.Event) -> None:
    async with http.get(url + "events", timeout=aiohttp.ClientTimeout(total=None)) as r:
        while not stop.is_set():
            line = await r.content.readline()
            if not line:
                return
            if line.startswith(b"data: "):
                got.append((json.loads(line[6:])["seq"], time.time()))


async def tui_client(http, url: str, seen: dict[str, float], stop: asyncio.Event) -> None:
    ws = await http.ws_connect(url.replace("http", "ws", 1) + "tui/ws?width=140&height=45")
    await ws.send_json(["resize", {"width": 140, "height": 45}])
    tail = ""
    try:
        while not stop.is_set():
            try:
                msg = await asyncio.wait_for(ws.receive(), 1.0)
            except TimeoutError:
                continue
            if msg.type != aiohttp.WSMsgType.BINARY:
                if msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    return
                continue
            now = time.time()
            text = tail + msg.data.decode("utf-8", "replace")
            for note in re.findall(r"bn\d{5}", text):
                seen.setdefault(note, now)
            tail = text[-8:]  # a note split across two messages
    finally:
        await ws.close()


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * len(values)) - 1))] if values else float("nan")


async def phase(name: str, url: str, pid: int, op: Operator, seconds: float, every: float,
                clients: int, tuis: int) -> dict:
    stop = asyncio.Event()
    rng = random.Random(name)
    got: list[list[tuple[int, float]]] = [[] for _ in range(clients)]
    seen: list[dict[str, float]] = [{} for _ in range(tuis)]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        tasks = [asyncio.create_task(status_client(http, url, g, stop)) for g in got]
        tasks += [asyncio.create_task(tui_client(http, url, s, stop)) for s in seen]
        await asyncio.sleep(8 if tuis else 1)  # let the watch processes start and draw
        first_seq = max(op.commits, default=0)
        usage = Usage(pid)
        usage.start()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await asyncio.get_running_loop().run_in_executor(None, op.note)
            await asyncio.sleep(rng.uniform(0.5, 1.5) * every)  # never in step with 1 Hz timers
        await asyncio.sleep(2)  # the last notes reach everyone
        result = usage.stop()
        stop.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    lat = [at - op.commits[seq] for g in got for seq, at in _firsts(g) if seq > first_seq
           and seq in op.commits]
    tui_lat = [at - op.commits[op.notes[n]] for s in seen for n, at in s.items()
               if n in op.notes and op.notes[n] > first_seq]
    events = sum(1 for s in op.commits if s > first_seq)
    result.update(name=name, clients=clients, tuis=tuis, events=events, samples=len(lat),
                  p50_ms=pct(lat, 0.5) * 1000, p99_ms=pct(lat, 0.99) * 1000,
                  max_ms=max(lat, default=float("nan")) * 1000,
                  missed=clients * events - len(lat),
                  tui_samples=len(tui_lat), tui_p50_ms=pct(tui_lat, 0.5) * 1000,
                  tui_p99_ms=pct(tui_lat, 0.99) * 1000, tui_missed=tuis * events - len(tui_lat))
    return result


def _firsts(got: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """Each seq at the first event that carried it (a later event may repeat the same seq)."""
    first: dict[int, float] = {}
    for seq, at in got:
        first.setdefault(seq, at)
    return list(first.items())


def report(rows: list[dict]) -> None:
    print(f"\n{'phase':<6} {'pages':>5} {'tuis':>4} {'events':>6} {'page p50':>9} "
          f"{'page p99':>9} {'max':>7} {'missed':>6} {'tui p50':>8} {'tui p99':>8} {'missed':>6} "
          f"{'server CPU':>10} {'watch CPU':>9} {'server RSS':>10} {'watch Pss':>9}")
    for r in rows:
        tui = (f"{r['tui_p50_ms']:>6.0f}ms {r['tui_p99_ms']:>6.0f}ms {r['tui_missed']:>6}"
               if r["tuis"] else f"{'-':>8} {'-':>8} {'-':>6}")
        page = (f"{r['p50_ms']:>7.0f}ms {r['p99_ms']:>7.0f}ms {r['max_ms']:>5.0f}ms "
                f"{r['missed']:>6}" if r["clients"] else f"{'-':>9} {'-':>9} {'-':>7} {'-':>6}")
        print(f"{r['name']:<6} {r['clients']:>5} {r['tuis']:>4} {r['events']:>6} {page} {tui} "
              f"{r['server_cpu'] * 100:>9.1f}% {r['watch_cpu'] * 100:>8.1f}% "
              f"{r['server_rss_mib']:>7.1f}MiB {r['watch_pss_mib']:>6.0f}MiB")
    print("\nCPU in % of one core over the phase; latency from the operator's commit to the "
          "client having it;\nmissed: events a client never showed (pages x events - samples).")


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="runbook-serve-bench-") as tmp:
        db, book = Path(tmp) / "runs.db", runbook_now(Path(tmp) / "san-port-swap.yaml")
        op = Operator(db, book)
        server = subprocess.Popen([sys.executable, "-m", "runbook", "serve", "--db", str(db),
                                   "--port", "0", "--max-tui", str(max(args.tuis, 1))],
                                  stdout=subprocess.PIPE, text=True, cwd=ROOT)
        try:
            url = ""
            while not url:
                line = server.stdout.readline()  # type: ignore[union-attr]
                if not line:
                    raise SystemExit("runbook serve did not start")
                if m := re.search(r"status page\s+(http://\S+/)", line):
                    url = m.group(1)
            print(f"run {op.run_id}; server pid {server.pid} at {url}; "
                  f"{os.cpu_count()} cores; one note every {args.every}s on average")
            rows = []
            plan = [("idle", args.ref_seconds, 0, 0), ("one", args.ref_seconds, 1, 0),
                    ("tui1", args.ref_seconds, 0, 1),
                    ("load", args.seconds, args.clients, args.tuis)]
            for name, seconds, clients, tuis in plan:
                print(f"phase {name}: {clients} status pages, {tuis} /tui, {seconds:.0f}s ...",
                      flush=True)
                rows.append(await phase(name, url, server.pid, op, seconds, args.every,
                                        clients, tuis))
            report(rows)
        finally:
            server.terminate()
            server.wait(20)
            op.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=180, help="length of the load phase")
    p.add_argument("--ref-seconds", type=float, default=30, help="length of each reference phase")
    p.add_argument("--clients", type=int, default=50, help="status-page clients in the load phase")
    p.add_argument("--tuis", type=int, default=5, help="/tui sessions in the load phase")
    p.add_argument("--every", type=float, default=1.0, help="seconds between the operator's notes")
    args = p.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
