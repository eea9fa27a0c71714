"""Evaluation during training (fixed windows and noise give the same figures, samples are written) and of a
trained model on held-out pieces, chosen through the architecture registry by the model's technique."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from opencomposer.cli import main
from opencomposer.data.registry import TrackSlot
from opencomposer.errors import UnknownNameError
from opencomposer.music.midi import read_midi
from opencomposer.music.pianoroll import RollSpec
from opencomposer.registry import ModelCard, ModelEntry, save_model
from opencomposer.techniques import list_techniques
from opencomposer.training.architectures import EvaluationRequest, evaluate_model, list_architectures
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


def _entry(tmp_path: Path, technique: str) -> ModelEntry:
    card = ModelCard(
        name=f"tiny-{technique}",
        technique=technique,
        architecture="unet",
        config={},
        title="Tiny",
        description="An untrained model.",
        dataset="tiny",
        roll={"steps_per_beat": 2, "low_pitch": 48, "high_pitch": 95},
        bars=2,
        tracks=[{"name": "Melody", "role": "melody", "program": 0, "is_drum": False}],
        melody_index=0,
        generated_tracks=[],
    )
    return save_model(card, {"weight": torch.zeros(1)}, tmp_path)


def test_every_technique_is_evaluated_through_the_architectures_that_serve_it() -> None:
    evaluators: dict[str, set[object]] = {}
    for architecture in list_architectures():
        evaluators.setdefault(architecture.technique, set()).add(architecture.evaluate)
    assert set(evaluators) == set(list_techniques())
    assert all(len(functions) == 1 for functions in evaluators.values())


def test_models_evaluate_runs_the_technique_s_evaluation_with_the_options_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, object, dict[str, object]]] = []

    def measure(entry: ModelEntry, dataset: object, **options: object) -> dict[str, Any]:
        calls.append((entry.name, dataset, options))
        return {
            "pieces": 2,
            "dataset": "tiny",
            "split": "valid",
            "model": {"in_scale_ratio": 0.9},
            "dataset_values": {"in_scale_ratio": 0.8},
            "random_pairs": {"tonal_distance": 1.5},
            "similarity_index": 0.75,
            "quality_bars": {"similarity_index_at_least_0.7": True},
        }

    monkeypatch.setattr("opencomposer.training.gan.evaluate_accompaniment", measure)
    entry = _entry(tmp_path, "accompany")
    result = CliRunner().invoke(
        main,
        ["models", "evaluate", str(entry.card_path), "--split", "valid", "--seed", "4", "--limit", "3"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert calls == [("tiny-accompany", None, {"split": "valid", "seed": 4, "limit": 3})]
    assert "2 held-out pieces of tiny (valid)" in result.output and "0.750" in result.output


def test_a_model_of_a_technique_no_architecture_serves_is_told_in_one_line(tmp_path: Path) -> None:
    entry = _entry(tmp_path, "sketch")
    with pytest.raises(UnknownNameError, match="'sketch' technique, which no trainable architecture serves"):
        evaluate_model(entry, EvaluationRequest())
    result = CliRunner().invoke(main, ["models", "evaluate", str(entry.card_path)])
    assert result.exit_code == 2
    assert result.output.strip().startswith("Error: 'tiny-sketch' serves the 'sketch' technique")
