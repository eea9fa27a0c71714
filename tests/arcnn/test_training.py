"""Training an AR-CNN: the architecture registry, a tiny run that leaves a usable model, and the measurements."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from opencomposer.data import registry as data_registry
from opencomposer.data.registry import Dataset, DatasetInfo, Piece, TrackSlot
from opencomposer.data.windows import WindowSpec
from opencomposer.errors import ParameterError, UnknownNameError
from opencomposer.models.arcnn import Arcnn, ArcnnConfig, piece_nll
from opencomposer.registry import get_model, models_dir
from opencomposer.techniques.edit import Edit
from opencomposer.training.architectures import get_architecture, list_architectures
from opencomposer.training.arcnn import (
    PRESETS,
    ArcnnPreset,
    evaluate_edit_model,
    evaluate_harmonization,
    framewise_nll,
    plan_arcnn,
    train_arcnn,
)

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
    trained = train_arcnn(TINY_PRESET, tmp_path / "run", name="my-arcnn", hyperparameters=QUICK, workers=1, command="c")
    assert (tmp_path / "run" / "my-arcnn.safetensors").is_file()
    assert trained.installed is not None and trained.installed.card_path.parent == models_dir()
    assert (tmp_path / "run" / "eval" / "step-00000002.png").is_file()
    card = get_model("my-arcnn").card
    assert (card.technique, card.architecture, card.dataset) == ("edit", "arcnn", "tiny-satb")
    assert card.training["steps"] == 3 and card.training["command"] == "c" and "CPU cores" in card.training["hardware"]
    assert card.metrics["final_eval"]["loss"] > 0
    result = Edit.from_model("my-arcnn").generate(melody(), {"mode": "harmonize", "iterations": 4}, 0).score
    assert [track.name for track in result.tracks] == ["Flute", "Alto", "Tenor", "Bass"]
    resumed = train_arcnn(TINY_PRESET, tmp_path / "run", name="my-arcnn", hyperparameters=QUICK, install=False)
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


def test_the_likelihood_report_is_per_frame(tmp_path: Path) -> None:
    report = framewise_nll(make_entry(tmp_path), "tiny-satb")
    assert report["pieces"] == 4 and report["frames"] == 4 * 4 * 16
    # An untrained network is close to uniform over 47 classes for each of 4 voices.
    assert report["nll_per_frame"] == pytest.approx(4 * torch.log(torch.tensor(47.0)).item(), rel=0.1)
    assert report["coconet_published"] == 0.57


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

    from opencomposer.cli.arcnn import edit_evaluation_table

    report = evaluate_edit_model(make_entry(tmp_path), "tiny-satb", params={"iterations": 4})
    assert report["params"]["parallels"] == "avoid"
    assert report["network_alone"]["params"]["parallels"] == "allow"
    assert set(report["network_alone"]["model"]) >= {"parallel_fifths", "parallel_octaves"}
    assert report["likelihood"]["pieces"] == 4
    console = Console(width=200, record=True)
    console.print(edit_evaluation_table(report))
    assert "parallel_octaves, parallels allowed" in console.export_text()


def test_an_arcnn_is_small_enough_to_ship() -> None:
    parameters = sum(p.numel() for p in Arcnn(PRESETS["bach-arcnn"].model).parameters())
    assert parameters * 4 < 25e6
