"""The SQLite store's file: a private place for it, symlinks refused, damage seen before use,
and this host's kernel clock.

* A store runbook creates is private: missing folders are made 0700, the file 0600 (SQLite gives
  its ``-wal`` and ``-shm`` files the database file's mode). Operator names, hosts and notes are
  not for every user of a shared host. An existing file keeps the mode its owner gave it.
* A symbolic link at the store path is refused unless it points to a regular file owned by the
  same user: otherwise a link planted in a shared folder could send the runs into someone else's
  file, or read theirs.
* A file whose size is not a whole number of pages was truncated or overwritten: damaged.
* ``kernel_now``: the store's clock for SQLite. Every process writing a SQLite store runs on one
  host, so the honest common clock is that host's kernel clock. A process may still be told
  another time (libfaketime, a container with a time namespace offset): what it reads through
  ``clock_gettime`` can be off. The kernel stamps a pipe's modification time with its own
  real-time clock whenever the pipe is written, and ``fstat`` returns that stamp unchanged, so
  writing one byte to a private pipe and reading the stamp back gives the kernel's clock without
  touching the disk (resolution: one scheduler tick, a few milliseconds). Unlike the mtime of the
  store's own ``-wal`` file, no other process can move it between our write and our read.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from datetime import datetime
from pathlib import Path

from runbook.store.base import DAMAGED_HINT, StoreDamaged, StoreError, from_us


def refuse_foreign_link(path: Path) -> Path:
    """``path``, or the file its symlink points to when that is ours; StoreError otherwise."""
    try:
        st = os.lstat(path)
    except OSError:
        return path
    if not stat.S_ISLNK(st.st_mode):
        return path
    target = Path(os.path.realpath(path))
    try:
        tst = os.stat(target)
    except OSError:
        raise StoreError(f"{path} is a symbolic link to {target}, which does not exist; runbook "
                         "refuses links at the store path unless they point to your own store "
                         "file: give the real path with --db") from None
    if not stat.S_ISREG(tst.st_mode):
        raise StoreError(f"{path} is a symbolic link to {target}, which is not a regular file; "
                         "give the real store path with --db")
    if tst.st_uid != os.geteuid():
        raise StoreError(f"{path} is a symbolic link to {target}, owned by another user (uid "
                         f"{tst.st_uid}); runbook refuses it so that a planted link cannot send "
                         "your runs into someone else's file: give the real path with --db")
    return target


def create_private(path: Path) -> None:
    """Make missing folders 0700 and a missing store file 0600 (never following a link)."""
    missing = []
    parent = path.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    try:
        for folder in reversed(missing):
            folder.mkdir(mode=0o700, exist_ok=True)
            os.chmod(folder, 0o700)
    except OSError as e:
        raise StoreError(f"cannot write to {path}: cannot create its directory "
                         f"({e.strerror or e}); choose another --db path") from e
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o600)
    except FileExistsError:
        return
    except OSError as e:
        if not path.parent.is_dir():
            raise StoreError(f"cannot write to {path}: cannot create its directory "
                             f"({e.strerror or e}); choose another --db path") from e
        return  # SQLite will say what is wrong (read-only directory, ...)
    os.fchmod(fd, 0o600)
    os.close(fd)


def check_size(path: Path, conn: sqlite3.Connection) -> None:
    """StoreDamaged when a SQLite file's size is not a whole number of its pages.

    The page size comes from SQLite (``conn``) and the file size from ``os.stat``: this process
    must never open() and close() the database file itself. Closing any descriptor of a file
    drops every POSIX lock the process holds on it, SQLite's included; another process then
    believes no connection is left, checkpoints and deletes the -wal file under a live writer,
    whose next commits go to the deleted file and are lost (sqlite.org/howtocorrupt.html §2.2).
    """
    try:
        size = os.stat(path).st_size
    except OSError:
        return  # SQLite reports it (missing, unreadable)
    if size == 0:
        return
    try:
        conn.execute("PRAGMA schema_version").fetchone()  # reads the header: NOTADB if foreign
        page = int(conn.execute("PRAGMA page_size").fetchone()[0])
    except sqlite3.Error:
        return  # not a SQLite file, or unreadable: SQLite's own message says so on first use
    if page < 512 or page & (page - 1) or size % page:
        raise StoreDamaged(f"{path} is damaged (its size, {size} bytes, is not a whole number "
                           f"of {page}-byte pages: the file was cut short or overwritten); "
                           f"{DAMAGED_HINT}")


def kernel_now() -> datetime:
    """This host's kernel real-time clock, whatever this process is told (see the module doc)."""
    r, w = os.pipe()
    try:
        os.write(w, b".")
        ns = os.fstat(r).st_mtime_ns
    finally:
        os.close(r)
        os.close(w)
    return from_us(ns // 1000)


# primary SQLite result codes (sqlite3.Error.sqlite_errorcode & 0xFF)
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 5, 6, 8, 10, 11, 13, 14, 26
_READONLY_DIRECTORY = _READONLY | (6 << 8)
_SHORT_READ = _IOERR | (2 << 8)
READONLY_OR_CANTOPEN = (_READONLY, _CANTOPEN)


def code(e: sqlite3.Error) -> int:
    return getattr(e, "sqlite_errorcode", 0) or 0


def sqlite_error(e: sqlite3.Error, p: Path, doing: str, *, readonly: bool,
                 timeout: float) -> StoreError:
    """The StoreError a user reads for a SQLite error (codes: sqlite.org/rescode.html)."""
    c = code(e)
    busy = (f"{p} is busy: another runbook process holds the write lock for more than "
            f"{timeout:g}s; wait for it or stop it, then retry")
    if c == _READONLY_DIRECTORY:
        return StoreError(f"cannot {'read' if readonly else 'write to'} {p}: read-only "
                          f"directory (SQLite must create {p.name}-wal and {p.name}-shm "
                          "next to it); fix the permissions or choose another --db path")
    if c & 0xFF == _CORRUPT or c == _SHORT_READ:
        return StoreDamaged(f"{p} is damaged ({e}); {DAMAGED_HINT}")
    msg = {
        _FULL: f"cannot write to {p}: the disk is full, so the store could not {doing} and "
               "nothing was recorded; free some space and retry",
        _READONLY: f"cannot write to {p}: read-only file or file system, so the store could "
                   f"not {doing}; fix the permissions or choose another --db path",
        _BUSY: busy,
        _LOCKED: busy,
        _NOTADB: f"{p} is not a runbook store (not a SQLite database); check the --db path",
        _CANTOPEN: f"cannot open {p} ({e}); check that it and its directory exist and are "
                   "accessible",
        _IOERR: f"I/O error on {p} while trying to {doing} ({e}); check the disk and retry",
    }.get(c & 0xFF, f"store {p} failed to {doing} ({e}); check the --db path")
    return StoreError(msg)
