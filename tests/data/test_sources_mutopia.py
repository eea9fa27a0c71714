"""The Mutopia orchestral source: movements as a tune over strings, winds, brass and other parts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from opencomposer.data import registry
from opencomposer.data.registry import recording_skips
from opencomposer.data.sources.mutopia import (
    MutopiaOrchestral,
    family_of_program,
    melody_track_index,
    mutopia_index,
    read_movement,
    work_splits,
)
from opencomposer.errors import DatasetError, UnknownNameError
from opencomposer.music.midi import read_midi
from opencomposer.music.score import Note, Track

MIDI = Path("mutopia-orchestral") / "midi"


@pytest.fixture
def mutopia(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> MutopiaOrchestral:
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(shared_data))
    return MutopiaOrchestral()


def part(program: int, pitches: list[int]) -> Track:
    return Track(program=program, notes=tuple(Note(pitch, 96 * i, 96) for i, pitch in enumerate(pitches)))


def test_families_follow_general_midi_with_harp_and_timpani_apart() -> None:
    assert [family_of_program(p) for p in (40, 42, 43, 48)] == ["strings"] * 4
    assert [family_of_program(p) for p in (46, 47, 0, 6, 24)] == ["other"] * 5
    assert [family_of_program(p) for p in (68, 71, 73, 70)] == ["winds"] * 4
    assert [family_of_program(p) for p in (56, 60, 57)] == ["brass"] * 3


def test_the_melody_is_the_highest_busy_string_or_wind_part() -> None:
    violin_one = part(40, [76] * 40)
    flute_doubling = part(73, [84] * 8)  # higher, but plays a fifth as many notes
    viola = part(41, [60] * 40)
    trumpet = part(56, [90] * 40)  # brass never carries the tune here
    assert melody_track_index([viola, flute_doubling, violin_one, trumpet]) == 2
    assert melody_track_index([viola, part(73, [84] * 40), violin_one]) == 1
    assert melody_track_index([trumpet, part(0, [80] * 40)]) is None


def test_the_solo_violin_of_bachs_e_major_concerto_is_the_melody(shared_data: Path) -> None:
    path = shared_data / MIDI / "BachJS" / "BWV1042" / "concerto-in-e-major" / "score.mid"
    raw = read_midi(path)
    assert [(t.name, t.program) for t in raw.tracks][:2] == [(":SoloViolin", 40), (":ViolinI", 6)]
    score = read_movement(path)
    assert score is not None
    assert [(t.name, t.role) for t in score.tracks] == [
        ("Melody", "melody"),
        ("Strings", "accompaniment"),
        ("Winds", "accompaniment"),
        ("Brass", "accompaniment"),
        ("Other", "accompaniment"),
    ]
    assert score.resolution == 384
    melody, strings, winds, brass, other = score.tracks
    assert melody.notes == raw.tracks[0].notes and melody.program == 40
    # The typesetter put the accompanying strings on harpsichord, so they are Other.
    assert not strings.notes and not winds.notes and not brass.notes
    assert len(other.notes) == sum(len(t.notes) for t in raw.tracks[1:]) == 4428


def test_the_clarinet_concertos_violins_beat_its_sparse_flute(shared_data: Path) -> None:
    path = shared_data / MIDI / "MozartWA" / "KV622" / "MozartK622"
    raw = read_midi(next(iter(sorted(path.glob("*.mid")))))
    index = melody_track_index(raw.tracks)
    assert index is not None
    assert raw.tracks[index].program == 40
    flute = next(t for t in raw.tracks if t.program == 73)
    assert len(flute.notes) < len(raw.tracks[index].notes) / 5


def test_the_eroicas_string_section_on_one_staff_is_not_the_tune(shared_data: Path) -> None:
    # The typesetter wrote every string part, basses to first violins, on one String Ensemble track: it has the most
    # notes and used to win the tune, leaving the symphony's strings silent in the data.
    path = shared_data / MIDI / "BeethovenLv" / "O55" / "BeethovenSymphony3" / "ScoreMvtI.mid"
    raw = read_midi(path)
    section = next(index for index, track in enumerate(raw.tracks) if track.program == 48)
    index = melody_track_index(raw.tracks)
    assert index is not None and index != section and raw.tracks[index].program == 73  # the flutes
    score = read_movement(path)
    assert score is not None
    assert len(score.tracks[1].notes) == len(raw.tracks[section].notes)
    # A String Ensemble track still carries the tune where nothing else could.
    assert melody_track_index([part(48, [76] * 40), part(56, [90] * 40)]) == 0


def test_a_movement_of_one_family_is_left_out(shared_data: Path) -> None:
    # The Art of Fugue plays on piano alone.
    assert read_movement(shared_data / MIDI / "BachJS" / "BWV1080" / "contrapunctusII" / "contrapunctusII.mid") is None


def test_the_index_gives_licences_and_keeps_a_works_movements_in_one_split(mutopia: MutopiaOrchestral) -> None:
    index = mutopia_index()
    assert len(index) == 157
    assert Counter(row.licence for row in index)["Public Domain"] == 121
    first = index[0]
    assert (first.piece_id, first.composer, first.licence) == (
        "mutopia-orchestral/BachJS/BWV1042/concerto-in-e-major#1",
        "Johann Sebastian Bach (1685-1750)",
        "Public Domain",
    )
    splits_of_work: dict[str, set[str]] = {}
    for row in index:
        splits_of_work.setdefault(row.work, set()).add(row.split)
    assert all(len(splits) == 1 for splits in splits_of_work.values())
    # 80/10/10 of the 76 works, exactly.
    assert Counter(work_splits(splits_of_work).values()) == {"train": 60, "valid": 8, "test": 8}


@pytest.mark.slow
def test_every_movement_of_two_families_is_read(mutopia: MutopiaOrchestral) -> None:
    with recording_skips() as skipped:
        pieces = list(mutopia.iter_pieces())
    assert not skipped
    assert len(pieces) == mutopia.info.expected_pieces == 97
    assert all(piece.score.tracks[0].notes for piece in pieces)
    assert sum(1 for _ in mutopia.iter_pieces("test")) == Counter(p.split for p in pieces)["test"]


def test_splits_are_checked(mutopia: MutopiaOrchestral) -> None:
    with pytest.raises(UnknownNameError, match="no split"):
        next(mutopia.iter_pieces("validation"))


def test_a_missing_folder_says_how_to_get_the_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(tmp_path))
    monkeypatch.setattr(registry, "shared_data_dirs", list)
    with pytest.raises(DatasetError, match="LilyPond"):
        next(MutopiaOrchestral().iter_pieces())
