"""Training jobs: what is refused before a job is queued, the queue, stopping, SIGKILL and a studio restart.

The slow tests train a tiny GAN (a few steps) on a dataset uploaded by the test, in real worker processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from opencomposer.studio.rows import JobRow
from opencomposer.studio.server.app import create_app
from opencomposer.studio.settings import Settings

from .conftest import LOOPBACK, TestClient, save_tiny_model, upload_dataset, wait_for

LONG = {"steps": 100_000, "batch_size": 4, "eval_every": 0, "checkpoint_every": 2}


def start_job(client: TestClient | httpx.Client, model_name: str, **hyperparameters: Any) -> dict[str, Any]:
    body = {
        "architecture": "unet",
        "dataset": "tiny-songs",
        "model_name": model_name,
        "hyperparameters": hyperparameters,
    }
    response = client.post("/api/jobs", json=body)
    assert response.status_code == 201, response.text
    job: dict[str, Any] = response.json()
    return job


def job_state(client: TestClient | httpx.Client, job_id: str) -> dict[str, Any]:
    state: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
    return state


def wait_status(client: TestClient | httpx.Client, job_id: str, *statuses: str) -> dict[str, Any]:
    state: dict[str, Any] = wait_for(
        lambda: (job := job_state(client, job_id))["status"] in statuses and job, what=f"job status in {statuses}"
    )
    return state


@pytest.fixture
def idle_client(settings: Settings, home: Path) -> TestClient:
    """A studio whose job watcher is not started (no lifespan): created jobs stay queued."""
    save_tiny_model(home / "models")
    return TestClient(create_app(settings), base_url=LOOPBACK)


@pytest.mark.parametrize(
    ("body", "status_code", "words"),
    [
        ({"architecture": "transformer-xxl"}, 404, "unet"),
        ({"dataset": "no-such-data"}, 404, "Known datasets"),
        ({"hyperparameters": {"steps": 0}}, 422, "steps must be between 1"),
        ({"hyperparameters": {"learning_rate": "fast"}}, 422, "learning_rate must be a number"),
        ({"hyperparameters": {"dropout": 0.1}}, 422, "Unknown parameter 'dropout'"),
        ({"model_name": "tiny"}, 409, "already a model called 'tiny'"),
        ({"model_name": "Not Valid"}, 422, "model_name"),
        ({"preset": "pop909-musegan"}, 422, "trains a musegan generator"),
        ({"preset": "no-such-preset"}, 404, "Known presets"),
    ],
)
def test_a_job_that_cannot_train_is_refused_before_it_is_queued(
    idle_client: TestClient, body: dict[str, Any], status_code: int, words: str
) -> None:
    upload_dataset(idle_client, "tiny-songs", pieces=2, bars=4)
    request = {"architecture": "unet", "dataset": "tiny-songs", "model_name": "new-model", **body}
    response = idle_client.post("/api/jobs", json=request)
    assert response.status_code == status_code, response.text
    assert words in response.json()["detail"]
    assert idle_client.get("/api/jobs").json() == []


def test_queued_jobs_resume_and_stop_by_the_rules(idle_client: TestClient) -> None:
    upload_dataset(idle_client, "tiny-songs", pieces=2, bars=4)
    job = start_job(idle_client, "queued-model", steps=5, batch_size=2)
    # update_ratio was not given: the small preset's recommendation (2) was filled in.
    assert (job["status"], job["total_steps"], job["hyperparameters"]["update_ratio"]) == ("queued", 5, 2)
    conflict = idle_client.post(f"/api/jobs/{job['id']}/resume")
    assert conflict.status_code == 409 and "only a stopped" in conflict.json()["detail"]
    twin = idle_client.post(
        "/api/jobs", json={"architecture": "unet", "dataset": "tiny-songs", "model_name": "queued-model"}
    )
    assert twin.status_code == 409
    stopped = idle_client.post(f"/api/jobs/{job['id']}/stop").json()
    assert (stopped["status"], stopped["runs"]) == ("stopped", 0)
    assert idle_client.post(f"/api/jobs/{job['id']}/stop").status_code == 409
    fixed = idle_client.post(f"/api/jobs/{job['id']}/resume", json={"hyperparameters": {"batch_size": 8}})
    assert fixed.status_code == 422 and "cannot change when a job resumes" in fixed.json()["detail"]
    longer = idle_client.post(f"/api/jobs/{job['id']}/resume", json={"hyperparameters": {"steps": 9}}).json()
    assert (longer["status"], longer["total_steps"], longer["hyperparameters"]["steps"]) == ("queued", 9, 9)
    assert idle_client.get("/api/jobs?status=queued").json()[0]["id"] == job["id"]
    missing = "0123456789abcdef0123456789abcdef"
    for path in (f"/api/jobs/{missing}", f"/api/jobs/{missing}/events", f"/api/jobs/{missing}/events/stream"):
        assert idle_client.get(path).status_code == 404, path
    assert idle_client.post(f"/api/jobs/{missing}/stop").status_code == 404


def test_a_job_runs_with_the_hyperparameters_the_architecture_and_its_presets_publish(idle_client: TestClient) -> None:
    # The training form shows these values: a job must run with exactly them (the preset's, not the declared
    # defaults: bach-chorale-unet trains with batches of 32, 2 critic updates and a reconstruction weight of 30).
    upload_dataset(idle_client, "tiny-songs", pieces=2, bars=4)
    unet = next(item for item in idle_client.get("/api/architectures").json() if item["name"] == "unet")
    chorale = next(preset for preset in unet["presets"] if preset["name"] == "bach-chorale-unet")
    assert "Bach chorale" in chorale["description"]
    picked = {
        name: chorale["hyperparameters"][name] for name in ("batch_size", "update_ratio", "reconstruction_weight")
    }
    assert picked == {"batch_size": 32, "update_ratio": 2, "reconstruction_weight": 30.0}
    for model_name, preset, published in (
        ("plain", None, unet["hyperparameters"]),
        ("chorale", chorale["name"], chorale["hyperparameters"]),
    ):
        body = {"architecture": "unet", "dataset": "tiny-songs", "model_name": model_name, "preset": preset}
        job = idle_client.post("/api/jobs", json=body).json()
        assert job["hyperparameters"] == published


@pytest.mark.slow
def test_at_most_max_jobs_run_the_rest_wait_and_any_studio_process_can_stop_them(
    client: TestClient, make_client: Callable[..., TestClient]
) -> None:
    api_only = make_client(run_jobs=False)  # a second studio process on the same database, running no jobs
    upload_dataset(client, "tiny-songs")
    first = start_job(api_only, "first", **LONG)
    second = start_job(api_only, "second", **LONG)
    wait_status(client, first["id"], "running")
    assert job_state(client, second["id"])["status"] == "queued"
    status = api_only.get("/api/status").json()
    assert (status["jobs_running"], status["jobs_queued"]) == (1, 1)
    assert api_only.post(f"/api/jobs/{second['id']}/stop").json()["status"] == "stopped"
    assert api_only.post(f"/api/jobs/{first['id']}/stop").json()["status"] == "stopping"
    stopped = wait_status(client, first["id"], "stopped", "failed", "interrupted")
    assert stopped["status"] == "stopped", stopped
    assert job_state(client, second["id"])["runs"] == 0


@pytest.mark.slow
def test_a_killed_worker_loses_only_the_steps_since_its_last_checkpoint(client: TestClient, home: Path) -> None:
    upload_dataset(client, "tiny-songs")
    job = start_job(client, "killed", **LONG)
    store = client.app.state.studio.store  # type: ignore[attr-defined]
    checkpointed = wait_for(
        lambda: (state := job_state(client, job["id"]))["checkpoint_step"] and state, what="a checkpoint"
    )
    pid = store.get(JobRow, job["id"]).pid
    os.kill(pid, signal.SIGKILL)
    interrupted = wait_status(client, job["id"], "interrupted", "failed", "stopped", "done")
    assert interrupted["status"] == "interrupted", interrupted
    assert "signal 9" in interrupted["reason"]
    last_checkpoint = interrupted["checkpoint_step"]
    assert last_checkpoint >= checkpointed["checkpoint_step"]
    saved = sorted((home / "jobs" / job["id"] / "run" / "checkpoints").glob("step-*.json"))
    assert saved and saved[-1].name == f"step-{last_checkpoint:08d}.json"

    resumed = client.post(f"/api/jobs/{job['id']}/resume", json={"hyperparameters": {"steps": last_checkpoint + 2}})
    assert resumed.status_code == 200, resumed.text
    done = wait_status(client, job["id"], "done", "failed", "interrupted")
    assert done["status"] == "done", done
    assert (done["step"], done["runs"]) == (last_checkpoint + 2, 2)
    events = client.get(f"/api/jobs/{job['id']}/events").json()
    restart = [event for event in events if event["kind"] == "start" and event["run"] == 2]
    assert restart[0]["data"]["resumed_from"] == last_checkpoint
    assert any(model["name"] == "killed" for model in client.get("/api/models").json())


@pytest.mark.slow
def test_a_studio_that_shuts_down_checkpoints_its_running_jobs(
    client: TestClient, make_client: Callable[..., TestClient]
) -> None:
    upload_dataset(client, "tiny-songs")
    job = start_job(client, "paused", **LONG)
    wait_for(lambda: job_state(client, job["id"])["checkpoint_step"], what="a checkpoint")
    pid = client.app.state.studio.store.get(JobRow, job["id"]).pid  # type: ignore[attr-defined]
    client.__exit__(None, None, None)  # the studio's own shutdown
    assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid)
    found = job_state(make_client(run_jobs=False), job["id"])
    assert found["status"] == "interrupted", found
    assert found["reason"].startswith("The studio stopped while this job ran")
    assert found["checkpoint_step"] >= found["step"] - LONG["checkpoint_every"]


@pytest.mark.slow
def test_a_restarted_studio_marks_the_jobs_it_finds_running_interrupted(
    make_client: Callable[..., TestClient], home: Path, settings: Settings
) -> None:
    """The studio is a real process killed with SIGKILL; its worker notices, checkpoints and exits."""
    port = _free_port()
    environment = {**os.environ, "OPENCOMPOSER_HOME": str(home)}
    command = ["from opencomposer.cli import main; main()", "studio", "--home", str(home), "--port", str(port)]
    log = (home.parent / "server.log").open("wb")
    server = subprocess.Popen([sys.executable, "-c", *command], env=environment, stdout=log, stderr=log)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as remote:
            wait_for(lambda: _answers(remote, server), what="the studio to start")
            upload_dataset(remote, "tiny-songs")  # type: ignore[arg-type]
            job = start_job(remote, "survivor", **LONG)
            wait_for(lambda: job_state(remote, job["id"])["checkpoint_step"], what="a checkpoint")
            server.kill()
            server.wait()
            worker_pid = _worker_pid(home, job["id"])
            wait_for(
                lambda: not Path(f"/proc/{worker_pid}").exists() or _is_zombie(worker_pid), what="the worker to stop"
            )
    finally:
        server.kill()
        server.wait()
        log.close()
    client = make_client()
    found = job_state(client, job["id"])
    assert found["status"] == "interrupted", found
    assert "resume it to continue from the checkpoint of step" in found["reason"]
    resumed = client.post(
        f"/api/jobs/{job['id']}/resume", json={"hyperparameters": {"steps": found["checkpoint_step"] + 1}}
    )
    assert resumed.status_code == 200
    assert wait_status(client, job["id"], "done", "failed", "interrupted")["status"] == "done"


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answers(client: httpx.Client, server: subprocess.Popen[bytes]) -> bool:
    assert server.poll() is None, "the studio exited; see server.log beside the test's home"
    try:
        return client.get("/api/status").status_code == 200
    except httpx.TransportError:
        return False


def _worker_pid(home: Path, job_id: str) -> int:
    from opencomposer.studio.store import Store

    store = Store(f"sqlite:///{home / 'studio.db'}")
    try:
        pid = store.get(JobRow, job_id).pid
    finally:
        store.close()
    assert pid is not None
    return pid


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


@pytest.mark.slow
def test_a_band_learns_from_your_own_folder_and_plays(client: TestClient) -> None:
    """The training page's band architecture on an uploaded folder: chords from what its bass spells, the
    bass's bars as the band's one part, a model that then plays a sample melody."""
    upload_dataset(client, "my-songs", pieces=8)
    band = next(item for item in client.get("/api/architectures").json() if item["name"] == "band")
    assert band["technique"] == "band" and {"jazz-band", "rock-band"} <= {p["name"] for p in band["presets"]}
    body = {
        "architecture": "band",
        "dataset": "my-songs",
        "model_name": "my-band",
        "hyperparameters": {"steps": 4, "batch_size": 2, "eval_every": 2, "checkpoint_every": 2},
    }
    response = client.post("/api/jobs", json=body)
    assert response.status_code == 201, response.text
    done = wait_status(client, response.json()["id"], "done", "failed", "interrupted")
    assert done["status"] == "done", done
    model = client.get("/api/models/my-band").json()
    assert model["technique"] == "band" and model["genre"] == "test"
    made = client.post(
        "/api/compositions", json={"technique": "band", "model": "my-band", "melody_id": "twinkle", "seed": 1}
    )
    assert made.status_code == 201, made.text
    assert [track["name"] for track in made.json()["summary"]["tracks"]][:2] == ["Melody", "Accompaniment"]
