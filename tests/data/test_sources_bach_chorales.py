"""The Bach chorales of music21's corpus: count, layout, voice picking, stable ids."""

from __future__ import annotations

import numpy as np
import pytest

from opencomposer.data.registry import Piece, get_dataset, recording_skips
from opencomposer.data.sources.bach_chorales import BachChorales, chorale_paths, pick_voices
from opencomposer.data.sources.jsb import SATB_TRACKS
from opencomposer.errors import DatasetError, UnknownNameError
from opencomposer.music.score import Note, Track


@pytest.fixture(scope="module")
def first_chorale() -> Piece:
    """Riemenschneider No. 1, read in this process (parsing takes a second)."""
    return next(BachChorales(workers=1).iter_pieces())


def _part(name: str, pitch: int = 60) -> Track:
    return Track(name=name, notes=(Note(pitch, 0, 480),))


def test_the_corpus_holds_350_distinct_chorales_in_riemenschneider_order() -> None:
    paths = chorale_paths()

    assert len(paths) == len(set(paths)) == 350
    assert paths[0].stem == "bwv269"  # Riemenschneider No. 1
    assert all(path.suffix in (".mxl", ".musicxml", ".xml") for path in paths)


def test_first_chorale_has_four_voices_in_layout_order(first_chorale: Piece) -> None:
    piece = first_chorale
    tracks = piece.score.tracks

    assert piece.id == "bach-chorales/bwv269"
    assert [(t.name, t.role) for t in tracks] == [(s.name, s.role) for s in SATB_TRACKS]
    assert all(track.notes for track in tracks)
    assert piece.score.time_signature == (3, 4)


def test_first_chorale_soprano_is_above_the_bass_most_of_the_time(first_chorale: Piece) -> None:
    soprano, _, _, bass = first_chorale.score.tracks
    end = max(soprano.end, bass.end)

    def sounding(track: Track) -> np.ndarray:
        pitch = np.full(end, -1)
        for note in track.notes:
            pitch[note.start : note.end] = note.pitch
        return pitch

    top, low = sounding(soprano), sounding(bass)
    both = (top >= 0) & (low >= 0)
    assert np.mean(top[both] > low[both]) > 0.95


@pytest.mark.slow
def test_every_chorale_is_read_once_with_a_stable_id() -> None:
    with recording_skips() as skipped:
        pieces = list(get_dataset("bach-chorales").iter_pieces())

    assert not skipped
    assert len(pieces) == len({piece.id for piece in pieces}) == 350
    assert all(len(piece.score.tracks) == 4 and all(t.notes for t in piece.score.tracks) for piece in pieces)
    # An id is the file's name, and the files come in the same order on every read.
    assert [piece.id for piece in pieces] == [f"bach-chorales/{path.stem}" for path in chorale_paths()]


def test_voices_are_picked_by_name_among_instruments() -> None:
    parts = [_part("Horn 1"), _part("Soprano 1"), _part("Soprano 2"), _part("Alto"), _part("Tenor Viola")]
    parts += [_part("Bass Continuo"), _part("Continuo")]

    voices = pick_voices(parts, "bwv0")

    assert [track.name for track in voices] == ["Soprano 1", "Alto", "Tenor Viola", "Bass Continuo"]


def test_four_unnamed_parts_are_read_top_to_bottom() -> None:
    parts = [_part("spine_3"), _part("spine_2"), _part("spine_1"), _part("spine_0")]

    assert pick_voices(parts, "bwv0") == parts


def test_a_missing_voice_is_an_error_naming_the_parts() -> None:
    with pytest.raises(DatasetError, match="'Soprano', 'Alto', 'Bass'"):
        pick_voices([_part("Soprano"), _part("Alto"), _part("Bass")], "bwv0")


def test_there_is_no_published_split() -> None:
    with pytest.raises(UnknownNameError, match="no published split"):
        next(BachChorales(workers=1).iter_pieces("train"))


def test_the_chorales_are_always_present() -> None:
    assert get_dataset("bach-chorales").is_present()
