"""Who is at the keys: a module of its own so that `runbook run` can name the operator on its
first frame without importing the engine (the runbook model comes with it)."""

from __future__ import annotations

import getpass
import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    name: str
    host: str

    @classmethod
    def current(cls, name: str | None = None) -> Actor:
        try:
            user = getpass.getuser()
        except Exception:
            user = "operator"
        return cls(name or user, socket.gethostname())
