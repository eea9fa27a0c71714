"""Training an AR-CNN: the architecture registry, a tiny run that leaves a usable model, and the measurements."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from opencomposer.data import registry as data_registry
from opencomposer.data.registry import Dataset, DatasetInfo, Piece, TrackSlot
from opencomposer.data.windows import WindowSpec
from opencomposer.errors import ParameterError, UnknownNameError
from opencomposer.models.arcnn import Arcnn, ArcnnConfig, estimate_piece_nll, ordering_log_likelihoods, piece_nll
from opencomposer.registry import get_model, models_dir
from opencomposer.techniques.edit import Edit
from opencomposer.training.architectures import get_architecture, list_architectures
from opencomposer.training.arcnn import (
    COCONET_NLL_16TH,
    PRESETS,
    ArcnnPreset,
    ArcnnRecipe,
    PieceWindows,
    evaluate_edit_model,
    evaluate_harmonization,
    framewise_nll,
    piece_classes,
    plan_arcnn,
    split_nll,
)
from opencomposer.training.road import run_training

from .conftest import ROLL, VOICE_NAMES, chorale, make_entry, melody

LAYOUT = tuple(TrackSlot(name, "melody" if i == 0 else "accompaniment") for i, name in enumerate(VOICE_NAMES))
SPLITS = ["train"] * 6 + ["valid"] + ["test"] * 4
TINY_PRESET = ArcnnPreset(
    "tiny-arcnn",
    "A tiny AR-CNN.",
    "tiny-satb",
    WindowSpec(roll=ROLL, bars=2, transpose=(-1, 1)),
    ArcnnConfig(voices=4, pitches=ROLL.n_pitches, channels=8, blocks=1),
)
QUICK = {"steps": 3, "batch_size": 4, "eval_every": 2, "checkpoint_every": 2}


class TinySatb(Dataset):
    def __init__(self) -> None:
        self.info = DatasetInfo("tiny-satb", "Tiny SATB", "Test pieces.", ("test",), "CC0", "none", LAYOUT, "tiny")

    def iter_pieces(self, split: str | None = None) -> Iterator[Piece]:
        for index, piece_split in enumerate(SPLITS):
            if split is None or split == piece_split:
                yield Piece(f"tiny/{index}", chorale(4, index), piece_split)

    def is_present(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("OPENCOMPOSER_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(data_registry, "_PROVIDERS", [lambda: {"tiny-satb": TinySatb}])


def test_the_studio_lists_the_architecture_with_its_preset() -> None:
    assert "arcnn" in [architecture.name for architecture in list_architectures()]
    architecture = get_architecture("arcnn")
    assert architecture.technique == "edit"
    assert [preset.name for preset in architecture.presets] == ["bach-arcnn"]
    assert {"steps", "epochs", "max_minutes", "eval_every", "checkpoint_every", "seed"} <= {
        param.name for param in architecture.params
    }


def test_a_request_is_checked_before_training() -> None:
    assert plan_arcnn("tiny-satb", None, {"steps": 5})["steps"] == 5
    with pytest.raises(ParameterError, match="learning_rate must be between"):
        plan_arcnn("tiny-satb", None, {"learning_rate": 5})
    with pytest.raises(UnknownNameError, match="no AR-CNN preset called 'nope'"):
        plan_arcnn("tiny-satb", "nope", {})


def test_the_shipped_preset_fits_coconets_grid() -> None:
    preset = PRESETS["bach-arcnn"]
    assert (preset.window.roll.low_pitch, preset.window.roll.high_pitch, preset.window.roll.steps_per_beat) == (
        36,
        81,
        4,
    )
    assert preset.model.pitches == preset.window.roll.n_pitches and preset.window.transpose != (0, 0)


def test_a_tiny_run_leaves_an_installed_model_that_harmonizes(tmp_path: Path) -> None:
    trained = run_training(
        ArcnnRecipe(TINY_PRESET, None), tmp_path / "run", name="my-arcnn", hyperparameters=QUICK, workers=1, command="c"
    )
    assert (tmp_path / "run" / "my-arcnn.safetensors").is_file()
    assert trained.installed is not None and trained.installed.card_path.parent == models_dir()
    assert (tmp_path / "run" / "eval" / "step-00000002.png").is_file()
    card = get_model("my-arcnn").card
    assert (card.technique, card.architecture, card.dataset) == ("edit", "arcnn", "tiny-satb")
    assert card.training["steps"] == 3 and card.training["command"] == "c" and "CPU cores" in card.training["hardware"]
    assert card.metrics["final_eval"]["loss"] > 0
    result = Edit.from_model("my-arcnn").generate(melody(), {"mode": "harmonize", "iterations": 4}, 0).score
    assert [track.name for track in result.tracks] == ["Flute", "Alto", "Tenor", "Bass"]
    resumed = run_training(
        ArcnnRecipe(TINY_PRESET, None), tmp_path / "run", name="my-arcnn", hyperparameters=QUICK, install=False
    )
    assert resumed.result.resumed_from == 3


def test_the_cropped_likelihood_equals_the_whole_piece_computation(tmp_path: Path) -> None:
    model = Edit(make_entry(tmp_path)).model
    classes = torch.randint(0, model.config.classes, (4, model.config.receptive_field_steps + 9))
    generator = torch.Generator().manual_seed(4)
    cropped = piece_nll(model, classes, generator)
    generator = torch.Generator().manual_seed(4)
    voices, steps = classes.shape
    frame_rank = torch.argsort(torch.randperm(steps, generator=generator))
    voice_rank = torch.argsort(torch.stack([torch.randperm(voices, generator=generator) for _ in range(steps)]), 1)
    whole = 0.0
    with torch.no_grad():
        for t in range(steps):
            for v in range(voices):
                known = (frame_rank < frame_rank[t])[None, :].expand(voices, -1).clone()
                known[:, t] = voice_rank[t] < voice_rank[t, v]
                logits = model(classes[None], known[None])[0, v, t]
                whole -= float(torch.log_softmax(logits, dim=-1)[classes[v, t]])
    assert cropped == pytest.approx(whole, rel=1e-4)


def test_coconets_estimator_replays_its_released_frame_evaluator(tmp_path: Path) -> None:
    """Within a frame, the voices visited first are shown to the later ones as the network's argmax guesses."""
    model = Edit(make_entry(tmp_path)).model
    classes = torch.randint(0, model.config.classes, (4, model.config.receptive_field_steps + 7))
    cropped = ordering_log_likelihoods(model, classes, torch.Generator().manual_seed(5), within_frame="argmax")
    generator = torch.Generator().manual_seed(5)
    voices, steps = classes.shape
    frame_rank = torch.argsort(torch.randperm(steps, generator=generator))
    order = torch.stack([torch.randperm(voices, generator=generator) for _ in range(steps)])
    expected = torch.zeros(steps, voices)
    with torch.no_grad():
        for t in range(steps):  # Coconet's loop, one whole piece per frame, without crops
            shown = classes.clone()
            known = (frame_rank < frame_rank[t])[None, :].expand(voices, -1).clone()
            for v in order[t].tolist():
                scores = torch.log_softmax(model(shown[None], known[None])[0, v, t], dim=-1)
                expected[t, v] = scores[classes[v, t]]
                shown[v, t] = scores.argmax()
                known[v, t] = True
    assert torch.allclose(cropped, expected, atol=1e-4)
    truth = ordering_log_likelihoods(model, classes, torch.Generator().manual_seed(5))
    first = order[:, 0]
    assert torch.allclose(truth[torch.arange(steps), first], cropped[torch.arange(steps), first])
    assert -float(truth.sum()) == pytest.approx(piece_nll(model, classes, torch.Generator().manual_seed(5)))
    with pytest.raises(ValueError, match="within_frame"):
        ordering_log_likelihoods(model, classes, generator, within_frame="guess")


def test_the_estimators_average_frames_or_pieces_over_orderings(tmp_path: Path) -> None:
    model = Edit(make_entry(tmp_path)).model
    classes = torch.randint(0, model.config.pitches, (4, 40))
    classes[3, :10] = model.config.rest_class  # the bass rests for ten frames

    def draws(within_frame: str) -> torch.Tensor:
        generator = torch.Generator().manual_seed(2)
        return torch.stack(
            [ordering_log_likelihoods(model, classes, generator, within_frame=within_frame) for _ in range(3)]
        )

    exact = estimate_piece_nll(model, classes, torch.Generator().manual_seed(2), orderings=3)
    whole = draws("truth").sum(dim=(1, 2))
    assert exact == pytest.approx(-float(torch.logsumexp(whole, 0) - torch.log(torch.tensor(3.0))), rel=1e-5)
    coconet = estimate_piece_nll(model, classes, torch.Generator().manual_seed(2), estimator="coconet", orderings=3)
    guessed = draws("argmax")
    guessed[:, :10, 3] = 0.0  # silent cells count as certain, as in Coconet's code
    frames = torch.logsumexp(guessed.sum(dim=2), 0) - torch.log(torch.tensor(3.0))
    assert coconet == pytest.approx(-float(frames.sum()), rel=1e-5)
    with pytest.raises(ValueError, match="estimator"):
        estimate_piece_nll(model, classes, torch.Generator(), estimator="best")


def test_the_likelihood_report_is_per_frame(tmp_path: Path) -> None:
    report = framewise_nll(make_entry(tmp_path), "tiny-satb")
    assert report["pieces"] == 4 and report["frames"] == 4 * 4 * 16
    # An untrained network is close to uniform over 47 classes for each of 4 voices.
    assert report["nll_per_frame"] == pytest.approx(4 * torch.log(torch.tensor(47.0)).item(), rel=0.1)
    assert report["coconet_published"] == 0.57
    assert report["estimator"] == "exact" and report["orderings"] == 1 and report["silent_cell_share"] == 0.0
    as_coconet = framewise_nll(make_entry(tmp_path), "tiny-satb", estimator="coconet", limit=2)
    assert as_coconet["orderings"] == 5 and as_coconet["pieces"] == 2
    assert "most likely classes" in as_coconet["estimator_computes"]
    with pytest.raises(ParameterError, match="orderings"):
        framewise_nll(make_entry(tmp_path), "tiny-satb", orderings=0)
    with pytest.raises(ParameterError, match="estimator"):
        framewise_nll(make_entry(tmp_path), "tiny-satb", estimator="best")


def test_models_nll_measures_one_estimator_from_the_command_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from opencomposer.cli import main

    entry = make_entry(tmp_path)
    out = tmp_path / "nll.json"
    args = ["models", "nll", str(entry.card_path), "--dataset", "tiny-satb", "--estimator", "coconet"]
    result = CliRunner().invoke(main, [*args, "--orderings", "2", "--limit", "1", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "nats per frame" in result.output and "Coconet published 0.57" in result.output
    saved = json.loads(out.read_text())
    assert saved["estimator"] == "coconet" and saved["orderings"] == 2 and saved["pieces"] == 1
    refused = CliRunner().invoke(main, ["models", "nll", "bach-chorale-unet"])
    assert refused.exit_code == 2 and "for edit models" in refused.output


def test_the_harmonization_report_compares_with_bach(tmp_path: Path) -> None:
    report = evaluate_harmonization(make_entry(tmp_path), "tiny-satb", params={"iterations": 4})
    assert report["pieces"] == 4 and report["params"]["mode"] == "harmonize"
    assert set(report["model"]) >= {"parallel_fifths", "parallel_octaves", "in_scale_ratio"}
    assert 0.0 <= report["similarity_index"] <= 1.0
    assert set(report["quality_bars"]) == {
        "parallel_fifths_at_most_twice_bach",
        "parallel_octaves_at_most_twice_bach",
        "in_scale_ratio_within_0.05",
        "similarity_index_at_least_0.75",
    }


def test_the_model_report_also_measures_the_network_alone(tmp_path: Path) -> None:
    from rich.console import Console

    from opencomposer.cli.reports import edit_table

    report = evaluate_edit_model(make_entry(tmp_path), "tiny-satb", params={"iterations": 4})
    assert report["params"]["parallels"] == "avoid"
    assert report["network_alone"]["params"]["parallels"] == "allow"
    assert set(report["network_alone"]["model"]) >= {"parallel_fifths", "parallel_octaves"}
    assert report["likelihood"]["pieces"] == 4
    assert report["likelihood"]["estimator"] == "exact" and report["likelihood_coconet"]["estimator"] == "coconet"
    met = report["likelihood_coconet"]["nll_per_frame"] <= COCONET_NLL_16TH
    assert report["quality_bars"]["nll_as_low_as_coconet"] is met is False  # an untrained network is far off
    console = Console(width=200, record=True)
    console.print(edit_table(report))
    text = console.export_text()
    assert "parallel_octaves, parallels allowed" in text and "NLL per frame, as Coconet measures" in text
    quick = evaluate_edit_model(
        make_entry(tmp_path), "tiny-satb", params={"iterations": 4}, limit=2, likelihood_as_coconet=False
    )
    assert "likelihood_coconet" not in quick and "nll_as_low_as_coconet" not in quick["quality_bars"]


def test_an_arcnn_is_small_enough_to_ship() -> None:
    parameters = sum(p.numel() for p in Arcnn(PRESETS["bach-arcnn"].model).parameters())
    assert parameters * 4 < 25e6


def test_windows_are_drawn_on_every_beat_in_every_transposition_that_stays_in_range() -> None:
    piece = torch.full((4, 136), 40)
    piece[:, -1] = 46  # a rest at the end
    draws = PieceWindows([piece], steps=128, hop=4, transpose=(-5, 6), pitches=46)
    # 3 beat-aligned starts; transpositions up to +5 keep pitch 40 within 0..45, so -5..+5: 11 of 12.
    assert len(draws) == 3 * 11
    rolls = torch.cat(list(draws.epochs(batch_size=11, seed=0)(0)))
    assert rolls.shape == (33, 4, 128, 46) and bool(((rolls.sum(-1) == 0) | (rolls.sum(-1) == 1)).all())
    pitches = rolls.argmax(-1)[rolls.sum(-1) > 0]
    assert int(pitches.min()) == 35 and int(pitches.max()) == 45
    assert not torch.equal(torch.cat(list(draws.epochs(11, 0)(1))), rolls)  # a new order each epoch


def test_a_run_that_draws_its_windows_ships_the_weights_best_on_the_valid_split(tmp_path: Path) -> None:
    preset = replace(TINY_PRESET, draw_windows=True, keep_best=True)
    hyperparameters = {**QUICK, "steps": 4, "eval_every": 1}
    trained = run_training(
        ArcnnRecipe(preset, None), tmp_path / "run", name="kept", hyperparameters=hyperparameters, workers=1
    )
    events = [json.loads(line) for line in (tmp_path / "run" / "events.jsonl").read_text().splitlines()]
    measured = {event["step"]: event["data"]["metrics"]["valid_nll"] for event in events if event["kind"] == "eval"}
    assert sorted(measured) == [1, 2, 3, 4]
    best_step = min(measured, key=lambda step: measured[step])
    kept = trained.model.card.training["kept"]
    assert kept == {"step": best_step, "valid_nll": pytest.approx(measured[best_step])}
    assert trained.model.card.training["windows_drawn_from_pieces"] > 0
    model = Edit(trained.model).model
    valid = [piece_classes(piece.score, ROLL, 4) for piece in TinySatb().iter_pieces("valid")]
    assert split_nll(model, valid) == pytest.approx(measured[best_step], rel=1e-5)
