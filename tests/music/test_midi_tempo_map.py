"""Tempo and time signature changes survive reading, writing and reading again, timing in seconds included."""

from __future__ import annotations

import io
from pathlib import Path

import mido
import pytest

from opencomposer.music.midi import midi_to_bytes, read_midi
from opencomposer.music.score import Score, TempoChange, TimeSignatureChange

N_TEMPO_CHANGES = 285


def rock_arrangement() -> mido.MidiFile:
    """A type 1 file that drifts in tempo every eighth (285 changes) and changes metre twice."""
    conductor = mido.MidiTrack(
        [
            mido.MetaMessage("time_signature", numerator=4, denominator=4),
            mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(128)),
        ]
    )
    for index in range(N_TEMPO_CHANGES):
        # A human drummer: 120-136 quarter notes per minute, never twice the same in a row.
        qpm = 120 + (index * 7) % 17
        conductor.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(qpm), time=240))
        if index == 63:
            conductor.append(mido.MetaMessage("time_signature", numerator=7, denominator=8))
        if index == 127:
            conductor.append(mido.MetaMessage("time_signature", numerator=4, denominator=4))
    guitar = mido.MidiTrack([mido.MetaMessage("track_name", name="Guitar"), mido.Message("program_change", program=30)])
    for index in range(150):
        pitch = 40 + index % 12
        guitar.append(mido.Message("note_on", note=pitch, velocity=100, time=0 if index == 0 else 240))
        guitar.append(mido.Message("note_off", note=pitch, time=240))
    midi_file = mido.MidiFile(type=1, ticks_per_beat=480)
    midi_file.tracks += [conductor, guitar]
    return midi_file


def last_note_seconds(midi_file: mido.MidiFile) -> float:
    """When mido, following the tempo map, plays the last note event of `midi_file`."""
    seconds = last = 0.0
    for message in midi_file:
        seconds += message.time
        if message.type in ("note_on", "note_off"):
            last = seconds
    return last


def test_a_file_with_285_tempo_changes_round_trips_with_its_timing() -> None:
    midi_file = rock_arrangement()
    buffer = io.BytesIO()
    midi_file.save(file=buffer)
    score = read_midi(buffer.getvalue())
    assert len(score.tempo_changes) == N_TEMPO_CHANGES
    assert score.tempo_changes[0].tick == 240
    assert score.tempo_changes[0].qpm == pytest.approx(120.0)
    assert score.get_time_signature_map() == (
        TimeSignatureChange(0, 4, 4),
        TimeSignatureChange(64 * 240, 7, 8),
        TimeSignatureChange(128 * 240, 4, 4),
    )
    assert score.get_duration_seconds() == pytest.approx(midi_file.length, abs=1e-3)

    again = read_midi(midi_to_bytes(score))
    assert again.get_tempo_map() == score.get_tempo_map()
    assert again.get_time_signature_map() == score.get_time_signature_map()
    assert again.tracks[0].notes == score.tracks[0].notes
    written = mido.MidiFile(file=io.BytesIO(midi_to_bytes(again)))
    assert again.get_duration_seconds() == pytest.approx(written.length, abs=1e-3)


def test_seconds_and_ticks_convert_through_the_tempo_map() -> None:
    score = Score(resolution=480, tempo=120.0, tempo_changes=(TempoChange(960, 60.0), TempoChange(1440, 240.0)))
    # 960 ticks at 120 (1 s), 480 at 60 (1 s), then 240 quarter notes per minute (0.25 s a beat).
    assert [score.ticks_to_seconds(ticks) for ticks in (480, 960, 1200, 1440, 1920)] == pytest.approx(
        [0.5, 1.0, 1.5, 2.0, 2.25]
    )
    assert [score.seconds_to_ticks(seconds) for seconds in (0.5, 1.0, 1.5, 2.0, 2.25)] == [480, 960, 1200, 1440, 1920]


@pytest.mark.parametrize("song", ["010", "178"])
def test_a_pop909_song_keeps_its_tempo_map_through_a_round_trip(shared_data: Path, song: str) -> None:
    path = shared_data / "pop909" / song / f"{song}.mid"
    score = read_midi(path)
    # 010 changes tempo 22 times and metre twice (a bar of 1/4 in 2/4); 178 changes tempo 78 times.
    assert len(score.tempo_changes) == {"010": 22, "178": 78}[song]
    assert len(score.time_signature_changes) == {"010": 2, "178": 0}[song]
    assert score.get_duration_seconds() == pytest.approx(last_note_seconds(mido.MidiFile(path)), abs=1e-3)

    again = read_midi(midi_to_bytes(score))
    assert again.get_tempo_map() == score.get_tempo_map()
    assert again.get_time_signature_map() == score.get_time_signature_map()
    assert [track.notes for track in again.tracks] == [track.notes for track in score.tracks]
    assert again.get_duration_seconds() == pytest.approx(score.get_duration_seconds(), abs=1e-9)
