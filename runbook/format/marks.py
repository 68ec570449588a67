"""Where each key and value of a YAML file sits: the loader's marks, for errors with file lines.

A runbook has ~20 marks a step (20,000 steps: 400,000), kept as long as the plan is (a finding
names its line): each is packed into one int (:class:`Marks`), about 40 bytes instead of a tuple
of four ints (~155).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml

from runbook.format.plan import Loc


class Mark(NamedTuple):
    line: int  # 1-based
    column: int  # 1-based
    start: int  # character offsets of the value in the text
    end: int


_BITS = 32  # each field of a packed mark (a runbook file is at most 8 MB)


class Marks(dict):
    """Loc -> Mark, each kept as one int, its four fields packed (items() and values() give the
    packed ints)."""

    __slots__ = ()

    def put(self, loc: Loc, node: yaml.Node) -> None:
        s, e = node.start_mark, node.end_mark
        dict.__setitem__(self, loc, (((s.line + 1) << _BITS | (s.column + 1)) << _BITS
                                     | s.index) << _BITS | e.index)

    def __getitem__(self, loc: Loc) -> Mark:
        return _unpack(dict.__getitem__(self, loc))

    def get(self, loc: Loc, default: Any = None) -> Any:
        packed = dict.get(self, loc)
        return default if packed is None else _unpack(packed)


def _unpack(packed: int) -> Mark:
    mask = (1 << _BITS) - 1
    return Mark(packed >> 3 * _BITS, packed >> 2 * _BITS & mask, packed >> _BITS & mask,
                packed & mask)


@dataclass
class Document:
    """Plain data from a YAML file, with the position of every key and value."""

    data: Any
    values: Marks = field(default_factory=Marks)
    keys: Marks = field(default_factory=Marks)

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
