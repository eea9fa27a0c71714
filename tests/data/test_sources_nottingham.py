"""The Nottingham source: folk tunes as a Melody track over a Chords track."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest

from opencomposer.data import registry
from opencomposer.data.registry import recording_skips
from opencomposer.data.sources.nottingham import Nottingham, read_tune
from opencomposer.errors import DatasetError, UnknownNameError


@pytest.fixture
def nottingham(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> Nottingham:
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(shared_data))
    return Nottingham()


def onsets(track: mido.MidiTrack) -> list[tuple[int, int]]:
    """(tick, pitch) of every sounding note-on of a mido track, in file order."""
    ticks = 0
    found = []
    for message in track:
        ticks += message.time
        if message.type == "note_on" and message.velocity > 0:
            found.append((ticks, message.note))
    return found


def test_ashover1_is_its_melody_over_its_chords(nottingham: Nottingham, shared_data: Path) -> None:
    piece = next(nottingham.iter_pieces())
    assert piece.id == "nottingham/ashover1"
    score = piece.score
    assert [(t.name, t.role, t.program) for t in score.tracks] == [
        ("Melody", "melody", 0),
        ("Chords", "accompaniment", 0),
    ]
    assert (score.resolution, score.tempo, score.time_signature) == (1024, 120.0, (3, 4))
    melody, chords = score.tracks
    # The dataset's own melody-only copy of the tune holds exactly the notes of the Melody track.
    melody_only = mido.MidiFile(shared_data / "nottingham" / "MIDI" / "melody" / "ashover1.mid")
    assert sorted((n.start, n.pitch) for n in melody.notes) == sorted(onsets(melody_only.tracks[-1]))
    assert len(melody.notes) == 68
    assert len(chords.notes) == 90
    # Block chords sit below the tune.
    assert max(n.pitch for n in chords.notes) < min(n.pitch for n in melody.notes)


def test_a_tune_without_chords_has_an_empty_chords_track(shared_data: Path) -> None:
    score = read_tune(shared_data / "nottingham" / "MIDI" / "hpps37.mid")
    assert [t.name for t in score.tracks] == ["Melody", "Chords"]
    assert score.tracks[0].notes
    assert not score.tracks[1].notes


def write_tune(path: Path, n_tracks: int) -> None:
    """A tiny type 1 MIDI file with `n_tracks` tracks of one note each, like the Nottingham files."""
    midi = mido.MidiFile(type=1, ticks_per_beat=1024)
    for index in range(n_tracks):
        midi.tracks.append(
            mido.MidiTrack(
                [
                    mido.Message("note_on", note=72 - 12 * index, velocity=90, time=0),
                    mido.Message("note_off", note=72 - 12 * index, velocity=0, time=1024),
                ]
            )
        )
    midi.save(path)


def test_files_that_are_not_tunes_are_skipped_and_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "nottingham" / "MIDI"
    (folder / "melody").mkdir(parents=True)
    write_tune(folder / "a_tune.mid", 2)
    write_tune(folder / "b_three_tracks.mid", 3)
    (folder / "c_damaged.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x04\x00MTrk")
    write_tune(folder / "melody" / "a_tune.mid", 1)  # the melody-only copies are not tunes of their own
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(tmp_path))
    with recording_skips() as skipped:
        pieces = list(Nottingham().iter_pieces())
    assert [piece.id for piece in pieces] == ["nottingham/a_tune"]
    assert [[n.pitch for n in track.notes] for track in pieces[0].score.tracks] == [[72], [60]]
    assert [Path(item.item).name for item in skipped] == ["b_three_tracks.mid", "c_damaged.mid"]
    assert "3 tracks" in skipped[0].reason


def test_there_is_no_published_split(nottingham: Nottingham) -> None:
    with pytest.raises(UnknownNameError, match="no published split"):
        next(nottingham.iter_pieces("test"))


def test_a_missing_folder_says_how_to_get_the_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(tmp_path))
    monkeypatch.setattr(registry, "shared_data_dirs", list)
    with pytest.raises(DatasetError, match="opencomposer data download nottingham"):
        next(Nottingham().iter_pieces())


@pytest.mark.slow
def test_all_1034_tunes_are_read(nottingham: Nottingham) -> None:
    with recording_skips() as skipped:
        pieces = list(nottingham.iter_pieces())
    assert not skipped
    assert len(pieces) == nottingham.info.expected_pieces == 1034
    assert len({piece.id for piece in pieces}) == 1034
    assert all(piece.score.tracks[0].notes for piece in pieces)
    # 13 tunes have no chords (the dataset's MIDI/chords folder holds 1,021 files).
    assert sum(not piece.score.tracks[1].notes for piece in pieces) == 13
