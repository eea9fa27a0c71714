"""The POP909 source: songs in the Melody / Bridge / Piano layout, and their chord, beat and key annotations."""

from __future__ import annotations

import shutil
from pathlib import Path

import mido
import numpy as np
import pytest

from opencomposer.data import registry
from opencomposer.data.registry import recording_skips
from opencomposer.data.sources.pop909 import Chord, Key, Pop909, note_name_to_pitch_class, read_song
from opencomposer.errors import DatasetError, UnknownNameError


@pytest.fixture
def pop909(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> Pop909:
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(shared_data))
    return Pop909()


def raw_note_counts(path: Path) -> dict[str, int]:
    """Note-ons with a velocity, per track name, read straight from the file with mido."""
    midi = mido.MidiFile(path)
    return {
        track.name: sum(1 for message in track if message.type == "note_on" and message.velocity > 0)
        for track in midi.tracks
        if track.name
    }


def meta_messages(path: Path, kind: str) -> list[mido.MetaMessage]:
    """The meta messages of one kind in a MIDI file, read with mido."""
    return [message for track in mido.MidiFile(path).tracks for message in track if message.type == kind]


def test_song_001_has_the_files_melody_bridge_and_piano_tracks(pop909: Pop909, shared_data: Path) -> None:
    piece = next(pop909.iter_pieces())
    assert piece.id == "pop909/001"
    assert piece.split is None
    tracks = piece.score.tracks
    assert [(t.name, t.role, t.program) for t in tracks] == [(s.name, s.role, s.program) for s in pop909.info.tracks]
    assert [(t.name, t.role) for t in tracks] == [
        ("Melody", "melody"),
        ("Bridge", "accompaniment"),
        ("Piano", "accompaniment"),
    ]
    raw = raw_note_counts(shared_data / "pop909" / "001" / "001.mid")
    assert [len(t.notes) for t in tracks] == [raw["MELODY"], raw["BRIDGE"], raw["PIANO"]] == [264, 307, 985]


def test_song_001_keeps_the_files_resolution_tempo_and_time_signature(pop909: Pop909) -> None:
    score = next(pop909.iter_pieces()).score
    assert score.resolution == 480
    assert score.tempo == pytest.approx(90.0, abs=0.01)  # set_tempo 666665 microseconds per quarter
    assert score.time_signature == (2, 4)


@pytest.mark.parametrize(("song", "meter"), [("014", (4, 4)), ("034", (3, 4))])
def test_a_placeholder_1_4_time_signature_is_replaced_by_the_annotated_meter(
    song: str, meter: tuple[int, int], shared_data: Path
) -> None:
    path = shared_data / "pop909" / song / f"{song}.mid"
    assert [(m.numerator, m.denominator) for m in meta_messages(path, "time_signature")] == [(1, 4)]
    assert read_song(path).time_signature == meter


def test_annotations_of_song_001(pop909: Pop909) -> None:
    annotations = pop909.annotations("pop909/001")
    assert annotations.piece_id == "pop909/001"
    assert annotations.beats_per_bar == 4
    # chord_midi.txt line 5: "2.721993  4.055323  B:maj"; at 90 quarters per minute, 480 ticks per quarter.
    first_chord = next(chord for chord in annotations.chords if chord.label != "N")
    assert first_chord == Chord(2.721993, 4.055323, 1960, 2920, "B:maj")
    assert (first_chord.root_pitch_class, first_chord.quality, first_chord.pitch_classes) == (11, "maj", (3, 6, 11))
    assert annotations.chords[0].label == "N"
    assert annotations.chords[0].root_pitch_class is None
    assert annotations.chords[0].pitch_classes == ()
    assert [key.label for key in annotations.keys] == ["Gb:maj"]
    assert (annotations.keys[0].tonic_pitch_class, annotations.keys[0].mode) == (6, "maj")
    # The first beat falls 40 ticks into the file; beats are quarter notes, a bar starts every fourth.
    beats = annotations.beats
    assert [beat.ticks for beat in beats[:5]] == [40, 520, 1000, 1480, 1960]
    assert [beat.is_downbeat for beat in beats[:5]] == [True, False, False, False, True]
    assert len(beats) == 292


def test_annotations_accept_the_song_number_alone(pop909: Pop909) -> None:
    assert pop909.annotations("001") == pop909.annotations("pop909/001")


def test_annotation_ticks_follow_the_tempo_changes(pop909: Pop909, shared_data: Path) -> None:
    # Song 059 changes tempo 50 times; its beats, given in seconds, must still land a quarter note apart.
    assert len(meta_messages(shared_data / "pop909" / "059" / "059.mid", "set_tempo")) == 51
    beat_ticks = np.array([beat.ticks for beat in pop909.annotations("pop909/059").beats])
    assert np.abs(np.diff(beat_ticks) - 480).max() <= 1


def test_an_unknown_song_is_refused(pop909: Pop909) -> None:
    with pytest.raises(UnknownNameError, match="pop909/001"):
        pop909.annotations("pop909/910")
    with pytest.raises(UnknownNameError):
        pop909.annotations("../nottingham")


def test_there_is_no_published_split(pop909: Pop909) -> None:
    with pytest.raises(UnknownNameError, match="no published split"):
        next(pop909.iter_pieces("train"))


def test_a_missing_folder_says_how_to_get_the_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(tmp_path))
    monkeypatch.setattr(registry, "shared_data_dirs", list)
    with pytest.raises(DatasetError, match="opencomposer data download pop909"):
        next(Pop909().iter_pieces())


def test_a_damaged_song_is_skipped_and_counted(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(shared_data / "pop909" / "001", tmp_path / "pop909" / "001")
    (tmp_path / "pop909" / "002").mkdir()
    (tmp_path / "pop909" / "002" / "002.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\xff")
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(tmp_path))
    with recording_skips() as skipped:
        pieces = list(Pop909().iter_pieces())
    assert [piece.id for piece in pieces] == ["pop909/001"]
    assert [Path(item.item).name for item in skipped] == ["002.mid"]


@pytest.mark.parametrize(
    ("label", "pitch_classes"),
    [
        ("A:min7/b7", (0, 4, 7, 9)),  # an inversion holds the same pitch classes
        ("C#:sus4(b7)", (1, 6, 8, 11)),
        ("Bb:hdim7", (1, 4, 8, 10)),
        ("Eb:maj/5", (3, 7, 10)),
    ],
)
def test_chord_labels_give_their_pitch_classes(label: str, pitch_classes: tuple[int, ...]) -> None:
    assert Chord(0.0, 1.0, 0, 480, label).pitch_classes == pitch_classes


@pytest.mark.parametrize(("label", "quality"), [("C:add9", "'add9'"), ("B", "''")])
def test_an_unknown_chord_quality_is_reported(label: str, quality: str) -> None:
    with pytest.raises(DatasetError, match=f"the quality {quality}"):
        _ = Chord(0.0, 1.0, 0, 480, label).pitch_classes


@pytest.mark.parametrize(
    ("name", "pitch_class"), [("C", 0), ("Db", 1), ("C#", 1), ("B", 11), ("Cb", 11), ("E#", 5), ("Gbb", 5)]
)
def test_note_names_give_their_pitch_class(name: str, pitch_class: int) -> None:
    assert note_name_to_pitch_class(name) == pitch_class
    assert Key(0.0, 1.0, 0, 480, f"{name}:min").tonic_pitch_class == pitch_class


@pytest.mark.parametrize("name", ["H", "", "C#b", "Cx"])
def test_a_bad_note_name_is_reported(name: str) -> None:
    with pytest.raises(DatasetError, match="note name"):
        note_name_to_pitch_class(name)


@pytest.mark.slow
def test_all_909_songs_are_read_in_the_layout(pop909: Pop909) -> None:
    with recording_skips() as skipped:
        pieces = list(pop909.iter_pieces())
    assert not skipped
    assert len(pieces) == pop909.info.expected_pieces == 909
    assert [piece.id for piece in pieces] == [f"pop909/{number:03d}" for number in range(1, 910)]
    for piece in pieces:
        assert [track.name for track in piece.score.tracks] == ["Melody", "Bridge", "Piano"], piece.id
        assert piece.score.tracks[0].notes, piece.id
        assert piece.score.time_signature[0] > 1, piece.id


@pytest.mark.slow
def test_every_songs_annotations_parse(pop909: Pop909) -> None:
    for number in range(1, 910):
        annotations = pop909.annotations(f"{number:03d}")
        assert annotations.chords and annotations.beats and annotations.keys, number
        for chord in annotations.chords:
            assert chord.start_ticks <= chord.end_ticks, (number, chord)
            assert len(chord.pitch_classes) in (0, 3, 4), (number, chord)
