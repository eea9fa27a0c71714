"""The Learn page: every lesson walked to its end on the shipped models (each step's live picture drawn), its
quiz answered (a wrong answer said so, then the right ones), and the lesson still marked done after a reload."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import RunningStudio, open_page, screenshot

pytestmark = pytest.mark.slow

GENERATION_MS = 120_000


def answer_quiz(page: Page, quiz: list[dict[str, Any]]) -> None:
    """Answer the first question wrongly and check, then every question rightly and check."""
    questions = page.locator(".quiz fieldset")
    expect(questions).to_have_count(len(quiz))
    wrong = next(index for index in range(len(quiz[0]["choices"])) if index != quiz[0]["answer"])
    questions.nth(0).get_by_label(quiz[0]["choices"][wrong], exact=True).check()
    for index, question in enumerate(quiz[1:], start=1):
        questions.nth(index).get_by_label(question["choices"][question["answer"]], exact=True).check()
    page.get_by_role("button", name="Check answers").click()
    expect(questions.nth(0).locator(".feedback.wrong")).to_be_visible()
    expect(page.locator(".quiz .score")).to_contain_text(f"{len(quiz) - 1} of {len(quiz)} right")
    questions.nth(0).get_by_label(quiz[0]["choices"][quiz[0]["answer"]], exact=True).check()
    page.get_by_role("button", name="Check answers").click()
    expect(page.locator(".quiz .feedback.right")).to_have_count(len(quiz))
    expect(page.locator(".quiz .score")).to_contain_text("lesson done")


def test_every_lesson_is_walked_to_its_quiz_and_remembered_as_done(page: Page, studio: RunningStudio) -> None:
    lessons = studio.api.get("/api/lessons").json()
    open_page(page, studio, "learn")
    expect(page.locator(".lesson-card")).to_have_count(len(lessons))
    screenshot(page, "learn")
    for lesson in lessons:
        page.locator(f".lesson-card[data-lesson='{lesson['name']}']").get_by_role("button", name="Start").click()
        for number, step in enumerate(lesson["steps"], start=1):
            expect(page.locator(".lesson h3").first).to_have_text(step["title"])
            expect(page.locator(".lesson")).to_contain_text(f"Step {number} of {len(lesson['steps'])}")
            expect(page.locator(".widget").first).to_have_attribute("data-ready", "true", timeout=GENERATION_MS)
            if step["widget"] == "transformer-tokens":
                expect(page.locator(".tokens li").first).to_have_text("Bar_None")
            if step["widget"] == "transformer-filter":
                page.get_by_label("k", exact=True).fill("1")
                page.get_by_label("k", exact=True).press("Enter")
                expect(page.locator(".ranking").nth(1).locator("tr")).to_have_count(1)
            if step["widget"] == "arcnn-replay":
                expect(page.locator(".frame-label")).to_contain_text("step 1 of")
                page.get_by_role("button", name="Watch it").click()
                expect(page.locator(".frame-label")).not_to_contain_text("step 1 of")
            if step["widget"] == "gan-progress":
                expect(page.locator(".lesson-roll")).to_have_count(3)
                expect(page.locator(".lesson-roll figcaption").first).to_contain_text("early: step")
                expect(page.locator(".charts .uplot")).to_have_count(4)
                screenshot(page, "learn-gan-progress")
            if step["widget"] == "judging-examples":
                expect(page.locator(".metric-examples[data-metric='tonal_distance'] canvas")).to_have_count(2)
            if lesson["name"] == "gan" and number == len(lesson["steps"]):
                screenshot(page, "learn-gan")
            last = number == len(lesson["steps"])
            page.get_by_role("button", name="To the quiz" if last else "Next").click()
        answer_quiz(page, lesson["quiz"])
        page.get_by_role("button", name="All lessons").click()
        expect(page.locator(f".lesson-card[data-lesson='{lesson['name']}'] .done-mark")).to_be_visible()

    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    expect(page.locator(".lesson-card .done-mark")).to_have_count(len(lessons))
