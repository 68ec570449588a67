"""Runbook file -> validated model and plan, with file lines in every error.

The YAML is composed into nodes (libyaml when present) and turned into plain data here, so that
every key and value keeps its line and column, duplicate keys are refused, timestamps stay text
(the model reads them in the runbook's time zone) and alias bombs are refused after a bounded
amount of work. Every failure is a :class:`LoadError`: one line per problem, compiler style.
"""

from __future__ import annotations

import difflib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from runbook.model import Runbook
from runbook.plan import Loc, Plan, PlanError, compile_plan

MAX_BYTES = 8 * 1024 * 1024
MAX_NODES = 200_000  # after alias expansion; a real 1,000-step runbook is ~15,000

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_scalars = yaml.constructor.SafeConstructor()


@dataclass(frozen=True)
class Mark:
    line: int  # 1-based
    column: int  # 1-based
    start: int  # character offsets of the value in the text
    end: int


@dataclass
class Located:
    message: str
    line: int | None = None
    column: int | None = None


class LoadError(Exception):
    """A runbook (or events script) that cannot be used; ``str()`` is the message for stderr."""

    def __init__(self, source: str, problems: list[Located]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(self.render())

    def render(self, limit: int = 5) -> str:
        lines = []
        for p in self.problems[:limit]:
            where = self.source
            if p.line is not None:
                where += f":{p.line}" + (f":{p.column}" if p.column is not None else "")
            lines.append(f"{where}: error: {p.message}")
        if len(self.problems) > limit:
            lines.append(f"{self.source}: ... and {len(self.problems) - limit} more problems")
        return "\n".join(lines)


@dataclass
class Document:
    """Plain data from a YAML file, with the position of every key and value."""

    data: Any
    values: dict[Loc, Mark] = field(default_factory=dict)
    keys: dict[Loc, Mark] = field(default_factory=dict)

    def mark(self, loc: Loc, *, key: bool = False) -> Mark | None:
        """Position of the deepest known prefix of ``loc``."""
        parts = tuple(loc)
        while parts:
            table = self.keys if key else self.values
            if parts in table:
                return table[parts]
            if key and parts in self.values:
                return self.values[parts]
            parts = parts[:-1]
        return self.values.get(())


@dataclass
class Loaded:
    runbook: Runbook
    plan: Plan
    text: str
    name: str
    document: Document

    def line_of(self, loc: Loc) -> int | None:
        mark = self.document.mark(loc)
        return mark.line if mark else None


def _mark(node: yaml.Node) -> Mark:
    s, e = node.start_mark, node.end_mark
    return Mark(s.line + 1, s.column + 1, s.index, e.index)


class _Builder:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.count = 0

    def build(self, node: yaml.Node, loc: Loc, depth: int = 0) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _Refused(
                node, f"more than {MAX_NODES:,} values after expanding aliases (an alias bomb?); "
                "refusing to read further"
            )
        if depth > 100:
            raise _Refused(node, "nested more than 100 levels deep")
        if loc not in self.doc.values:
            self.doc.values[loc] = _mark(node)
        if isinstance(node, yaml.ScalarNode):
            if node.tag == "tag:yaml.org,2002:timestamp":
                return node.value
            try:
                return _scalars.construct_object(node)
            except yaml.YAMLError as e:
                raise _Refused(node, f"cannot read this value: {getattr(e, 'problem', e)}") from None
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i), depth + 1) for i, item in enumerate(node.value)]
        result: dict[Any, Any] = {}
        for key_node, value_node in self._pairs(node):
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Refused(key_node, "a key must be plain text")
            key = _scalars.construct_object(key_node)
            if not isinstance(key, str):
                key = str(key)
            if key in result:
                raise _Refused(key_node, f"key {key!r} appears twice in the same mapping")
            self.doc.keys[(*loc, key)] = _mark(key_node)
            result[key] = self.build(value_node, (*loc, key), depth + 1)
        return result

    def _pairs(self, node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
        """Key/value node pairs with YAML merge keys (``<<``) applied."""
        own, merged = [], []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for src in sources:
                    if not isinstance(src, yaml.MappingNode):
                        raise _Refused(src, "a merge key (<<) needs a mapping")
                    merged.extend(self._pairs(src))
            else:
                own.append((key_node, value_node))
        names = {k.value for k, _ in own}
        return own + [(k, v) for k, v in merged if k.value not in names]


class _Refused(Exception):
    def __init__(self, node: yaml.Node, message: str) -> None:
        self.node = node
        self.message = message


def read_text(path: str | Path) -> tuple[str, str]:
    """(text, display name) of a file, or LoadError saying why it cannot be read."""
    p = Path(path)
    name = str(path)
    try:
        if p.is_dir():
            raise LoadError(name, [Located("is a directory; give the path of a runbook .yaml file")])
        raw = p.read_bytes()
    except FileNotFoundError:
        raise LoadError(name, [Located("no such file; check the path")]) from None
    except PermissionError:
        raise LoadError(name, [Located("permission denied; check the file's permissions")]) from None
    except OSError as e:
        raise LoadError(name, [Located(f"cannot read the file: {e.strerror or e}")]) from None
    if len(raw) > MAX_BYTES:
        raise LoadError(name, [Located(f"file is larger than {MAX_BYTES // 1024 // 1024} MB; not a runbook")])
    if b"\x00" in raw[:8192]:
        raise LoadError(name, [Located("binary file (contains NUL bytes); a runbook is YAML text")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise LoadError(
            name, [Located(f"not UTF-8 text (byte 0x{raw[e.start]:02x}); save the file as UTF-8", line)]
        ) from None
    return text, name


def parse_yaml(text: str, name: str) -> Document:
    """YAML text -> Document; LoadError with line and column on any YAML problem."""
    if not text.strip():
        raise LoadError(name, [Located("file is empty; a runbook starts with `runbook: 1`")])
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        raise LoadError(name, [_yaml_problem(e)]) from None
    except yaml.YAMLError as e:
        raise LoadError(name, [Located(f"not valid YAML: {e}")]) from None
    if node is None:
        raise LoadError(name, [Located("file holds no YAML document (only comments?)")])
    doc = Document(data=None)
    try:
        doc.data = _Builder(doc).build(node, ())
    except _Refused as e:
        m = _mark(e.node)
        raise LoadError(name, [Located(e.message, m.line, m.column)]) from None
    except RecursionError:
        raise LoadError(name, [Located("nested too deeply")]) from None
    return doc


def _yaml_problem(e: yaml.MarkedYAMLError) -> Located:
    mark = e.problem_mark or e.context_mark
    problem = (e.problem or "").strip()
    context = (e.context or "").strip()
    if "'\\t'" in problem or "\\t" in problem or "tab" in problem.lower():
        message = "YAML does not allow tabs for indentation; indent with spaces"
    elif "expected a single document" in (context + problem):
        message = "more than one YAML document (---); a runbook file holds one"
    else:
        message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
        message += "; check the indentation and quoting around here"
    if mark is None:
        return Located(message)
    return Located(message, mark.line + 1, mark.column + 1)


def load_runbook(path: str | Path) -> Loaded:
    text, name = read_text(path)
    return load_text(text, name, default_id=Path(path).stem)


def load_text(text: str, name: str = "<runbook>", default_id: str = "runbook") -> Loaded:
    doc = parse_yaml(text, name)
    if not isinstance(doc.data, dict):
        kind = "a list" if isinstance(doc.data, list) else f"a single {type(doc.data).__name__} value"
        raise LoadError(
            name, [Located(f"the top level is {kind}; a runbook is a mapping that starts with "
                           "`runbook: 1`", 1, 1)]
        )
    timezone = doc.data.get("timezone")
    context = {"timezone": timezone if isinstance(timezone, str) else None}
    try:
        runbook = Runbook.model_validate(doc.data, context=context)
    except ValidationError as e:
        problems = [_validation_problem(err, doc) for err in e.errors()]
        raise LoadError(name, sorted(problems, key=lambda p: p.line or 0)) from None
    try:
        plan = compile_plan(runbook, default_id=_safe_id(default_id))
    except PlanError as e:
        problems = []
        for p in e.problems:
            m = doc.mark(p.loc)
            problems.append(Located(f"{_where(p.loc)}: {p.message}", m and m.line, m and m.column))
        raise LoadError(name, problems) from None
    return Loaded(runbook=runbook, plan=plan, text=text, name=name, document=doc)


def _safe_id(stem: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in stem).strip("-.") or "runbook"
    return cleaned if cleaned[0].isalnum() else "r" + cleaned


def _where(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "top level"


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


def _validation_problem(err: dict[str, Any], doc: Document) -> Located:
    kind = err["type"]
    model, loc = _model_at(tuple(err["loc"]), keep_last=kind == "extra_forbidden")
    value = err.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        known = list(model.model_fields) if model else []
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
        where = _where(loc[:-1])
        message = f"{where}: unknown key {key!r}; {hint}"
        m = doc.mark(loc, key=True)
    else:
        m = doc.mark(loc)
        message = f"{_where(loc)}: {_explain(kind, err, value, loc)}"
    return Located(message, m and m.line, m and m.column)


_TYPE_WORDS = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping (key: value lines)",
    "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
}


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (empty value)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _explain(kind: str, err: dict[str, Any], value: Any, loc: Loc) -> str:
    if kind == "missing":
        return "required key is missing; add it"
    if kind in _TYPE_WORDS:
        return f"expected {_TYPE_WORDS[kind]}, got {_describe(value)}"
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    if kind == "enum":
        allowed = err.get("ctx", {}).get("expected", "")
        close = difflib.get_close_matches(str(value), [a.strip("' ") for a in allowed.replace(" or ", ",").split(",")], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"{value!r} is not one of {allowed}{hint}"
    if kind == "too_short" and loc and loc[-1] == "steps":
        return "needs at least one step"
    if kind == "string_pattern_mismatch":
        return (f"{value!r} is not a valid id; use letters, digits, '-', '_' or '.', "
                "starting with a letter or digit")
    if kind == "literal_error":
        return f"{value!r} is not allowed here; expected {err.get('ctx', {}).get('expected', '')}"
    return str(err["msg"])
