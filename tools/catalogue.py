"""The message catalogue's upkeep (needs Babel: ``pip install -e '.[test]'``).

    python tools/catalogue.py update     # extract the ids from runbook/, merge them into every .po
    python tools/catalogue.py compile    # .po -> .mo (commit both)
    python tools/catalogue.py check      # what the tests check: nothing missing, fuzzy or stale

Add a language: ``python tools/catalogue.py init xx``, translate
``runbook/i18n/locale/xx/LC_MESSAGES/runbook.po``, add ``xx`` to ``runbook.i18n.LANGUAGES``, then
``compile``. Obsolete entries are dropped on ``update``, never kept as ``#~`` comments.
"""

from __future__ import annotations

import sys
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "runbook"
LOCALES = PACKAGE / "i18n" / "locale"
DOMAIN = "runbook"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def extract() -> Catalog:
    """Every marked message in runbook/, with where it is used."""
    template = Catalog(project="runbook", domain=DOMAIN, charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
            str(PACKAGE), method_map=[("**.py", "python")], keywords=KEYWORDS,
            comment_tags=("TRANSLATORS:",), strip_comment_tags=True):
        template.add(message, locations=[(f"runbook/{filename}", lineno)],
                     auto_comments=comments, context=context)
    return template


def po_path(lang: str) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def languages() -> list[str]:
    return sorted(p.name for p in LOCALES.iterdir() if po_path(p.name).is_file())


def read(lang: str) -> Catalog:
    with po_path(lang).open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def write(catalog: Catalog, lang: str) -> None:
    catalog.fuzzy = False  # the header: a fuzzy header would be left out of the .mo
    catalog.project, catalog.version = "runbook", ""
    catalog.copyright_holder, catalog.msgid_bugs_address = "the runbook authors", ""
    catalog.last_translator = catalog.language_team = "runbook maintainers"
    out = BytesIO()
    write_po(out, catalog, width=100, omit_header=False, sort_output=False,
             include_previous=False)
    po_path(lang).write_bytes(out.getvalue())


def compiled(catalog: Catalog) -> bytes:
    out = BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def update() -> None:
    template = extract()
    for lang in languages():
        catalog = read(lang)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        write(catalog, lang)
        missing = sum(1 for m in catalog if m.id and (not m.string or (
            isinstance(m.string, tuple) and not all(m.string))))  # a plural needs every form
        print(f"{lang}: {len(catalog) - 1} messages, {missing} to translate")


def compile_all() -> None:
    for lang in languages():
        mo = po_path(lang).with_suffix(".mo")
        mo.write_bytes(compiled(read(lang)))
        print(f"{lang}: wrote {mo.relative_to(ROOT)}")


def init(lang: str) -> None:
    catalog = Catalog(locale=lang, domain=DOMAIN, project="runbook", charset="utf-8")
    for m in extract():
        if m.id:
            catalog.add(m.id, locations=m.locations, auto_comments=m.auto_comments)
    po_path(lang).parent.mkdir(parents=True, exist_ok=True)
    write(catalog, lang)


def problems(lang: str) -> list[str]:
    """Ids in the code missing from the catalogue, untranslated, fuzzy or no longer used."""
    used = {m.id for m in extract() if m.id}
    catalog = read(lang)
    out = []
    have = {m.id for m in catalog if m.id}
    for m in catalog:
        if not m.id:
            continue
        key = m.id if isinstance(m.id, str) else m.id[0]
        if m.fuzzy:
            out.append(f"fuzzy: {key!r}")
        if not m.string or (isinstance(m.string, tuple) and not all(m.string)):
            out.append(f"untranslated: {key!r}")
        if m.id not in used:
            out.append(f"no longer used: {key!r}")
    out += [f"missing: {(i if isinstance(i, str) else i[0])!r}" for i in used - have]
    return out


def main(argv: list[str]) -> int:
    what = argv[1] if len(argv) > 1 else "check"
    if what == "update":
        update()
    elif what == "compile":
        compile_all()
    elif what == "init" and len(argv) > 2:
        init(argv[2])
    elif what == "check":
        bad = [f"{lang}: {p}" for lang in languages() for p in problems(lang)]
        print("\n".join(bad) or "catalogues complete")
        return 1 if bad else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
