"""A whole Transformer run from the command line: train on a tiny dataset, evaluate, install, extend."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.tunes import Tunes

from opencomposer.cli import main
from opencomposer.data import registry as data_registry
from opencomposer.music.midi import read_midi
from opencomposer.training import transformer as transformer_training
from opencomposer.training.transformer import quality_bars

BARS = 12  # longer than the 8-bar openings the held-out evaluation continues


@pytest.fixture(autouse=True)
def _folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("OPENCOMPOSER_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(data_registry, "_PROVIDERS", [lambda: {"tunes": lambda: Tunes("tunes", BARS)}])
    # Continuing by 2 seconds instead of 30 keeps the run short and tests the same path.
    evaluate = transformer_training.evaluate_continuations
    monkeypatch.setattr(
        transformer_training, "evaluate_continuations", lambda *args, **kwargs: evaluate(*args, **kwargs, seconds=2.0)
    )


def test_a_run_trains_evaluates_installs_and_extends(tmp_path: Path) -> None:
    out = tmp_path / "tiny-extend"
    # Sixty quick updates teach a small model the grammar of note events, so that its continuations move on.
    quick = ["--steps", "60", "--learning-rate", "0.01", "--batch-size", "4", "--sequence-tokens", "32"]
    quick += ["--eval-every", "0", "--checkpoint-every", "0", "--device", "cpu"]
    trained = CliRunner().invoke(main, ["train", "transformer", "--dataset", "tunes", "--out", str(out), *quick])
    assert trained.exit_code == 0, trained.output
    card = json.loads((tmp_path / "home" / "models" / "tiny-extend.json").read_text(encoding="utf-8"))
    assert (tmp_path / "home" / "models" / "tiny-extend.tokenizer.json").is_file()
    assert card["technique"] == "extend" and card["training"]["steps"] == 60
    assert card["training"]["command"].startswith("opencomposer train transformer --dataset tunes")
    metrics = card["metrics"]
    assert metrics["valid_loss_per_token"] > 0 and metrics["bigram_loss_per_token"] > 0
    held_out = metrics["held_out"]
    assert held_out["pieces"] == 2 and held_out["dataset"] == "tunes"  # the two test tunes
    assert set(held_out["quality_bars"]) == {
        "beats_the_bigram_baseline_clearly",
        "similarity_index_at_least_0.7",
        "no_stretch_of_4_stuck_bars",
    }

    evaluated = CliRunner().invoke(main, ["models", "evaluate", "tiny-extend", "--record"])
    assert evaluated.exit_code == 0, evaluated.output
    assert "quality_bars" in evaluated.output

    extended = tmp_path / "extended.mid"
    options = ["--model", "tiny-extend", "--melody", "twinkle", "--extension-seconds", "4", "--seed", "1"]
    result = CliRunner().invoke(main, ["generate", "extend", *options, "--out", str(extended)])
    assert result.exit_code == 0, result.output
    assert read_midi(extended).n_notes > 0


def test_the_quality_bars_say_what_was_missed() -> None:
    report = {"similarity_index": 0.72, "stuck_continuations": 0}
    assert all(quality_bars(report, valid_loss=1.2, bigram_loss=1.9).values())
    missed = quality_bars({"similarity_index": 0.5, "stuck_continuations": 2}, valid_loss=1.8, bigram_loss=1.9)
    assert not any(missed.values())
    assert not quality_bars({"similarity_index": None}, valid_loss=None, bigram_loss=1.9)[
        "beats_the_bigram_baseline_clearly"
    ]
