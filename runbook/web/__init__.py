"""`runbook serve`: the run in a browser, read-only.

* :mod:`runbook.web.status`  pure: (session, tick) -> the /status.json object; the resume to announce
* :mod:`runbook.web.page`    pure: the status as page texts and as escaped HTML
* :mod:`runbook.web.follow`  the one read-only store and a thread that follows the run
* :mod:`runbook.web.access`  token, loopback rules, security headers (aiohttp middlewares)
* :mod:`runbook.web.tui`     /tui: textual-serve's AppService running ``runbook watch`` per browser
* :mod:`runbook.web.server`  the aiohttp application: routes, the live event stream, start-up

Nothing here imports Textual: the watch screen runs in its own ``runbook watch`` process.
"""
