"""Load and validation errors, and `run`'s window-move question, in Korean (`--lang ko`).

Each broken runbook below is loaded in English and in Korean: the same problems at the same
lines and columns, the Korean ones in Korean (Hangul, and none of the English words a message
that was left untranslated would carry), the `FILE:LINE:COL: error:` prefix unchanged.
"""

from __future__ import annotations

import re
import textwrap

import pytest

from runbook.cli import main
from runbook.format.loader import LoadError, load_runbook, load_text
from runbook.i18n import using
from tests.test_cli_start import (  # noqa: F401
    STORY,
    operator,
    run,
    screen,
    today,
    window_of,
)

HEAD = """\
runbook: 1
title: t
timezone: Asia/Seoul
window: {start: 2026-11-25T00:00, announced_resume: 2026-11-25T01:00}
"""
STEP = "steps:\n  - {id: a, title: x, estimate: 5m}\n"

BROKEN = {
    "fields": textwrap.dedent("""\
        runbook: 1
        id: "bad id"
        title: ""
        timezone: Asia/Seol
        window: {start: 2026-11-25, announced_resume: soon, hard_deadline: 1900-01-01T00:00}
        policy: {confidence: 1.5, decision_lead: 5, outage_report_after: -5m,
                 report_due_within: 5 minutes, spread: {optimistic: 0}}
        steps:
          - {id: a, title: x, estimate: {optimistic: 9m, likely: 5m, pessimistic: 7m}, kind: tsk}
          - {id: b, title: 5, estimate: P1M, estimat: 1, resumes_service: maybe}
          - {id: c, title: y, estimate: PT, after: x}
          - {id: d, title: z, estimate: 1000d, owner: [a]}
          - [1]
        contingencies: [{id: r, title: r, steps: []}]
        comms:
          late: {KO: "x {resume_p9}", en: "{resume:%H}", ko-x: "", de: "{}", fr: "a } b"}
        """),
    "version": "runbook: 2\ntitle: t\n",
    "missing": "runbook: 1\ntitle: t\nwindow: {start: 2026-11-25T00:00}\n",
    "no version": "title: t\n",
    "dst": textwrap.dedent("""\
        runbook: 1
        title: t
        timezone: Europe/Berlin
        window: {start: 2026-03-29T02:30, announced_resume: 2026-10-25T02:30}
        """) + STEP,
    "plan": HEAD.replace("00:00,", "02:00,") + textwrap.dedent("""\
        policy: {outage_report: eu-dora, report_due_within: 1h, outage_report_after: 5m}
        steps:
          - {id: prep, title: x, estimate: 5m, after: [prep, boot], resumes_service: true}
          - {id: prep, title: y, estimate: 5m}
          - {id: swap, title: y, estimate: 5m, after: [boot, rb2], resumes_service: true}
          - {id: boot, title: z, estimate: 5m, after: [swap, bot]}
          - {id: long, title: z, estimate: 300d}
        contingencies:
          - {id: main, title: m, steps: [{id: rb1, title: r, estimate: 5m}]}
          - {id: r2, title: m, steps: [{id: rb2, title: r, estimate: 5m}]}
          - {id: r2, title: m, steps: [{id: rb3, title: r, estimate: 5m}]}
        """),
    "far": HEAD.replace("01:00}", "01:00, hard_deadline: 2027-03-01T00:00}")
    + "policy: {critical_service: true, dora_thresholds_met: [economic]}\n" + STEP,
    "us-36h": HEAD + "policy: {outage_report: us-36h, critical_service: false}\n" + STEP,
    "kr-fss": HEAD + "policy: {outage_report: kr-fss}\n" + STEP,
    "yaml tab": "runbook: 1\n\ttitle: t\n",
    "yaml twice": "runbook: 1\ntitle: a\ntitle: b\n",
    "yaml tag": "runbook: 1\ntitle: !!python/object x\n",
    "yaml documents": "runbook: 1\n---\nrunbook: 1\n",
    "yaml alias": "runbook: 1\ntitle: *nothing\n",
    "yaml merge": "runbook: 1\nx: {<<: [1]}\n",
    "yaml key": "runbook: 1\n? [a]\n: 1\n",
    "yaml invalid": "runbook: 1\ntitle: 'open\n",
    "yaml value": "runbook: 1\nx: !!int abc\n",
    "yaml self": "runbook: 1\nx: &a [*a]\n",
    "empty": "",
    "comments": "# only this\n",
    "a list": "- 1\n",
    "a value": "42\n",
}

# Words that only an untranslated English message would carry (keys, ids, values and the
# examples quoted in a message are taken out first).
ENGLISH = {"the", "is", "are", "a", "an", "must", "expected", "got", "add", "remove", "write",
           "did", "you", "mean", "not", "and", "of", "to", "in", "for", "with", "only", "cannot",
           "unknown", "missing", "twice", "needs", "use", "check", "file", "step", "steps",
           "key", "value", "here", "one", "more", "than", "after", "before", "at", "least",
           "most", "like", "has", "have", "no", "it", "this", "be", "or", "by", "its", "which"}
HANGUL = re.compile("[\uac00-\ud7a3]")
LOCATION = re.compile(r"^(?:[A-Za-z_][\w.]*(?:\[\d+\])*(?:\.[\w]+)*|최상위): ")


def problems(text: str, lang: str) -> list[tuple[int | None, int | None, str]]:
    with using(lang), pytest.raises(LoadError) as caught:
        load_text(text, "runbook.yaml")
    return [(p.line, p.column, p.message) for p in caught.value.problems]


def leftover_english(message: str) -> set[str]:
    """English words left in a Korean message, less what is quoted: from the file, from the
    format (`runbook: 1`), from the YAML parser (``잘못된 YAML: <its words>;``), in brackets."""
    text = LOCATION.sub("", message)
    text = re.sub(r"잘못된 YAML: [^;]*;", " ", text)
    text = re.sub(r"`[^`]*`|'[^']*'|\"[^\"]*\"|\{[^{}]*\}", " ", text)
    while (inner := re.sub(r"\([^()]*\)", " ", text)) != text:
        text = inner
    return {w for w in re.findall(r"[A-Za-z_]+", text) if w.lower() in ENGLISH}


@pytest.mark.parametrize("name", list(BROKEN))
def test_every_load_error_reads_in_korean_at_the_same_place(name):
    en, ko = problems(BROKEN[name], "en"), problems(BROKEN[name], "ko")
    assert [(line, col) for line, col, _ in ko] == [(line, col) for line, col, _ in en]
    for (_, _, english), (_, _, korean) in zip(en, ko, strict=True):
        assert not HANGUL.search(english), english
        assert HANGUL.search(korean), korean
        assert not leftover_english(korean), (korean, leftover_english(korean))
        where = LOCATION.match(english)
        if where:  # `steps[2].after: ...` stays, so tools (and runbook import) can read it
            assert korean.startswith(where.group(0).replace("top level", "최상위")), korean


def test_the_corpus_reaches_every_kind_of_message():
    said = " ".join(m for name in BROKEN for _, _, m in problems(BROKEN[name], "ko"))
    for words in ("알 수 없는 시간대", "혹시 'Asia/Seoul'입니까?", "1.0보다 작아야 합니다",
                  "5에 단위가 없습니다", "중 하나가 아닙니다", "비어 있으면 안 됩니다",
                  "optimistic <= likely <= pessimistic이어야", "시각(시:분)이 없습니다",
                  "범위(1970-8999)를 벗어납니다", "음수입니다", "혹시 '5m'입니까?",
                  "연·월 단위", "1년보다 깁니다", "알 수 없는 키 'estimat'", "true 또는 false",
                  "올바른 id가 아닙니다", "단계가 하나 이상", "언어 코드가 아닙니다",
                  "자리표시자 {resume_p9}", "서식을 붙일 수 없습니다", "안내문이 비어 있습니다",
                  "이름 없는 자리표시자", "안내문 오류", "형식 버전 2", "필수 키 'timezone'",
                  "형식 버전이 없습니다", "서머타임 전환 때", "두 번 있는 시각", "이후여야 합니다",
                  "최대 30일", "두 번 쓰였습니다", "자기 자신을 기다릴 수 없습니다",
                  "알 수 없는 단계 'bot'", "한 경로 안에서만", "서로를 기다립니다",
                  "서비스를 재개하는 단계는 하나뿐", "'main'은 예약된 이름", "1년을 넘습니다",
                  "자체 보고 기한", "자체 보고 기준", "`critical_service: true` 또는 `false`",
                  "eu-dora 규칙에서만 읽습니다", "`outage_report: eu-dora`에서만", "이용자 수가 필요합니다", "탭 문자", "두 번 있습니다",
                  "YAML 태그 !!python/object", "YAML 문서(---)가 둘 이상", "앵커가 없습니다",
                  "병합 키(<<)", "일반 텍스트여야", "잘못된 YAML", "이 값을 읽을 수 없습니다",
                  "자기 자신을 가리키는 별칭", "파일이 비어 있습니다", "주석과 빈 줄만",
                  "최상위가 목록입니다", "최상위가 단일 값 (42)입니다"):
        assert words in said, words


def test_unreadable_files_are_said_in_korean(tmp_path):
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"runbook: 1\n\x00\x01")
    latin = tmp_path / "l.yaml"
    latin.write_bytes("title: caf\xe9\n".encode("latin-1"))
    wide = tmp_path / "w.yaml"
    wide.write_bytes("runbook: 1\n".encode("utf-16-le"))
    said = {}
    for path, words in [(tmp_path / "none.yaml", "파일이 없습니다; 경로를 확인하십시오"),
                        (tmp_path, "디렉터리입니다"), (binary, "이진 파일(NUL 바이트 포함)"),
                        (latin, "UTF-8 텍스트가 아닙니다 (바이트 0xe9)"),
                        (wide, "바이트 순서 표시(BOM) 없는 UTF-16")]:
        with using("ko"), pytest.raises(LoadError) as caught:
            load_runbook(path)
        said[path] = caught.value.problems[0].message
        assert words in said[path]
        assert not leftover_english(said[path]), said[path]


def test_the_command_line_keeps_the_compiler_prefix_and_counts_the_rest(capsys, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent(BROKEN["fields"]), encoding="utf-8")
    assert main(["check", str(path), "--lang", "ko"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 6 and all(re.match(rf"^{re.escape(str(path))}:\d+:\d+: error: ", line)
                                   for line in lines[:5])
    assert re.fullmatch(rf"{re.escape(str(path))}: \.\.\. 외 문제 \d+건", lines[5])
    assert main(["check", str(path), "--lang", "en"]) == 2
    english = capsys.readouterr().err.splitlines()
    assert [line.split(" error: ")[0] for line in english[:5]] == \
        [line.split(" error: ")[0] for line in lines[:5]]
    assert english[5].endswith("more problems")


# -- `run`: the question before moving a window that is over ---------------------------------

def test_run_asks_in_korean_and_takes_y_typed_in_hangul_mode(capsys, tmp_path, today,  # noqa: F811
                                                             operator):  # noqa: F811
    operator.keys = ["x", "ㅛ"]  # ㅛ: the y key with the keyboard in Hangul mode
    db = tmp_path / "runs.db"
    code, out, err = run(capsys, "run", STORY, "--db", db, "--operator", "kim", "--lang", "ko")
    assert code == 0 and operator.engine is not None, err
    assert len(operator.asked) == 2
    said, question, choices = operator.asked[0].split("\n")
    assert "4일 12시간 43분" in said  # the window being over, in Korean too
    assert question == ("작업 시간대 전체를 지금 2026-11-29 14:03 시작으로 옮기겠습니까? (공지 재개 "
                        "시각 2026-11-29 15:23, 소요 시간 유지)")
    assert choices == "[y] 지금으로 옮기기  [n] 계획 시각 유지  [q] 종료"
    assert not leftover_english(operator.asked[0]), operator.asked[0]
    assert window_of(db) == ("2026-11-29T05:03:27+00:00", "2026-11-24T15:00:00+00:00")


@pytest.mark.parametrize(("key", "starts"), [("ㅜ", True), ("n", True), ("ㅂ", False)])
def test_run_takes_n_and_q_in_korean_too(capsys, tmp_path, today, operator,  # noqa: F811
                                         key, starts):
    operator.keys = [key]
    db = tmp_path / "runs.db"
    assert run(capsys, "run", STORY, "--db", db, "--lang", "ko")[0] == 0
    assert (operator.engine is not None) is starts and db.exists() is starts
    if starts:
        assert window_of(db) == (None, None)  # kept as planned


def test_run_without_a_terminal_says_how_in_korean(capsys, tmp_path, today, screen):  # noqa: F811
    code, _, err = run(capsys, "run", STORY, "--db", tmp_path / "runs.db", "--lang", "ko")
    assert code == 2 and not screen
    assert "확인 없이 실행을 시작하지 않습니다: 지금 리허설하려면 --start now를 붙이고" in err
    assert "--start 2026-11-25T00:00을(를) 붙이십시오." in err
    assert not leftover_english(err.split("runbook: ", 1)[1]), err


def test_a_bad_start_is_said_in_korean(capsys):
    code, _, err = run(capsys, "check", STORY, "--start", "tomorrow", "--lang", "ko")
    assert code == 2
    assert "--start tomorrow: 'tomorrow'은(는) ISO 8601 시각이 아닙니다" in err
    assert "또는 --start now로 쓰십시오" in err


def test_python_keeps_its_own_words_inside_a_korean_sentence():
    """What runbook quotes from the YAML parser stays as the parser says it; around it, Korean."""
    (_, _, message), = problems("runbook: 1\ntitle: 'open\n", "ko")
    assert message.startswith("잘못된 YAML: ") and "while scanning a quoted scalar" in message
    assert message.endswith("; 이 부근의 들여쓰기와 따옴표를 확인하십시오")
