"""Reading a runbook or an events script from disk, and the error every unusable input becomes.

Only a regular file is read, and at most :data:`MAX_BYTES` of it: a named pipe would block
``check`` forever and ``/dev/zero`` would fill the memory. The file is opened without blocking and
checked on the open descriptor, so it cannot be swapped for a pipe between the check and the read.

Text is UTF-8 (a UTF-8 byte-order mark is dropped). UTF-16 and UTF-32 files with a byte-order
mark are read too: Windows PowerShell 5's ``>`` and Notepad's "Unicode" write UTF-16 with a
mark, and the mark names the encoding exactly, so nothing is guessed and nothing is refused that
a person could not tell apart from UTF-8 in an editor. Without a mark, UTF-16 is only a guess
(every other byte NUL), so it is named and the person is asked to save the file as UTF-8.
"""

from __future__ import annotations

import codecs
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from runbook.format.safe import terminal
from runbook.i18n import N_, _, ngettext

MAX_BYTES = 8 * 1024 * 1024  # a 50,000-step runbook written compactly is ~5 MB

_MARKS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
          (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


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
        """One line per problem, compiler style, ``FILE:LINE:COL: error: MESSAGE``; the file
        name and the messages (which quote the file) are made safe for a terminal. The message
        is in the current language; ``error:`` stays as editors and CI annotations read it."""
        lines = []
        source = terminal(self.source, newlines=False)
        for p in self.problems[:limit]:
            where = source
            if p.line is not None:
                where += f":{p.line}" + (f":{p.column}" if p.column is not None else "")
            lines.append(f"{where}: error: {terminal(p.message, newlines=False)}")
        if len(self.problems) > limit:
            more = len(self.problems) - limit
            lines.append(f"{source}: " + ngettext("... and {n} more problem",
                                                  "... and {n} more problems", more).format(n=more))
        return "\n".join(lines)


_KINDS = ((stat.S_ISFIFO, N_("a named pipe (FIFO)")), (stat.S_ISCHR, N_("a character device")),
          (stat.S_ISBLK, N_("a block device")), (stat.S_ISSOCK, N_("a socket")))


def read_text(path: str | Path) -> tuple[str, str]:
    """(text, display name) of a file, or LoadError saying why it cannot be read."""
    name = str(path)

    def refuse(message: str, line: int | None = None, column: int | None = None) -> LoadError:
        return LoadError(name, [Located(message, line, column)])

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise refuse(_("no such file; check the path")) from None
    except IsADirectoryError:
        raise refuse(_("is a directory; give the path of a runbook .yaml file")) from None
    except PermissionError:
        raise refuse(_("permission denied; check the file's permissions")) from None
    except OSError as e:
        raise refuse(_("cannot read the file: {reason}").format(reason=e.strerror or e)) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise refuse(_("is a directory; give the path of a runbook .yaml file"))
        if not stat.S_ISREG(mode):
            kind = next((word for test, word in _KINDS if test(mode)), N_("not a regular file"))
            raise refuse(_("is {kind}, not a file; runbook reads only regular files: save the "
                           "runbook to a file and give its path").format(kind=_(kind)))
        raw = _read_at_most(fd, MAX_BYTES + 1)
    except OSError as e:
        raise refuse(_("cannot read the file: {reason}").format(reason=e.strerror or e)) from None
    finally:
        os.close(fd)
    if len(raw) > MAX_BYTES:
        raise refuse(_("the file is larger than {n} MB, the most runbook reads; a runbook (even "
                       "one of 50,000 steps) is smaller: is this the right file?").format(
            n=MAX_BYTES // 1024 // 1024))
    encoding = next((enc for mark, enc in _MARKS if raw.startswith(mark)), None)
    if encoding is not None:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            raise refuse(_("starts with a {encoding} byte-order mark but is not valid "
                           "{encoding}; save the file as UTF-8").format(
                encoding=encoding.upper())) from None
        nul = text.find("\x00")
        if nul >= 0:
            raise refuse(_("binary data (a NUL character), not a runbook; a runbook is YAML text"),
                         *_text_position(text, nul))
        return text, name
    nul = raw.find(b"\x00")
    if nul >= 0:
        if _looks_utf16(raw):
            raise refuse(_("looks like UTF-16 text without a byte-order mark; save the file as "
                           "UTF-8 (or as UTF-16 with a byte-order mark)"))
        raise refuse(_("binary file (it contains NUL bytes), not a runbook; a runbook is YAML "
                       "text"), *_position(raw, nul))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise refuse(_("not UTF-8 text (byte {byte}); save the file as UTF-8").format(
            byte=f"0x{raw[e.start]:02x}"), *_position(raw, e.start)) from None
    return text, name


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks, size = [], 0
    while size < limit:
        chunk = os.read(fd, min(1 << 20, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _looks_utf16(raw: bytes) -> bool:
    """Mostly ASCII text in UTF-16: a NUL in every other byte, at one parity."""
    sample = raw[:4096]
    if len(sample) < 4:
        return False
    even, odd = sample[0::2], sample[1::2]
    return max(even.count(0) / len(even), odd.count(0) / len(odd)) > 0.9


def _position(raw: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of a byte offset."""
    line_start = raw.rfind(b"\n", 0, offset) + 1
    column = len(raw[line_start:offset].decode("utf-8", errors="replace")) + 1
    return raw.count(b"\n", 0, offset) + 1, column


def _text_position(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1
