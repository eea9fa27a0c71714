"""The real studio (`opencomposer studio` in a subprocess, on a free port and a temporary home) and Debian's
Chromium driven by Playwright: one studio and one browser for the whole session, a fresh page per test."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from opencomposer.music.midi import midi_to_bytes
from opencomposer.music.score import Note, Score, Track

ROOT = Path(__file__).resolve().parents[2]
WEB_DIST = ROOT / "web" / "dist"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
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
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
START_SECONDS = 90.0
READY_MS = 15_000
RESOLUTION = 480


@dataclass(frozen=True)
class RunningStudio:
    """A studio subprocess: its address and home, and an HTTP client on it for setting up and checking."""

    url: str
    home: Path
    api: httpx.Client


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def missing(reason: str) -> NoReturn:
    """Skip a browser test whose UI build or browser is missing, except in CI, where `make test` provides both,
    so that a broken build step fails instead of passing silently."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStudio]:
    """`opencomposer studio` on a free loopback port with a fresh home, serving the built web UI."""
    if not (WEB_DIST / "index.html").is_file():
        missing("The web UI is not built: run `make web`.")
    home = tmp_path_factory.mktemp("studio-home")
    port = _free_port()
    env = {
        **os.environ,
        "OPENCOMPOSER_HOME": str(home),
        "OPENCOMPOSER_DATA": str(home / "data"),
        "OMP_NUM_THREADS": "1",
    }
    env.pop("OPENCOMPOSER_TOKEN", None)
    env.pop("OPENCOMPOSER_DATABASE_URL", None)
    command = [str(Path(sys.executable).with_name("opencomposer")), "studio", "--port", str(port), "--home", str(home)]
    log = (home / "studio.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    api = httpx.Client(base_url=url, timeout=60.0)
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            if api.get("/api/status").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"The studio did not start: {(home / 'studio.log').read_text(errors='replace')[-2000:]}")
        time.sleep(0.2)
    try:
        yield RunningStudio(url=url, home=home, api=api)
    finally:
        api.close()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.is_file():
        missing("Chromium is not installed: `make test-deps` installs Debian's chromium package.")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless (never a downloaded browser)."""
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    yield chromium
    chromium.close()


def new_page(browser: Browser, viewport: dict[str, int] = DESKTOP, **options: Any) -> Page:
    """A page in a fresh browser context (its own storage) of the given size, downloads allowed."""
    context = browser.new_context(viewport=viewport, accept_downloads=True, **options)  # type: ignore[arg-type]
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh 1280x800 page."""
    page = new_page(browser)
    yield page
    page.context.close()


def open_page(page: Page, studio: RunningStudio, route: str = "studio") -> None:
    """Go to one of the UI's pages and wait until its data is in (the studio page: ready to play and generate)."""
    page.goto(f"{studio.url}/#/{route}")
    page.wait_for_selector("body[data-ready='true']", timeout=READY_MS)


def screenshot(page: Page, name: str) -> None:
    """Save the page as docs/screenshots/NAME.png (the README links them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def first_model(studio: RunningStudio, technique: str) -> str | None:
    """The first model the server offers for `technique`, or None."""
    models: list[str] = studio.api.get(f"/api/techniques/{technique}").json()["models"]
    return models[0] if models else None


def song_midi(bars: int, seed: int) -> bytes:
    """A two-track song (a melody in quarter notes over a whole-note bass), different for each seed."""
    bar_ticks = 4 * RESOLUTION
    melody, bass = [], []
    for bar in range(bars):
        pitches = [60 + (seed * 3 + bar * 5 + beat * 2) % 12 for beat in range(4)]
        melody += [Note(p, bar * bar_ticks + beat * RESOLUTION, RESOLUTION, 90) for beat, p in enumerate(pitches)]
        bass.append(Note(pitches[0] - 24, bar * bar_ticks, bar_ticks, 70))
    tracks = (Track("Melody", notes=tuple(melody), role="melody"), Track("Bass", 32, notes=tuple(bass)))
    return midi_to_bytes(Score(resolution=RESOLUTION, tempo=110.0, tracks=tracks))


def write_songs(folder: Path, count: int, bars: int = 8) -> list[Path]:
    """`count` MIDI files of `song_midi` in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"song {index}.mid"
        path.write_bytes(song_midi(bars, index))
        paths.append(path)
    return paths
