"""Web studio benchmark: the built UI's JavaScript size and the studio page's time to interactive on loopback.

Run with `make bench` (or `python benchmarks/bench_web.py`) after `make web`. The studio runs as its own
process (`opencomposer studio` on 127.0.0.1, a temporary home); Debian's Chromium, headless, loads the music
studio page in a fresh browser context each time, and the page records when it is ready to play and
generate (its samples, techniques and models loaded, the first melody in the editor):
`window.openComposerReadyMs`, milliseconds from navigation start. Aims: under 1 MB of JavaScript gzipped,
interactive within 2 s.
"""

from __future__ import annotations

import gzip
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from _report import print_table

ROOT = Path(__file__).resolve().parents[1]
WEB_DIST = ROOT / "web" / "dist"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOADS = 7
START_TIMEOUT_SECONDS = 120.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def gzipped_javascript_bytes() -> int:
    """The gzipped size of every JavaScript file of the build (level 9, as a server would send it)."""
    return sum(len(gzip.compress(path.read_bytes(), 9)) for path in (WEB_DIST / "assets").glob("*.js"))


def ready_times_ms(base_url: str, loads: int) -> list[float]:
    """Time to interactive of the studio page in `loads` fresh browser contexts, after one untimed load."""
    times = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for index in range(loads + 1):
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.goto(f"{base_url}/#/studio")
            page.wait_for_selector("body[data-ready='true']", timeout=30_000)
            if index > 0:
                times.append(float(page.evaluate("() => window.openComposerReadyMs")))
            context.close()
        browser.close()
    return times


def main() -> None:
    if not (WEB_DIST / "index.html").is_file():
        sys.exit("The web UI is not built: run `make web` first.")
    javascript_bytes = gzipped_javascript_bytes()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        environment = {**os.environ, "OPENCOMPOSER_HOME": str(home), "OPENCOMPOSER_DATA": str(home / "data")}
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-c", "from opencomposer.cli import main; main()", "studio"]
        server = subprocess.Popen(
            [*command, "--home", str(home), "--port", str(port)], env=environment, stdout=subprocess.DEVNULL
        )
        try:
            with httpx.Client(base_url=base_url, timeout=10.0) as client:
                deadline = time.monotonic() + START_TIMEOUT_SECONDS
                while True:
                    try:
                        if client.get("/api/status").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.monotonic() > deadline:
                        sys.exit("The studio did not start.")
                    time.sleep(0.2)
            times = ready_times_ms(base_url, LOADS)
        finally:
            server.terminate()
            server.wait(timeout=120)
    rows = [
        ("JavaScript of the built UI, gzipped (aim < 1 MB)", f"{javascript_bytes / 1024:.0f}", "KiB"),
        (f"studio page interactive, median of {LOADS} loads (aim < 2000 ms)", f"{statistics.median(times):.0f}", "ms"),
        ("slowest load", f"{max(times):.0f}", "ms"),
    ]
    print_table("Web studio on loopback", rows, columns=("what", "value", "unit"))


if __name__ == "__main__":
    main()
