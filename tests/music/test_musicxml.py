"""Reading MusicXML: tiny files written with music21 in tmp_path, and one real OpenScore Lieder song."""

# music21 ships type hints, but its stream, note and instrument constructors are not annotated.
# mypy: allow-untyped-calls

from __future__ import annotations

from pathlib import Path

import pytest
from music21 import chord, instrument, layout, meter, note, stream, tempo, tie

from opencomposer.errors import ScoreFileError
from opencomposer.music.musicxml import read_musicxml
from opencomposer.music.score import Note, TempoChange, TimeSignatureChange

LIED = "lieder/scores/Faisst,_Clara_Mathilda/5_Lieder,_Op.4/4_Lied/lc6179305.mxl"


def flute_part() -> stream.Part:
    """Two bars of 3/4 at 72 qpm: E5, a grace D5, C5 tied over the bar line, a rest, an E4-G4 chord."""
    part = stream.Part()
    part.partName = "Flute"
    part.insert(0, instrument.Flute())
    first = stream.Measure(number=1)
    first.append(meter.TimeSignature("3/4"))
    first.insert(0, tempo.MetronomeMark(number=72))
    tied_start = note.Note("C5", quarterLength=2)
    tied_start.tie = tie.Tie("start")
    first.append([note.Note("E5"), note.Note("D5").getGrace(), tied_start])
    second = stream.Measure(number=2)
    tied_stop = note.Note("C5", quarterLength=1)
    tied_stop.tie = tie.Tie("stop")
    second.append([tied_stop, note.Rest(), chord.Chord(["E4", "G4"])])
    part.append([first, second])
    return part


def piano_staves() -> list[stream.PartStaff]:
    """A piano on two staves, one dotted half note per bar in each hand."""
    staves = []
    for first_pitch, second_pitch in [("C4", "D4"), ("C3", "G2")]:
        staff = stream.PartStaff()
        staff.partName = "Piano"
        staff.insert(0, instrument.Piano())
        first = stream.Measure(number=1)
        first.append([meter.TimeSignature("3/4"), note.Note(first_pitch, quarterLength=3)])
        second = stream.Measure(number=2)
        second.append(note.Note(second_pitch, quarterLength=3))
        staff.append([first, second])
        staves.append(staff)
    return staves


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    score = stream.Score()
    staves = piano_staves()
    for part in [flute_part(), *staves]:
        score.insert(0, part)
    score.insert(0, layout.StaffGroup(staves, name="Piano", symbol="brace"))
    path = tmp_path_factory.mktemp("musicxml") / "tiny.musicxml"
    score.write("musicxml", fp=path)
    return path


def test_tempo_time_signature_and_resolution(tiny: Path) -> None:
    score = read_musicxml(tiny)
    assert (score.resolution, score.tempo, score.time_signature) == (480, 72.0, (3, 4))


def test_later_metronome_marks_and_time_signatures_are_kept(tmp_path: Path) -> None:
    part = stream.Part()
    for number, (signature, mark, pitches) in enumerate(
        [("3/4", 72, ["C5", "D5", "E5"]), ("2/4", 96, ["F5", "G5"]), (None, None, ["A5", "B5"])], start=1
    ):
        measure = stream.Measure(number=number)
        if signature:
            measure.append(meter.TimeSignature(signature))
        if mark:
            measure.insert(0, tempo.MetronomeMark(number=mark))
        measure.append([note.Note(pitch) for pitch in pitches])
        part.append(measure)
    path = tmp_path / "changes.musicxml"
    part.write("musicxml", fp=path)
    score = read_musicxml(path)
    assert score.get_tempo_map() == (TempoChange(0, 72.0), TempoChange(1440, 96.0))
    assert score.get_time_signature_map() == (TimeSignatureChange(0, 3, 4), TimeSignatureChange(1440, 2, 4))
    # Three beats at 72, then four at 96 quarter notes per minute.
    assert score.get_duration_seconds() == pytest.approx(3 * 60 / 72 + 4 * 60 / 96)


def test_parts_become_named_tracks_with_their_program(tiny: Path) -> None:
    score = read_musicxml(tiny)
    assert [(t.name, t.program, t.is_drum, t.role) for t in score.tracks] == [
        ("Flute", 73, False, "other"),
        ("Piano", 0, False, "other"),
    ]


def test_ties_merge_grace_notes_and_rests_vanish_and_chords_split(tiny: Path) -> None:
    flute = read_musicxml(tiny).tracks[0]
    assert [(n.pitch, n.start, n.duration) for n in flute.notes] == [
        (76, 0, 480),  # E5
        (72, 480, 1440),  # C5, a half note tied to a quarter
        (64, 2400, 480),  # the chord, after a quarter rest
        (67, 2400, 480),
    ]


def test_the_two_staves_of_a_piano_make_one_track(tiny: Path) -> None:
    piano = read_musicxml(tiny).tracks[1]
    assert [(n.pitch, n.start, n.duration) for n in piano.notes] == [
        (48, 0, 1440),
        (60, 0, 1440),
        (43, 1440, 1440),
        (62, 1440, 1440),
    ]


def test_a_pickup_bar_is_padded_so_that_bars_start_on_bar_lines(tmp_path: Path) -> None:
    part = stream.Part()
    pickup = stream.Measure(number=0)
    pickup.append([meter.TimeSignature("3/4"), note.Note("G4")])
    pickup.paddingLeft = 2.0
    bar = stream.Measure(number=1)
    bar.append(note.Note("C5", quarterLength=3))
    part.append([pickup, bar])
    path = tmp_path / "pickup.musicxml"
    stream.Score([part]).write("musicxml", fp=path)
    score = read_musicxml(path)
    assert score.tracks[0].notes == (Note(67, 960, 480, 80), Note(72, 1440, 1440, 80))
    assert score.tracks[0].notes[1].start == score.ticks_per_bar


def test_a_file_with_only_rests_is_an_empty_score(tmp_path: Path) -> None:
    part = stream.Part()
    part.append(note.Rest(quarterLength=4))
    path = tmp_path / "silence.musicxml"
    stream.Score([part]).write("musicxml", fp=path)
    assert read_musicxml(path).tracks == ()


def test_a_file_that_is_not_xml_is_a_score_file_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.musicxml"
    path.write_text("C D E F G\n")
    with pytest.raises(ScoreFileError, match=r"notes\.musicxml could not be read as MusicXML"):
        read_musicxml(path)


def test_a_damaged_mxl_is_a_score_file_error(tmp_path: Path) -> None:
    path = tmp_path / "song.mxl"
    path.write_bytes(b"PK\x03\x04 not really a zip archive")
    with pytest.raises(ScoreFileError, match=r"song\.mxl could not be read as MusicXML"):
        read_musicxml(path)


def test_a_file_without_parts_is_a_score_file_error(tmp_path: Path) -> None:
    path = tmp_path / "hollow.musicxml"
    path.write_text('<?xml version="1.0"?>\n<score-partwise version="3.1"><part-list/></score-partwise>\n')
    with pytest.raises(ScoreFileError, match=r"hollow\.musicxml holds no parts"):
        read_musicxml(path)


def test_a_missing_file_is_a_score_file_error(tmp_path: Path) -> None:
    with pytest.raises(ScoreFileError, match=r"gone\.mxl does not exist"):
        read_musicxml(tmp_path / "gone.mxl")


def test_a_real_lied_has_a_voice_and_a_piano(shared_data: Path) -> None:
    score = read_musicxml(shared_data / LIED)
    assert [track.name for track in score.tracks] == ["Singstimme Voice", "Pianoforte"]
    assert (score.time_signature, score.tempo) == ((3, 4), 71.0)
    voice, piano = score.tracks
    assert len(voice.notes) == 72
    assert len(piano.notes) == 348
    # A singer's range sits inside the piano's, which reaches far below it.
    assert 55 <= min(n.pitch for n in voice.notes) <= max(n.pitch for n in voice.notes) <= 84
    assert min(n.pitch for n in piano.notes) < min(n.pitch for n in voice.notes) - 12
    assert score.n_bars == 35  # as many as the score has measures


def test_a_tie_continues_through_chords_and_past_an_untied_unison_in_another_voice(tmp_path: Path) -> None:
    """As in OpenScore's piano parts: voice 1 holds D3 over two bars while voice 2 strikes D3 briefly,
    and F3 in a chord is tied on through a second chord (start, continue, stop)."""
    held = note.Note("D3", quarterLength=3)
    held.tie = tie.Tie("start")
    held_end = note.Note("D3", quarterLength=1)
    held_end.tie = tie.Tie("stop")
    chords = [chord.Chord(["F3", "A3"], quarterLength=1) for _ in range(3)]
    for chord_, kind in zip(chords, ["start", "continue", "stop"], strict=True):
        chord_.notes[0].tie = tie.Tie(kind)
    first, second = stream.Measure(number=1), stream.Measure(number=2)
    first.insert(0, meter.TimeSignature("3/4"))
    first.insert(0, stream.Voice([held]))
    first.insert(0, stream.Voice([note.Note("D3", quarterLength=1), chords[0], chords[1]]))
    second.insert(0, stream.Voice([held_end]))
    second.insert(0, stream.Voice([chords[2]]))
    part = stream.Part([first, second])
    path = tmp_path / "voices.musicxml"
    stream.Score([part]).write("musicxml", fp=path)
    notes = sorted((n.pitch, n.start, n.duration) for n in read_musicxml(path).tracks[0].notes)
    assert notes == [
        (50, 0, 480),  # the short D3 of voice 2
        (50, 0, 1920),  # the held D3: three quarters tied to one
        (53, 480, 1440),  # F3 over three chords
        (57, 480, 480),  # A3 struck again in every chord
        (57, 960, 480),
        (57, 1440, 480),
    ]
