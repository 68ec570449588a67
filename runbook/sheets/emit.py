"""The imported plan as runbook YAML: the examples' layout, each step under a comment naming its
row, and a map from the YAML's lines back to the sheet's rows (so the loader's findings can be
said in the sheet's terms)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SCHEMA_URL = "https://github.com/runbook/runbook/runbook.schema.json"


def schema_for(output: str | None) -> str:
    """What the ``$schema`` comment points at: runbook.schema.json in the output's folder or a
    folder above it (a checkout of runbook, a team's repository), relative; else the schema's id."""
    if not output:
        return SCHEMA_URL
    folder = Path(output).resolve().parent
    for place in (folder, *folder.parents):
        if (place / "runbook.schema.json").is_file():
            return os.path.relpath(place / "runbook.schema.json", folder)
    return SCHEMA_URL


class Flow(dict):
    """A mapping written on one line: ``{optimistic: 3m, likely: 5m, pessimistic: 12m}``."""


class FlowList(list):
    """A list written on one line: ``[3, 4]``."""


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(Flow, lambda d, data: d.represent_mapping(
    "tag:yaml.org,2002:map", dict(data), flow_style=True))
_Dumper.add_representer(FlowList, lambda d, data: d.represent_sequence(
    "tag:yaml.org,2002:seq", list(data), flow_style=True))


def dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=4096,
                     default_flow_style=False)


@dataclass(frozen=True)
class Origin:
    """Where a block of the YAML came from."""

    sheet: str | None
    row: int
    columns: dict[str, int]  # field -> column (1-based)
    headings: dict[int, str]


@dataclass
class Emitted:
    text: str
    blocks: list[tuple[int, int, Origin]]  # first line, last line (1-based), origin


def emit(header: dict[str, Any], steps: list[tuple[dict[str, Any], Origin]],
         contingencies: list[tuple[dict[str, str], list[tuple[dict[str, Any], Origin]]]],
         comment: list[str], schema: str) -> Emitted:
    lines: list[str] = [f"# yaml-language-server: $schema={schema}", "#"]
    lines += [f"# {c}" if c else "#" for c in comment]
    lines += dump(header).splitlines()
    blocks: list[tuple[int, int, Origin]] = []

    def add_steps(items: list[tuple[dict[str, Any], Origin]], indent: str) -> None:
        for step, origin in items:
            lines.append("")
            where = f"sheet {origin.sheet!r} row {origin.row}" if origin.sheet else f"row {origin.row}"
            lines.append(f"{indent}# {where}")
            first = len(lines) + 1
            lines.extend(indent + line for line in dump([step]).splitlines())
            blocks.append((first, len(lines), origin))

    lines += ["", "steps:"]
    add_steps(steps, "  ")
    if contingencies:
        lines += ["", "contingencies:"]
        for info, items in contingencies:
            lines.extend("  " + line for line in dump([info]).splitlines())
            lines.append("    steps:")
            add_steps(items, "      ")
    return Emitted("\n".join(lines) + "\n", blocks)
