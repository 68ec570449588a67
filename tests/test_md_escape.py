"""The Markdown escaping's fast path (nothing to escape: no rewrites) says exactly what the three
rewrites say."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from runbook.report.md import esc

_SPECIAL = re.compile(r"([\\`*\[\]<>|~])")
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def escaped_the_long_way(text: str | None) -> str:
    """esc as it was before the fast path."""
    if not text:
        return ""
    out = _SPECIAL.sub(r"\\\1", str(text))
    out = _UNDERSCORE.sub(r"\\_", out)
    out = _ENTITY.sub(r"\\&", out)
    out = " ".join(out.split())
    return "\\" + out if out.startswith(("#", "+", "-", "=")) else out


@settings(max_examples=500)
@given(st.text(alphabet=st.sampled_from(list("ab1 _&;#*[]<>|~`\\-+=\t\n한")) | st.characters()))
def test_fast_path_escapes_as_the_rewrites_do(text: str) -> None:
    assert esc(text) == escaped_the_long_way(text)


def test_examples() -> None:
    for text in ("status 12: on track", "  # heading  ", "a_b _c d_", "&amp; & x", "[link](x)",
                 None, "", "-1", "tab\there"):
        assert esc(text) == escaped_the_long_way(text)
