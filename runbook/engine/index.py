"""Which steps are in which status, kept up to date as a fold changes them (issue #11).

A run state asks "which steps are running?" for every refresh and every action; scanning the plan
for it made each event cost the plan's size. A :class:`StatusIndex` holds the step indices by
status and how many steps of each path are done, and is updated on every status change.
"""

from __future__ import annotations

from collections.abc import Iterable


class StatusIndex:
    def __init__(self, statuses: Iterable[tuple[int, str, str]], done: frozenset[str]) -> None:
        """``statuses``: (index, path, status) of every step; ``done``: the statuses that count
        as done."""
        self.done_statuses = done
        self.by_status: dict[str, set[int]] = {}
        self.done: dict[str, int] = {}  # path -> steps done
        for index, path, status in statuses:
            self.add(index, path, status)

    def copy(self) -> StatusIndex:
        """An index of its own (for a copy of the state), without walking the plan again."""
        twin = StatusIndex((), self.done_statuses)
        twin.by_status = {status: set(found) for status, found in self.by_status.items()}
        twin.done = dict(self.done)
        return twin

    def add(self, index: int, path: str, status: str) -> None:
        self.by_status.setdefault(status, set()).add(index)
        if status in self.done_statuses:
            self.done[path] = self.done.get(path, 0) + 1

    def remove(self, index: int, path: str, status: str) -> None:
        self.by_status[status].discard(index)
        if status in self.done_statuses:
            self.done[path] -= 1

    def indices(self, *statuses: str) -> list[int]:
        """Indices of the steps in ``statuses``, in file order."""
        if len(statuses) == 1:
            return sorted(self.by_status.get(statuses[0], ()))
        found: set[int] = set()
        for status in statuses:
            found.update(self.by_status.get(status, ()))
        return sorted(found)
