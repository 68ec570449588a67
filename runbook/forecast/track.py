"""The store's own track record: how often the forecast's resume times held on past runs.

For every past run of a runbook that resumed service (live, rehearsal, or imported history), the
forecast is recomputed as it stood at the start and at 25%, 50% and 75% of the time to the resume
(the run's events up to then, its recorded seed and prior), and each of P50/P80/P90 "held" when
service was back by it. A calibrated forecast's P80 holds about 8 times in 10: "our P80 held 17 of
20 times" is the number that earns (or loses) the team's trust.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from runbook.engine.state import fold
from runbook.forecast.core import Forecaster, Prior
from runbook.format.loader import LoadError, load_text
from runbook.store import Store

POINTS = (0, 25, 50, 75)  # percent of the time from start to resume
QUANTILES = ("p50", "p80", "p90")
SAMPLES = 2_000


@dataclass
class TrackRecord:
    runbook: str
    runs: int = 0  # runs that resumed and were scored
    by_label: dict[str, int] = field(default_factory=dict)
    held: dict[int, dict[str, int]] = field(
        default_factory=lambda: {p: dict.fromkeys(QUANTILES, 0) for p in POINTS})
    unfinished: int = 0  # runs that never resumed (not scored)

    def as_json(self) -> dict[str, Any]:
        return {"runs": self.runs, "by_label": self.by_label, "unfinished": self.unfinished,
                "held": {f"{p}%": dict(v) for p, v in self.held.items()}}


def track_record(store: Store, runbook_id: str, labels: tuple[str, ...]) -> TrackRecord:
    """Score the forecast on every past run of ``runbook_id`` with one of ``labels``."""
    rec = TrackRecord(runbook_id)
    for info in reversed(store.runs_of(runbook_id)):
        if info.label not in labels:
            continue
        try:
            plan = load_text(info.source_text, info.source_name, default_id=info.runbook_id).plan
        except LoadError:
            continue
        events = store.events(info.id)
        final = fold(plan, events)
        start = final.started_at or (events[0].at if events else None)
        if final.resumed_at is None or start is None:
            rec.unfinished += 1
            continue
        meta = info.meta or {}
        forecaster = Forecaster(plan, samples=SAMPLES, seed=int(meta.get("seed", 0)),
                                prior=Prior.from_dict(meta.get("prior")))
        span = final.resumed_at - start
        for p in POINTS:
            at: datetime = start + span * (p / 100)
            state = fold(plan, [e for e in events if e.at <= at])
            if state.resumed:
                continue  # cannot happen before the resume; kept safe for odd stores
            fc = forecaster.forecast(state, at)
            for q in QUANTILES:
                rec.held[p][q] += final.resumed_at <= getattr(fc, q)
        rec.runs += 1
        rec.by_label[info.label] = rec.by_label.get(info.label, 0) + 1
    return rec


def track_text(rec: TrackRecord) -> list[str]:
    """Lines for `runbook calibrate`."""
    if rec.runs == 0:
        tail = f" ({rec.unfinished} never resumed)" if rec.unfinished else ""
        return [f"Track record: no past run of {rec.runbook} that resumed service{tail}."]
    kinds = ", ".join(f"{n} {label}" for label, n in sorted(rec.by_label.items()))
    n = rec.runs
    lines = [f"Track record over {n} past run{'s' if n != 1 else ''} ({kinds}): how often service "
             "was back by the forecast's time, as it stood then"]
    lines.append(f"  {'forecast made':<16}" + "".join(f"{q.upper() + ' held':>14}" for q in QUANTILES))
    for p in POINTS:
        when = "at the start" if p == 0 else f"{p}% of the way"
        lines.append(f"  {when:<16}" + "".join(
            f"{f'{rec.held[p][q]} of {n}':>14}" for q in QUANTILES))
    p80 = rec.held[0]["p80"]
    lines.append(f"Our P80 held {p80} of {n} times at the start (a calibrated P80 holds about "
                 f"{round(0.8 * n)} of {n}); fewer means the plan runs long, more that it is "
                 "padded.")
    if rec.unfinished:
        lines.append(f"  ({rec.unfinished} run{'s' if rec.unfinished != 1 else ''} never resumed "
                     "and are not scored.)")
    return lines
