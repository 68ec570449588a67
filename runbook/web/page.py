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
from runbook.i18n import N_, _, current, ngettext, using

NO_JS_REFRESH_S = 15  # without JavaScript the page reloads itself this often
LABELS = {"live": N_("live"), "rehearsal": N_("rehearsal")}  # run labels, as the reports say them


def _at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def view(status: dict[str, Any]) -> dict[str, Any]:
    """Page texts by element id, in the current language; ``contingencies`` is a list of lines,
    ``level`` the level key."""
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
        tell_time, tell_conf = hm(tell["resume"]), _("service is back")
        back = _at(tell["resume"])
        ann = _at(status["announced_resume"])
        assert back is not None and ann is not None
        gap = format_minutes(abs((back - ann).total_seconds()))
        tell_note = (_("Service resumed at {time}, {gap} before the announced {announced}.")
                     if back <= ann else
                     _("Service resumed at {time}, {gap} after the announced {announced}.")
                     ).format(time=tell_time, gap=gap, announced=announced)
    elif tell["resume"] is None:
        tell_time, tell_conf = "--:--", _("no forecast")
        tell_note = _("The run was stopped before service resumed: ask the change manager.")
    else:
        tell_time, tell_conf = hm(tell["resume"]), _("{p} confidence").format(p=conf)
        if tell["keep_announced"]:
            tell_note = _("The announced {announced} still holds ({p} chance of making it)."
                          ).format(announced=announced, p=on_time)
        else:
            tell_note = _("The announced {announced} is no longer likely ({p} chance): "
                          "announce {time} instead.").format(announced=announced, p=on_time,
                                                             time=tell_time)
    progress = status["progress"]
    running = progress["running"]
    lines = []
    for c in status["contingencies"]:
        lines.append(_("{title}: triggered now, service back by {back} ({confidence} sure), {p} "
                       "chance of making {announced}; needs {need}, decide by {deadline}.").format(
            title=c["title"], back=hm(c["resume_if_triggered_now"]), confidence=conf,
            p=pct(c["p_on_time_if_triggered"]), announced=announced,
            need=format_minutes(c["need_s"], up=True), deadline=hm(c["decide_by"])))
    if status["contingency_running"]:
        c = status["contingency_running"]
        lines.append(_("{title}: running since {time}.").format(title=c["title"],
                                                                time=hm(c["triggered_at"])))
    if not lines:
        lines.append(_("None.") if status["resumed_at"] is None else
                     _("Not needed: service is back."))
    store = status["store"]
    stale = ("" if store["reachable"] else
             _("Store unreachable since {time}: figures may be out of date.").format(
                 time=hm(store["unreachable_since"])))
    label = status["run"]["label"]
    return {
        "level": status["level"],
        "title": status["runbook"]["title"],
        "run": _("Run {run} · {label}").format(
            run=status["run"]["id"], label=_(LABELS[label]) if label in LABELS else label),
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
        "progress": ngettext("{done}/{total} step", "{done}/{total} steps",
                             progress["total"]).format(done=progress["done"],
                                                       total=progress["total"]),
        "now-doing": _("Now: {steps}").format(steps=", ".join(running)) if running else "",
        "contingencies": lines,
        "stale": stale,
        "as-of": _("as of {time}").format(time=local(now, tz).strftime("%H:%M:%S %Z")),
        "doc-title": f"{status['level_word']} · {status['runbook']['title']}",
    }


def _deadline(status: dict[str, Any], hm, now: datetime) -> str:
    if status["contingency_running"]:
        return _("none: {title} is running").format(title=status["contingency_running"]["title"])
    if status["resumed_at"] or status["run"]["finished_at"]:
        return _("none: service is back") if status["resumed_at"] else _("none: the run has ended")
    deadline = _at(status["decision_deadline"])
    if deadline is None:
        return _("none (no contingency can still make it)") if status["contingencies"] else \
            _("none (no contingency path)")
    name = status["decision_contingency"] or _("the contingency")
    if deadline < now:
        return _("{time} for {name}: passed").format(time=hm(status["decision_deadline"]),
                                                     name=name)
    left = format_minutes((deadline - now).total_seconds())
    return _("{time} for {name} (in {left})").format(time=hm(status["decision_deadline"]),
                                                     name=name, left=left)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def render(status: dict[str, Any], lang: str | None = None) -> str:
    """The whole page as of ``status`` in ``lang`` (None: the current language), every text
    escaped (translations too); ``status.js`` keeps it live."""
    with using(lang):
        return _render(status)


def _render(status: dict[str, Any]) -> str:
    v = view(status)
    items = "".join(f"<li>{_e(line)}</li>" for line in v["contingencies"])

    def field(key: str) -> str:
        return f'<span id="{key}">{_e(v[key])}</span>'

    label = {  # headings and labels, escaped
        "tell": _e(_("What to tell customers")),
        "announced": _e(_("Announced resume")),
        "p-on-time": _e(_("Chance of making it")),
        "p50": _e(_("Resume, likely (P50)")),
        "p90": _e(_("Resume, nine in ten (P90)")),
        "deadline": _e(_("Contingency decision by")),
        "progress": _e(_("Progress")),
        "contingency": _e(_("Contingency, if triggered")),
    }
    back_by = _e(_("Service back by {time}")).format(time=field("tell-time"))
    reloads = _("reloads every {n} s").format(n=NO_JS_REFRESH_S)
    states = " ".join(f'data-{state}="{_e(text)}"' for state, text in (
        ("connecting", _("connecting…")), ("live", _("live updates")),
        ("reconnecting", _("reconnecting…")),
        ("refused", _("access refused: open the address that runbook serve printed"))))
    return f"""<!DOCTYPE html>
<html lang="{_e(current())}">
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
<h2>{label["tell"]}</h2>
<p class="big">{back_by}</p>
<p class="conf">{field("tell-conf")}</p>
<p>{field("tell-note")}</p>
</section>
<p class="stale" id="stale">{_e(v["stale"])}</p>
<dl class="facts">
<dt>{label["announced"]}</dt><dd>{field("announced")}</dd>
<dt>{label["p-on-time"]}</dt><dd>{field("p-on-time")}</dd>
<dt>{label["p50"]}</dt><dd>{field("p50")}</dd>
<dt>{label["p90"]}</dt><dd>{field("p90")}</dd>
<dt>{label["deadline"]}</dt><dd>{field("deadline")}</dd>
<dt>{label["progress"]}</dt><dd>{field("progress")} <span class="now" id="now-doing">{_e(v["now-doing"])}</span></dd>
</dl>
<section class="contingency">
<h2>{label["contingency"]}</h2>
<ul id="contingencies">{items}</ul>
</section>
<footer>
<p><span id="as-of">{_e(v["as-of"])}</span> · <span id="live" data-state="loaded" {states}>{_e(reloads)}</span>
· <a href="/status.json">status.json</a></p>
</footer>
</main>
</body>
</html>
"""
