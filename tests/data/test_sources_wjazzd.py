"""The WJazzD source: jazz solos on a quantised grid, over block chords and a bass line."""

from __future__ import annotations

from pathlib import Path

import pytest

from opencomposer.data import registry
from opencomposer.data.registry import recording_skips
from opencomposer.data.sources.wjazzd import WeimarJazz, read_solo
from opencomposer.errors import DatasetError, UnknownNameError
from opencomposer.music.score import Note


@pytest.fixture
def wjazzd(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> WeimarJazz:
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(shared_data))
    return WeimarJazz()


def solo(shared_data: Path, stem: str) -> tuple[Path, Path]:
    root = shared_data / "wjazzd"
    return root / "mcsv_melody" / f"{stem}_FINAL.csv", root / "mcsv_beat" / f"{stem}_FINAL_beattrack.csv"


def blocks(notes: tuple[Note, ...]) -> list[tuple[int, int, tuple[int, ...]]]:
    """(start, duration, pitches) of each block chord of a Chords track."""
    found: dict[tuple[int, int], list[int]] = {}
    for note in notes:
        found.setdefault((note.start, note.duration), []).append(note.pitch)
    return [(start, duration, tuple(sorted(pitches))) for (start, duration), pitches in sorted(found.items())]


def test_giant_steps_is_on_the_beat_grid_with_its_chords_and_bass(shared_data: Path) -> None:
    score = read_solo(*solo(shared_data, "JohnColtrane_GiantSteps-1"))
    melody, chords, bass = score.tracks
    assert [(t.name, t.role, t.program) for t in score.tracks] == [
        ("Melody", "melody", 66),
        ("Chords", "accompaniment", 0),
        ("Bass", "accompaniment", 32),
    ]
    assert (score.resolution, score.time_signature) == (480, (4, 4))
    assert score.tempo == pytest.approx(291, abs=1)
    # Two lead-in bars (-1 and 0), then the tune: the solo's pick-up starts in bar 0 on eighth notes.
    assert [(n.start, n.duration, n.pitch) for n in melody.notes[:4]] == [
        (1920, 240, 61),
        (2160, 240, 64),
        (2400, 240, 68),
        (2640, 240, 71),
    ]
    assert len(melody.notes) == 1127
    # The beat file's "NC NC ... Cbj7 Cbj7 D7 D7 Gj7 Gj7 Bb7 Bb7 Ebj7": two beats each, from bar 1.
    assert blocks(chords.notes)[:5] == [
        (3840, 960, (59, 63, 66, 70)),  # Cb (B) major seventh
        (4800, 960, (50, 54, 57, 60)),  # D7
        (5760, 960, (55, 59, 62, 66)),  # G major seventh
        (6720, 960, (58, 62, 65, 68)),  # Bb7
        (7680, 1920, (51, 55, 58, 62)),  # Eb major seventh, a bar long
    ]
    assert all(note.velocity == 70 for note in chords.notes)
    assert [(n.start, n.duration, n.pitch) for n in bass.notes[:3]] == [(0, 480, 38), (480, 480, 38), (960, 480, 35)]
    assert all(28 <= note.pitch <= 60 for note in bass.notes)


def test_solos_without_chords_or_bass_keep_empty_tracks(shared_data: Path) -> None:
    no_chords = read_solo(*solo(shared_data, "OrnetteColeman_Peace"))
    assert no_chords.tracks[0].notes and not no_chords.tracks[1].notes and no_chords.tracks[2].notes
    no_bass = read_solo(*solo(shared_data, "JohnColtrane_Countdown"))
    assert no_bass.tracks[1].notes and not no_bass.tracks[2].notes


def test_the_melody_instrument_follows_the_performer(shared_data: Path) -> None:
    assert read_solo(*solo(shared_data, "MilesDavis_Agitation")).tracks[0].program == 56  # trumpet
    assert read_solo(*solo(shared_data, "CharlieParker_Segment")).tracks[0].program == 65  # alto sax


@pytest.mark.slow
def test_every_solo_is_read(wjazzd: WeimarJazz) -> None:
    with recording_skips() as skipped:
        pieces = list(wjazzd.iter_pieces())
    assert not skipped
    assert len(pieces) == wjazzd.info.expected_pieces == 456
    assert pieces[0].id == "wjazzd/ArtPepper_Anthropology"
    assert all(piece.split is None and piece.score.tracks[0].notes for piece in pieces)
    assert sum(not piece.score.tracks[1].notes for piece in pieces) == 11
    assert sum(not piece.score.tracks[2].notes for piece in pieces) == 19
    assert sum(len(piece.score.tracks[0].notes) for piece in pieces) == 200_809


def test_there_is_no_published_split(wjazzd: WeimarJazz) -> None:
    with pytest.raises(UnknownNameError, match="no published split"):
        next(wjazzd.iter_pieces("test"))


def test_a_missing_folder_says_how_to_get_the_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(tmp_path))
    monkeypatch.setattr(registry, "shared_data_dirs", list)
    with pytest.raises(DatasetError, match="opencomposer data download wjazzd"):
        next(WeimarJazz().iter_pieces())
