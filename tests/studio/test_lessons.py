"""The Learn page's API: the lessons and quizzes, a melody's Transformer tokens, the next-token probabilities
before and after sampling's filters, and the metric examples that score high and low (on the shipped models)."""

from __future__ import annotations

import math

from opencomposer.studio.lessons import LESSONS

from .conftest import TestClient


def test_every_lesson_has_steps_and_a_quiz_whose_answers_are_among_the_choices(client: TestClient) -> None:
    lessons = client.get("/api/lessons").json()
    assert [lesson["name"] for lesson in lessons] == ["gan", "arcnn", "transformer", "judging"]
    models = {model["name"] for model in client.get("/api/models").json()}
    for lesson in lessons:
        assert lesson["steps"] and lesson["quiz"]
        assert lesson["model"] in models
        for question in lesson["quiz"]:
            assert 0 <= question["answer"] < len(question["choices"])
    assert sum(len(lesson.steps) for lesson in LESSONS) == sum(len(lesson["steps"]) for lesson in lessons)


def test_the_tokens_of_twinkle_start_with_a_bar_and_name_its_notes(client: TestClient) -> None:
    answer = client.get("/api/lessons/transformer/tokens", params={"melody_id": "twinkle"})
    assert answer.status_code == 200, answer.text
    names = [token["name"] for token in answer.json()["tokens"]]
    assert names[0] == "Bar_None"
    assert names[:5] == ["Bar_None", "Position_0", "Program_0", "Pitch_60", names[4]]  # twinkle starts on C4
    bars = client.get("/api/melodies/twinkle").json()["summary"]["bars"]
    assert names.count("Bar_None") == bars


def test_the_ten_likeliest_next_tokens_are_ordered_and_sum_to_at_most_one(client: TestClient) -> None:
    answer = client.get("/api/lessons/transformer/next", params={"step": 3, "sampling": "temperature"}).json()
    for ranking in (answer["model"], answer["sampled"]):
        probabilities = [token["probability"] for token in ranking]
        assert len(probabilities) == 10
        assert probabilities == sorted(probabilities, reverse=True)
        assert sum(probabilities) <= 1 + 1e-6
    assert answer["actual"]["name"] == "Pitch_60"
    assert answer["model"] == answer["sampled"]  # temperature 1 with no filter is the model as it is


def test_top_k_one_leaves_the_likeliest_token_alone(client: TestClient) -> None:
    answer = client.get("/api/lessons/transformer/next", params={"step": 3, "sampling": "top-k", "top_k": 1}).json()
    assert answer["kept"] == 1
    assert [token["name"] for token in answer["sampled"]] == [answer["model"][0]["name"]]
    assert math.isclose(answer["sampled"][0]["probability"], 1.0)


def test_a_low_temperature_sharpens_and_nucleus_keeps_what_reaches_p(client: TestClient) -> None:
    base: dict[str, str | int | float] = {"step": 5, "sampling": "temperature"}
    cold = client.get("/api/lessons/transformer/next", params={**base, "temperature": 0.3}).json()
    hot = client.get("/api/lessons/transformer/next", params={**base, "temperature": 2.0}).json()
    assert cold["sampled"][0]["probability"] > cold["model"][0]["probability"] > hot["sampled"][0]["probability"]
    nucleus = client.get(
        "/api/lessons/transformer/next", params={"step": 5, "sampling": "nucleus", "top_p": 0.5}
    ).json()
    model = [token["probability"] for token in nucleus["model"]]
    reached = next(index for index in range(len(model)) if sum(model[: index + 1]) >= 0.5) + 1
    assert nucleus["kept"] == reached


def test_a_step_past_the_end_and_a_bad_sampling_are_refused_in_words(client: TestClient) -> None:
    past = client.get("/api/lessons/transformer/next", params={"step": 10_000})
    assert past.status_code == 422
    assert "pick a step from 0 to" in past.json()["detail"]
    bad = client.get("/api/lessons/transformer/next", params={"sampling": "greedy"})
    assert bad.status_code == 422
    assert "sampling" in bad.json()["detail"]
    assert client.get("/api/lessons/transformer/tokens", params={"model": "nottingham-unet"}).status_code == 422


def test_each_metric_has_a_real_example_scoring_high_and_one_low(client: TestClient) -> None:
    examples = client.get("/api/lessons/judging/examples").json()
    metrics = {item["metric"]: item for item in examples}
    assert {"in_scale_ratio", "tonal_distance", "polyphony", "empty_bar_rate"} <= set(metrics)
    for item in examples:
        assert item["words"]
        assert item["high"]["value"] >= item["low"]["value"]
        assert len(item["high"]["notes"]["tracks"]) == 2  # the melody and the GAN's accompaniment
    # The examples differ audibly: some accompaniment falls silent for bars, and the thickest is the loosest one.
    assert metrics["empty_bar_rate"]["low"]["value"] < metrics["empty_bar_rate"]["high"]["value"]
    assert metrics["polyphony"]["high"]["title"].endswith("threshold 0.2")


def test_the_gan_lesson_plays_the_melody_through_its_model_early_midway_and_late_in_a_real_run(
    client: TestClient,
) -> None:
    answer = client.get("/api/lessons/gan/progress", params={"melody_id": "ode-to-joy"})
    assert answer.status_code == 200, answer.text
    progress = answer.json()
    assert [kept["label"] for kept in progress["checkpoints"]] == ["early", "middle", "late"]
    steps = [kept["step"] for kept in progress["checkpoints"]]
    assert steps == sorted(steps) and steps[-1] <= progress["total_steps"]
    melodies = {str(kept["notes"]["tracks"][0]["notes"]) for kept in progress["checkpoints"]}
    assert len(melodies) == 1  # the melody is kept as played at every step
    accompaniments = [str(kept["notes"]["tracks"][1:]) for kept in progress["checkpoints"]]
    assert len(set(accompaniments)) == 3  # the generator learnt something between the three
    evaluations = progress["evaluations"]
    assert [evaluation["step"] for evaluation in evaluations] == sorted(e["step"] for e in evaluations)
    assert all("in_scale_ratio" in evaluation["metrics"] for evaluation in evaluations)
    assert client.get("/api/lessons/gan/progress", params={"model": "bach-arcnn"}).status_code == 422
