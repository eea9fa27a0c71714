"""`opencomposer generate accompany` and `opencomposer models`: a melody in, a MIDI file out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from opencomposer.cli import main
from opencomposer.models import build_generator, config_to_dict
from opencomposer.models.unet_gan import UNetConfig
from opencomposer.music.melodies import get_melody
from opencomposer.music.midi import read_midi, write_midi
from opencomposer.registry import ModelCard, ModelEntry, save_model

TRACKS = [
    {"name": "Melody", "role": "melody", "program": 0, "is_drum": False},
    {"name": "Strings", "role": "accompaniment", "program": 48, "is_drum": False},
]


@pytest.fixture
def model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModelEntry:
    monkeypatch.setenv("OPENCOMPOSER_HOME", str(tmp_path / "home"))
    config = UNetConfig(16, 48, 1, filters=2, depth=2, latent_channels=2, upsample="transposed")
    torch.manual_seed(0)
    card = ModelCard(
        name="tiny",
        technique="accompany",
        architecture="unet",
        config=config_to_dict(config),
        title="Tiny",
        description="An untrained model.",
        dataset="tiny",
        roll={"steps_per_beat": 2, "low_pitch": 48, "high_pitch": 95},
        bars=2,
        tracks=TRACKS,
        melody_index=0,
        generated_tracks=[1],
        decoding={"max_polyphony": [3]},
    )
    return save_model(card, build_generator(config).state_dict())


def accompany(*arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["generate", "accompany", *arguments], env={"COLUMNS": "200"})
    return result.exit_code, " ".join(result.output.split())


def test_a_sample_melody_is_accompanied_and_kept(tmp_path: Path, model: ModelEntry) -> None:
    out = tmp_path / "twinkle.mid"
    code, output = accompany(
        "--model", "tiny", "--melody", "twinkle", "--seed", "3", "--threshold", "0.45", "--out", str(out)
    )
    assert code == 0, output
    score = read_midi(out)
    twinkle = get_melody("twinkle").to_score().tracks[0]
    assert [(n.pitch, n.start, n.duration) for n in score.tracks[0].notes] == [
        (n.pitch, n.start, n.duration) for n in twinkle.notes
    ]
    assert score.tracks[1].program == 48
    assert f"Wrote {out}" in output and "seed 3" in output and "String Ensemble" in output


def test_a_midi_file_melody_and_the_same_seed_give_the_same_file(tmp_path: Path, model: ModelEntry) -> None:
    melody = tmp_path / "melody.mid"
    write_midi(get_melody("twinkle").to_score(), melody)
    first, second = tmp_path / "a.mid", tmp_path / "b.mid"
    for out in (first, second):
        code, output = accompany(
            "--model", str(model.card_path), "--melody", str(melody), "--seed", "9", "--out", str(out)
        )
        assert code == 0, output
    assert first.read_bytes() == second.read_bytes()
    code, _ = accompany("--model", "tiny", "--melody", str(melody), "--instruments", "brass", "--out", str(first))
    assert code == 0 and read_midi(first).tracks[1].program == 58


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--model", "nope", "--melody", "twinkle"], "There is no model called 'nope'"),
        (["--model", "tiny", "--melody", "no-such-tune"], "no sample melody called 'no-such-tune'"),
        (["--model", "tiny", "--melody", "twinkle", "--threshold", "5"], "threshold must be between 0.05 and 0.95"),
        (["--model", "tiny", "--melody", "twinkle", "--seed", "-4"], "seed must be between 0 and"),
    ],
)
def test_mistakes_print_one_line_and_exit_2(
    tmp_path: Path, model: ModelEntry, arguments: list[str], message: str
) -> None:
    code, output = accompany(*arguments, "--out", str(tmp_path / "out.mid"))
    assert code == 2, output
    assert message in output and "Traceback" not in output


def test_models_list_and_show(model: ModelEntry) -> None:
    listing = CliRunner().invoke(main, ["models", "list", "--technique", "accompany"], env={"COLUMNS": "200"})
    assert listing.exit_code == 0, listing.output
    assert "tiny" in listing.output and "yours" in listing.output
    shown = CliRunner().invoke(main, ["models", "show", "tiny"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["generated_tracks"] == [1]


def test_the_command_line_comes_up_without_importing_the_heavy_libraries() -> None:
    # torch, music21 and the rest took 1.5 of a 3 s generation to import; they load when a command needs them.
    heavy = ("torch", "music21", "miditok", "symusic", "matplotlib", "scipy")
    script = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from opencomposer.cli import main\n"
        "for args in (['--help'], ['generate', 'extend', '--help'], ['generate', 'accompany', '--help']):\n"
        "    assert CliRunner().invoke(main, args).exit_code == 0, args\n"
        f"print(sorted(set(sys.modules) & {set(heavy)!r}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
