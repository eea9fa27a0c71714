"""Whatever bytes `read_midi` is given, it returns a Score or raises MidiError: nothing else, and never hangs."""

from __future__ import annotations

import io
from pathlib import Path

import mido
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opencomposer.errors import MidiError
from opencomposer.music.midi import midi_to_bytes, read_midi
from opencomposer.music.score import Note, Score, Track

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

WRITTEN = midi_to_bytes(
    Score(
        tempo=96.0,
        tracks=(
            Track("Lead", 81, False, tuple(Note(60 + i % 12, 240 * i, 240, 90) for i in range(16))),
            Track("Drums", 0, True, tuple(Note(36 + i % 3, 480 * i, 10, 100) for i in range(8))),
        ),
    )
)


def grace_notes_written_note_off_first() -> bytes:
    """A tune with grace notes as music21 writes them (note-off, then note-on, at one tick): read closely."""
    track = mido.MidiTrack()
    for index in range(12):
        grace, main = 74 + index % 3, 72 + index % 5
        track += [
            mido.Message("note_off", note=grace),
            mido.Message("note_on", note=grace, velocity=80),
            mido.Message("note_on", note=main, velocity=90),
            mido.Message("note_off", note=main, time=240),
        ]
    midi_file = mido.MidiFile(type=1, ticks_per_beat=480, tracks=[track])
    buffer = io.BytesIO()
    midi_file.save(file=buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def real_files(shared_data: Path) -> list[bytes]:
    return [
        WRITTEN,
        (shared_data / "deepcomposer" / "sample-inputs" / "twinkle_twinkle.midi").read_bytes(),
        (shared_data / "pop909" / "001" / "001.mid").read_bytes(),
        grace_notes_written_note_off_first(),
    ]


def read_or_midi_error(data: bytes) -> None:
    try:
        read_midi(data, name="fuzz.mid")
    except MidiError as error:
        assert str(error).startswith("fuzz.mid "), str(error)


@FUZZ
@given(
    prefix=st.sampled_from([b"", b"MThd", b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk"]),
    tail=st.binary(max_size=256),
)
def test_random_bytes_raise_only_midi_error(prefix: bytes, tail: bytes) -> None:
    read_or_midi_error(prefix + tail)


@FUZZ
@given(which=st.integers(0, 3), fraction=st.floats(0.0, 1.0, exclude_max=True))
def test_truncated_real_files_raise_only_midi_error(real_files: list[bytes], which: int, fraction: float) -> None:
    data = real_files[which]
    read_or_midi_error(data[: int(len(data) * fraction)])


@FUZZ
@given(
    which=st.integers(0, 3),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0, exclude_max=True), st.integers(0, 7)), min_size=1, max_size=24),
)
def test_bit_flipped_real_files_raise_only_midi_error(
    real_files: list[bytes], which: int, flips: list[tuple[float, int]]
) -> None:
    data = bytearray(real_files[which])
    for position, bit in flips:
        data[int(len(data) * position)] ^= 1 << bit
    read_or_midi_error(bytes(data))
