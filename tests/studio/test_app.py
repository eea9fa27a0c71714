"""The app itself: the web UI it serves beside the API, its schema, and what the audio renderer writes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from opencomposer.errors import AudioUnavailableError
from opencomposer.studio.audio import Synthesizer

from .conftest import HAS_SYNTHESIZER, TestClient, midi_bytes


def test_the_built_web_ui_is_served_beside_the_api(make_client: Callable[..., TestClient], tmp_path: Path) -> None:
    web = tmp_path / "dist"
    (web / "assets").mkdir(parents=True)
    (web / "index.html").write_text("<!doctype html><title>OpenComposer</title><div id=app></div>")
    (web / "assets" / "app.js").write_text("console.log('studio')")
    client = make_client(web_dir=web)
    assert "<div id=app>" in client.get("/").text
    assert client.get("/assets/app.js").text == "console.log('studio')"
    page_route = client.get("/compositions/some-id", headers={"Accept": "text/html"})  # a browser navigating
    assert "<div id=app>" in page_route.text
    for escape in ("/..%2F..%2Fetc%2Fpasswd", "/assets/..%2F..%2F..%2Fetc%2Fpasswd", "/%2e%2e/%2e%2e/etc/passwd"):
        assert "root:" not in client.get(escape, headers={"Accept": "text/html"}).text
    assert client.get("/api/status").json()["version"]
    assert client.get("/api/compositions/0123456789abcdef0123456789abcdef").status_code == 404


def test_without_a_built_ui_the_page_points_at_the_api_docs(make_client: Callable[..., TestClient]) -> None:
    page = make_client().get("/")
    assert page.status_code == 200
    assert 'href="/docs"' in page.text


def test_the_schema_documents_every_error_as_a_sentence(make_client: Callable[..., TestClient]) -> None:
    schema = make_client().get("/openapi.json").json()
    assert schema["components"]["schemas"]["ErrorPublic"]["required"] == ["detail"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            error = operation["responses"]["4XX"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ErrorPublic"}, (method, path)
            assert "422" not in operation["responses"], (method, path)


@pytest.mark.skipif(not HAS_SYNTHESIZER, reason="FluidSynth or its General MIDI soundfont is not installed")
def test_a_failed_render_leaves_no_partial_file(tmp_path: Path) -> None:
    midi = tmp_path / "song.mid"
    midi.write_bytes(midi_bytes())
    synthesizer = Synthesizer("fluidsynth", Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"))
    synthesizer.render(midi, tmp_path / "out" / "song.ogg", "ogg")
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["song.ogg"]
    with pytest.raises(AudioUnavailableError, match="not installed"):
        Synthesizer("no-such-fluidsynth", Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")).render(
            midi, tmp_path / "out" / "other.wav", "wav"
        )
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["song.ogg"]


def test_a_synthesizer_that_fails_gives_a_sentence_not_a_crash(tmp_path: Path) -> None:
    midi = tmp_path / "song.mid"
    midi.write_bytes(midi_bytes())
    broken = tmp_path / "fluidsynth"
    broken.write_text("#!/bin/sh\necho 'fluidsynth: error: out of memory' >&2\nexit 3\n")
    broken.chmod(0o755)
    soundfont = tmp_path / "font.sf2"
    soundfont.write_bytes(b"RIFF")
    with pytest.raises(AudioUnavailableError, match=r"exit status 3: fluidsynth: error: out of memory"):
        Synthesizer(str(broken), soundfont).render(midi, tmp_path / "out" / "song.wav", "wav")
    assert list((tmp_path / "out").iterdir()) == []
