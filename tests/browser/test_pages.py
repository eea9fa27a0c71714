"""The other pages: compositions (open, rename, delete), models (cards, "use in studio"), training (a folder
added as a dataset, a tiny job whose charts grow and whose sample appears, stopped); errors said in words;
the keyboard alone; a phone-sized screen; the studio page's time to interactive."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from opencomposer.metrics import PITCHED_TRACK_METRICS, VOICE_LEADING_METRICS, WINDOW_METRICS

from .conftest import PHONE, RunningStudio, first_model, new_page, open_page, screenshot, write_songs

pytestmark = pytest.mark.slow

INTERACTIVE_MS = 2000
TINY_JOB = {"steps": 100000, "batch_size": 4, "eval_every": 2, "checkpoint_every": 2}


def make_composition(studio: RunningStudio, title: str) -> dict[str, Any]:
    model = first_model(studio, "accompany")
    body = {"technique": "accompany", "model": model, "melody_id": "twinkle", "seed": 1, "title": title}
    response = studio.api.post("/api/compositions", json=body)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


def chart_points(page: Page, title: str) -> int:
    value = page.locator(f".chart[data-title='{title}']").get_attribute("data-points")
    return int(value or 0)


@pytest.mark.parametrize("route", ["studio", "compositions", "models", "training", "learn", "challenges"])
def test_every_page_loads_without_an_error_in_the_console_or_a_failed_request(
    page: Page, studio: RunningStudio, route: str
) -> None:
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda response: problems.append(response.url) if response.status >= 400 else None)
    page.on("requestfailed", lambda request: problems.append(request.url))
    open_page(page, studio, route)
    page.wait_for_timeout(1000)  # what the page asks for once it shows (its lists, the status line)
    assert problems == []


def test_compositions_are_listed_renamed_opened_and_deleted(page: Page, studio: RunningStudio) -> None:
    made = make_composition(studio, "Twinkle for the list")
    doomed = make_composition(studio, "Twinkle to delete")
    open_page(page, studio, "compositions")
    row = page.locator(f".composition-row[data-id='{made['id']}']")
    expect(row).to_contain_text("Twinkle for the list")
    expect(row).to_contain_text("accompany")
    expect(row).to_contain_text(made["model"])
    screenshot(page, "compositions")

    row.get_by_role("button", name="Rename").click()
    row.get_by_label("New name").fill("Twinkle, renamed")
    row.get_by_label("New name").press("Enter")
    expect(row.locator(".title")).to_have_text("Twinkle, renamed")
    assert studio.api.get(f"/api/compositions/{made['id']}").json()["title"] == "Twinkle, renamed"

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f".composition-row[data-id='{doomed['id']}']").get_by_role("button", name="Delete").click()
    expect(page.locator(f".composition-row[data-id='{doomed['id']}']")).to_have_count(0)
    assert studio.api.get(f"/api/compositions/{doomed['id']}").status_code == 404

    row.get_by_role("button", name="Open").click()
    expect(page.locator("#result-title")).to_have_text("Twinkle, renamed")
    expect(page.locator(".track-name")).to_have_count(len(made["summary"]["tracks"]))


def test_models_show_their_cards_and_charts_and_open_in_the_studio(page: Page, studio: RunningStudio) -> None:
    models = studio.api.get("/api/models").json()
    open_page(page, studio, "models")
    expect(page.locator(".card")).to_have_count(len(models))
    card = page.locator(f".card[data-model='{models[0]['name']}']")
    expect(card).to_contain_text(models[0]["dataset"])
    expect(card.locator(".metric").first).to_be_visible()
    screenshot(page, "models")
    card.get_by_role("button", name="Use in studio").click()
    page.wait_for_selector("body[data-ready='true']")
    expect(page.get_by_label("Model")).to_have_value(models[0]["name"])


def test_a_tiny_training_job_shows_its_charts_and_samples_and_stops(
    page: Page, studio: RunningStudio, tmp_path: Path
) -> None:
    open_page(page, studio, "training")
    page.get_by_text("Add a folder of your music as a dataset").click()
    expect(page.get_by_label("Dataset folder")).to_have_attribute("webkitdirectory", "")  # a folder picker
    page.get_by_label("Dataset name").fill("tiny-songs")
    page.get_by_label("Genre").fill("test")
    page.get_by_label("Dataset files").set_input_files(write_songs(tmp_path / "songs", 6))
    page.get_by_role("button", name="Add dataset").click()
    expect(page.locator(".message")).to_contain_text("Added the dataset tiny-songs: 6 pieces read")
    expect(page.get_by_label("Dataset", exact=True)).to_have_value("tiny-songs")

    page.get_by_label("Architecture", exact=True).select_option("unet")
    page.get_by_label("Model name").fill("browser-tiny")
    for name, value in TINY_JOB.items():
        page.locator(f"#hp-{name}").fill(str(value))
    page.get_by_role("button", name="Start training").click()

    # Evaluations come every 2 steps, losses every few: the metric charts grow first, then the losses appear.
    metric = page.locator(".chart").first
    expect(metric).to_have_attribute("data-points", re.compile(r"^[1-9]"), timeout=90_000)
    title = metric.get_attribute("data-title")
    first = chart_points(page, title or "")
    chart = page.locator(f".chart[data-title='{title}']")
    expect(chart).not_to_have_attribute("data-points", str(first), timeout=30_000)
    assert chart_points(page, title or "") > first
    expect(page.locator(".chart[data-title='Losses']")).to_be_visible(timeout=60_000)
    expect(page.locator(".samples .roll")).to_be_visible(timeout=60_000)
    assert page.locator(".chart").count() > 1
    page.locator(".job").evaluate("element => element.scrollIntoView()")
    screenshot(page, "training")

    expect(page.locator(".chart[data-title='similarity index']")).to_be_visible()

    status = page.locator(".job h3 .status")
    page.get_by_role("button", name="Stop", exact=True).first.click()
    expect(status).to_have_text("stopped", timeout=60_000)
    job = studio.api.get("/api/jobs").json()[0]
    assert (job["model_name"], job["status"]) == ("browser-tiny", "stopped")

    # Resumed, the job is followed live again: its charts grow past where they stopped.
    stopped_at = chart_points(page, title or "")
    page.get_by_role("button", name="Resume").click()
    page.wait_for_function(
        "([title, count]) => Number(document.querySelector(`.chart[data-title='${title}']`)?.dataset.points) > count",
        arg=[title, stopped_at],
        timeout=90_000,
    )
    page.get_by_role("button", name="Stop", exact=True).first.click()
    expect(status).to_have_text("stopped", timeout=60_000)


def test_a_failed_request_and_an_unreachable_server_are_said_in_words(
    page: Page, studio: RunningStudio, tmp_path: Path
) -> None:
    open_page(page, studio)
    corrupt = tmp_path / "broken.mid"
    corrupt.write_bytes(b"MThd but not really a MIDI file")
    page.get_by_label("Import a MIDI or MusicXML file").set_input_files(corrupt)
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    response = studio.api.post("/api/melodies/upload", files={"file": ("broken.mid", corrupt.read_bytes())})
    assert response.status_code == 422
    expect(alert).to_contain_text(response.json()["detail"])

    def unreachable(route: Route) -> None:
        route.abort("connectionrefused")

    page.route("**/api/**", unreachable)
    page.get_by_role("button", name="Generate").click()
    expect(alert).to_contain_text("The studio server cannot be reached")


def test_the_studio_works_with_the_keyboard_alone(page: Page, studio: RunningStudio) -> None:
    open_page(page, studio)
    notes_before = int(page.locator(".melody-count").inner_text().split()[0])
    editor = page.get_by_role("img", name=re.compile("^Melody editor"))
    editor.focus()
    page.keyboard.press("n")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Shift+ArrowRight")
    expect(page.locator(".melody-count")).to_have_text(f"{notes_before + 1} notes")
    page.keyboard.press("Delete")
    expect(page.locator(".melody-count")).to_have_text(f"{notes_before} notes")
    page.keyboard.press("Control+z")
    expect(page.locator(".melody-count")).to_have_text(f"{notes_before + 1} notes")
    # Tab reaches the Generate button and Enter presses it.
    generate = page.get_by_role("button", name="Generate")
    for _ in range(60):
        page.keyboard.press("Tab")
        if generate.evaluate("button => button === document.activeElement"):
            break
    page.keyboard.press("Enter")
    expect(page.locator(".result")).to_be_visible(timeout=60_000)
    page.get_by_role("link", name="Compositions").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Compositions")).to_be_visible()


def test_the_studio_fits_a_phone_sized_screen(browser: Browser, studio: RunningStudio) -> None:
    page = new_page(browser, PHONE)
    for route in ("studio", "compositions", "models", "training"):
        open_page(page, studio, route)
        if route == "training" and studio.api.get("/api/jobs").json():
            expect(page.locator(".chart").first).to_be_visible()  # a job's charts are the widest part
        # A select is as wide as its longest option: a dataset that is not downloaded reads like this one.
        page.evaluate(
            "() => document.querySelectorAll('select').forEach(s => s.add(new Option("
            "'deepcomposer-jsb-with-a-longer-name (229 pieces, not downloaded)', '', false, false)))"
        )
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the {route} page is {overflow} px wider than a phone's screen"
    # A composition's tracks fit as cards (name, notes, mute, solo, instrument, volume all on screen), and the
    # keyboard's black keys are wide enough for a finger.
    made = make_composition(studio, "Twinkle on a phone")
    open_page(page, studio, f"studio?composition={made['id']}")
    expect(page.locator(".track-row").first).to_be_visible()
    cells = page.evaluate(
        "() => [...document.querySelectorAll('.track-row td')].map(td => td.getBoundingClientRect())"
        ".map(box => [box.left, box.right, box.width])"
    )
    assert cells and all(left >= 0 and right <= PHONE["width"] and width > 0 for left, right, width in cells), cells
    black_px = page.locator(".key.black").first.evaluate("key => key.getBoundingClientRect().width")
    assert black_px >= 20, f"a black key is {black_px} px wide"
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the studio page with a composition is {overflow} px wider than a phone's screen"
    screenshot(page, "studio-phone")
    page.context.close()


def test_the_melody_editor_names_its_rows_follows_the_playhead_and_shows_a_take_as_it_is_played(
    page: Page, studio: RunningStudio
) -> None:
    open_page(page, studio)
    roll = page.locator(".roll").first
    editor = page.get_by_role("img", name=re.compile("^Melody editor"))
    box = editor.bounding_box()
    assert box is not None
    # Every row that has room is named; the row under the pointer is named in the roll's tooltip.
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 5)
    expect(roll).to_have_attribute("title", re.compile(r"^[A-G]#?-?\d$"))

    page.get_by_role("button", name="Play melody").click()
    page.wait_for_function("() => Number(document.querySelector('.roll').dataset.playheadTicks) > 0", timeout=10_000)
    page.get_by_role("button", name="Stop melody").click()

    page.get_by_label("Count-in").uncheck()
    page.get_by_role("button", name="Record").click()
    page.keyboard.down("z")
    expect(roll).to_have_attribute("data-live-notes", "1", timeout=10_000)  # held: shown before it is let go
    page.keyboard.up("z")
    page.get_by_role("button", name="Stop recording").click()
    expect(roll).to_have_attribute("data-live-notes", "0")


def test_the_studio_page_is_interactive_within_two_seconds(browser: Browser, studio: RunningStudio) -> None:
    open_page(new_page(browser), studio)  # the first load also warms the server's caches
    page = new_page(browser)
    open_page(page, studio)
    ready_ms = page.evaluate("() => window.openComposerReadyMs")
    assert 0 < ready_ms < INTERACTIVE_MS, f"the studio page took {ready_ms:.0f} ms to become interactive"
    page.context.close()


FAKE_JOB_ID = "f" * 32
FAKE_TRACKS = ("Melody", "Alto", "Tenor", "Bass")
OLD_PAGE_PX = 6210


def fake_job(status: str, step: int) -> dict[str, Any]:
    return {
        "id": FAKE_JOB_ID,
        "architecture": "unet",
        "dataset": "bach-chorales",
        "preset": "bach-chorale-unet",
        "model_name": "fake-chorales",
        "hyperparameters": {"steps": 300, "eval_every": 50},
        "status": status,
        "reason": None,
        "step": step,
        "total_steps": 300,
        "elapsed_seconds": 1.0,
        "checkpoint_step": None,
        "losses": {},
        "metrics": {},
        "runs": 1,
        "created_at": "2025-01-01T00:00:00Z",
        "started_at": None,
        "finished_at": None,
    }


def fake_events(last_step: int) -> list[dict[str, Any]]:
    """A run's events up to `last_step`: losses every 10 steps, an evaluation with 60 metrics every 50."""
    metrics = {f"{name}/{track}": 0.5 for name in PITCHED_TRACK_METRICS for track in FAKE_TRACKS}
    metrics |= dict.fromkeys((*WINDOW_METRICS, *VOICE_LEADING_METRICS), 0.25)
    events: list[dict[str, Any]] = [{"kind": "start", "step": 0, "data": {}}]
    for step in range(10, last_step + 1, 10):
        events.append({"kind": "step", "step": step, "data": {"losses": {"critic": -1.5, "generator": 2.0}}})
        if step % 50 == 0:
            data = {"metrics": metrics, "reference": metrics, "similarity_index": 0.7, "sample_midi_url": "x.mid"}
            events.append({"kind": "eval", "step": step, "data": data})
    return [
        {"seq": seq, "job_id": FAKE_JOB_ID, "run": 1, "total_steps": 300, "elapsed_seconds": float(seq), **event}
        for seq, event in enumerate(events, start=1)
    ]


def test_a_running_job_says_its_phase_and_shows_one_compact_chart_per_measure(
    page: Page, studio: RunningStudio
) -> None:
    # The job is faked (its answers routed in the browser), so that each phase can be held and looked at.
    shown: dict[str, Any] = {"job": fake_job("running", 0), "events": []}
    sample = {"resolution": 480, "tempo_qpm": 100, "time_signature": [4, 4], "tracks": []}

    def answer(route: Route) -> None:
        path = route.request.url.split("?")[0].split("/api/jobs", 1)[1]
        after = int(route.request.url.partition("after=")[2] or 0)
        if path == "":
            route.fulfill(json=[shown["job"]])
        elif path == f"/{FAKE_JOB_ID}":
            route.fulfill(json=shown["job"])
        elif path.endswith("/events/stream"):
            route.abort()  # the page falls back to polling
        elif path.endswith("/events"):
            route.fulfill(json=[event for event in shown["events"] if event["seq"] > after])
        elif path.endswith("/notes"):
            route.fulfill(json=sample)
        else:
            route.fallback()

    page.route("**/api/jobs**", answer)
    open_page(page, studio, "training")
    phase = page.locator(".job .phase")
    expect(phase).to_contain_text("Preparing the data")
    assert page.locator(".job progress").get_attribute("value") is None  # a moving bar, not one stuck at 0
    shown["events"] = fake_events(0)
    expect(phase).to_contain_text("first step")
    shown["events"], shown["job"] = fake_events(300)[:-1], fake_job("running", 300)  # the last evaluation to come
    expect(phase).to_contain_text("Evaluating")
    shown["events"] = fake_events(300)
    expect(page.locator(".chart[data-title='similarity index']")).to_have_attribute("data-points", "6")

    # One chart per measure, the tracks as its lines: 11 per-track measures, 4 voice-leading ones, tonal distance,
    # similarity and the losses, not one chart per key (60).
    assert page.locator(".chart").count() == 11 + 4 + 1 + 1 + 1
    polyphony = page.locator(".chart[data-title='polyphony'] .chart-legend")
    assert polyphony.locator("li").count() == len(FAKE_TRACKS) + 1  # every track, and all tracks together
    expect(polyphony).to_contain_text("Alto 0.5")
    expect(polyphony).to_contain_text("all tracks 0.25 (data 0.25)")
    assert "--" not in page.locator(".charts").first.inner_text()
    follows = "() => document.querySelector('.samples').compareDocumentPosition(document.querySelector('.charts'))"
    assert page.evaluate(follows) & 4, "the latest sample comes before the charts"  # 4: DOCUMENT_POSITION_FOLLOWING
    height_px = page.evaluate("() => document.documentElement.scrollHeight")
    assert height_px < OLD_PAGE_PX / 3, f"the training page is {height_px} px tall"
    page.locator(".job").evaluate("element => element.scrollIntoView()")
    screenshot(page, "training-charts")


def test_the_header_counts_the_running_jobs_live(page: Page, studio: RunningStudio) -> None:
    status = studio.api.get("/api/status").json()
    running = {"count": 0}

    def answer(route: Route) -> None:
        route.fulfill(json={**status, "jobs_running": running["count"]})

    page.route("**/api/status", answer)
    open_page(page, studio, "compositions")
    expect(page.locator(".status-line")).to_contain_text("jobs 0 running")
    running["count"] = 1
    expect(page.locator(".status-line")).to_contain_text("jobs 1 running", timeout=6000)


def test_a_preset_fills_the_training_form_with_the_values_its_job_runs_with(page: Page, studio: RunningStudio) -> None:
    open_page(page, studio, "training")
    page.get_by_label("Architecture", exact=True).select_option("unet")
    page.get_by_label("Preset").select_option("bach-chorale-unet")
    unet = next(item for item in studio.api.get("/api/architectures").json() if item["name"] == "unet")
    chorale = next(preset for preset in unet["presets"] if preset["name"] == "bach-chorale-unet")
    expect(page.locator(".preset-description")).to_contain_text(chorale["description"])
    for name, value in {"batch_size": "32", "update_ratio": "2", "reconstruction_weight": "30"}.items():
        expect(page.locator(f"#hp-{name}")).to_have_value(value)
