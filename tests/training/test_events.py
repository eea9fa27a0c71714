"""Events and sinks: JSON lines a killed run leaves readable, and the terminal progress bar."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

from rich.console import Console

from opencomposer.training.events import Event, JsonLinesSink, ProgressSink, json_ready, read_events


def test_json_lines_hold_one_event_per_line_with_nan_as_null(tmp_path: Path) -> None:
    sink = JsonLinesSink(tmp_path / "run" / "events.jsonl")
    sink(Event("start", 0, 10, 0.0, {"run": {"betas": (0.5, 0.9)}}))
    sink(Event("eval", 5, 10, 1.5, {"metrics": {"tonal_distance": math.nan, "in_scale_ratio": 0.9}}))
    lines = (tmp_path / "run" / "events.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    second = json.loads(lines[1])
    assert second == {
        "kind": "eval",
        "step": 5,
        "total_steps": 10,
        "elapsed_seconds": 1.5,
        "data": {"metrics": {"tonal_distance": None, "in_scale_ratio": 0.9}},
    }
    assert json.loads(lines[0])["data"]["run"]["betas"] == [0.5, 0.9]


def test_a_line_cut_short_by_a_kill_is_left_out(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    JsonLinesSink(path)(Event("step", 1, 2, 0.1, {"losses": {"critic_loss": 1.0}}))
    with path.open("a", encoding="utf-8") as stream:
        stream.write('{"kind": "step", "st')
    assert [event["step"] for event in read_events(path)] == [1]


def test_json_ready_replaces_non_finite_numbers_everywhere() -> None:
    assert json_ready({"a": [1.0, math.inf, {"b": -math.inf}], "c": "x"}) == {"a": [1.0, None, {"b": None}], "c": "x"}


def test_the_progress_sink_shows_evaluations_and_the_end() -> None:
    stream = io.StringIO()
    sink = ProgressSink(Console(file=stream, width=120), headline=("in_scale_ratio",))
    sink(Event("start", 0, 4, 0.0))
    sink(Event("step", 2, 4, 1.0, {"losses": {"critic_loss": -1.25}}))
    sink(
        Event(
            "eval",
            2,
            4,
            1.0,
            {"metrics": {"in_scale_ratio": 0.875, "polyphony": 3.0}, "reference": {"in_scale_ratio": 0.9}},
        )
    )
    sink(Event("checkpoint", 4, 4, 2.0, {"path": "run/checkpoints/step-00000004.safetensors"}))
    sink(Event("done", 4, 4, 2.0))
    text = stream.getvalue()
    assert "step 2: in_scale_ratio 0.875 (data 0.900)" in text and "polyphony" not in text
    assert "checkpoint run/checkpoints/step-00000004.safetensors" in text
    assert "Training done: 4 steps" in text


def test_the_progress_sink_says_why_a_run_stopped() -> None:
    stream = io.StringIO()
    sink = ProgressSink(Console(file=stream, width=120))
    sink(Event("start", 0, 4, 0.0))
    sink(Event("failed", 1, 4, 0.5, {"reason": "interrupted; run the same command again to resume"}))
    assert "Training stopped at step 1: interrupted" in stream.getvalue()
