"""The real server process over HTTP: the stream, catching up, what never leaves, shutdown."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp

from tests.web.conftest import SECRET_COMMAND, SECRET_NOTE, Operator, live_runbook


async def next_event(response: aiohttp.ClientResponse) -> dict:
    """The next ``data:`` event of a server-sent event stream."""
    while True:
        line = await asyncio.wait_for(response.content.readline(), 10)
        if not line:
            raise EOFError("stream ended")
        if line.startswith(b"data: "):
            return json.loads(line[6:])


async def test_the_stream_sends_each_change_and_a_reconnect_starts_from_now(served, operator):
    async with aiohttp.ClientSession() as http:
        async with http.get(served.url + "events") as r:
            assert r.headers["Content-Type"].startswith("text/event-stream")
            first = await next_event(r)
            assert first["run"] == operator.run_id and first["view"]["progress"] == "0/4 steps"
            seq, committed = operator.do("start prep")
            while (ev := await next_event(r))["seq"] < seq:
                pass
            assert time.time() - committed < 1.0
            assert ev["view"]["now-doing"] == "Now: Prepare the change"
        seq, _ = operator.do("complete prep")  # while no client listens
        deadline = time.monotonic() + 5
        while (await (await http.get(served.url + "status.json")).json())["seq"] < seq:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        async with http.get(served.url + "events") as r:
            ev = await next_event(r)  # the first event after (re)connecting is the state now
            assert ev["seq"] == seq and ev["view"]["progress"] == "1/4 steps"


async def test_notes_and_commands_never_leave_the_server(served, operator):
    operator.do("start prep")
    operator.do(f"note {SECRET_NOTE}")
    operator.do("complete prep")
    async with aiohttp.ClientSession() as http:
        for route in ("", "status.json", "events"):
            async with http.get(served.url + route) as r:
                body = (await r.content.read(20_000) if route == "events" else await r.read())
            text = body.decode()
            assert SECRET_NOTE not in text and SECRET_COMMAND not in text, route
            assert "secret-check" not in text and "kim" not in text and "ops-host" not in text


async def test_without_a_run_named_the_page_moves_to_a_newer_run(served, operator, tmp_path):
    async with aiohttp.ClientSession() as http, http.get(served.url + "events") as r:
        assert (await next_event(r))["run"] == operator.run_id
        book = live_runbook(tmp_path / "second.yaml", title="The second window")
        second = Operator(tmp_path / "runs.db", book)
        created = time.time()
        try:
            while (ev := await next_event(r))["run"] != second.run_id:
                pass
            assert time.time() - created < 1.0  # measured from the run's creation
            assert ev["view"]["title"] == "The second window"
        finally:
            second.close()


def descendants(pid: int) -> list[int]:
    """Process ids below ``pid`` (children, their children, ...)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        below = [p for p, parent in parents.items() if parent in frontier]
        found += below
        frontier = below
    return found


def alive(pid: int) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return False


async def test_tui_sessions_run_watch_and_end_with_the_server(served, operator):
    pid = served.proc.pid
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(served.url.replace("http", "ws") + "tui/ws?width=120&height=40")
        events = await http.get(served.url + "events")
        screen = ""
        deadline = time.monotonic() + 30
        while "WATCHING" not in screen:
            assert time.monotonic() < deadline, screen[-500:]
            msg = await asyncio.wait_for(ws.receive(), 30)
            if msg.type == aiohttp.WSMsgType.BINARY:
                screen += msg.data.decode("utf-8", "replace")
        below = descendants(pid)
        watch = [p for p in below if b"watch\0" + operator.run_id.encode() in
                 Path(f"/proc/{p}/cmdline").read_bytes()]
        assert watch, "no `runbook watch RUN` process"
        started = time.monotonic()
        assert served.stop() == 0  # SIGINT, with a watch session and an event stream open
        assert time.monotonic() - started < 10
        assert not [p for p in below if alive(p)]  # no watch process outlives the server
        events.close()
        await ws.close()
