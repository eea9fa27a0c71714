"""The Groove source: drum performances on one Drums track, mapped onto nine General MIDI drum classes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import mido
import pytest

from opencomposer.data import registry
from opencomposer.data.sources.groove import GM_DRUM_CLASSES, TD11_TO_GM, Groove, groove_index
from opencomposer.errors import DatasetError, UnknownNameError

FUNK = "groove/drummer1/session1/102_funk_95_beat_4-4"


@pytest.fixture
def groove(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> Groove:
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(shared_data))
    return Groove()


def test_the_mapping_covers_the_td11_notes_with_nine_classes() -> None:
    assert set(GM_DRUM_CLASSES.values()) == {36, 38, 42, 46, 43, 47, 50, 49, 51}
    assert len(TD11_TO_GM) == 22
    assert set(TD11_TO_GM.values()) == set(GM_DRUM_CLASSES.values())
    assert (TD11_TO_GM[22], TD11_TO_GM[26], TD11_TO_GM[58], TD11_TO_GM[44]) == (42, 46, 43, 42)


def test_the_index_has_the_published_splits(groove: Groove) -> None:
    index = groove_index()
    assert len(index) == 1150
    assert Counter(row.split for row in index) == {"train": 897, "valid": 124, "test": 129}
    assert Counter(row.beat_type for row in index) == {"beat": 503, "fill": 647}
    funk = next(row for row in index if row.piece_id == FUNK)
    assert (funk.drummer, funk.style, funk.primary_style, funk.bpm, funk.time_signature, funk.split) == (
        "drummer1",
        "funk",
        "funk",
        95.0,
        "4-4",
        "train",
    )


def test_a_performance_keeps_its_timing_and_plays_only_the_nine_classes(groove: Groove, shared_data: Path) -> None:
    piece = next(p for p in groove.iter_pieces("train", style="funk", beat_type="beat") if p.id == FUNK)
    assert piece.split == "train"
    score = piece.score
    assert (score.resolution, score.tempo, score.time_signature) == (480, 95.0, (4, 4))
    [drums] = score.tracks
    assert (drums.name, drums.role, drums.is_drum) == ("Drums", "other", True)
    raw = mido.MidiFile(shared_data / "groove" / (FUNK.removeprefix("groove/") + ".mid"))
    hits = [(tick, msg.note) for tick, msg in _absolute(raw) if msg.type == "note_on" and msg.velocity > 0]
    assert len(drums.notes) == len(hits) == 2080
    # The first hits, as played: a hi-hat pedal (44), a snare (38) and a snare rim shot (40).
    assert [(n.start, n.pitch) for n in drums.notes[:3]] == [(1165, 42), (1304, 38), (1428, 38)]
    assert sorted((n.start, n.pitch) for n in drums.notes) == sorted((t, TD11_TO_GM[p]) for t, p in hits)


def test_every_note_of_a_few_files_is_one_of_the_nine_gm_notes(groove: Groove) -> None:
    pieces = list(groove.iter_pieces("valid", style="jazz"))
    assert len(pieces) == 14
    allowed = set(GM_DRUM_CLASSES.values())
    for piece in pieces:
        assert piece.score.tracks[0].notes
        assert {note.pitch for note in piece.score.tracks[0].notes} <= allowed
        # Cut at `duration`: nothing sounds past the performance's length.
        row = next(row for row in groove_index() if row.piece_id == piece.id)
        assert piece.score.ticks_to_seconds(piece.score.end) <= row.duration + 0.01


def test_filters_are_checked(groove: Groove) -> None:
    with pytest.raises(UnknownNameError, match="no split"):
        next(groove.iter_pieces("validation"))
    with pytest.raises(UnknownNameError, match="not a Groove beat type"):
        next(groove.iter_pieces(beat_type="groove"))


def test_a_missing_folder_says_how_to_get_the_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(tmp_path))
    monkeypatch.setattr(registry, "shared_data_dirs", list)
    with pytest.raises(DatasetError, match="opencomposer data download groove"):
        next(Groove().iter_pieces())


def _absolute(midi: mido.MidiFile) -> list[tuple[int, mido.Message]]:
    found = []
    for track in midi.tracks:
        tick = 0
        for message in track:
            tick += message.time
            found.append((tick, message))
    return found
