"""The Challenges page: an attempt submitted from the form is scored by the server and shows on the leaderboard."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .conftest import RunningStudio, first_model, open_page, screenshot

pytestmark = pytest.mark.slow


def test_an_attempt_is_scored_and_lands_on_the_leaderboard(page: Page, studio: RunningStudio) -> None:
    model = first_model(studio, "band")
    assert model is not None
    open_page(page, studio, "challenges")
    panel = page.locator("[data-challenge='sound-like-the-genre']")
    expect(panel).to_contain_text("in-scale ratio")
    panel.get_by_label("Model").select_option(model)
    panel.get_by_label("Seed").fill("7")
    panel.get_by_role("button", name="Submit").click()
    score = panel.locator("[data-score]")
    expect(score).to_be_visible(timeout=120_000)
    board = studio.api.get("/api/challenges/sound-like-the-genre/attempts").json()
    mine = next(entry for entry in board if entry["seed"] == 7 and entry["model"] == model)
    expect(score).to_have_text(f"{mine['score']:.1f}")
    row = panel.locator(f"tr[data-attempt='{mine['id']}']")
    expect(row).to_contain_text(model)
    screenshot(page, "challenges")
    row.get_by_role("button", name="open 1").click()
    page.wait_for_selector("body[data-ready='true']")
    expect(page.locator("#result-title")).to_contain_text("Sound like")
