"""Generate the status-page screenshots from the real server in a real headless Chromium.

    .venv/bin/python screenshots/make_status.py [--out screenshots]

The switch-port story (runbooks/san-port-swap.yaml and its demo script) is played by the real
engine on a simulated clock up to a moment, then `runbook serve`'s application, following that
store read-only on the same clock, serves the page to Debian's Chromium at phone width (390 px,
as an iPhone 12-15 shows it) and desktop width (1280 px), the phone also in Korean (Hangul needs
a CJK font for Chromium: Debian's fonts-noto-cjk). Nothing is drawn by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import shutil
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402

from runbook.engine.clock import ManualClock  # noqa: E402
from runbook.engine.run import Actor, new_run  # noqa: E402
from runbook.format.loader import load_runbook  # noqa: E402
from runbook.store import Store  # noqa: E402
from runbook.store import sqlite as store_module  # noqa: E402
from runbook.tui import demo  # noqa: E402
from runbook.tui.director import ScriptDirector  # noqa: E402
from runbook.web.access import Access  # noqa: E402
from runbook.web.follow import Follower  # noqa: E402
from runbook.web.server import bind, build_app  # noqa: E402

# name, minutes into the window, (width, height, device pixel ratio, mobile), language (serve
# --lang), what it shows
SHOTS = [
    ("status-phone", 35.5, (390, 844, 2, True), "en",
     "00:35:30, DECIDE NOW on a phone: what to tell customers, the rollback decision due"),
    ("status-phone-ko", 35.5, (390, 844, 2, True), "ko",
     "the same moment in Korean (serve --lang ko): 즉시 결정, 고객 안내"),
    ("status-desktop", 29, (1280, 800, 1, False), "en",
     "00:29, AT RISK at desktop width: the overrun has eaten the margin"),
]


def serve_in_thread(app: web.Application) -> tuple[str, asyncio.AbstractEventLoop, web.AppRunner]:
    sock = bind("127.0.0.1", 0)
    loop = asyncio.new_event_loop()

    async def start() -> web.AppRunner:
        runner = web.AppRunner(app)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        return runner

    runner = loop.run_until_complete(start())
    threading.Thread(target=loop.run_forever, daemon=True).start()
    return f"http://127.0.0.1:{sock.getsockname()[1]}/", loop, runner


def browser(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        raise SystemExit("needs Debian's chromium and chromium-driver (apt-get install -y ...)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(driver), options=options)


def shoot(driver, url: str, size: tuple[int, int, int, bool], path: Path) -> None:
    width, height, ratio, mobile = size
    metrics = {"width": width, "height": height, "deviceScaleFactor": ratio, "mobile": mobile}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    driver.get(url)
    for _ in range(200):
        if driver.execute_script("return document.getElementById('live').dataset.state") == "live":
            break
        time.sleep(0.05)
    full = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics,
                                                                  "height": max(height, full)})
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
    path.write_bytes(base64.b64decode(shot["data"]))


def make(out: Path) -> list[Path]:
    store_module.secrets.token_hex = lambda n: "0417"  # a stable run id
    loaded = load_runbook(demo.find(demo.RUNBOOK))
    cues = demo.load_cues(loaded, demo.find(demo.SCRIPT))
    start = loaded.plan.start
    written = []
    with tempfile.TemporaryDirectory(prefix="runbook-status-shots-") as tmp:
        driver = browser(Path(tmp) / "chromium")
        try:
            for name, minutes, size, lang, _ in SHOTS:
                db = Path(tmp) / f"{name}.db"
                clock = ManualClock(start)
                with Store(db) as store:
                    engine = new_run(store, loaded, clock, Actor("kim", "ops-01"))
                    source = ManualClock(start + timedelta(minutes=minutes))
                    ScriptDirector(cues, clock, source).step(engine)
                follower = Follower(str(db), None, clock, publish=lambda frame: None)
                follower.open()
                url, loop, runner = serve_in_thread(build_app(follower, Access(None), lang=lang))
                try:
                    path = out / f"{name}.png"
                    shoot(driver, url, size, path)
                    written.append(path)
                finally:
                    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
                    loop.call_soon_threadsafe(loop.stop)
        finally:
            driver.quit()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "screenshots"), help="folder for the PNGs")
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    for path in make(out):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    for name, _, _, _, what in SHOTS:
        print(f"  {name}.png: {what}")


if __name__ == "__main__":
    main()
