"""What a reliability run found could crash, stall or fill the studio, kept here so that it stays fixed.

The studio runs as a real process (``opencomposer studio``) where a crash or a stall would show: each
attack must get a 4xx with a sentence (or, for the long piece's OGG, plain audio), the studio must go on
answering ``/api/status`` within a second meanwhile, and it must still be running at the end. The rest
are checked on the app in-process.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from opencomposer.studio.home import Home
from opencomposer.studio.server.app import create_app
from opencomposer.studio.settings import Settings

from .conftest import HAS_SYNTHESIZER, LOOPBACK, TestClient, midi_bytes, save_tiny_model, upload_dataset, wait_for

STATUS_DEADLINE_SECONDS = 1.0


@dataclass
class LiveStudio:
    url: str
    process: subprocess.Popen[bytes]
    home: Path


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStudio]:
    """`opencomposer studio` in its own process on a fresh home."""
    home = tmp_path_factory.mktemp("attacked") / "home"
    port = _free_port()
    environment = {**os.environ, "OPENCOMPOSER_HOME": str(home), "OPENCOMPOSER_DATA": str(home / "data")}
    environment.pop("OPENCOMPOSER_TOKEN", None)
    command = [sys.executable, "-c", "from opencomposer.cli import main; main()", "studio", "--port", str(port)]
    log = (home.parent / "server.log").open("wb")
    process = subprocess.Popen([*command, "--home", str(home)], env=environment, stdout=log, stderr=log)
    studio = LiveStudio(f"http://127.0.0.1:{port}", process, home)
    try:
        with httpx.Client(base_url=studio.url, timeout=10) as client:
            wait_for(lambda: _answers(client, process), timeout_seconds=60, what="the studio to start")
        yield studio
        assert process.poll() is None, f"the studio died during the attacks; see {home.parent / 'server.log'}"
    finally:
        process.kill()
        process.wait()
        log.close()


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answers(client: httpx.Client, process: subprocess.Popen[bytes]) -> bool:
    assert process.poll() is None, "the studio exited"
    try:
        return client.get("/api/status").status_code == 200
    except httpx.TransportError:
        return False


def while_status_answers(studio: LiveStudio, attack: Callable[[httpx.Client], httpx.Response]) -> httpx.Response:
    """Run `attack`, asking for /api/status all along; every status must come within a second."""
    slowest = [0.0]
    done = threading.Event()

    def poll() -> None:
        with httpx.Client(base_url=studio.url, timeout=30) as client:
            while not done.is_set():
                started = time.monotonic()
                assert client.get("/api/status").status_code == 200
                slowest[0] = max(slowest[0], time.monotonic() - started)
                time.sleep(0.1)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        with httpx.Client(base_url=studio.url, timeout=120) as client:
            response = attack(client)
    finally:
        done.set()
        poller.join()
    assert studio.process.poll() is None, "the studio process died"
    assert slowest[0] < STATUS_DEADLINE_SECONDS, f"/api/status took {slowest[0]:.2f} s during the attack"
    return response


def mxl(xml: bytes, name: str = "score.xml") -> bytes:
    """A compressed MusicXML archive holding `xml`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(
            "META-INF/container.xml",
            f'<container><rootfiles><rootfile full-path="{name}"/></rootfiles></container>',
        )
        archive.writestr(name, xml)
    return buffer.getvalue()


def musicxml_of_notes(count: int) -> bytes:
    """A one-part MusicXML score of `count` quarter notes, four to a bar."""
    note = b"<note><pitch><step>C</step><octave>4</octave></pitch><duration>1</duration><type>quarter</type></note>"
    bars = b"".join(
        b'<measure number="%d">%s%s</measure>'
        % (number + 1, b"<attributes><divisions>1</divisions></attributes>" if number == 0 else b"", note * 4)
        for number in range(count // 4)
    )
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><score-partwise version="3.1"><part-list>'
        b'<score-part id="P1"><part-name>Melody</part-name></score-part></part-list><part id="P1">'
        + bars
        + b"</part></score-partwise>"
    )


TUNE = mxl(musicxml_of_notes(32))


def sentence(response: httpx.Response) -> str:
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail.endswith("."), detail
    return detail


@pytest.mark.slow
@pytest.mark.skipif(not HAS_SYNTHESIZER, reason="FluidSynth and its soundfont are not installed")
def test_the_ogg_of_a_piece_longer_than_48_seconds_plays_and_the_studio_lives(live: LiveStudio) -> None:
    # libsndfile 1.2.2 overflowed its stack encoding over ~2.1 M frames of Vorbis in one call: a segfault.
    body = {"technique": "accompany", "model": "bach-chorale-unet", "melody_id": "twinkle", "params": {"bars": 32}}
    with httpx.Client(base_url=live.url, timeout=120) as client:
        created = client.post("/api/compositions", json={**body, "seed": 0})
    assert created.status_code == 201, created.text
    assert created.json()["summary"]["duration_seconds"] > 50
    composition = created.json()["id"]
    answer = while_status_answers(live, lambda client: client.get(f"/api/compositions/{composition}/audio/ogg"))
    assert answer.status_code == 200, answer.text
    import soundfile

    with soundfile.SoundFile(io.BytesIO(answer.content)) as audio:
        assert audio.format == "OGG"
        assert audio.frames / audio.samplerate > 50
    assert not list((live.home / "compositions").glob(".render-*")), "a render left its scratch folder"


@pytest.mark.slow
def test_a_zip_bomb_in_musicxml_is_refused_quickly_while_the_studio_answers(live: LiveStudio) -> None:
    bomb = mxl(b"<?xml version='1.0'?><score-partwise>" + b" " * (300 * 2**20) + b"</score-partwise>")
    assert len(bomb) < 400_000
    started = time.monotonic()
    answer = while_status_answers(
        live, lambda client: client.post("/api/melodies/upload", files={"file": ("bomb.mxl", bomb)})
    )
    assert answer.status_code == 422
    assert "MiB of MusicXML" in sentence(answer)
    assert time.monotonic() - started < 10
    assert not list((live.home / "tmp").iterdir()), "the upload left a scratch file"


@pytest.mark.slow
def test_a_small_musicxml_of_100000_notes_is_refused_while_the_studio_answers(live: LiveStudio) -> None:
    packed = mxl(musicxml_of_notes(100_000))
    assert len(packed) < 200_000
    answer = while_status_answers(
        live, lambda client: client.post("/api/melodies/upload", files={"file": ("many.mxl", packed)})
    )
    assert answer.status_code == 422
    assert "100,000 notes" in sentence(answer)


@pytest.mark.slow
def test_an_ordinary_musicxml_upload_still_reads(live: LiveStudio) -> None:
    answer = while_status_answers(
        live,
        lambda client: client.post("/api/melodies/upload", files={"file": ("tune.mxl", mxl(musicxml_of_notes(32)))}),
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["summary"]["notes"] == 32


@pytest.mark.slow
def test_a_sandboxed_frame_cannot_post_and_its_origin_null_is_refused(live: LiveStudio) -> None:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        posted = client.post(
            "/api/melodies/upload", files={"file": ("x.mid", midi_bytes())}, headers={"Origin": "null"}
        )
        foreign = client.post(
            "/api/melodies/upload", files={"file": ("x.mid", midi_bytes())}, headers={"Origin": "https://evil.example"}
        )
        deleted = client.delete("/api/compositions/" + "0" * 32, headers={"Origin": "null"})
        read = client.get("/api/melodies", headers={"Origin": "null"})
        own = client.post("/api/melodies/upload", files={"file": ("x.mid", midi_bytes())}, headers={"Origin": live.url})
    assert posted.status_code == foreign.status_code == deleted.status_code == 403
    assert "no origin" in sentence(posted)
    assert read.status_code == 200
    assert own.status_code == 201, own.text


@pytest.mark.slow
def test_the_docs_are_served_without_a_cdn_and_nothing_may_frame_the_studio(live: LiveStudio) -> None:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        docs = client.get("/docs")
        scripts = [part.split('"')[1] for part in docs.text.split("src=")[1:]]
        links = [part.split('"')[1] for part in docs.text.split("href=")[1:]]
        fetched = [client.get(url) for url in scripts + links]
        page = client.get("/")
    assert docs.status_code == 200
    assert scripts and all(url.startswith("/") for url in scripts + links), scripts + links
    assert all(answer.status_code == 200 for answer in fetched)
    for answer in (docs, page, fetched[0]):
        assert answer.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def test_a_number_too_big_for_a_float_is_a_422(client: TestClient) -> None:
    huge = "1" + "0" * 400
    raw = '{"technique":"accompany","model":"tiny","melody_id":"twinkle","params":{"bars":HUGE}}'.replace("HUGE", huge)
    composed = client.post("/api/compositions", content=raw, headers={"Content-Type": "application/json"})
    assert composed.status_code == 422
    assert "bars must be a number within its range" in sentence(composed)  # type: ignore[arg-type]
    upload_dataset(client, "tiny-songs", pieces=2, bars=4)
    job = '{"architecture":"unet","dataset":"tiny-songs","model_name":"big","hyperparameters":{"steps":HUGE}}'
    trained = client.post("/api/jobs", content=job.replace("HUGE", huge), headers={"Content-Type": "application/json"})
    assert trained.status_code == 422
    assert "steps must be a number within its range" in sentence(trained)  # type: ignore[arg-type]


@pytest.mark.parametrize("last_event_id", ["99999999999999999999", "²", "٣", "-1", "1e9", " 12 "])
def test_an_odd_last_event_id_starts_the_stream_from_the_start(client: TestClient, last_event_id: str) -> None:
    from opencomposer.studio.rows import JobRow

    job = _stopped_job(client)
    with client.stream(
        "GET", f"/api/jobs/{job}/events/stream", headers=[(b"Last-Event-ID", last_event_id.encode())]
    ) as stream:
        text = "".join(stream.iter_text())
    assert stream.status_code == 200
    assert "event: status" in text and '"status":"stopped"' in text.replace(" ", "")
    assert JobRow.__tablename__  # the job row was read back: the stream ended normally


def _stopped_job(client: TestClient) -> str:
    """A job queued on a studio whose watcher does not run, then stopped: final at once."""
    upload_dataset(client, "tiny-songs", pieces=3, bars=4)
    body = {"architecture": "unet", "dataset": "tiny-songs", "model_name": "streamed", "hyperparameters": {"steps": 1}}
    created = client.post("/api/jobs", json=body)
    assert created.status_code == 201, created.text
    job: str = created.json()["id"]
    client.post(f"/api/jobs/{job}/stop")
    wait_for(lambda: client.get(f"/api/jobs/{job}").json()["status"] in ("stopped", "done", "failed"), what="a stop")
    return job


@pytest.fixture
def client(settings: Settings, home: Path) -> TestClient:
    """A studio whose job watcher is not started (no lifespan): a stopped queued job is final at once."""
    save_tiny_model(home / "models")
    return TestClient(create_app(settings), base_url=LOOPBACK)


def test_leftovers_of_a_dead_studio_are_cleaned_at_start_and_a_live_ones_kept(settings: Settings, home: Path) -> None:
    home_folders = Home(home)
    home_folders.create()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    compositions, scratch = home / "compositions", home / "tmp"
    leftovers = [compositions / f".render-{dead.pid}-abc123", compositions / ".render-x1y2z3", scratch / "upload.mxl"]
    leftovers[0].mkdir()
    (leftovers[0] / "render.wav").write_bytes(b"\0" * 1024)
    leftovers[1].mkdir()
    leftovers[2].write_bytes(b"PK")
    (scratch / f"{dead.pid}-0123.mid").write_bytes(b"MThd")
    partial = compositions / f".{'a' * 32}.mid.tmp"
    partial.write_bytes(b"MThd")
    os.utime(partial, (time.time() - 3600, time.time() - 3600))
    live = [compositions / f".render-{os.getpid()}-busy", scratch / f"{os.getpid()}-busy.mxl"]
    live[0].mkdir()
    live[1].write_bytes(b"PK")
    create_app(settings)
    assert not [path for path in [*leftovers, partial] if path.exists()]
    assert not (scratch / f"{dead.pid}-0123.mid").exists()
    assert all(path.exists() for path in live)


def test_a_generation_past_its_time_budget_stops_with_a_sentence(
    make_client: Callable[..., TestClient], home: Path
) -> None:
    client = make_client(max_generation_seconds=0.5)
    long = client.post("/api/melodies/upload", files={"file": ("long.mid", midi_bytes(_long_melody(128)))})
    assert long.status_code == 201, long.text
    body = {
        "technique": "edit",
        "model": "bach-arcnn",
        "melody_id": long.json()["id"],
        "params": {"iterations": 1000},
        "seed": 0,
    }
    started = time.monotonic()
    answer = client.post("/api/compositions", json=body)
    assert time.monotonic() - started < 30
    assert answer.status_code == 422
    assert "time budget of 0.5 s" in sentence(answer)  # type: ignore[arg-type]
    assert client.get("/api/compositions").json() == []
    assert client.get("/api/status").json()["limits"]["max_generation_seconds"] == 0.5


def test_a_composition_longer_than_the_budget_is_not_made_and_audio_is_refused(
    make_client: Callable[..., TestClient], home: Path
) -> None:
    save_tiny_model(home / "models")
    client = make_client(max_composition_seconds=20.0)
    body = {"technique": "accompany", "model": "tiny", "melody_id": "twinkle", "params": {"bars": 1024}, "seed": 0}
    answer = client.post("/api/compositions", json=body)
    assert answer.status_code == 422
    assert "lasts" in sentence(answer) and "min" in sentence(answer)  # type: ignore[arg-type]
    short = client.post("/api/compositions", json={**body, "params": {"bars": 8}})
    assert short.status_code == 201, short.text
    assert short.json()["summary"]["duration_seconds"] < 20
    shorter = make_client(max_composition_seconds=5.0)
    refused = shorter.get(f"/api/compositions/{short.json()['id']}/audio/mp3")
    assert refused.status_code == 422
    assert "download its MIDI file instead" in sentence(refused)  # type: ignore[arg-type]


def test_an_upload_past_its_parse_budget_or_memory_is_refused_with_a_sentence(
    make_client: Callable[..., TestClient],
) -> None:
    slow = make_client(max_parse_seconds=0.01)
    timed_out = slow.post("/api/melodies/upload", files={"file": ("x.mid", midi_bytes())})
    assert timed_out.status_code == 422
    assert "took longer than 0.01 s" in sentence(timed_out)  # type: ignore[arg-type]
    small = make_client(sandbox_memory_bytes=32 * 2**20)
    starved = small.post("/api/melodies/upload", files={"file": ("x.mid", midi_bytes())})
    assert starved.status_code == 422
    assert "Reading the uploaded file" in sentence(starved)  # type: ignore[arg-type]


@pytest.mark.skipif(not HAS_SYNTHESIZER, reason="FluidSynth and its soundfont are not installed")
def test_a_crash_while_rendering_fails_that_render_only(
    make_client: Callable[..., TestClient], home: Path, tmp_path: Path
) -> None:
    # A synthesizer that brings down the process that runs it, as libsndfile's overflow did.
    crashing = tmp_path / "crashing-synth"
    crashing.write_text("#!/bin/sh\nkill -SEGV $PPID\nsleep 5\n")
    crashing.chmod(0o755)
    save_tiny_model(home / "models")
    client = make_client(fluidsynth=str(crashing))
    body = {"technique": "accompany", "model": "tiny", "melody_id": "twinkle", "seed": 0}
    composition = client.post("/api/compositions", json=body).json()["id"]
    answer = client.get(f"/api/compositions/{composition}/audio/ogg")
    assert answer.status_code == 503
    assert "crashed (SIGSEGV)" in sentence(answer)  # type: ignore[arg-type]
    assert client.get("/api/status").status_code == 200


def test_the_token_can_come_from_a_file_or_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "s3cret-token-from-a-file-0123456789"
    file = tmp_path / "token"
    file.write_text(f"{secret}\n")
    monkeypatch.delenv("OPENCOMPOSER_TOKEN", raising=False)
    assert Settings.from_environment(home=tmp_path, token_file=file).token == secret
    monkeypatch.setenv("OPENCOMPOSER_TOKEN_FILE", str(file))
    assert Settings.from_environment(home=tmp_path).token == secret
    assert Settings.from_environment(home=tmp_path, token="given-on-the-command-line").token != secret
    from opencomposer.errors import StudioConfigError

    with pytest.raises(StudioConfigError, match="cannot be read"):
        Settings.from_environment(home=tmp_path, token_file=tmp_path / "missing")


@pytest.mark.slow
def test_a_stop_in_a_jobs_first_second_ends_it_stopped(tmp_path: Path) -> None:
    """The worker imports torch in its first seconds; a stop raised inside an import broke the import system."""
    from opencomposer.studio import worker

    delays = [0.25, 0.4, 0.55, 0.7, 0.85, 1.0]  # after Python is up and the handler installed
    processes = []
    for index, delay in enumerate(delays):
        job_dir = tmp_path / f"job{index}"
        job_dir.mkdir()
        spec: dict[str, Any] = {
            "job_id": f"{index:032x}",
            "architecture": "unet",
            "dataset": "no-such-dataset-so-a-late-stop-fails-clearly",
            "preset": None,
            "model_name": f"stopped-{index}",
            "hyperparameters": {},
            "threads": 1,
            "device": "cpu",
        }
        (job_dir / "spec.json").write_text(json.dumps(spec))
        process = subprocess.Popen(
            [sys.executable, "-m", "opencomposer.studio.worker", str(job_dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        processes.append((process, job_dir, delay))
    started = time.monotonic()
    for process, _, delay in processes:
        time.sleep(max(0.0, started + delay - time.monotonic()))
        process.send_signal(signal.SIGTERM)
    for process, job_dir, delay in processes:
        _, errors = process.communicate(timeout=120)
        assert "RecursionError" not in errors.decode(), errors.decode()[-2000:]
        if process.returncode == -signal.SIGTERM:
            continue  # on a busy machine, before Python set the handler: the studio marks a stopping job stopped
        assert (job_dir / "result.json").is_file(), (delay, process.returncode, errors.decode()[-3000:])
        result = json.loads((job_dir / "result.json").read_text())
        assert (process.returncode, result["status"]) == (worker.EXIT_STOPPED, "stopped"), (delay, result)


def test_a_stop_that_arrives_inside_an_import_waits_until_the_import_is_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opencomposer.studio import worker

    resent: list[Any] = []

    def timer(*args: Any, **kwargs: Any) -> _NoTimer:
        resent.append(args)
        return _NoTimer()

    monkeypatch.setattr("opencomposer.studio.worker.threading.Timer", timer)
    worker._stop_asked.clear()
    worker._stop_raised.clear()
    (tmp_path / "slow_module.py").write_text(
        "import sys\nfrom opencomposer.studio import worker\nworker._interrupt(15, sys._getframe())\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        __import__("slow_module")  # the stop lands in the module's body: it must not raise there
        assert worker._stop_asked.is_set() and not worker._stop_raised.is_set()
        assert len(resent) == 1  # sent again shortly, to land outside the import
        with pytest.raises(KeyboardInterrupt):
            worker._interrupt(signal.SIGTERM, sys._getframe())
    finally:
        sys.modules.pop("slow_module", None)
        worker._stop_asked.clear()
        worker._stop_raised.clear()


class _NoTimer:
    def start(self) -> None:
        pass


def _long_melody(bars: int) -> Any:
    from .conftest import melody_score

    return melody_score(bars, 1)


def melody_and_files() -> tuple[bytes, bytes, bytes, bytes]:
    """What `benchmarks/bench_attacks.py` sends: a 256-bar melody's MIDI, the zip bomb, the 100,000 notes, a tune."""
    bomb = mxl(b"<?xml version='1.0'?><score-partwise>" + b" " * (300 * 2**20) + b"</score-partwise>")
    return midi_bytes(_long_melody(256)), bomb, mxl(musicxml_of_notes(100_000)), midi_bytes()
