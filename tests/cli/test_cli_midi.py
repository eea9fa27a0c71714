"""`opencomposer midi info`, `midi quantize` and `midi transpose`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from opencomposer.cli import main
from opencomposer.music.midi import read_midi, write_midi
from opencomposer.music.score import Note, Score, Track

SCORE = Score(
    resolution=480,
    tempo=100.0,
    time_signature=(3, 4),
    tracks=(
        # Slightly early and late, as played: 10 to 30 ticks off the sixteenth-note grid.
        Track("Lead", 73, False, (Note(60, 10, 470, 90), Note(67, 470, 500, 90), Note(79, 1450, 1430, 90))),
        Track("Bass", 33, False, (Note(36, 0, 1440, 80), Note(43, 1440, 1440, 80))),
        Track("Kit", 0, True, (Note(36, 0, 120, 100), Note(38, 480, 120, 100), Note(36, 960, 120, 100))),
    ),
)


@pytest.fixture
def song(tmp_path: Path) -> Path:
    path = tmp_path / "song.mid"
    write_midi(SCORE, path)
    return path


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, ["midi", *map(str, args)])


def assert_one_line_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0]


def test_info_shows_tempo_meter_length_and_every_track(song: Path) -> None:
    result = run("info", song)
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    assert lines[0] == "song.mid"
    assert "tempo           100 quarter notes per minute" in lines
    assert "time signature  3/4" in lines
    assert "length          2 bars, 3.6 seconds" in lines
    rows = {line.split()[1]: line.split() for line in lines if line[:1].isdigit()}
    assert rows["Lead"] == ["1", "Lead", "73", "Flute", "other", "3", "C4-G5"]
    assert rows["Bass"] == ["2", "Bass", "33", "Electric", "Bass", "(finger)", "other", "2", "C2-G2"]
    assert rows["Kit"] == ["3", "Kit", "Drums", "(channel", "10)", "other", "3", "2", "drum", "sounds"]


def test_info_reads_musicxml_too(tmp_path: Path) -> None:
    path = tmp_path / "tune.musicxml"
    path.write_text(
        '<?xml version="1.0"?>\n<score-partwise version="3.1"><part-list><score-part id="P1"><part-name>Tune'
        '</part-name></score-part></part-list><part id="P1"><measure number="1"><attributes><divisions>1'
        "</divisions><time><beats>2</beats><beat-type>4</beat-type></time></attributes><note><pitch><step>A"
        "</step><octave>4</octave></pitch><duration>2</duration></note></measure></part></score-partwise>\n"
    )
    result = run("info", path)
    assert result.exit_code == 0, result.output
    assert "time signature  2/4" in result.output
    assert "Tune" in result.output
    assert "A4-A4" in result.output


def test_quantize_snaps_every_onset_to_the_grid(song: Path, tmp_path: Path) -> None:
    target = tmp_path / "tight.mid"
    result = run("quantize", song, target, "--grid", "1/16")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"Quantized 8 notes to a 1/16 grid (strength 1); wrote {target}."
    lead = read_midi(target).tracks[0]
    assert [(note.pitch, note.start) for note in lead.notes] == [(60, 0), (67, 480), (79, 1440)]


def test_quantize_with_half_strength_moves_half_way(song: Path, tmp_path: Path) -> None:
    target = tmp_path / "looser.mid"
    assert run("quantize", song, target, "--grid", "1/4", "--strength", "0.5").exit_code == 0
    assert [note.start for note in read_midi(target).tracks[0].notes] == [5, 475, 1445]


def test_transpose_shifts_pitches_but_not_drums(song: Path, tmp_path: Path) -> None:
    target = tmp_path / "lower.mid"
    result = run("transpose", song, target, "--semitones", "-12")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"Transposed 8 notes by -12 semitones; wrote {target}."
    lead, bass, kit = read_midi(target).tracks
    assert [note.pitch for note in lead.notes] == [48, 55, 67]
    assert [note.pitch for note in bass.notes] == [24, 31]
    assert [note.pitch for note in kit.notes] == [36, 38, 36]


def test_a_corrupt_file_is_one_line_and_exit_status_2(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.mid"
    # A complete header and track chunk, but the track holds an undefined status byte (0xF4).
    path.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x00\x04\x00\xf4\x01\x02")
    assert_one_line_error(run("info", path), "corrupt.mid", "damaged MIDI file")
    assert_one_line_error(run("quantize", path, tmp_path / "out.mid"), "corrupt.mid")
    assert_one_line_error(run("transpose", path, tmp_path / "out.mid", "--semitones", "2"), "corrupt.mid")
    assert not (tmp_path / "out.mid").exists()


def test_a_missing_file_is_one_line_and_exit_status_2(tmp_path: Path) -> None:
    assert_one_line_error(run("info", tmp_path / "absent.mid"), "absent.mid does not exist")


def test_transposing_past_the_midi_range_is_one_line(song: Path, tmp_path: Path) -> None:
    assert_one_line_error(run("transpose", song, tmp_path / "high.mid", "--semitones", "60"), "+60", "at most +48")


def test_a_bad_grid_is_one_line(song: Path, tmp_path: Path) -> None:
    assert_one_line_error(run("quantize", song, tmp_path / "odd.mid", "--grid", "sixteenth"), "sixteenth")


def test_output_must_be_a_midi_file(song: Path, tmp_path: Path) -> None:
    assert_one_line_error(run("transpose", song, tmp_path / "out.musicxml", "--semitones", "1"), ".mid or .midi")
