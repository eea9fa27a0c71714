"""Files written by `write_midi` read the same in other maintained MIDI readers: pretty_midi, mido, music21."""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction
from pathlib import Path

import mido
import music21
import pretty_midi
import pytest

from opencomposer.music.midi import write_midi
from opencomposer.music.score import Note, Score, Track

# (pitch, start, duration) in ticks; the program or the drum flag says which instrument plays it.
NoteKey = tuple[int, int, int]

SCORE = Score(
    resolution=480,
    tempo=90.0,
    time_signature=(3, 4),
    tracks=(
        Track(
            "Melody",
            73,
            False,
            (Note(72, 0, 480, 90), Note(74, 480, 240, 80), Note(76, 720, 240, 70), Note(77, 960, 1920, 100)),
        ),
        Track("Bass", 33, False, (Note(36, 0, 1440, 64), Note(43, 1440, 1440, 64))),
        Track("Drums", 0, True, (Note(36, 0, 240, 110), Note(42, 240, 240, 50), Note(38, 480, 240, 100))),
    ),
)


def expected_notes(track: Track) -> list[NoteKey]:
    return sorted((note.pitch, note.start, note.duration) for note in track.notes)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("roundtrip") / "three.mid"
    write_midi(SCORE, path)
    return path


def test_pretty_midi_reads_the_same_notes_in_seconds(written: Path) -> None:
    midi = pretty_midi.PrettyMIDI(str(written))
    assert midi.get_tempo_changes()[1].tolist() == pytest.approx([90.0])
    assert [(i.name, i.program, i.is_drum) for i in midi.instruments] == [
        (t.name, t.program, t.is_drum) for t in SCORE.tracks
    ]
    for instrument, track in zip(midi.instruments, SCORE.tracks, strict=True):
        got = sorted((n.pitch, n.start, n.end, n.velocity) for n in instrument.notes)
        want = sorted(
            (n.pitch, SCORE.ticks_to_seconds(n.start), SCORE.ticks_to_seconds(n.end), n.velocity) for n in track.notes
        )
        assert [(p, v) for p, _, _, v in got] == [(p, v) for p, _, _, v in want]
        assert [t for _, s, e, _ in got for t in (s, e)] == pytest.approx([t for _, s, e, _ in want for t in (s, e)])


def test_mido_reads_the_same_notes_in_ticks(written: Path) -> None:
    midi_file = mido.MidiFile(written)
    assert midi_file.ticks_per_beat == SCORE.resolution
    assert [m.tempo for m in midi_file.tracks[0] if m.type == "set_tempo"] == [mido.bpm2tempo(90.0)]
    for midi_track, track in zip(midi_file.tracks[1:], SCORE.tracks, strict=True):
        assert midi_track.name == track.name
        channels = {m.channel for m in midi_track if not m.is_meta}
        assert (channels == {9}) is track.is_drum
        assert [m.program for m in midi_track if m.type == "program_change"] == [track.program]
        assert mido_notes(midi_track) == expected_notes(track)


def mido_notes(midi_track: mido.MidiTrack) -> list[NoteKey]:
    sounding: dict[int, list[int]] = defaultdict(list)
    notes: list[NoteKey] = []
    tick = 0
    for message in midi_track:
        tick += message.time
        if message.type == "note_on" and message.velocity > 0:
            sounding[message.note].append(tick)
        elif message.type in ("note_on", "note_off"):
            start = sounding[message.note].pop(0)
            notes.append((message.note, start, tick - start))
    assert not any(sounding.values()), "a note was never switched off"
    return sorted(notes)


def test_music21_reads_the_same_notes_in_quarter_lengths(written: Path) -> None:
    parsed = music21.converter.parse(written, forceSource=True, quantizePost=False)
    assert isinstance(parsed, music21.stream.Score)
    # music21 splits notes at bar lines into tied pieces; stripTies joins them again.
    parts = list(parsed.stripTies().parts)
    assert [part.partName for part in parts] == [track.name for track in SCORE.tracks]
    for part, track in zip(parts, SCORE.tracks, strict=True):
        instruments = list(part.recurse().getElementsByClass(music21.instrument.Instrument))
        assert track.program in {instrument.midiProgram for instrument in instruments}
        assert any(instrument.midiChannel == 9 for instrument in instruments) is track.is_drum
        got: list[NoteKey] = []
        for element in part.flatten().notes:
            start = Fraction(element.offset) * SCORE.resolution
            duration = Fraction(element.quarterLength) * SCORE.resolution
            got.extend((pitch, int(start), int(duration)) for pitch in music21_pitches(element))
        assert sorted(got) == expected_notes(track)


def music21_pitches(element: music21.note.NotRest) -> list[int]:
    if isinstance(element, music21.note.Unpitched):
        # A drum hit becomes an Unpitched note that remembers its General MIDI drum note.
        drum = element.storedInstrument
        assert isinstance(drum, music21.instrument.UnpitchedPercussion)
        assert drum.percMapPitch is not None
        return [drum.percMapPitch]
    return [pitch.midi for pitch in element.pitches]
