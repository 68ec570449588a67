"""The status page: the /status.json object as the texts a person reads, and as HTML. Pure.

:func:`view` turns a status object into ``{element id: text}``; the server renders the page from
it (escaped) and the live stream sends it, so ``static/status.js`` only sets ``textContent``: the
page and its updates cannot disagree, and no text from a runbook ever reaches ``innerHTML``.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from runbook.engine.risk import pct
from runbook.format.durations import format_minutes
from runbook.format.times import local, when

NO_JS_REFRESH_S = 15  # without JavaScript the page reloads itself this often


def _at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def view(status: dict[str, Any]) -> dict[str, Any]:
    """Page texts by element id; ``contingencies`` is a list of lines, ``level`` the level key."""
    tz = status["runbook"]["timezone"]
    now = _at(status["generated_at"])
    assert now is not None

    def hm(text: str | None) -> str:
        return when(_at(text), tz, now)

    announced = hm(status["announced_resume"])
    on_time = pct(status["p_on_time"])
    tell = status["tell_customers"]
    conf = pct(status["confidence"])
    if tell["service_back"]:
        tell_time, tell_conf = hm(tell["resume"]), "service is back"
        back = _at(tell["resume"])
        ann = _at(status["announced_resume"])
        assert back is not None and ann is not None
        gap = format_minutes(abs((back - ann).total_seconds()))
        tell_note = (f"Service resumed at {tell_time}, {gap} "
                     f"{'before' if back <= ann else 'after'} the announced {announced}.")
    elif tell["resume"] is None:
        tell_time, tell_conf = "--:--", "no forecast"
        tell_note = "The run was stopped before service resumed: ask the change manager."
    else:
        tell_time, tell_conf = hm(tell["resume"]), f"{conf} confidence"
        if tell["keep_announced"]:
            tell_note = f"The announced {announced} still holds ({on_time} chance of making it)."
        else:
            tell_note = (f"The announced {announced} is no longer likely ({on_time} chance): "
                         f"announce {tell_time} instead.")
    progress = status["progress"]
    running = progress["running"]
    lines = []
    for c in status["contingencies"]:
        lines.append(f"{c['title']}: triggered now, service back by "
                     f"{hm(c['resume_if_triggered_now'])} ({conf} sure), "
                     f"{pct(c['p_on_time_if_triggered'])} chance of making {announced}; "
                     f"needs {format_minutes(c['need_s'], up=True)}, decide by {hm(c['decide_by'])}.")
    if status["contingency_running"]:
        c = status["contingency_running"]
        lines.append(f"{c['title']}: running since {hm(c['triggered_at'])}.")
    if not lines:
        lines.append("None." if status["resumed_at"] is None else "Not needed: service is back.")
    store = status["store"]
    stale = ("" if store["reachable"] else
             f"Store unreachable since {hm(store['unreachable_since'])}: figures may be out of date.")
    return {
        "level": status["level"],
        "title": status["runbook"]["title"],
        "run": f"Run {status['run']['id']} · {status['run']['label']}",
        "level-word": status["level_word"],
        "action": status["action"],
        "summary": status["summary"],
        "tell-time": tell_time,
        "tell-conf": tell_conf,
        "tell-note": tell_note,
        "announced": announced,
        "p-on-time": on_time,
        "p50": hm(status["p50"]),
        "p90": hm(status["p90"]),
        "deadline": _deadline(status, hm, now),
        "progress": f"{progress['done']}/{progress['total']} steps",
        "now-doing": ("Now: " + ", ".join(running)) if running else "",
        "contingencies": lines,
        "stale": stale,
        "as-of": f"as of {local(now, tz).strftime('%H:%M:%S %Z')}",
        "doc-title": f"{status['level_word']} · {status['runbook']['title']}",
    }


def _deadline(status: dict[str, Any], hm, now: datetime) -> str:
    if status["contingency_running"]:
        return f"none: {status['contingency_running']['title']} is running"
    if status["resumed_at"] or status["run"]["finished_at"]:
        return "none: service is back" if status["resumed_at"] else "none: the run has ended"
    deadline = _at(status["decision_deadline"])
    if deadline is None:
        return "none (no contingency can still make it)" if status["contingencies"] else \
            "none (no contingency path)"
    name = status["decision_contingency"] or "the contingency"
    if deadline < now:
        return f"{hm(status['decision_deadline'])} for {name}: passed"
    left = format_minutes((deadline - now).total_seconds())
    return f"{hm(status['decision_deadline'])} for {name} (in {left})"


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def render(status: dict[str, Any]) -> str:
    """The whole page as of ``status``, every text escaped; ``status.js`` keeps it live."""
    v = view(status)
    items = "".join(f"<li>{_e(line)}</li>" for line in v["contingencies"])

    def field(key: str) -> str:
        return f'<span id="{key}">{_e(v[key])}</span>'

    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<noscript><meta http-equiv="refresh" content="{NO_JS_REFRESH_S}"></noscript>
<title id="doc-title">{_e(v["doc-title"])}</title>
<link rel="stylesheet" href="/static/status.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<script src="/static/status.js" defer></script>
</head>
<body data-level="{_e(v["level"])}">
<main>
<header>
<h1 id="title">{_e(v["title"])}</h1>
<p class="run">{field("run")}</p>
</header>
<section class="level" aria-live="polite">
<p class="word">{field("level-word")}</p>
<p class="action">{field("action")}</p>
<p class="summary">{field("summary")}</p>
</section>
<section class="tell">
<h2>What to tell customers</h2>
<p class="big">Service back by {field("tell-time")}</p>
<p class="conf">{field("tell-conf")}</p>
<p>{field("tell-note")}</p>
</section>
<p class="stale" id="stale">{_e(v["stale"])}</p>
<dl class="facts">
<dt>Announced resume</dt><dd>{field("announced")}</dd>
<dt>Chance of making it</dt><dd>{field("p-on-time")}</dd>
<dt>Resume, likely (P50)</dt><dd>{field("p50")}</dd>
<dt>Resume, nine in ten (P90)</dt><dd>{field("p90")}</dd>
<dt>Contingency decision by</dt><dd>{field("deadline")}</dd>
<dt>Progress</dt><dd>{field("progress")} <span class="now" id="now-doing">{_e(v["now-doing"])}</span></dd>
</dl>
<section class="contingency">
<h2>Contingency, if triggered</h2>
<ul id="contingencies">{items}</ul>
</section>
<footer>
<p><span id="as-of">{_e(v["as-of"])}</span> · <span id="live">reloads every {NO_JS_REFRESH_S} s</span>
· <a href="/status.json">status.json</a></p>
</footer>
</main>
</body>
</html>
"""
