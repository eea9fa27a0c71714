"""`opencomposer evaluate`: the table, the JSON and PNG files, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from opencomposer.cli import main
from opencomposer.music.midi import write_midi
from opencomposer.music.score import Note, Score, Track

QUARTER = 480


def write_pieces(folder: Path, count: int, seed: int) -> Path:
    """`count` small two-track pieces (a wandering melody over held fifths) as MIDI files in `folder`."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for index in range(count):
        melody = 72 + np.cumsum(rng.integers(-2, 3, size=32)) % 12
        chords = [Note(pitch, bar * 4 * QUARTER, 4 * QUARTER) for bar in range(8) for pitch in (48, 55)]
        score = Score(
            tracks=(
                Track(name="Melody", notes=tuple(Note(int(p), i * QUARTER, QUARTER) for i, p in enumerate(melody))),
                Track(name="Chords", notes=tuple(chords)),
            )
        )
        write_midi(score, folder / f"piece{index}.mid")
    return folder


def test_evaluate_prints_tables_and_writes_json_and_png(tmp_path: Path) -> None:
    generated = write_pieces(tmp_path / "generated", 4, seed=1)
    reference = write_pieces(tmp_path / "reference", 6, seed=2)
    out = tmp_path / "report"  # created by the command
    result = CliRunner().invoke(main, ["evaluate", str(generated), "--reference", str(reference), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Music metrics" in result.output
    assert "pitch_range/Melody" in result.output
    assert "Similarity index:" in result.output
    data = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    assert data["generated"]["pieces"] == 4
    assert data["reference"]["pieces"] == 6
    assert data["generated"]["windows"] == 8  # two 4-bar windows per 8-bar piece
    assert 0 <= data["similarity_index"] <= 1
    assert (out / "evaluation.png").read_bytes().startswith(b"\x89PNG")


def test_evaluate_takes_single_files_and_a_limit(tmp_path: Path) -> None:
    generated = write_pieces(tmp_path / "generated", 3, seed=3)
    reference = write_pieces(tmp_path / "reference", 5, seed=4)
    files = [str(path) for path in sorted(generated.glob("*.mid"))]
    result = CliRunner().invoke(
        main, ["evaluate", *files, "-r", str(reference), "--limit", "2", "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "out" / "evaluation.json").read_text(encoding="utf-8"))
    assert (data["generated"]["pieces"], data["reference"]["pieces"]) == (2, 2)


def test_an_unknown_reference_is_one_line_and_exit_status_2(tmp_path: Path) -> None:
    generated = write_pieces(tmp_path / "generated", 1, seed=5)
    result = CliRunner().invoke(main, ["evaluate", str(generated), "--reference", "no-such-thing"])
    assert result.exit_code == 2
    assert "The reference 'no-such-thing' is not a file or folder" in result.output
    assert "Traceback" not in result.output


def test_a_folder_without_scores_is_one_line_and_exit_status_2(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    reference = write_pieces(tmp_path / "reference", 2, seed=6)
    result = CliRunner().invoke(main, ["evaluate", str(tmp_path / "empty"), "--reference", str(reference)])
    assert result.exit_code == 2
    assert "No MIDI or MusicXML file was found" in result.output
