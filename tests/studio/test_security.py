"""Who may use the studio, and that no request reaches a file outside its home."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from opencomposer.studio.server.security import TOKEN_COOKIE

from .conftest import TestClient, midi_bytes, save_tiny_model

TOKEN = "correct-horse-battery-staple"


def files_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


def test_with_a_token_every_request_must_carry_it(make_client: Callable[..., TestClient]) -> None:
    client = make_client(host="0.0.0.0", token=TOKEN)
    for path in ("/api/status", "/api/melodies", "/openapi.json", "/docs", "/"):
        refused = client.get(path)
        assert refused.status_code == 401, path
        assert "needs its token" in refused.json()["detail"]
    assert client.get("/api/status", headers={"Authorization": "Bearer wrong-token-of-some-length"}).status_code == 401
    assert client.get("/api/status", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_a_token_in_the_address_leaves_a_cookie_for_the_browser(make_client: Callable[..., TestClient]) -> None:
    client = make_client(host="0.0.0.0", token=TOKEN)
    opened = client.get(f"/api/status?token={TOKEN}")
    assert opened.status_code == 200
    assert f"{TOKEN_COOKIE}={TOKEN}" in opened.headers["set-cookie"]
    assert "HttpOnly" in opened.headers["set-cookie"]
    assert client.get("/api/melodies").status_code == 200  # the cookie alone now
    client.cookies.clear()
    assert client.get("/api/melodies").status_code == 401


def test_without_a_token_only_requests_addressed_to_loopback_are_answered(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(trusted_hosts=("studio.lan",))
    assert client.get("/api/status", headers={"Host": "localhost:8000"}).status_code == 200
    assert client.get("/api/status", headers={"Host": "[::1]:8000"}).status_code == 200
    assert client.get("/api/status", headers={"Host": "studio.lan"}).status_code == 200
    rebound = client.get("/api/status", headers={"Host": "attacker.example:8000"})
    assert rebound.status_code == 403
    assert "127.0.0.1 or localhost" in rebound.json()["detail"]


def test_a_page_of_another_origin_cannot_post_to_the_studio(client: TestClient) -> None:
    upload = {"file": ("tune.mid", io.BytesIO(midi_bytes()), "audio/midi")}
    refused = client.post("/api/melodies/upload", files=upload, headers={"Origin": "https://attacker.example"})
    assert refused.status_code == 403
    assert "cannot use this studio" in refused.json()["detail"]
    upload = {"file": ("tune.mid", io.BytesIO(midi_bytes()), "audio/midi")}
    assert client.post("/api/melodies/upload", files=upload, headers={"Origin": "http://127.0.0.1"}).status_code == 201


def test_an_oversized_body_is_refused_announced_or_streamed(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_request_bytes=2000)
    body = b"{" + b" " * 3000 + b"}"
    announced = client.post("/api/melodies", content=body, headers={"Content-Type": "application/json"})
    streamed = client.post(
        "/api/melodies", content=iter([body[:1000], body[1000:]]), headers={"Content-Type": "application/json"}
    )
    for response in (announced, streamed):
        assert response.status_code == 413
        assert "larger than" in response.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/melodies/..%2F..%2F..%2Fetc%2Fpasswd",
        "/api/melodies/%2e%2e%2fstudio.db/midi",
        "/api/compositions/..%2Fstudio.db/midi",
        "/api/compositions/../../../../etc/passwd",
        "/api/compositions/0123456789abcdef0123456789abcdef/audio/..%2F..%2Fstudio.db",
        "/api/models/..%2F..%2Fstudio.db",
        "/api/models/%2Fetc%2Fpasswd",
        "/api/datasets/..%2Fdata",
        "/api/jobs/0123456789abcdef0123456789abcdef/samples/1/..%2F..%2Fspec.json",
        "/api/jobs/..%2F..%2Fjobs/events",
        "/..%2F..%2Fetc%2Fpasswd",
        "/%2e%2e/%2e%2e/etc/passwd",
    ],
)
def test_no_path_reaches_outside_the_home(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("application/json")
    assert "root:" not in response.text and "SQLite" not in response.text


def test_a_model_is_named_never_given_by_path(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "outside"
    save_tiny_model(outside, name="planted")
    monkeypatch.chdir(outside)  # a relative "planted.json" would now name a real file
    for model in ("planted.json", "planted.safetensors", str(outside / "planted.json"), "../outside/planted"):
        response = client.post(
            "/api/compositions", json={"technique": "accompany", "model": model, "melody_id": "twinkle"}
        )
        assert response.status_code in (404, 422), model
    assert client.get("/api/models/planted.json").status_code == 404


def test_uploaded_names_never_become_paths(client: TestClient, home: Path, tmp_path: Path) -> None:
    before = files_under(tmp_path) - files_under(home)
    hostile = ["../../escaped.mid", "/tmp/absolute.mid", "..\\..\\windows.mid", "studio.db.mid"]
    for name in hostile:
        upload = {"file": (name, io.BytesIO(midi_bytes()), "audio/midi")}
        assert client.post("/api/melodies/upload", files=upload).status_code == 201
    files = [("files", (name, io.BytesIO(midi_bytes()), "audio/midi")) for name in hostile]
    assert client.post("/api/datasets", data={"name": "hostile", "genre": "test"}, files=files).status_code == 201
    assert files_under(tmp_path) - files_under(home) == before
    assert not Path("/tmp/absolute.mid").exists()
    stored = sorted(path.name for path in (home / "melodies").iterdir())
    assert len(stored) == len(hostile) and all(len(name) == len("0" * 32 + ".mid") for name in stored)
