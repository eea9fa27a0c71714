"""The wheel built from the project: installed anywhere, `opencomposer studio` serves the page and the shipped models.

The wheel is built as `python -m build` builds it (a source archive, then the wheel from the archive), installed
into a folder of its own, and the studio started from that folder, outside the source tree, so that neither
``src/`` nor ``web/dist`` can stand in for what the wheel lacks.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from opencomposer.registry import AUXILIARY_SUFFIXES

ROOT = Path(__file__).resolve().parents[1]
WEB_DIST = ROOT / "web" / "dist"
PACKAGE = ROOT / "src" / "opencomposer"
START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 20.0

# Prints where opencomposer was imported from, then runs the installed `opencomposer` script in the same process.
RUN_SCRIPT = (
    "import runpy, sys, opencomposer; print('opencomposer from', opencomposer.__file__, flush=True); "
    "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


def _run(command: list[str], cwd: Path) -> None:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"


def build_wheel(out: Path) -> Path:
    """A source archive of the project in `out`, then the wheel built from it (as `python -m build` does)."""
    _run(
        [
            sys.executable,
            "-c",
            "import sys; from setuptools import build_meta; build_meta.build_sdist(sys.argv[1])",
            str(out),
        ],
        cwd=ROOT,
    )
    (sdist,) = out.glob("opencomposer-*.tar.gz")
    _run(
        [
            *(sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check"),
            *("--no-deps", "--no-build-isolation", "--wheel-dir", str(out), str(sdist)),
        ],
        cwd=out,
    )
    (wheel,) = out.glob("opencomposer-*.whl")
    return wheel


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _get(url: str) -> tuple[bytes, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read(), response.headers.get_content_type()


@contextmanager
def running_studio(site: Path, home: Path, log: Path) -> Iterator[str]:
    """`opencomposer studio` from the packages in `site` alone, on a free port; yields its address."""
    port = _free_port()
    environment = {name: value for name, value in os.environ.items() if not name.startswith("OPENCOMPOSER_")}
    environment["PYTHONPATH"] = str(site)
    command = [sys.executable, "-c", RUN_SCRIPT, str(site / "bin" / "opencomposer")]
    command += ["studio", "--port", str(port), "--home", str(home)]
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=home.parent, env=environment, stdout=output, stderr=subprocess.STDOUT)
    address = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            assert process.poll() is None, f"the studio stopped:\n{log.read_text()}"
            assert time.monotonic() < deadline, (
                f"the studio did not answer in {START_TIMEOUT_SECONDS} s:\n{log.read_text()}"
            )
            try:
                _get(f"{address}/api/status")
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        yield address
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_the_studio_installed_from_the_wheel_serves_the_page_and_the_shipped_models(tmp_path: Path) -> None:
    if not (WEB_DIST / "index.html").is_file():
        pytest.skip("the web UI is not built (web/dist); `make web` builds it, as `make test` does before pytest")
    out, site, home = tmp_path / "dist", tmp_path / "site", tmp_path / "home"
    out.mkdir()
    wheel = build_wheel(out)

    packed = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"opencomposer/pretrained/{path.name}" for path in (PACKAGE / "pretrained").iterdir()}
    migrations = {
        f"opencomposer/studio/migrations/{path.relative_to(PACKAGE / 'studio' / 'migrations').as_posix()}"
        for path in (PACKAGE / "studio" / "migrations").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    page = {
        f"opencomposer/studio/web/{path.relative_to(WEB_DIST).as_posix()}"
        for path in WEB_DIST.rglob("*")
        if path.is_file()
    }
    assert shipped - packed == set(), "shipped models missing from the wheel"
    assert migrations - packed == set(), "migrations missing from the wheel"
    assert page - packed == set(), "built web UI missing from the wheel"

    _run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)], cwd=tmp_path)
    with running_studio(site, home, tmp_path / "studio.log") as address:
        index, index_type = _get(f"{address}/")
        script = re.search(r'src="(/assets/[^"]+\.js)"', index.decode())
        assert script is not None, index.decode()
        script_body, script_type = _get(f"{address}{script.group(1)}")
        models, _ = _get(f"{address}/api/models")
    imported_from = Path((tmp_path / "studio.log").read_text().splitlines()[0].removeprefix("opencomposer from "))

    assert imported_from.is_relative_to(site), f"the studio imported opencomposer from {imported_from}"
    assert index_type == "text/html"
    assert index == (WEB_DIST / "index.html").read_bytes()
    assert script_type in {"text/javascript", "application/javascript"}
    assert script_body == (WEB_DIST / script.group(1).lstrip("/")).read_bytes()
    names = {model["name"] for model in json.loads(models) if model["shipped"]}
    # Every card beside its weights (a lesson's checkpoints, model.step-N.safetensors, are weights without one).
    cards = (PACKAGE / "pretrained").glob("*.json")
    assert names == {path.stem for path in cards if not path.name.endswith(AUXILIARY_SUFFIXES)}
