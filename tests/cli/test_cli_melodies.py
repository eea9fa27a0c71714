"""`opencomposer melodies list` and `opencomposer melodies export`."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from opencomposer.cli import main
from opencomposer.music.melodies import get_melody, list_melodies
from opencomposer.music.midi import read_midi


def test_list_shows_every_melody_with_its_key_meter_tempo_and_bars() -> None:
    result = CliRunner().invoke(main, ["melodies", "list"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") > 2}
    for melody in list_melodies():
        row = rows[melody.name]
        numerator, denominator = melody.time_signature
        cells = [cell.strip() for cell in row.split("│")[1:-1]]
        assert cells == [
            melody.name,
            melody.title,
            melody.key,
            f"{numerator}/{denominator}",
            f"{melody.tempo:g}",
            str(melody.to_score().n_bars),
        ]


def test_list_keeps_names_whole_in_a_narrow_terminal() -> None:
    result = CliRunner().invoke(main, ["melodies", "list"], env={"COLUMNS": "60"})
    assert result.exit_code == 0, result.output
    for melody in list_melodies():
        assert melody.name in result.output


def test_export_writes_a_midi_file_of_the_melody(tmp_path: Path) -> None:
    target = tmp_path / "grace.mid"
    result = CliRunner().invoke(main, ["melodies", "export", "amazing-grace", str(target)])
    assert result.exit_code == 0, result.output
    assert str(target) in result.output
    melody = get_melody("amazing-grace")
    score = read_midi(target)
    assert score.time_signature == (3, 4)
    assert round(score.tempo, 3) == melody.tempo
    assert len(score.tracks) == 1
    assert score.tracks[0].name == "Melody"
    scale = melody.to_score().resolution / score.resolution
    assert [
        (note.pitch, round(note.start * scale), round(note.duration * scale)) for note in score.tracks[0].notes
    ] == [(note.pitch, note.start, note.duration) for note in melody.notes]


def test_export_of_an_unknown_name_is_one_line_listing_the_names(tmp_path: Path) -> None:
    target = tmp_path / "out.mid"
    result = CliRunner().invoke(main, ["melodies", "export", "happy_birthday", str(target)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "happy_birthday" in lines[0]
    assert "twinkle" in lines[0]
    assert not target.exists()


def test_export_refuses_a_file_name_that_is_not_midi(tmp_path: Path) -> None:
    target = tmp_path / "twinkle.txt"
    result = CliRunner().invoke(main, ["melodies", "export", "twinkle", str(target)])
    assert result.exit_code == 2
    assert ".mid" in result.output
    assert not target.exists()
