"""The message catalogue and the choice of language (runbook/i18n).

The catalogue cannot rot: every message marked in the code has a Korean translation (none
missing, empty or fuzzy, none left over), every translation keeps its placeholders, and the
compiled .mo that ships says exactly what the .po says.
"""

from __future__ import annotations

import gettext
import re
import string
import threading

import pytest

from runbook import cli, i18n
from runbook.format import cells
from runbook.format.durations import duration_text, format_minutes, format_until

catalogue = pytest.importorskip("tools.catalogue", reason="needs Babel (the test extra)")


@pytest.mark.parametrize(("env", "lang"), [
    ({}, "en"),
    ({"LANG": "ko_KR.UTF-8"}, "ko"),
    ({"LANG": "ko_KR.eucKR"}, "ko"),
    ({"LANG": "C"}, "en"),
    ({"LANG": "POSIX"}, "en"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({"LANG": "fr_FR.UTF-8"}, "en"),
    ({"LC_ALL": "ko_KR.UTF-8", "LANG": "en_US.UTF-8"}, "ko"),
    ({"LC_MESSAGES": "en_US.UTF-8", "LANG": "ko_KR.UTF-8"}, "en"),
    ({"LANGUAGE": "ko", "LC_ALL": "C"}, "ko"),
    ({"LANGUAGE": "fr:ko:en", "LANG": "C"}, "ko"),
    ({"LANGUAGE": "", "LANG": "ko_KR.UTF-8"}, "ko"),
])
def test_the_language_comes_from_the_environment_in_gettexts_order(env, lang):
    assert i18n.from_environment(env) == lang


def _chosen(monkeypatch, argv, env=None):
    """The language a command runs in, for ``runbook ARGV`` with ``env``."""
    for var in i18n.ENVIRONMENT:
        monkeypatch.delenv(var, raising=False)
    for k, v in (env or {}).items():
        monkeypatch.setenv(k, v)
    seen = []
    monkeypatch.setattr(cli, "_command", lambda name: lambda args: seen.append(
        (i18n.current(), args.lang)) or 0)
    assert cli.main(argv) == 0
    assert i18n.current() == "en", "main() left its language behind"
    return seen[0][0]


@pytest.mark.parametrize("argv", [
    ["--lang", "ko", "check", "x.yaml"],
    ["check", "x.yaml", "--lang", "ko"],
    ["check", "--lang=ko", "x.yaml"],
    ["--lang", "ko", "report"],
    ["runs", "--lang", "ko"],
    ["history", "import", "--lang", "ko", "x.csv"],
    ["--lang", "en", "check", "x.yaml", "--lang", "ko"],  # the later one wins
])
def test_lang_is_a_global_option_of_every_command(monkeypatch, argv):
    assert _chosen(monkeypatch, argv) == "ko"


def test_lang_overrides_the_environment_and_the_environment_is_the_default(monkeypatch):
    assert _chosen(monkeypatch, ["check", "x.yaml"], {"LANG": "ko_KR.UTF-8"}) == "ko"
    assert _chosen(monkeypatch, ["check", "x.yaml", "--lang", "en"], {"LANG": "ko_KR.UTF-8"}) == "en"
    assert _chosen(monkeypatch, ["check", "x.yaml"], {"LANG": "C"}) == "en"
    assert _chosen(monkeypatch, ["check", "x.yaml"]) == "en"


def test_an_unknown_language_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["check", "x.yaml", "--lang", "fr"])
    assert e.value.code == 2
    assert "invalid choice: 'fr'" in capsys.readouterr().err


def test_using_switches_this_thread_only():
    seen = []
    with i18n.using("ko"):
        assert i18n.current() == "ko"
        t = threading.Thread(target=lambda: seen.append(i18n.current()))
        t.start()
        t.join()
    assert seen == ["en"] and i18n.current() == "en"


# -- the catalogue ---------------------------------------------------------------------------

def test_every_message_in_the_code_has_a_korean_translation():
    assert catalogue.problems("ko") == []


def _messages(lang):
    return [m for m in catalogue.read(lang) if m.id]


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("lang", [x for x in i18n.LANGUAGES if x != i18n.DEFAULT])
def test_every_translation_keeps_the_placeholders_of_its_message(lang):
    bad = []
    for m in _messages(lang):
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strs = m.string if isinstance(m.string, tuple) else (m.string,)
        want = _fields(ids[0])
        bad += [(ids[0], s) for s in strs if _fields(s) != want]
    assert bad == []


@pytest.mark.parametrize("lang", [x for x in i18n.LANGUAGES if x != i18n.DEFAULT])
def test_the_compiled_catalogue_says_what_the_po_says(lang):
    """The .mo shipped in the package is compiled from the current .po (run
    ``python tools/catalogue.py compile`` after editing it)."""
    mo = catalogue.po_path(lang).with_suffix(".mo")
    with mo.open("rb") as f:
        shipped = {k: v for k, v in gettext.GNUTranslations(f)._catalog.items() if k != ""}
    want = {}
    for m in _messages(lang):
        if isinstance(m.id, tuple):
            for n, s in enumerate(m.string):
                want[(m.id[0], n)] = s
        else:
            want[m.id] = m.string
    assert shipped == want


def test_the_catalogue_is_package_data():
    import tomllib

    from tests.conftest import ROOT

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["runbook"]
    assert "i18n/locale/*/LC_MESSAGES/*.mo" in patterns
    for lang in i18n.LANGUAGES:
        if lang != i18n.DEFAULT:
            assert (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "runbook.mo").is_file()


def test_no_fstring_is_marked_for_translation():
    """``_(f"...")`` would look a different id up for every value: never found, never
    translated."""
    from tests.conftest import ROOT

    marked = re.compile(r"\b(?:_|N_|ngettext)\(\s*f[\"']")
    bad = [f"{p.relative_to(ROOT)}:{n}" for p in (ROOT / "runbook").rglob("*.py")
           for n, line in enumerate(p.read_text().splitlines(), 1) if marked.search(line)]
    assert bad == []


# -- units and cells -------------------------------------------------------------------------

@pytest.mark.parametrize(("seconds", "en", "ko"), [
    (0, "0s", "0초"), (45, "45s", "45초"), (300, "5m", "5분"), (150, "2m30s", "2분 30초"),
    (3900, "1h5m", "1시간 5분"), (5400, "1h30m", "1시간 30분"), (-90, "-1m30s", "-1분 30초"),
])
def test_durations_are_spelled_out_in_korean(seconds, en, ko):
    assert duration_text(seconds) == en
    with i18n.using("ko"):
        assert duration_text(seconds) == ko


@pytest.mark.parametrize(("seconds", "en", "ko"), [
    (57, "57s", "57초"), (65, "1m05s", "1분 5초"), (720, "12m", "12분"), (3900, "1h05m", "1시간 5분"),
])
def test_countdowns_read_under_pressure_in_both_languages(seconds, en, ko):
    assert format_until(seconds) == en
    with i18n.using("ko"):
        assert format_until(seconds) == ko
    assert format_minutes(2400) == "40m"


def test_cells_count_hangul_twice():
    assert cells.width("지연 위험") == 9
    assert cells.width("AT RISK") == 7
    assert cells.ljust("지연", 6) == "지연  "
    assert cells.rjust("지연", 6) == "  지연"
    assert cells.width(cells.clip("서비스 재개 시각", 8)) <= 8
    assert cells.clip("서비스 재개 시각", 8).endswith("…")
    assert cells.clip("short", 8) == "short"
    assert cells.width("e\u0301") == 1  # a combining accent takes no cell
