"""Models by genre: the studio's model menu groups the models under their genres' titles and says the chosen
one's genre in a sentence and plays its example; the Models page puts its cards under genre headings."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .conftest import RunningStudio, open_page, screenshot

pytestmark = pytest.mark.slow


def test_the_studio_offers_the_models_by_genre_and_says_the_chosen_ones(page: Page, studio: RunningStudio) -> None:
    cards = {card["name"]: card for card in studio.api.get("/api/models").json()}
    open_page(page, studio)
    page.get_by_label("Technique").select_option("accompany")
    menu = page.get_by_label("Model", exact=True)
    accompany = studio.api.get("/api/techniques/accompany").json()["models"]
    titles = sorted({cards[name]["genre_title"] for name in accompany})
    expect(menu.locator("optgroup")).to_have_count(len(titles))
    for title in titles:
        group = menu.locator(f"optgroup[label='{title}']")
        wanted = [name for name in accompany if cards[name]["genre_title"] == title]
        expect(group.locator("option")).to_have_text(wanted)
    menu.select_option("nottingham-unet")
    folk = cards["nottingham-unet"]
    line = page.locator("#model-genre-line")
    expect(line).to_have_text(f"{folk['genre_title']}: {folk['genre_line']}")
    expect(menu).to_have_accessible_description(f"{folk['genre_title']}: {folk['genre_line']}")
    menu.select_option("bach-chorale-unet")
    expect(line).to_contain_text("Bach chorales")
    page.get_by_role("button", name="Listen to an example").click()
    expect(page.get_by_role("button", name="Stop the example")).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Stop the example").click()
    expect(page.get_by_role("button", name="Listen to an example")).to_be_visible()


def test_the_models_page_puts_its_cards_under_genre_headings(page: Page, studio: RunningStudio) -> None:
    cards = studio.api.get("/api/models").json()
    open_page(page, studio, "models")
    chorales = page.get_by_role("region", name="Bach chorales")
    expect(chorales.get_by_role("heading", name="Bach chorales", level=3)).to_be_visible()
    expect(chorales.locator(".genre-line")).to_have_text(
        next(card["genre_line"] for card in cards if card["genre"] == "chorale")
    )
    expect(chorales.locator(".card")).to_have_count(sum(card["genre"] == "chorale" for card in cards))
    expect(chorales.locator(".card[data-model='bach-arcnn']")).to_be_visible()
    titles = [card["genre_title"] for card in cards]
    expect(page.locator("section.genre > h3")).to_have_count(len(set(titles)))


def test_a_jazz_band_plays_a_sample_melody_with_piano_bass_and_drums(page: Page, studio: RunningStudio) -> None:
    """Play a melody, pick a genre, hear a band: the band's players with their instruments, its drums as drums."""
    open_page(page, studio)
    page.get_by_label("Melody", exact=True).select_option("ode-to-joy")
    page.get_by_label("Technique").select_option("band")
    menu = page.get_by_label("Model", exact=True)
    expect(menu.locator("optgroup[label='Jazz'] option")).to_have_text(["jazz-band"])
    menu.select_option("jazz-band")
    expect(page.locator("#model-genre-line")).to_contain_text("Jazz")
    page.get_by_label("Seed").fill("2")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator(".result h2")).to_be_visible(timeout=60_000)
    expect(page.locator(".track-name")).to_have_text(["Melody", "Piano", "Bass", "Drums"])
    expect(page.get_by_label("Instrument of Bass")).to_have_value("32")  # the basses' family
    expect(page.get_by_label("Instrument of Drums")).to_have_count(0)  # a drum kit, not a program
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function(
        "() => Number(document.querySelector('.result .roll').dataset.playheadTicks) > 0", timeout=10_000
    )
    page.get_by_role("button", name="Pause").click()
    assert problems == []
    page.locator(".result").evaluate("element => element.scrollIntoView()")
    screenshot(page, "studio-band")
