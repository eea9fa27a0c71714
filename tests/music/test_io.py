"""`read_score` and `write_score` pick the format by the file's suffix."""

# music21's stream and note constructors are not annotated.
# mypy: allow-untyped-calls

from __future__ import annotations

from pathlib import Path

import pytest
from music21 import note, stream

from opencomposer.errors import MidiError, ScoreFileError
from opencomposer.music.io import SCORE_SUFFIXES, read_score, write_score
from opencomposer.music.score import Note, Score, Track

SCORE = Score(tempo=100.0, tracks=(Track("Lead", 0, False, (Note(60, 0, 480, 80), Note(64, 480, 480, 80))),))


def test_the_supported_suffixes() -> None:
    assert set(SCORE_SUFFIXES) == {".mid", ".midi", ".mxl", ".musicxml", ".xml"}


@pytest.mark.parametrize("suffix", [".mid", ".midi", ".MIDI"])
def test_midi_files_are_written_and_read(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"lead{suffix}"
    write_score(SCORE, path)
    assert read_score(path).tracks[0].notes == SCORE.tracks[0].notes


@pytest.mark.parametrize("suffix", [".musicxml", ".xml", ".mxl"])
def test_musicxml_files_are_read(tmp_path: Path, suffix: str) -> None:
    part = stream.Part()
    part.append([note.Note("C4"), note.Note("E4"), note.Note("G4", quarterLength=2)])
    path = tmp_path / f"lead{suffix}"
    stream.Score([part]).write("musicxml", fp=path)
    notes = read_score(path).tracks[0].notes
    assert [(n.pitch, n.start, n.duration) for n in notes] == [(60, 0, 480), (64, 480, 480), (67, 960, 960)]


def test_a_midi_file_with_a_musicxml_suffix_fails_as_musicxml(tmp_path: Path) -> None:
    path = tmp_path / "lead.xml"
    write_score(SCORE, tmp_path / "lead.mid")
    path.write_bytes((tmp_path / "lead.mid").read_bytes())
    with pytest.raises(ScoreFileError, match=r"lead\.xml could not be read as MusicXML"):
        read_score(path)


def test_a_broken_midi_file_is_a_midi_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.mid"
    path.write_bytes(b"MThd\x00\x00")
    with pytest.raises(MidiError, match=r"broken\.mid is a truncated MIDI file"):
        read_score(path)


def test_an_unknown_suffix_lists_the_supported_ones(tmp_path: Path) -> None:
    path = tmp_path / "song.wav"
    path.write_bytes(b"RIFF")
    with pytest.raises(ScoreFileError, match=r"song\.wav .*\.mid, \.midi, \.mxl, \.musicxml, \.xml"):
        read_score(path)


def test_scores_are_only_written_as_midi(tmp_path: Path) -> None:
    with pytest.raises(ScoreFileError, match=r"song\.musicxml .*saved as MIDI.*\.mid or \.midi"):
        write_score(SCORE, tmp_path / "song.musicxml")
    assert not (tmp_path / "song.musicxml").exists()
