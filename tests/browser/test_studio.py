"""The music studio page: record with the computer keys or a (faked) MIDI keyboard, generate with every
technique the server offers, look at and play the result, download its MIDI and read it back."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from opencomposer.music.midi import read_midi
from opencomposer.techniques import list_techniques

from .conftest import RunningStudio, first_model, missing, new_page, open_page, screenshot

pytestmark = pytest.mark.slow

# The lower row of the computer keyboard plays the lower octave: Z is C, X is D, C is E, V is F, B is G.
PLAYED_KEYS = ["z", "x", "c", "v", "b", "v", "c", "x"]
HELD_SECONDS = 0.12

FAKE_MIDI = """
(() => {
  const input = { name: "Fake Keyboard", onmidimessage: null };
  const access = { inputs: new Map([["fake", input]]), outputs: new Map(), onstatechange: null };
  navigator.requestMIDIAccess = () => Promise.resolve(access);
  window.fakeMidi = (bytes) => input.onmidimessage && input.onmidimessage({ data: new Uint8Array(bytes) });
})();
"""


def record(page: Page, tempo_qpm: int = 240, bars: int = 4) -> None:
    """Set a fast tempo and a short take, press Record and wait for the count-in to end."""
    page.get_by_label("Tempo").fill(str(tempo_qpm))
    page.get_by_label("Bars to record").fill(str(bars))
    page.get_by_role("button", name="Record").click()
    expect(page.locator(".recording-state")).to_contain_text("Recording bar 1", timeout=5_000)


def test_a_melody_played_on_the_computer_keys_is_recorded(page: Page, studio: RunningStudio) -> None:
    open_page(page, studio)
    record(page)
    for key in PLAYED_KEYS:
        page.keyboard.down(key)
        page.wait_for_timeout(HELD_SECONDS * 1000)
        page.keyboard.up(key)
    page.get_by_role("button", name="Stop recording").click()
    expect(page.locator(".melody-count")).to_have_text(f"{len(PLAYED_KEYS)} notes")
    # The take can be heard on its own, and stopped.
    page.get_by_role("button", name="Play melody").click()
    page.get_by_role("button", name="Stop melody").click()
    expect(page.get_by_role("button", name="Play melody")).to_be_visible()
    # Undo brings back the sample melody that was there before the take.
    page.get_by_role("button", name="Undo").click()
    expect(page.locator(".melody-count")).not_to_have_text(f"{len(PLAYED_KEYS)} notes")


def test_a_faked_web_midi_keyboard_records_its_notes(browser: Browser, studio: RunningStudio) -> None:
    page = new_page(browser)
    page.add_init_script(FAKE_MIDI)
    open_page(page, studio)
    page.get_by_role("button", name="Use a MIDI keyboard").click()
    expect(page.locator(".midi-inputs")).to_have_text("MIDI: Fake Keyboard")
    page.get_by_label("Count-in").uncheck()
    record(page)
    for pitch in (60, 64, 67):
        page.evaluate(f"window.fakeMidi([0x90, {pitch}, 100])")
        page.wait_for_timeout(100)
        page.evaluate(f"window.fakeMidi([0x80, {pitch}, 0])")
    page.get_by_role("button", name="Stop recording").click()
    expect(page.locator(".melody-count")).to_have_text("3 notes")
    page.get_by_label("Title").fill("From the MIDI keyboard")
    # Rhythm assist saves the take first: the server then holds exactly what the MIDI keyboard played.
    page.get_by_role("button", name="Rhythm assist").click()
    expect(page.get_by_label("Title")).to_have_value("From the MIDI keyboard (rhythm 1/16)")
    saved = [m for m in studio.api.get("/api/melodies").json() if m["title"] == "From the MIDI keyboard"]
    assert len(saved) == 1
    notes = studio.api.get(f"/api/melodies/{saved[0]['id']}/notes").json()["tracks"][0]["notes"]
    assert [note["pitch"] for note in notes] == [60, 64, 67]
    assert [note["velocity"] for note in notes] == [100, 100, 100]
    page.context.close()


@pytest.mark.parametrize("technique", list_techniques())
def test_each_technique_generates_a_composition_to_play_and_download(
    page: Page, studio: RunningStudio, technique: str
) -> None:
    model = first_model(studio, technique)
    if model is None:
        missing(f"No model is installed for {technique}.")
    open_page(page, studio)
    record(page)
    for key in PLAYED_KEYS:
        page.keyboard.press(key, delay=HELD_SECONDS * 1000)
    page.get_by_role("button", name="Stop recording").click()
    expect(page.locator(".melody-count")).to_have_text(f"{len(PLAYED_KEYS)} notes")

    page.get_by_label("Technique").select_option(technique)
    page.get_by_label("Model").select_option(model)
    page.get_by_label("Seed").fill("3")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator(".result")).to_be_visible(timeout=60_000)

    composition = studio.api.get("/api/compositions", params={"limit": 1}).json()[0]
    assert (composition["technique"], composition["model"], composition["seed"]) == (technique, model, 3)
    expected = [track["name"] for track in composition["summary"]["tracks"]]
    if technique == "accompany":
        card = studio.api.get(f"/api/models/{model}").json()
        assert len(expected) == len(card["tracks"])
    expect(page.locator(".track-name")).to_have_text(expected)

    page.get_by_role("button", name="Play", exact=True).click()
    playhead = page.locator(".result .roll")
    page.wait_for_function(
        "() => Number(document.querySelector('.result .roll').dataset.playheadTicks) > 0", timeout=10_000
    )
    first = float(playhead.get_attribute("data-playhead-ticks") or 0)
    page.wait_for_timeout(300)
    assert float(playhead.get_attribute("data-playhead-ticks") or 0) > first
    page.get_by_role("button", name="Pause").click()
    if technique == "accompany":
        page.evaluate("() => window.scrollTo(0, 0)")
        screenshot(page, "studio")
        page.locator(".result").evaluate("element => element.scrollIntoView()")
        screenshot(page, "studio-result")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download MIDI").click()
    path = download.value.path()
    score = read_midi(path.read_bytes())
    # A MIDI file holds no track without notes: those the model left silent are not in it.
    sounding = [track["name"] for track in composition["summary"]["tracks"] if track["notes"]]
    assert [track.name for track in score.tracks] == sounding
    melody = next(track for track in score.tracks if track.role == "melody" or track.name == expected[0])
    if technique == "extend":
        # The played notes come first, kept; the continuation follows them on the same track.
        assert len(melody.notes) > len(PLAYED_KEYS)
        played_end = max(note.start + note.duration for note in melody.notes[: len(PLAYED_KEYS)])
        assert all(note.start >= played_end - score.resolution for note in melody.notes[len(PLAYED_KEYS) :])
    else:
        assert len(melody.notes) == len(PLAYED_KEYS)


def test_the_edits_of_a_step_by_step_technique_are_replayed(page: Page, studio: RunningStudio) -> None:
    # No AR-CNN model may be installed: a real composition is served as if it had three edit steps.
    model = first_model(studio, "accompany")
    body = {"technique": "accompany", "model": model, "melody_id": "twinkle", "seed": 2}
    made = studio.api.post("/api/compositions", json=body).json()
    notes = studio.api.get(f"/api/compositions/{made['id']}/notes").json()
    frames = [{**notes, "tracks": notes["tracks"][:count]} for count in (1, 2, len(notes["tracks"]))]
    counts = [sum(len(track["notes"]) for track in frame["tracks"]) for frame in frames]
    page.route(
        f"**/api/compositions/{made['id']}",
        lambda route: route.fulfill(json={**made, "info": {**made["info"], "frames": len(frames)}}),
    )
    page.route(f"**/api/compositions/{made['id']}/frames", lambda route: route.fulfill(json=frames))
    open_page(page, studio, f"studio?composition={made['id']}")
    expect(page.get_by_text(f"{len(frames)} edit steps")).to_be_visible()
    roll = page.locator(".result .roll")
    page.get_by_label("Edit step").fill("0")
    expect(roll).to_have_attribute("data-notes", str(counts[0]))
    expect(page.get_by_text(f"edit step 1 of {len(frames)}")).to_be_visible()
    page.get_by_label("Edit step").fill("1")
    expect(roll).to_have_attribute("data-notes", str(counts[1]))
    page.get_by_role("button", name="Show the edits").click()
    expect(page.get_by_text(f"{len(frames)} edit steps")).to_be_visible()
    expect(roll).to_have_attribute("data-notes", str(counts[-1]))
