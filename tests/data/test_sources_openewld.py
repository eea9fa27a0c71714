"""The OpenEWLD source: lead sheets as a Melody track over a Chords track, with Discogs genre tags."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from opencomposer.data import registry
from opencomposer.data.registry import recording_skips
from opencomposer.data.sources.openewld import OpenEWLD, openewld_index, read_leadsheet
from opencomposer.errors import DatasetError, UnknownNameError

BLUE_MOON = "dataset/Lorenz_Hart/Blue_Moon/Blue_Moon.mxl"


@pytest.fixture
def openewld(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> OpenEWLD:
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(shared_data))
    return OpenEWLD()


def test_the_index_has_one_entry_per_file_with_its_tags(openewld: OpenEWLD) -> None:
    index = openewld_index()
    assert len(index) == len({row.piece_id for row in index}) == 502
    genres = Counter(genre for row in index for genre in row.genres)
    assert (genres["Pop"], genres["Jazz"], genres["Rock"]) == (169, 123, 82)
    blue_moon = next(row for row in index if row.leadsheet == BLUE_MOON)
    assert (blue_moon.piece_id, blue_moon.title, blue_moon.date) == (
        "openewld/Lorenz_Hart/Blue_Moon",
        "Blue Moon",
        "1934-11-16",
    )
    # "I'll Be Seeing You" is entered four times in the database: one file, one piece.
    assert sum(1 for row in index if row.title == "I'll Be Seeing You") == 1


def test_blue_moon_keeps_the_later_of_two_chords_on_one_note(shared_data: Path) -> None:
    score = read_leadsheet(shared_data / "openewld" / BLUE_MOON)
    assert [(t.name, t.role) for t in score.tracks] == [("Melody", "melody"), ("Chords", "accompaniment")]
    assert (score.resolution, score.time_signature) == (480, (2, 2))
    melody, chords = score.tracks
    # A one-beat pick-up: the bar's three missing beats move it to the end of a first (empty) bar.
    assert [(n.start, n.duration, n.pitch) for n in melody.notes[:3]] == [
        (1440, 480, 70),
        (1920, 1920, 70),
        (4080, 240, 68),
    ]
    blocks: dict[int, list[int]] = {}
    for note in chords.notes:
        blocks.setdefault(note.start, []).append(note.pitch)
    # Bb7 on the pick-up, then Ebmaj7 and Cm7 stacked on one whole note: Cm7, the later one, sounds.
    assert [sorted(blocks[tick]) for tick in sorted(blocks)[:3]] == [
        [58, 62, 65, 68],
        [48, 51, 55, 58],
        [53, 56, 60, 63],
    ]
    assert all(note.velocity == 70 for note in chords.notes)


def test_a_genre_filters_the_pieces(openewld: OpenEWLD) -> None:
    with recording_skips() as skipped:
        pieces = list(openewld.iter_pieces(genre="Latin"))
    assert not skipped
    assert len(pieces) == 3
    assert all(piece.split is None and piece.score.tracks[0].notes and piece.score.tracks[1].notes for piece in pieces)
    latin = {row.piece_id for row in openewld_index() if "Latin" in row.genres}
    assert {piece.id for piece in pieces} == latin


def test_an_unreadable_file_says_so(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mxl"
    broken.write_bytes(b"not a zip")
    with pytest.raises(DatasetError, match="music21 could not read"):
        read_leadsheet(broken)


def test_there_is_no_published_split(openewld: OpenEWLD) -> None:
    with pytest.raises(UnknownNameError, match="no published split"):
        next(openewld.iter_pieces("test"))


def test_a_missing_folder_says_how_to_get_the_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(tmp_path))
    monkeypatch.setattr(registry, "shared_data_dirs", list)
    with pytest.raises(DatasetError, match="opencomposer data download openewld"):
        next(OpenEWLD().iter_pieces())
