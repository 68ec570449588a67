"""Runbook file -> validated model and plan, with file lines in every error.

The YAML is composed into nodes (libyaml when present) and turned into plain data here, so that
every key and value keeps its line and column, duplicate keys are refused, timestamps stay text
(the model reads them in the runbook's time zone) and alias bombs are refused after a bounded
amount of work. Every failure is a :class:`LoadError`: one line per problem, compiler style.
"""

from __future__ import annotations

import difflib
import typing
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from runbook.engine.gc_pause import paused as gc_paused
from runbook.format.files import LoadError, Located, read_text
from runbook.format.marks import Document, Mark
from runbook.format.model import Runbook, describe_value, explain_error
from runbook.format.plan import Loc, Plan, PlanError, compile_plan, where
from runbook.format.reporting import policy_problems
from runbook.i18n import N_, _

MAX_ALIAS_VALUES = 200_000  # values repeated by aliases; a runbook's own anchors add a few hundred
MAX_DEPTH = 100  # a runbook is about six levels deep

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PLAIN = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "timestamp",
                                               "seq", "map")}
_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"


@dataclass
class Loaded:
    runbook: Runbook
    plan: Plan
    text: str
    name: str
    document: Document
    planned_start: datetime | None = None  # the file's window start, when --start moved it

    @property
    def shift(self) -> timedelta:
        """How far --start moved the window from the file's times (zero when it did not)."""
        return timedelta(0) if self.planned_start is None else self.plan.start - self.planned_start

    def line_of(self, loc: Loc) -> int | None:
        mark = self.document.mark(loc)
        return mark.line if mark else None


def _mark(node: yaml.Node) -> Mark:
    s, e = node.start_mark, node.end_mark
    return Mark(s.line + 1, s.column + 1, s.index, e.index)


class _Builder:
    """Nodes -> plain data, recording marks. Call :func:`_measure` on the root first."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.scalars = yaml.constructor.SafeConstructor()  # per load: it caches every node

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        if loc not in self.doc.values:
            self.doc.values.put(loc, node)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, loc)
        if node.tag not in _PLAIN:
            raise _Refused(node, _tag_problem(node, loc))
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        result: dict[str, Any] = {}
        for key, (key_node, value_node) in self._pairs(node, loc).items():
            self.doc.keys.put((*loc, key), key_node)
            result[key] = self.build(value_node, (*loc, key))
        return result

    def _scalar(self, node: yaml.ScalarNode, loc: Loc) -> Any:
        if node.tag == _STR:
            return node.value  # the common case, without the constructor's bookkeeping
        if node.tag not in _PLAIN:
            raise _Refused(node, _tag_problem(node, loc))
        if node.tag.endswith(":timestamp") or ":" in node.value and node.tag.endswith(
                (":int", ":float")):
            return node.value  # times are read in the runbook's zone; 1:30 is not base-60 for 90
        try:
            return self.scalars.construct_object(node)
        except (yaml.YAMLError, ValueError) as e:
            problem = getattr(e, "problem", None) or e
            raise _Refused(node, f"{where(loc)}: " + _(
                "cannot read this value ({problem}); put it in quotes if it is text").format(
                problem=problem)) from None

    def _pairs(self, node: yaml.MappingNode, loc: Loc) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """Key -> (key node, value node), with YAML merge keys (``<<``) applied: own keys win,
        then the merged mappings in the order given."""
        own: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        merged: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for src in sources:
                    if not isinstance(src, yaml.MappingNode):
                        raise _Refused(src, f"{where(loc)}: " + _(
                            "a merge key (<<) takes a mapping or a list of mappings, e.g. "
                            "`<<: *defaults`"))
                    for key, pair in self._pairs(src, loc).items():
                        merged.setdefault(key, pair)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Refused(key_node, f"{where(loc)}: " + _(
                    "a key must be plain text, not a list or a mapping"))
            value = self._scalar(key_node, loc)
            key = value if isinstance(value, str) else key_node.value
            if key in own:
                first = _mark(own[key][0]).line
                raise _Refused(key_node, f"{where(loc)}: " + _(
                    "key {key} appears twice in the same mapping (first on line {first}); keep "
                    "one").format(key=repr(key), first=first))
            own[key] = (key_node, value_node)
        return own | {k: v for k, v in merged.items() if k not in own}


def _tag_problem(node: yaml.Node, loc: Loc) -> str:
    tag = node.tag.replace("tag:yaml.org,2002:", "!!")
    return f"{where(loc)}: " + _("the YAML tag {tag} is not allowed; a runbook holds only text, "
                                 "numbers, true/false, lists and mappings: remove the tag"
                                 ).format(tag=tag)


def _measure(root: yaml.Node) -> None:
    """Refuse, before any work proportional to it, a document whose aliases add more than
    MAX_ALIAS_VALUES values when expanded, that nests deeper than MAX_DEPTH, or that contains
    itself. Values written out in the file are not counted here: the file's size bounds them."""
    known: dict[int, tuple[int, int]] = {}  # id(node) -> (values, height) once expanded
    scalars: set[int] = set()  # scalars seen (a value, height 0): most nodes, kept apart
    active: set[int] = set()
    added = 0  # values that aliases repeat

    def nested(node: yaml.Node, aliased: bool) -> _Refused:
        if aliased:
            return _Refused(node, _("nested more than {n} levels deep (through aliases); a "
                                    "runbook is only a few levels deep").format(n=MAX_DEPTH))
        return _Refused(node, _("nested more than {n} levels deep (a nesting bomb?); a "
                                "runbook is only a few levels deep").format(n=MAX_DEPTH))

    def visit(node: yaml.Node, depth: int) -> tuple[int, int]:
        nonlocal added
        if id(node) in known:
            size, height = known[id(node)]
            added += size  # a second visit is an alias: its whole expansion is repeated
        elif id(node) in active:
            raise _Refused(node, _("this value contains an alias (*name) to itself; a runbook "
                                   "cannot be recursive: remove the alias"))
        else:
            if depth > MAX_DEPTH:
                raise nested(node, False)
            active.add(id(node))
            size, height = 1, 0
            children = node.value if isinstance(node, yaml.SequenceNode) else (
                [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode)
                else ())
            for child in children:
                if type(child) is yaml.ScalarNode:  # a leaf, without a call
                    if depth + 1 > MAX_DEPTH:
                        raise nested(child, id(child) in scalars)
                    if id(child) in scalars:
                        added += 1
                    else:
                        scalars.add(id(child))
                    size += 1
                    height = max(height, 1)
                else:
                    n, h = visit(child, depth + 1)
                    size, height = size + n, max(height, h + 1)
                if added > MAX_ALIAS_VALUES:
                    raise _Refused(node, _("aliases (*name) here repeat more than {n} values "
                                           "when expanded (an alias bomb?); refusing to read the "
                                           "file").format(n=f"{MAX_ALIAS_VALUES:,}"))
            active.discard(id(node))
            known[id(node)] = size, height
        if depth + height > MAX_DEPTH:
            raise nested(node, True)
        return size, height

    visit(root, 0)


class _Refused(Exception):
    def __init__(self, node: yaml.Node, message: str) -> None:
        self.node = node
        self.message = message


RUNBOOK_NEEDS = N_("a runbook starts with `runbook: 1`")  # said with _()


def parse_yaml(text: str, name: str, needs: str = RUNBOOK_NEEDS) -> Document:
    """YAML text -> Document; LoadError with line and column on any YAML problem. ``needs`` says
    what an empty file should hold."""
    if not text.strip():
        raise LoadError(name, [Located(_("the file is empty; {needs}").format(needs=_(needs)),
                                       1, 1)])
    if all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()):
        node = None  # (a tab on a blank line would otherwise be a YAML error)
    else:
        try:
            node = _compose(text)
        except yaml.MarkedYAMLError as e:
            raise LoadError(name, [_yaml_problem(e, text)]) from None
        except (yaml.YAMLError, RecursionError) as e:
            raise LoadError(name, [Located(_("not valid YAML: {problem}").format(problem=e),
                                           1, 1)]) from None
    if node is None:
        raise LoadError(name, [Located(_("the file holds only comments and blank lines; {needs}"
                                         ).format(needs=_(needs)), 1, 1)])
    doc = Document(data=None)
    try:
        with gc_paused():
            _measure(node)
            doc.data = _Builder(doc).build(node, ())
    except _Refused as e:
        m = _mark(e.node)
        raise LoadError(name, [Located(e.message, m.line, m.column)]) from None
    return doc


def _compose(text: str) -> yaml.Node | None:
    with gc_paused():
        return yaml.compose(text, Loader=_Loader)


def _yaml_problem(e: yaml.MarkedYAMLError, text: str) -> Located:
    mark = e.problem_mark or e.context_mark
    problem = (e.problem or "").strip()
    context = (e.context or "").strip()
    lines = text.splitlines()
    line = lines[mark.line] if mark and mark.line < len(lines) else ""
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    if mark and ("\t" in indent or line[mark.column: mark.column + 1] == "\t"):
        column = indent.index("\t") if "\t" in indent else mark.column
        return Located(_("a tab character here; YAML does not allow tabs for indentation: "
                         "indent with spaces"), mark.line + 1, column + 1)
    if "expected a single document" in (context + problem):
        message = _("more than one YAML document (---); a runbook file holds one: remove the ---")
    elif "undefined alias" in problem and mark:
        name = line[mark.column:].split()[0].rstrip(",]}") if line[mark.column:].strip() else "*"
        message = _("the alias {alias} refers to no anchor; define `&{anchor}` on a value above "
                    "it, or remove the alias").format(alias=name, anchor=name.lstrip("*"))
    elif "maximum nesting depth" in problem:
        message = _("nested too deeply (a nesting bomb?); a runbook is only a few levels deep")
    else:
        message = _("invalid YAML: {problem}").format(problem=problem) + (
            f" ({context})" if context else "")  # the YAML parser's own words: English
        message += _("; check the indentation and quoting around here")
    if mark is None:
        return Located(message, 1, 1)
    return Located(message, mark.line + 1, mark.column + 1)


def load_runbook(path: str | Path) -> Loaded:
    text, name = read_text(path)
    return load_text(text, name, default_id=Path(path).stem)


def load_text(text: str, name: str = "<runbook>", default_id: str = "runbook") -> Loaded:
    # Composing a file makes millions of small objects that live until the load is done, and the
    # collector rescanned them over and over (a 20,000-step file composed in 4.8 s instead of 1.2:
    # 60 us a step at 1,000 steps, 160 at 20,000); a load makes no cyclic garbage worth it.
    with gc_paused():
        return _load_text(text, name, default_id)


def _load_text(text: str, name: str, default_id: str) -> Loaded:
    doc = parse_yaml(text, name)
    if not isinstance(doc.data, dict):
        kind = _("a list") if isinstance(doc.data, list) else _("a single value ({value})").format(
            value=describe_value(doc.data))
        m = doc.values[()]
        raise LoadError(
            name, [Located(_("the top level is {kind}; a runbook is a mapping (key: value lines) "
                             "that starts with `runbook: 1`").format(kind=kind), m.line, m.column)]
        )
    timezone = doc.data.get("timezone")
    context = {"timezone": timezone if isinstance(timezone, str) else None}
    try:
        runbook = Runbook.model_validate(doc.data, context=context)
    except ValidationError as e:
        raise LoadError(name, _validation_problems(e, doc)) from None
    found = policy_problems(runbook)
    try:
        plan = compile_plan(runbook, default_id=_safe_id(default_id))
    except PlanError as e:
        found = [*e.problems, *found]
    if found:
        problems = []
        for p in found:
            m = doc.mark(p.loc)
            problems.append(Located(f"{where(p.loc)}: {p.message}", m and m.line, m and m.column))
        raise LoadError(name, sorted(problems, key=lambda p: (p.line or 0, p.column or 0)))
    return Loaded(runbook=runbook, plan=plan, text=text, name=name, document=doc)


def _safe_id(stem: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in stem).strip("-.") or "runbook"
    return cleaned if cleaned[0].isalnum() else "r" + cleaned


def _model_at(loc: Loc, keep_last: bool) -> tuple[type[BaseModel] | None, Loc]:
    """The model class that holds the last key of ``loc``, and ``loc`` without union tags."""
    model: Any = Runbook
    holder: Any = Runbook
    clean: list[str | int] = []
    for n, part in enumerate(loc):
        last = n == len(loc) - 1
        if isinstance(part, int):
            clean.append(part)
        elif model is not None and part in model.model_fields:
            clean.append(part)
            holder = model
            model = _inner_model(model.model_fields[part].annotation)
        elif last and keep_last:
            clean.append(part)
            holder = model
        elif model is None and part != "[key]":
            clean.append(part)  # a key of a plain mapping (comms.late.ko)
        # anything else is a union tag such as 'three'
    return holder, tuple(clean)


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _validation_problems(error: ValidationError, doc: Document) -> list[Located]:
    """One line per pydantic error, in file order. A missing key that an unknown key in the same
    mapping looks like a misspelling of is not reported twice."""
    found: list[tuple[str, Loc, Located]] = []
    suggested: set[Loc] = set()
    for err in error.errors():
        kind = err["type"]
        model, loc = _model_at(tuple(err["loc"]), keep_last=kind == "extra_forbidden")
        if kind == "extra_forbidden":
            key = str(loc[-1])
            known = list(model.model_fields) if model else []
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
            hint = (_("did you mean {name}?").format(name=repr(close[0])) if close else
                    _("known keys: {keys}").format(keys=", ".join(known)))
            message = f"{where(loc[:-1])}: " + _("unknown key {key}; {hint}").format(
                key=describe_value(key), hint=hint)
            suggested.update((*loc[:-1], c) for c in close)
            m = doc.mark(loc, key=True)
        elif kind == "missing" and loc == ("runbook",):
            message = _("the format version is missing; add `runbook: 1` as the first line")
            m = doc.mark(())
        elif kind == "missing":
            message = f"{where(loc[:-1])}: " + _("required key {key} is missing; add it").format(
                key=repr(loc[-1]))
            m = doc.mark(loc)
        else:
            message = f"{where(loc)}: {explain_error(err, loc)}"
            m = doc.mark(loc)
        found.append((kind, loc, Located(message, m and m.line, m and m.column)))
    problems = [p for kind, loc, p in found if not (kind == "missing" and loc in suggested)]
    return sorted(problems, key=lambda p: (p.line or 0, p.column or 0))


__all__ = ["Document", "LoadError", "Loaded", "Located", "Mark", "load_runbook", "load_text",
           "parse_yaml", "read_text"]
