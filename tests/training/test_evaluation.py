"""Evaluation during training: fixed windows and noise give the same figures, and samples are written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from opencomposer.data.registry import TrackSlot
from opencomposer.music.midi import read_midi
from opencomposer.music.pianoroll import RollSpec
from opencomposer.training.evaluation import WindowEvaluation
from opencomposer.training.events import json_ready

from .conftest import make_objective, make_windows

ROLL = RollSpec(steps_per_beat=2, low_pitch=48, high_pitch=63)
TRACKS = (TrackSlot("Melody", "melody"), TrackSlot("Alto", "accompaniment", 41), TrackSlot("Bass", "accompaniment", 42))


def evaluation(out: Path) -> WindowEvaluation:
    windows = make_windows(count=5).numpy().astype(np.uint8)
    reference = {"in_scale_ratio": 0.9, "not_measured_here": 1.0}
    return WindowEvaluation(
        windows, ROLL, TRACKS, steps_per_bar=8, out_dir=out, seed=7, tempo=90.0, reference=reference
    )


def test_an_evaluation_measures_and_writes_a_midi_file_and_a_picture(tmp_path: Path) -> None:
    result = evaluation(tmp_path)(make_objective(), 12)
    assert {"in_scale_ratio", "empty_bar_rate/Alto", "polyphony/Bass", "tonal_distance"} <= set(result["metrics"])
    assert result["reference"] == {"in_scale_ratio": 0.9}
    assert 0.0 <= result["metrics"]["similarity_index"] <= 1.0
    assert Path(result["png"]).name == "step-00000012.png"
    assert Path(result["png"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    score = read_midi(result["midi"])
    assert [track.name for track in score.tracks if track.notes][:1] == ["Melody"]
    assert score.tempo == pytest.approx(90.0, abs=1e-3)
    # Five windows of eight steps at two steps per beat, end to end: at most twenty beats long.
    assert score.end <= 20 * score.resolution


def test_the_same_model_gets_the_same_figures(tmp_path: Path) -> None:
    objective = make_objective()
    first = json_ready(evaluation(tmp_path / "a")(objective, 1)["metrics"])
    second = json_ready(evaluation(tmp_path / "b")(objective, 1)["metrics"])
    assert first == second
    objective.train_step([torch.from_numpy(make_windows(4).numpy())] * objective.batches_per_step, 0)
    assert json_ready(evaluation(tmp_path / "c")(objective, 2)["metrics"]) != first


def test_the_similarity_index_is_high_for_the_data_itself_and_low_for_silence(tmp_path: Path) -> None:
    evaluator = evaluation(tmp_path)
    real = make_windows(count=5).numpy().astype(np.uint8)
    itself = evaluator._similarity(real)
    assert itself is not None and itself > 0.8
    assert evaluator._similarity(np.zeros_like(real)) is None
