"""Studio load benchmark: 20 clients generating accompaniments for 60 s on loopback while a model trains.

Run with `make bench` (or `python benchmarks/bench_studio.py`). The studio runs as its own process
(`opencomposer studio`, uvicorn on 127.0.0.1) on a temporary home; a training job trains a U-Net GAN on
uploaded pieces in its worker process the whole time. Each client posts accompaniment requests one after
another (an 8-bar melody, a random seed; every result is saved, as in real use) with the shipped
`bach-chorale-unet` model, or an untrained one of its size when it is not shipped. Reported: requests,
throughput, p50 / p99 / max latency, errors, and the training steps made meanwhile. Aims: no error, p99
under 1 s.
"""

from __future__ import annotations

import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np

from _report import print_table

CLIENTS = 20
DURATION_SECONDS = 60.0
START_TIMEOUT_SECONDS = 120.0
MODEL = "bach-chorale-unet"
TRAINING = {"steps": 1_000_000, "batch_size": 16, "eval_every": 500, "checkpoint_every": 200}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def song(bars: int, seed: int) -> bytes:
    """A two-track MIDI file: quarter-note melody over a whole-note bass."""
    from opencomposer.music.midi import midi_to_bytes
    from opencomposer.music.score import Note, Score, Track

    rng = np.random.default_rng(seed)
    melody, bass = [], []
    for bar in range(bars):
        pitches = [int(p) for p in rng.integers(60, 73, size=4)]
        melody += [Note(pitch, bar * 1920 + beat * 480, 480, 90) for beat, pitch in enumerate(pitches)]
        bass.append(Note(pitches[0] - 24, bar * 1920, 1920, 70))
    tracks = (Track("Melody", notes=tuple(melody), role="melody"), Track("Bass", 32, notes=tuple(bass)))
    return midi_to_bytes(Score(tracks=tracks))


def install_model(home: Path) -> str:
    """The shipped model when there is one, else an untrained model of the same preset saved in `home`."""
    from dataclasses import asdict

    from opencomposer.models import build_generator, config_to_dict
    from opencomposer.registry import ModelCard, list_models, save_model
    from opencomposer.training.gan import PRESETS

    if any(entry.name == MODEL and entry.shipped for entry in list_models("accompany")):
        return "shipped"
    preset = PRESETS[MODEL]
    names = ["Soprano", "Alto", "Tenor", "Bass"]
    card = ModelCard(
        name=MODEL,
        technique="accompany",
        architecture=preset.architecture,
        config=config_to_dict(preset.generator),
        title=MODEL,
        description=preset.description,
        dataset=preset.dataset,
        roll=asdict(preset.window.roll),
        bars=preset.window.bars,
        tracks=[
            {"name": n, "role": "melody" if i == 0 else "accompaniment", "program": 0} for i, n in enumerate(names)
        ],
        melody_index=0,
        generated_tracks=[1, 2, 3],
        decoding={"max_polyphony": [1, 1, 1]},
    )
    save_model(card, build_generator(preset.generator).state_dict(), home / "models")
    return "untrained, same size"


def wait_for(what: str, check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"Timed out waiting for {what}.")


def load(base_url: str, melody_id: str, deadline: float, latencies: list[float], errors: list[str]) -> None:
    """One client: post accompaniment requests back to back until `deadline`."""
    rng = np.random.default_rng(threading.get_ident() % 2**32)
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        while time.monotonic() < deadline:
            body = {
                "technique": "accompany",
                "model": MODEL,
                "melody_id": melody_id,
                "seed": int(rng.integers(0, 2**31 - 1)),
            }
            began = time.perf_counter()
            try:
                response = client.post("/api/compositions", json=body)
            except httpx.HTTPError as error:
                errors.append(type(error).__name__)
                continue
            latencies.append(time.perf_counter() - began)
            if response.status_code != 201:
                errors.append(str(response.status_code))


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        environment = {**os.environ, "OPENCOMPOSER_HOME": str(home), "OPENCOMPOSER_DATA": str(home / "data")}
        os.environ.update(environment)
        source = install_model(home)
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-c", "from opencomposer.cli import main; main()", "studio"]
        server = subprocess.Popen(
            [*command, "--home", str(home), "--port", str(port)], env=environment, stdout=subprocess.DEVNULL
        )
        try:
            with httpx.Client(base_url=base_url, timeout=60.0) as client:
                wait_for("the studio to start", lambda: client.get("/api/status").status_code == 200)
                files = [("files", (f"{i}.mid", io.BytesIO(song(16, i)), "audio/midi")) for i in range(24)]
                added = client.post("/api/datasets", data={"name": "bench-songs", "genre": "test"}, files=files)
                if added.status_code != 201:
                    raise SystemExit(f"Adding the benchmark's dataset failed: {added.text}")
                job = client.post(
                    "/api/jobs",
                    json={
                        "architecture": "unet",
                        "dataset": "bench-songs",
                        "model_name": "bench-model",
                        "hyperparameters": TRAINING,
                    },
                ).json()
                wait_for("training to start", lambda: client.get(f"/api/jobs/{job['id']}").json()["step"] > 0)
                melody = client.post(
                    "/api/melodies/upload", files={"file": ("melody.mid", io.BytesIO(song(8, 99)), "audio/midi")}
                ).json()
                steps_before = client.get(f"/api/jobs/{job['id']}").json()["step"]

                latencies: list[float] = []
                errors: list[str] = []
                deadline = time.monotonic() + DURATION_SECONDS
                clients = [
                    threading.Thread(target=load, args=(base_url, melody["id"], deadline, latencies, errors))
                    for _ in range(CLIENTS)
                ]
                began = time.monotonic()
                for thread in clients:
                    thread.start()
                for thread in clients:
                    thread.join()
                elapsed = time.monotonic() - began

                state = client.get(f"/api/jobs/{job['id']}").json()
                client.post(f"/api/jobs/{job['id']}/stop")
        finally:
            server.terminate()
            server.wait(timeout=120)

    if not latencies:
        raise SystemExit(f"No request completed in {DURATION_SECONDS:.0f} s; errors: {sorted(set(errors))}.")
    if state["status"] not in ("running", "stopping", "done"):
        raise SystemExit(f"The training job was {state['status']} during the load: {state.get('reason')}")
    ordered = sorted(latencies)
    rows = [
        (f"accompaniments generated and saved (model {MODEL}: {source})", f"{len(latencies)}", "requests"),
        ("throughput", f"{len(latencies) / elapsed:.1f}", "requests / s"),
        ("p50 latency", f"{statistics.median(ordered) * 1000:.0f}", "ms"),
        ("p99 latency (aim < 1000 ms)", f"{ordered[int(0.99 * (len(ordered) - 1))] * 1000:.0f}", "ms"),
        ("max latency", f"{ordered[-1] * 1000:.0f}", "ms"),
        ("errors (aim: 0)", f"{len(errors)}" + (f" ({', '.join(sorted(set(errors)))})" if errors else ""), ""),
        (f"training steps made meanwhile (job {state['status']})", f"{state['step'] - steps_before}", "steps"),
    ]
    title = f"Studio under load: {CLIENTS} clients for {DURATION_SECONDS:.0f} s while a model trains"
    print_table(title, rows, columns=("what", "value", "unit"))


if __name__ == "__main__":
    main()
