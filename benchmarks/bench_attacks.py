"""Reliability benchmark: the attacks of issue 18 on a studio running as its own process.

Run with `make bench` (or `python benchmarks/bench_attacks.py`). Each attack is sent once to
`opencomposer studio` on a temporary home while another client asks for ``/api/status`` every 100 ms;
reported: the answer's status, how long it took, the slowest ``/api/status`` meanwhile, and whether the
studio process is still alive. Aims: a 4xx (or the audio) for every attack, every status within 1 s, the
studio alive at the end.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from _report import print_table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.studio.test_attacks import melody_and_files


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="opencomposer-attacks-")) / "home"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {**os.environ, "OPENCOMPOSER_HOME": str(home), "OPENCOMPOSER_DATA": str(home / "data")}
    command = [sys.executable, "-c", "from opencomposer.cli import main; main()", "studio", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--home", str(home)], env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    rows = []
    try:
        with httpx.Client(base_url=url, timeout=300) as client:
            _wait_until_up(client, process)
            for name, attack in _attacks(client):
                status_code, seconds, slowest = _while_polling(url, attack)
                alive = "alive" if process.poll() is None else "DEAD"
                rows.append((name, str(status_code), f"{seconds:.2f} s", f"{slowest * 1000:.0f} ms", alive))
    finally:
        process.kill()
        process.wait()
    print_table(
        "Attacks on a running studio (2-core CPU)",
        rows,
        columns=("attack", "answer", "took", "slowest /api/status meanwhile", "studio"),
    )


def _attacks(client: httpx.Client) -> list[tuple[str, Callable[[], httpx.Response]]]:
    long_melody, bomb, many_notes, midi = melody_and_files()
    accompany = {"technique": "accompany", "model": "bach-chorale-unet", "melody_id": "twinkle", "seed": 0}
    composition = client.post("/api/compositions", json={**accompany, "params": {"bars": 32}}).json()["id"]
    long_id = client.post("/api/melodies/upload", files={"file": ("long.mid", long_melody)}).json()["id"]
    huge = '{"technique":"accompany","model":"bach-chorale-unet","melody_id":"twinkle","params":{"bars":1' + "0" * 400
    edit = {"technique": "edit", "model": "bach-arcnn", "melody_id": long_id, "params": {"iterations": 1000}}
    return [
        ("OGG of a 64 s accompaniment", lambda: client.get(f"/api/compositions/{composition}/audio/ogg")),
        (
            f".mxl of {len(bomb) // 1024} KB unpacking to 300 MB",
            lambda: client.post("/api/melodies/upload", files={"file": ("bomb.mxl", bomb)}),
        ),
        (
            f".mxl of {len(many_notes) // 1024} KB holding 100,000 notes",
            lambda: client.post("/api/melodies/upload", files={"file": ("many.mxl", many_notes)}),
        ),
        (
            "upload with Origin: null",
            lambda: client.post("/api/melodies/upload", files={"file": ("x.mid", midi)}, headers={"Origin": "null"}),
        ),
        (
            "bars = 1 and 400 zeros",
            lambda: client.post("/api/compositions", content=huge + "}}", headers={"Content-Type": "application/json"}),
        ),
        ("edit, 1,000 iterations, 256 bars", lambda: client.post("/api/compositions", json={**edit, "seed": 0})),
        (
            "accompany, bars = 1024",
            lambda: client.post("/api/compositions", json={**accompany, "params": {"bars": 1024}}),
        ),
    ]


def _wait_until_up(client: httpx.Client, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("The studio exited before it answered.")
        try:
            if client.get("/api/status").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("The studio did not answer within 60 s.")


def _while_polling(url: str, attack: Callable[[], httpx.Response]) -> tuple[int, float, float]:
    slowest = [0.0]
    done = threading.Event()

    def poll() -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            while not done.is_set():
                began = time.monotonic()
                client.get("/api/status")
                slowest[0] = max(slowest[0], time.monotonic() - began)
                time.sleep(0.1)

    poller = threading.Thread(target=poll)
    poller.start()
    began = time.monotonic()
    try:
        answer = attack()
    finally:
        done.set()
        poller.join()
    return answer.status_code, time.monotonic() - began, slowest[0]


if __name__ == "__main__":
    main()
