"""The GAN recipe: presets that fit their data, a run that leaves a usable model, and the held-out report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from opencomposer.data import registry as data_registry
from opencomposer.data.registry import Dataset, DatasetInfo, Piece, TrackSlot
from opencomposer.data.windows import WindowSpec
from opencomposer.errors import ModelFileError, TrainingError
from opencomposer.models.critic import CriticConfig
from opencomposer.models.musegan import MuseGanConfig
from opencomposer.models.unet_gan import UNetConfig
from opencomposer.music.pianoroll import RollSpec
from opencomposer.music.score import Note, Score, Track
from opencomposer.registry import get_model, models_dir
from opencomposer.techniques.accompany import Accompany
from opencomposer.training.evaluation import evaluate_accompaniment, record_evaluation
from opencomposer.training.gan import PRESETS, GanPreset, GanRecipe, default_preset
from opencomposer.training.road import run_training

RESOLUTION = 480
BAR = 4 * RESOLUTION
LAYOUT = (TrackSlot("Melody", "melody"), TrackSlot("Bass", "accompaniment", program=32))
SPLITS = ["train"] * 8 + ["valid", "valid", "test", "test", "test"]


def piece(n_bars: int, seed: int) -> Score:
    """Quarter-note melody in 60-72 over a whole-note bass a fifth of octaves below its first note."""
    rng = np.random.default_rng(seed)
    melody, bass = [], []
    for bar in range(n_bars):
        pitches = [int(rng.integers(60, 73)) for _ in range(4)]
        melody += [Note(pitch, bar * BAR + beat * RESOLUTION, RESOLUTION) for beat, pitch in enumerate(pitches)]
        bass.append(Note(pitches[0] - 24, bar * BAR, BAR))
    return Score(
        resolution=RESOLUTION,
        tracks=(Track("Melody", notes=tuple(melody), role="melody"), Track("Bass", 32, notes=tuple(bass))),
    )


class Tiny(Dataset):
    def __init__(self) -> None:
        self.info = DatasetInfo("tiny", "Tiny", "Test pieces.", ("test",), "CC0", "none", LAYOUT, "tiny")

    def iter_pieces(self, split: str | None = None) -> Iterator[Piece]:
        for index, piece_split in enumerate(SPLITS):
            if split is None or split == piece_split:
                yield Piece(f"tiny/{index}", piece(6, index), piece_split)


ROLL = RollSpec(steps_per_beat=2, low_pitch=32, high_pitch=79)
TINY_UNET = GanPreset(
    "tiny-unet",
    "A tiny U-Net.",
    "tiny",
    WindowSpec(roll=ROLL, bars=2),
    UNetConfig(16, 48, 1, filters=2, depth=2, latent_channels=2, upsample="transposed"),
    CriticConfig(1, 16, 48, filters=2, layers=2),
    programs={"Bass": 33},
)
TINY_MUSEGAN = GanPreset(
    "tiny-musegan",
    "A tiny MuseGAN.",
    "tiny",
    WindowSpec(roll=ROLL, bars=2),
    MuseGanConfig(bars=2, steps_per_bar=8, pitches=48, out_tracks=1, latent_dim=2, filters=2, depth=2),
    CriticConfig(1, 16, 48, filters=2, layers=2),
)
QUICK = {"steps": 3, "batch_size": 4, "update_ratio": 1, "eval_every": 2, "checkpoint_every": 2}


@pytest.fixture(autouse=True)
def _folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("OPENCOMPOSER_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(data_registry, "_PROVIDERS", [lambda: {"tiny": Tiny}])


@pytest.mark.parametrize("preset", [TINY_UNET, TINY_MUSEGAN], ids=["unet", "musegan"])
def test_a_run_leaves_an_installed_model_that_accompanies(tmp_path: Path, preset: GanPreset) -> None:
    trained = run_training(
        GanRecipe(preset, None), tmp_path / "run", name="my-model", hyperparameters=QUICK, workers=1, command="cmd"
    )
    assert (tmp_path / "run" / "my-model.safetensors").is_file()
    assert trained.installed is not None and trained.installed.card_path.parent == models_dir()
    assert {path.name for path in (tmp_path / "run" / "eval").iterdir()} == {
        "step-00000002.mid",
        "step-00000002.png",
        "step-00000003.mid",
        "step-00000003.png",
    }
    card = get_model("my-model").card
    assert card.architecture == preset.architecture and card.dataset == "tiny"
    assert card.genre == "test"  # the one genre the dataset declares
    assert [track["name"] for track in card.tracks] == ["Melody", "Bass"]
    assert card.generated_tracks == [1] and card.melody_index == 0
    assert card.decoding["max_polyphony"] == [1]
    assert card.training["command"] == "cmd" and card.training["steps"] == 3
    assert card.training["hyperparameters"]["batch_size"] == 4 and card.training["wall_seconds"] >= 0
    assert "CPU cores" in card.training["hardware"]
    assert "in_scale_ratio" in card.metrics["final_eval"] and "in_scale_ratio" in card.metrics["reference"]
    generation = Accompany.from_model("my-model").generate(piece(3, 99).with_tracks([piece(3, 99).tracks[0]]), {}, 1)
    assert [track.name for track in generation.score.tracks] == ["Melody", "Bass"]


def test_running_the_same_command_again_resumes(tmp_path: Path) -> None:
    run_training(
        GanRecipe(TINY_UNET, None), tmp_path / "run", name="m", hyperparameters=QUICK, workers=1, install=False
    )
    more = run_training(
        GanRecipe(TINY_UNET, None),
        tmp_path / "run",
        name="m",
        hyperparameters={**QUICK, "steps": 5},
        workers=1,
        install=False,
    )
    assert more.result.resumed_from == 3 and more.result.steps == 5
    with pytest.raises(TrainingError, match="other settings"):
        run_training(
            GanRecipe(TINY_UNET, None),
            tmp_path / "run",
            name="m",
            hyperparameters={**QUICK, "learning_rate": 0.01},
            workers=1,
        )


def test_a_preset_that_does_not_fit_the_dataset_is_refused(tmp_path: Path) -> None:
    three_tracks = GanPreset(
        "three",
        "Three tracks.",
        "tiny",
        TINY_UNET.window,
        UNetConfig(16, 48, 3, filters=2, depth=2, latent_channels=2),
        TINY_UNET.critic,
    )
    with pytest.raises(TrainingError, match="generates 3 tracks but the dataset gives 1"):
        run_training(GanRecipe(three_tracks, None), tmp_path / "run", name="m", hyperparameters=QUICK, workers=1)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_fits_its_own_window(name: str) -> None:
    preset = PRESETS[name]
    window = preset.window
    generator, critic = preset.generator, preset.critic
    assert generator.steps == critic.steps == window.window_steps
    assert generator.pitches == critic.pitches == window.roll.n_pitches
    assert critic.tracks == generator.out_tracks


def test_the_lab_preset_keeps_the_labs_settings() -> None:
    lab = PRESETS["deepcomposer-lab"]
    assert (lab.window.bars, lab.window.window_steps, lab.window.roll.n_pitches) == (2, 32, 128)
    assert lab.generates_melody and lab.generator.out_tracks == 4 and lab.generator.filters == 64
    assert lab.training["update_ratio"] == 5 and lab.training["learning_rate"] == 1e-3


def test_a_default_preset_is_made_for_any_dataset() -> None:
    preset = default_preset("musegan", "tiny")
    assert preset.window.tracks == ("Melody", "Bass") and preset.generator.out_tracks == 1
    assert preset.architecture == "musegan"


def test_the_held_out_report_compares_with_the_dataset_and_random_pairs(tmp_path: Path) -> None:
    trained = run_training(GanRecipe(TINY_UNET, None), tmp_path / "run", name="m", hyperparameters=QUICK, workers=1)
    report = evaluate_accompaniment(trained.model, seed=3)
    assert report["dataset"] == "tiny" and report["split"] == "test" and report["pieces"] == 3
    assert set(report["model"]) == set(report["dataset_values"])
    assert 0 <= report["dataset_values"]["in_scale_ratio"] <= 1
    assert report["dataset_values"]["empty_bar_rate"] == 0
    assert isinstance(report["random_pairs"]["tonal_distance"], float)
    assert set(report["quality_bars"]) == {
        "in_scale_ratio_within_0.05",
        "empty_bar_rate_within_0.05",
        "tonal_distance_below_random_pairs",
        "similarity_index_at_least_0.7",
    }
    recorded = record_evaluation(trained.model, report)
    on_disk = json.loads(recorded.card_path.read_text(encoding="utf-8"))
    assert on_disk["metrics"]["held_out"]["pieces"] == 3
    assert "final_eval" in on_disk["metrics"]


def test_shipped_models_cannot_be_rewritten(tmp_path: Path) -> None:
    trained = run_training(
        GanRecipe(TINY_UNET, None), tmp_path / "run", name="m", hyperparameters=QUICK, workers=1, install=False
    )
    shipped = type(trained.model)(trained.model.card, trained.model.weights_path, trained.model.card_path, True)
    with pytest.raises(ModelFileError, match="read-only"):
        record_evaluation(shipped, {})
