"""`opencomposer generate edit|harmonize|inpaint` on the shipped bach-arcnn, and `opencomposer train arcnn`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from opencomposer.cli import main
from opencomposer.music.io import read_score
from opencomposer.music.melodies import get_melody
from opencomposer.music.midi import write_midi
from opencomposer.registry import get_model

from .conftest import chorale


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENCOMPOSER_HOME", str(tmp_path / "home"))


def test_the_shipped_model_is_listed_with_its_card() -> None:
    entry = get_model("bach-arcnn")
    assert entry.shipped and entry.card.technique == "edit" and entry.size_bytes < 25e6
    held_out = entry.card.metrics["held_out"]
    assert held_out["likelihood"]["estimator"] == "exact" and held_out["likelihood"]["nll_per_frame"] > 0
    coconet = held_out["likelihood_coconet"]
    assert coconet["estimator"] == "coconet" and coconet["orderings"] == 5 and coconet["pieces"] == 77
    assert held_out["quality_bars"]["nll_as_low_as_coconet"] == (coconet["nll_per_frame"] <= 0.57)
    result = CliRunner().invoke(main, ["models", "list", "--technique", "edit"])
    assert result.exit_code == 0 and "bach-arcnn" in result.output


def test_harmonize_writes_the_melody_and_three_voices(tmp_path: Path) -> None:
    out = tmp_path / "h.mid"
    result = CliRunner().invoke(
        main, ["generate", "harmonize", "--melody", "twinkle", "--iterations", "10", "--seed", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    score = read_score(out)
    assert [track.name for track in score.tracks][1:] == ["Alto", "Tenor", "Bass"]
    given = get_melody("twinkle").to_score().tracks[0]
    assert [(n.pitch, n.start, n.duration) for n in score.tracks[0].notes] == [
        (n.pitch, n.start * score.resolution // 480, n.duration * score.resolution // 480) for n in given.notes
    ]


def test_edit_and_inpaint_take_a_four_voice_file(tmp_path: Path) -> None:
    source = tmp_path / "in.mid"
    write_midi(chorale(), source)
    for command, flags in (
        ("edit", ["--max-remove-percent", "20", "--max-add-notes", "4"]),
        ("inpaint", ["--start-bar", "2", "--inpaint-bars", "1", "--voices", "alto"]),
    ):
        out = tmp_path / f"{command}.mid"
        args = ["generate", command, "--melody", str(source), "--iterations", "10", "--out", str(out), *flags]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        assert [track.name for track in read_score(out).tracks] == ["Soprano", "Alto", "Tenor", "Bass"]


def test_a_bad_value_is_one_clear_line(tmp_path: Path) -> None:
    args = ["generate", "inpaint", "--melody", "twinkle", "--start-bar", "40", "--out", str(tmp_path / "x.mid")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "start_bar 40 is past the end of the piece" in result.output
    result = CliRunner().invoke(main, ["generate", "edit", "--melody", "twinkle", "--max-remove-percent", "101"])
    assert result.exit_code == 2 and "max_remove_percent must be between 0 and 100" in result.output


def test_train_arcnn_needs_a_preset_or_a_dataset(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["train", "arcnn", "--out", str(tmp_path / "run")])
    assert result.exit_code == 2 and "Give --preset, or --dataset" in result.output
    result = CliRunner().invoke(main, ["train", "arcnn", "--help"])
    assert "--learning-rate" in result.output and "--max-minutes" in result.output
