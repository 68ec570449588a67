"""Issue #11's figures, each beside its target and a reference measured in the same run: ONE table.

    .venv/bin/python bench/perf.py                 # every figure at the issue's sizes
    .venv/bin/python bench/perf.py --quick         # smaller sizes, one repeat: a smoke run
    .venv/bin/python bench/perf.py --only 1,4      # some sections: 1 per event, 2 UI thread,
                                                   # 3 start-up, 4 big stores
    .venv/bin/python bench/perf.py --save after.json --compare before.json

Sections: bench/perf_events.py (1), perf_ui.py (2, and the first frames of 3), perf_startup.py
(3), perf_stores.py (4); plans, runs and stores come from bench/generate.py. Values are medians
of n repeats (n is printed): reference and measured run alternately, so both see the same noise.
A figure whose one repeat takes longer than its budget gets fewer repeats. Wall times on a busy
machine include waiting for a CPU: the load average is printed at the start and the end.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import ROOT, Figure, fmt, load_note  # noqa: E402

FULL = {"steps": (1000, 10_000), "repeat": 3, "running": (128, 500),
        "sim_steps": 1000, "sim_events": (2000, 4000, 6000), "ui_steps": 10_000, "notes": 1000,
        "ui_seconds": 10.0, "frame_steps": 1000, "check": (1000, 20_000), "largest": 50_000,
        "runs": 1000, "report_events": 100_000, "report_steps": 1000}
QUICK = {"steps": (300, 1000), "repeat": 1, "running": (64, 128),
         "sim_steps": 200, "sim_events": (400, 800, 1200), "ui_steps": 1000, "notes": 100,
         "ui_seconds": 3.0, "frame_steps": 300, "check": (1000,), "largest": 5000,
         "runs": 30, "report_events": 5000, "report_steps": 300}


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(x.replace("_", "")) for x in text.split(",") if x.strip())


def measure(sizes: dict, sections: set[str], tmp: Path, progress) -> list[Figure]:
    from bench import perf_events, perf_startup, perf_stores, perf_ui

    n = sizes["repeat"]
    figures: list[Figure] = []

    def add(*found: Figure | None) -> None:
        for f in found:
            if f is not None:
                figures.append(f)
                progress(f)

    if "1" in sections:
        for steps in sizes["steps"]:
            add(*perf_events.per_event(tmp, steps, max(7, n)))
        for steps in sizes["steps"]:
            add(*perf_events.per_event(tmp, steps, max(7, n), skip=True))
        for running in sizes["running"]:
            add(perf_events.steady_per_running(tmp, running, max(3, n)))
        add(*perf_events.simulate(tmp, sizes["sim_steps"], sizes["sim_events"], n))
    if "2" in sections:
        add(*perf_ui.stalls(tmp, sizes["ui_steps"], sizes["notes"], sizes["ui_seconds"]))
    if "3" in sections:
        add(*perf_ui.first_frames(tmp, sizes["frame_steps"], n))
        add(*perf_startup.check_vs_reference(tmp, sizes["check"], n))
        add(perf_startup.largest_plan(tmp, sizes["largest"]))
    if "4" in sections:
        add(*perf_stores.stores(tmp, sizes["runs"], n))
        add(perf_stores.big_report(tmp, sizes["report_events"], sizes["report_steps"], n))
    return figures


def table(figures: list[Figure], before: dict[str, float] | None = None) -> str:
    head = ["figure", "measured", "reference", "ratio", "target", "n", "result"]
    if before is not None:
        head.insert(2, "before")
    rows, notes = [head], []
    for f in figures:
        result = "-" if f.passed is None else "ok" if f.passed else f"FAIL {f.over}".strip()
        name = f.name
        if f.note:
            if f.note not in notes:
                notes.append(f.note)
            name += f" [{notes.index(f.note) + 1}]"
        measured = fmt(f.measured, f.unit) if f.measured is not None else "refused" \
            if f.note.startswith("refused") else "-"
        ref = f"{fmt(f.reference, f.unit)} {f.ref_name}" if f.reference is not None else "-"
        row = [f"{f.section[0]} {name}", measured, ref,
               f"{f.ratio:.2f}x" if f.ratio is not None else "-", f.target, str(f.n), result]
        if before is not None:
            row.insert(2, fmt(before.get(f.name), f.unit))
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    right = {1, 3, 4, 5} if before is None else {1, 2, 4, 5, 6}
    lines = []
    for k, r in enumerate(rows):
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in
                 enumerate(zip(r, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    lines += [f"[{k}] {note}" for k, note in enumerate(notes, start=1)]
    return "\n".join(lines)


def header(sizes: dict, sections: set[str]) -> str:
    import numpy
    import textual

    commit = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True,
                            text=True, cwd=ROOT).stdout.strip() or "?"
    return (f"runbook perf (issue #11) at {commit}, {time.strftime('%Y-%m-%d %H:%M')}; Python "
            f"{platform.python_version()}, numpy {numpy.__version__}, Textual "
            f"{textual.__version__}; sections {','.join(sorted(sections))}; repeats up to "
            f"{sizes['repeat']} (more in process)\n{load_note()} at the start")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, one repeat (smoke run)")
    ap.add_argument("--only", default="1,2,3,4", help="sections, e.g. 1,4")
    ap.add_argument("--repeat", type=int, help="repeats (median); default 3, quick 1")
    ap.add_argument("--steps", type=_ints, help="per-event plan sizes (default 1000,10000)")
    ap.add_argument("--running", type=_ints, help="running steps for the steady refresh")
    ap.add_argument("--sim-events", type=_ints, help="simulate script sizes (2000,4000,6000)")
    ap.add_argument("--ui-steps", type=int, help="plan size for the stall figures (10000)")
    ap.add_argument("--notes", type=int, help="notes in the run for the stall figures (1000)")
    ap.add_argument("--ui-seconds", type=float, help="steady window for the stalls (10)")
    ap.add_argument("--check", type=_ints, help="check sizes (1000,20000)")
    ap.add_argument("--largest", type=int, help="plan size the loader must accept (50000)")
    ap.add_argument("--runs", type=int, help="past runs in the big store (1000)")
    ap.add_argument("--report-events", type=int, help="events of the big run (100000)")
    ap.add_argument("--save", metavar="JSON", help="write the figures to JSON")
    ap.add_argument("--compare", metavar="JSON", help="add a column from an earlier --save")
    args = ap.parse_args(argv)
    sizes = dict(QUICK if args.quick else FULL)
    for key in sizes:
        if getattr(args, key, None) is not None:
            sizes[key] = getattr(args, key)
    sections = {s.strip() for s in args.only.split(",") if s.strip()}
    print(header(sizes, sections), flush=True)
    t0 = time.perf_counter()

    def progress(f: Figure) -> None:
        print(f"  {time.perf_counter() - t0:6.0f}s  {f.name}: {fmt(f.measured, f.unit)}",
              file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="runbook-perf-") as tmp:
        figures = measure(sizes, sections, Path(tmp), progress)
    before = None
    if args.compare:
        before = {f["name"]: f["measured"] for f in json.loads(Path(args.compare).read_text())}
    print()
    print(table(figures, before))
    failed = [f for f in figures if f.passed is False]
    targets = [f for f in figures if f.passed is not None]
    print(f"\n{len(targets) - len(failed)} of {len(targets)} figures meet their target; "
          f"{time.perf_counter() - t0:.0f} s; {load_note()} at the end")
    if args.save:
        Path(args.save).write_text(json.dumps([dataclasses.asdict(f) for f in figures], indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
