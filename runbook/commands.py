"""Wiring for the commands beyond ``check`` and ``schema`` (imported lazily by the CLI)."""

from __future__ import annotations

import argparse
import json

from runbook.cli import OK, db_path


def cmd_simulate(args: argparse.Namespace) -> int:
    from runbook import simulate
    from runbook.loader import load_runbook

    loaded = load_runbook(args.runbook)
    db = db_path(args.db) if args.db else None
    result = simulate.simulate(loaded, args.events, db=db, samples=args.samples, seed=args.seed,
                               label=args.label, operator=args.operator, notify=args.notify)
    if args.json:
        print(json.dumps(simulate.as_json(result), indent=2, ensure_ascii=False))
    else:
        print(simulate.text(result))
    return OK
