"""The OpenScore sources: Lieder (Voice, Piano) and String Quartets (Violin 1, Violin 2, Viola, Cello)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from opencomposer.data import registry
from opencomposer.data.registry import recording_skips
from opencomposer.data.sources import lieder, string_quartets
from opencomposer.data.sources.lieder import Lieder, part_kind, read_song
from opencomposer.data.sources.string_quartets import CELLO, VIOLA, VIOLIN_1, VIOLIN_2, StringQuartets, part_slot
from opencomposer.errors import DatasetError, UnknownNameError
from opencomposer.music.musicxml import read_musicxml
from opencomposer.music.score import Note, Score, Track

# Two of the smallest songs of the corpus (about 0.1 s each to parse).
VOLKSLIED = "Reichardt,_Louise/12_Gesänge/7_Volkslied/lc5001925.mxl"
AN_LAURA = "Schröter,_Corona/25_Lieder/3_An_Laura/lc6019054.mxl"
# The smallest quartet movement (a few seconds to parse).
MOZART_K464 = "Mozart,_Wolfgang_Amadeus/String_Quartet_No.18_in_A_major,_K.464_(Op._10,_No._5)/sq7070781.mxl"


def part(name: str, pitch: int, program: int = 0) -> Track:
    """A one-note track standing for a part called `name`, as `read_musicxml` would give it."""
    return Track(name=name, program=program, notes=(Note(pitch, 0, 480),))


def pitches(score: Score) -> list[list[int]]:
    return [sorted(note.pitch for note in track.notes) for track in score.tracks]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Voice", "voice"),
        ("Singstimme Voice", "voice"),
        ("Chant", "voice"),
        ("Soprano II", "voice"),
        ("Harfner", "voice"),  # a character's name: sung
        ("Pianoforte.", "keyboard"),
        ("Klavier", "keyboard"),
        ("Piano (or Harp)", "keyboard"),
        ("Piano for practice only", "keyboard"),
        ("Cembalo Harpsichord", "keyboard"),
        ("Bratsche Viola", "instrument"),
        ("Basso Cello", "instrument"),
        ("Clarinet in C", "instrument"),
        ("Guitarre", "instrument"),
        ("Ossia più facile", "alternative"),
        ("Facilité", "alternative"),
    ],
)
def test_part_kind_is_read_from_the_part_name(name: str, kind: str) -> None:
    assert part_kind(name) == kind


def test_a_song_puts_sung_parts_on_voice_and_the_rest_on_piano() -> None:
    parsed = Score(
        tempo=66.0,
        time_signature=(3, 8),
        tracks=(
            part("Violino Violin", 79, 40),
            part("Canto Voice", 72, 68),
            part("Cembalo Piano", 48),
            part("Ossia", 50),
            part("Basso Cello", 36, 42),
        ),
    )
    score = lieder.to_layout(parsed, "a song")
    assert [(t.name, t.role, t.program) for t in score.tracks] == [
        ("Voice", "melody", 53),
        ("Piano", "accompaniment", 0),
    ]
    assert pitches(score) == [[72], [36, 48, 79]]
    assert (score.tempo, score.time_signature) == (66.0, (3, 8))


def test_choral_parts_all_go_to_voice() -> None:
    parsed = Score(tracks=(part("S", 72), part("A", 67), part("T", 60), part("B", 48), part("Piano", 36)))
    assert pitches(lieder.to_layout(parsed, "a chorus")) == [[48, 60, 67, 72], [36]]


def test_an_instrument_is_the_tune_when_no_part_is_sung() -> None:
    parsed = Score(tracks=(part("Oboe", 74, 68), part("Piano", 48)))
    assert pitches(lieder.to_layout(parsed, "a song")) == [[74], [48]]


def test_a_piano_alone_leaves_voice_empty_and_no_notes_is_an_error() -> None:
    assert pitches(lieder.to_layout(Score(tracks=(part("Piano", 48),)), "a prelude")) == [[], [48]]
    with pytest.raises(DatasetError, match="an empty song has no notes"):
        lieder.to_layout(Score(tracks=(part("Ossia", 48),)), "an empty song")


def test_a_real_song_keeps_its_parts_notes_tempo_and_meter(shared_data: Path) -> None:
    path = shared_data / "lieder" / "scores" / AN_LAURA
    parsed = read_musicxml(path)
    assert [track.name for track in parsed.tracks] == ["Singstimme Voice", "Pianoforte"]
    score = read_song(path)
    assert [track.name for track in score.tracks] == ["Voice", "Piano"]
    assert [track.notes for track in score.tracks] == [track.notes for track in parsed.tracks]
    assert (score.resolution, score.tempo, score.time_signature) == (480, 71.0, (3, 4))


def copy_song(shared_data: Path, relative: str, root: Path) -> None:
    target = root / "lieder" / "scores" / relative
    target.parent.mkdir(parents=True)
    shutil.copyfile(shared_data / "lieder" / "scores" / relative, target)


def test_songs_are_read_in_order_and_a_damaged_one_is_skipped(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy_song(shared_data, VOLKSLIED, tmp_path)
    copy_song(shared_data, AN_LAURA, tmp_path)
    damaged = tmp_path / "lieder" / "scores" / "Anon" / "_" / "Broken" / "lc1.mxl"
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"PK\x03\x04 this is not a zip archive")
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(tmp_path))
    with recording_skips() as skipped:
        pieces = list(Lieder(workers=1).iter_pieces())
    assert [piece.id for piece in pieces] == [
        "lieder/Reichardt,_Louise/12_Gesänge/7_Volkslied",
        "lieder/Schröter,_Corona/25_Lieder/3_An_Laura",
    ]
    assert all(piece.score.tracks[0].notes and piece.score.tracks[1].notes for piece in pieces)
    assert [Path(item.item) for item in skipped] == [damaged]


def test_lieder_without_scores_say_how_to_get_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(tmp_path))
    monkeypatch.setattr(registry, "shared_data_dirs", list)
    with pytest.raises(DatasetError, match="MusicXML"):
        next(Lieder(workers=1).iter_pieces())
    (tmp_path / "lieder" / "scores").mkdir(parents=True)
    with pytest.raises(DatasetError, match=r"scores/\*\*/\*\.mxl"):
        next(Lieder(workers=1).iter_pieces())


@pytest.mark.parametrize("dataset", [Lieder(workers=1), StringQuartets(workers=1)])
def test_there_is_no_published_split(dataset: registry.Dataset) -> None:
    with pytest.raises(UnknownNameError, match="no published split"):
        next(dataset.iter_pieces("valid"))


@pytest.mark.parametrize(
    ("name", "program", "after_a_violin", "slot"),
    [
        ("Violin 1", 40, False, VIOLIN_1),
        ("Violin I", 40, True, VIOLIN_1),
        ("Violin 2", 40, False, VIOLIN_2),
        ("Violino II", 40, True, VIOLIN_2),
        ("Violin", 40, False, VIOLIN_1),
        ("Violin", 40, True, VIOLIN_2),
        ("Viola", 41, True, VIOLA),
        ("Alto", 41, True, VIOLA),
        ("Violoncello", 42, True, CELLO),
        ("P3", 41, True, VIOLA),  # a name that says nothing: the program decides
        ("P1", 40, False, VIOLIN_1),
        ("Piano", 0, True, None),
    ],
)
def test_quartet_parts_are_placed_by_name_then_program(
    name: str, program: int, after_a_violin: bool, slot: int | None
) -> None:
    assert part_slot(name, program, after_a_violin) == slot


def test_a_quartet_with_two_cello_parts_merges_them() -> None:
    parsed = Score(
        tracks=(
            part("Violin 1", 76, 40),
            part("Violin 2", 69, 40),
            part("Viola", 60, 41),
            part("Violoncello", 48, 42),
            part("Violoncello", 36, 42),
        )
    )
    score = string_quartets.to_layout(parsed, "Janáček")
    assert [(t.name, t.role, t.program) for t in score.tracks] == [
        ("Violin 1", "melody", 40),
        ("Violin 2", "accompaniment", 40),
        ("Viola", "accompaniment", 41),
        ("Cello", "accompaniment", 42),
    ]
    assert pitches(score) == [[76], [69], [60], [36, 48]]


def test_a_quartet_with_a_foreign_part_is_refused() -> None:
    parsed = Score(tracks=(part("Violin 1", 76, 40), part("Flute", 84, 73)))
    with pytest.raises(DatasetError, match="'Flute'"):
        string_quartets.to_layout(parsed, "a quintet")


@pytest.mark.slow
def test_a_real_quartet_movement(shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "string-quartets" / "scores" / MOZART_K464
    target.parent.mkdir(parents=True)
    shutil.copyfile(shared_data / "string-quartets" / "scores" / MOZART_K464, target)
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(tmp_path))
    (piece,) = StringQuartets(workers=1).iter_pieces()
    assert piece.id == f"string-quartets/{MOZART_K464.removesuffix('.mxl')}"
    parsed = read_musicxml(target)
    assert [track.name for track in parsed.tracks] == ["Violin 1", "Violin 2", "Viola", "Violoncello"]
    assert [track.name for track in piece.score.tracks] == ["Violin 1", "Violin 2", "Viola", "Cello"]
    assert [track.notes for track in piece.score.tracks] == [track.notes for track in parsed.tracks]
    assert piece.score.time_signature == parsed.time_signature == (3, 4)


@pytest.mark.slow
def test_twenty_songs_in_worker_processes_with_a_damaged_copy(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scores = shared_data / "lieder" / "scores"
    every_song = sorted(scores.rglob("*.mxl"))
    assert len(every_song) == Lieder().info.expected_pieces == 1460
    chosen = [path.relative_to(scores).as_posix() for path in every_song[::73]]
    for relative in chosen:
        copy_song(shared_data, relative, tmp_path)
    damaged = tmp_path / "lieder" / "scores" / chosen[0].replace(".mxl", "_copy.mxl")
    damaged.write_bytes((scores / chosen[0]).read_bytes()[:2000])  # a copy cut short
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(tmp_path))
    with recording_skips() as skipped:
        pieces = list(Lieder(workers=2).iter_pieces())
    assert len(chosen) == 20
    assert [Path(item.item) for item in skipped] == [damaged]
    assert len(pieces) == 20
    # The damaged copy shares its song's folder, so that song's id gains the file's stem.
    assert pieces[0].id == f"lieder/{chosen[0].removesuffix('.mxl')}"
    assert [piece.id for piece in pieces[1:]] == [f"lieder/{Path(r).parent.as_posix()}" for r in chosen[1:]]
    assert all(piece.score.tracks[0].notes for piece in pieces)
    # Brahms's Marienlieder are for unaccompanied choir: the one song of the twenty with no piano part.
    without_piano = [piece.id for piece in pieces if not piece.score.tracks[1].notes]
    assert without_piano == ["lieder/Brahms,_Johannes/Marienlieder,_Op.22/1_Der_englische_Gruss"]
