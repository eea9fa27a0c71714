"""The way a new user walks: every sample melody and every shipped model, in the browser.

Each sample melody the API lists is picked in the studio's melody menu and run through one shipped model
(the models taken in turn, so every sample and every model is used): generate, play, download the MIDI
and the audio. The result must have the tracks the model promises and the melody exactly as given (extend
keeps it as its beginning). Then a result is made the next input, and the Models page names a missed
quality bar and plays a model's example.
"""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import Page, expect

from opencomposer.music.midi import read_midi

from .conftest import RunningStudio, open_page

pytestmark = pytest.mark.slow


def _journeys(studio: RunningStudio) -> list[tuple[str, str, str]]:
    samples = [melody["id"] for melody in studio.api.get("/api/melodies").json() if melody["builtin"]]
    models = [(card["technique"], card["name"]) for card in studio.api.get("/api/models").json() if card["shipped"]]
    assert len(samples) >= 14 and len(models) >= 6
    count = max(len(samples), len(models))
    return [(samples[i % len(samples)], *models[i % len(models)]) for i in range(count)]


def _wait_for_compositions(studio: RunningStudio, page: Page, count: int) -> None:
    for _ in range(600):
        if len(studio.api.get("/api/compositions", params={"limit": 500}).json()) >= count:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"The studio did not save composition number {count} within a minute.")


def test_every_sample_melody_with_every_shipped_model(page: Page, studio: RunningStudio) -> None:
    open_page(page, studio)
    audio = studio.api.get("/api/status").json()["audio"]
    for sample, technique, model in _journeys(studio):
        given = studio.api.get(f"/api/melodies/{sample}/notes").json()["tracks"][0]["notes"]
        page.get_by_label("Melody", exact=True).select_option(sample)
        expect(page.locator(".melody-count")).to_contain_text(f"{len(given)} notes")
        page.get_by_label("Technique").select_option(technique)
        page.get_by_label("Model").select_option(model)
        page.get_by_label("Seed").fill("5")
        made = len(studio.api.get("/api/compositions", params={"limit": 500}).json())
        page.get_by_role("button", name="Generate").click()
        expect(page.locator(".result h2")).to_be_visible(timeout=90_000)
        _wait_for_compositions(studio, page, made + 1)
        composition = studio.api.get("/api/compositions", params={"limit": 1}).json()[0]
        expect(page.locator(".result h2")).to_have_text(composition["title"], timeout=30_000)
        expect(page.locator("[role=alert]")).to_have_count(0)

        assert (composition["melody_id"], composition["model"]) == (sample, model)
        names = [track["name"] for track in composition["summary"]["tracks"]]
        card = studio.api.get(f"/api/models/{model}").json()
        if technique == "accompany":
            assert names == [names[0], *(track["name"] for track in card["tracks"][1:])], (model, names)
        expect(page.locator(".track-name")).to_have_text(names)

        page.get_by_role("button", name="Play", exact=True).click()
        page.wait_for_function(
            "() => Number(document.querySelector('.result .roll').dataset.playheadTicks) > 0", timeout=10_000
        )
        page.get_by_role("button", name="Pause").click()

        with page.expect_download() as download:
            page.get_by_role("link", name="Download MIDI").click()
        assert download.value.suggested_filename.endswith(".mid") and composition["id"] not in (
            download.value.suggested_filename
        )
        score = read_midi(download.value.path().read_bytes())
        melody = [(note.pitch, note.start * 480 // score.resolution) for note in score.tracks[0].notes]
        wanted = [(note["pitch"], note["start_ticks"]) for note in given]
        if technique == "extend":
            assert melody[: len(wanted)] == wanted, (sample, model)
        else:
            assert melody == wanted, (sample, model)

        if audio:
            with page.expect_download() as rendered:
                page.get_by_role("link", name="OGG").click()
            import soundfile

            with soundfile.SoundFile(io.BytesIO(rendered.value.path().read_bytes())) as sound:
                assert sound.frames / sound.samplerate > 0.5 * composition["summary"]["duration_seconds"]


def test_a_result_is_the_next_input_with_the_tracks_chosen(page: Page, studio: RunningStudio) -> None:
    body = {"technique": "accompany", "model": "bach-chorale-unet", "melody_id": "ode-to-joy", "seed": 1}
    made = studio.api.post("/api/compositions", json=body).json()
    open_page(page, studio, f"studio?composition={made['id']}")
    tracks = made["summary"]["tracks"]
    page.get_by_label(f"Use {tracks[-1]['name']} in the next input").uncheck()
    page.get_by_role("button", name="Use as the next input").click()
    expect(page.locator(".melody-count")).to_contain_text(f"{tracks[0]['notes']} notes in the melody, with")
    for track in tracks[1:-1]:
        expect(page.locator(".melody-count")).to_contain_text(f"{track['name']} ({track['notes']})")
    page.get_by_label("Technique").select_option("extend")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator(".result .meta")).to_contain_text("extend", timeout=90_000)
    latest = studio.api.get("/api/compositions", params={"limit": 1}).json()[0]
    used = studio.api.get(f"/api/melodies/{latest['melody_id']}").json()
    assert used["parent_id"] == made["id"]
    assert [track["name"] for track in used["summary"]["tracks"]] == [track["name"] for track in tracks[:-1]]


def test_the_models_page_names_the_missed_bar_and_plays_an_example(page: Page, studio: RunningStudio) -> None:
    open_page(page, studio, "models")
    card = page.locator("[data-model='bach-arcnn']")
    expect(card.locator(".quality-bars .missed")).to_contain_text("Not met: It predicts held-out Bach chorales")
    card.get_by_text("What these measure").click()
    expect(card.locator(".metric-words")).to_contain_text("parallel fifths")
    unet = page.locator("[data-model='bach-chorale-unet']")
    unet.get_by_role("button", name="Listen to an example").click()
    expect(unet.get_by_role("button", name="Stop the example")).to_be_visible(timeout=60_000)
    unet.get_by_role("button", name="Stop the example").click()
    expect(unet.get_by_role("button", name="Listen to an example")).to_be_visible()
