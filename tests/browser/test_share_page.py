"""A share bundle's page, unzipped and opened from a file:// address in Chromium with the network cut off:
it shows the composition and plays it."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Request, expect

from opencomposer.music.melodies import get_melody
from opencomposer.music.midi import midi_to_bytes
from opencomposer.music.score import Note, Track
from opencomposer.studio.compose import draw_piano_roll
from opencomposer.studio.share import ShareCard, SharedMelody, SharedModel, build_bundle, to_shared_score

from .conftest import RunningStudio, new_page, open_page

pytestmark = pytest.mark.slow


def test_the_page_of_a_bundle_plays_from_a_file_with_no_server(browser: Browser, tmp_path: Path) -> None:
    melody = get_melody("twinkle").to_score()
    drums = Track("Drums", is_drum=True, notes=tuple(Note(36, beat * 480, 240, 100) for beat in range(8)))
    score = melody.with_tracks([*melody.tracks, drums])
    card = ShareCard(
        title="Twinkle <shared> & played",
        created_at=datetime.now(UTC),
        studio_version="test",
        technique="accompany",
        action="accompany",
        model=SharedModel(name="bach-chorale-unet", title="Bach chorales", weights_sha256="0" * 64),
        params={"threshold": 0.5},
        seed=3,
        melody=SharedMelody(title="Twinkle", score=to_shared_score(melody)),
        summary={},
        audio_missing="FluidSynth is not installed here.",
    )
    draw_piano_roll(score, tmp_path / "roll.png")
    bundle = build_bundle(card, midi_to_bytes(score), score, (tmp_path / "roll.png").read_bytes(), None)
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        archive.extractall(folder)

    page = new_page(browser)
    problems: list[str] = []
    page.on("console", lambda message: _note_error(message, problems))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    requested: list[str] = []
    page.on("request", lambda request: _note_request(request, requested))
    page.goto((folder / "index.html").as_uri())
    assert page.title() == "Twinkle <shared> & played"
    assert page.get_by_role("heading", name="Twinkle <shared> & played").is_visible()
    assert page.get_by_alt_text("The piano roll of Twinkle <shared> & played").is_visible()
    assert page.get_by_text("FluidSynth is not installed here.").is_visible()
    page.get_by_role("button", name="Play").click()
    page.wait_for_selector("body[data-playing='true']")
    page.wait_for_function(
        "document.getElementById('position').textContent.includes(' of ') "
        "&& parseFloat(document.getElementById('position').textContent) >= 0.5",
        timeout=10_000,
    )
    page.get_by_role("button", name="Stop").click()
    page.wait_for_selector("body[data-playing='false']")
    assert problems == []
    assert all(url.startswith(("file://", "data:")) for url in requested), requested
    page.context.close()


def _note_error(message: ConsoleMessage, problems: list[str]) -> None:
    if message.type in ("error", "warning"):
        problems.append(f"console {message.type}: {message.text}")


def _note_request(request: Request, requested: list[str]) -> None:
    requested.append(request.url)


def test_a_composition_shared_from_the_compositions_page_imports_back_identically(
    browser: Browser, studio: RunningStudio, tmp_path: Path
) -> None:
    body = {"technique": "accompany", "model": "bach-chorale-unet", "melody_id": "twinkle", "seed": 3}
    made = studio.api.post("/api/compositions", json=body)
    assert made.status_code == 201, made.text
    composition = made.json()
    page = new_page(browser)
    open_page(page, studio, "compositions")
    row = page.locator(f"tr.composition-row[data-id='{composition['id']}']")
    with page.expect_download() as download:
        row.get_by_role("link", name="Share").click()
    assert download.value.suggested_filename.endswith(".ocshare")
    bundle = tmp_path / download.value.suggested_filename
    download.value.save_as(bundle)
    page.get_by_label("Import a shared composition").set_input_files(bundle)
    page.wait_for_selector("[data-identical='true']", timeout=60_000)
    assert page.get_by_text("the notes are identical to the shared ones").first.is_visible()
    # The list is fetched again after the import; wait for it rather than reading it at once.
    expect(page.locator("tr.composition-row", has_text=f"{composition['title']} (regenerated)")).to_have_count(1)
    page.context.close()
