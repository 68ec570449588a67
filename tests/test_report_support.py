"""Shared by the report, runs and calibrate tests: recorded runs made with `runbook simulate --db`.

No tests here (pytest collects nothing); helpers only.
"""

from __future__ import annotations

from pathlib import Path

from runbook.cli import main
from runbook.store import Store

DATA = Path(__file__).resolve().parent / "data" / "report"
KST = "+09:00"


def record(db: Path, runbook: str, events: str, *, label: str = "live", samples: int = 2000,
           seed: int = 0) -> str:
    """Record one simulated run of DATA/runbook into ``db``; returns the new run's id."""
    before = set()
    if db.exists():
        with Store(db, readonly=True) as s:
            before = {r.id for r in s.runs()}
    code = main(["simulate", str(DATA / runbook), "--events", str(DATA / events), "--db", str(db),
                 "--label", label, "--samples", str(samples), "--seed", str(seed)])
    assert code == 0
    with Store(db, readonly=True) as s:
        (new,) = [r.id for r in s.runs() if r.id not in before]
    return new


def t(hhmm: str, day: int = 25) -> str:
    """ISO time on 2026-11-<day> in Asia/Seoul, as the JSON contract writes it."""
    return f"2026-11-{day}T{hhmm}:00{KST}"
