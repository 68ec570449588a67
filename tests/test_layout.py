"""The package layout holds: no circle among the modules' top-level imports (issue #12.5 removed
`cli` <-> `commands` and `report.history` <-> `report.model`; this keeps them and any new one
out). Imports inside functions (lazy, for start-up time) and under TYPE_CHECKING do not count:
they do not run when the module loads."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "runbook"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def top_level_imports(path: Path, modules: set[str]) -> set[str]:
    """The runbook modules ``path`` imports as it loads (``from a.b import c`` counts as a.b.c
    when that is a module, else a.b)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("runbook"))
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(up + ([base] if base else []))
                if not base.startswith("runbook"):
                    continue
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    found.add(sub if sub in modules else base)
            elif isinstance(node, ast.If):
                test = node.test
                checking = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                    isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
                if not checking:
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)

    visit(tree.body)
    return found - {name}


def graph() -> dict[str, set[str]]:
    paths = sorted(ROOT.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    edges: dict[str, set[str]] = {}
    for p in paths:
        name = module_name(p)
        targets = set()
        for target in top_level_imports(p, modules):
            # importing a.b.c runs a/__init__ and a/b/__init__ first
            parts = target.split(".")
            targets.update(".".join(parts[:k]) for k in range(1, len(parts) + 1))
        edges[name] = {t for t in targets if t in modules and t != name
                       and not name.startswith(t + ".")}  # a package's own parents load first
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return found


def test_no_module_imports_itself_back_at_load_time():
    assert cycles(graph()) == []


def test_the_cycle_finder_sees_the_circles_issue_12_removed():
    edges = graph()
    assert "runbook.commands" in edges and "runbook.report.model" in edges  # the modules exist
    edges["runbook.commands"].add("runbook.cli")  # as before #12.5: commands imported cli
    edges["runbook.cli"].add("runbook.commands")
    assert ["runbook.cli", "runbook.commands"] in cycles(edges)


@pytest.mark.parametrize("source,expected", [
    ("from runbook.format import safe\n", {"runbook.format.safe"}),
    ("from . import safe\n", {"runbook.format.safe"}),
    ("from .times import when\n", {"runbook.format.times"}),
    ("def f():\n    from runbook import cli\n", set()),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from runbook import cli\n", set()),
])
def test_top_level_imports_are_read_as_python_runs_them(tmp_path, monkeypatch, source, expected):
    fake = ROOT / "format" / "__layout_probe__.py"
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: source)
    modules = {"runbook.format.safe", "runbook.format.times"}
    assert top_level_imports(fake, modules) == expected
