"""Zero-length notes written note-off first, as music21 writes grace notes: found and mended."""

from __future__ import annotations

import io
from itertools import pairwise

import mido
from hypothesis import given, settings
from hypothesis import strategies as st

from opencomposer.music.midi import read_midi
from opencomposer.music.midi_repair import close_notes_written_off_first, drops_note_ons
from opencomposer.music.score import Note

# (pitch, start, duration) in ticks.
NoteKey = tuple[int, int, int]


def written_note_offs_first(notes: list[NoteKey], *, ticks_per_quarter: int = 480) -> bytes:
    """One track, its events sorted as music21 sorts them: by tick, then note-offs before note-ons."""
    events = sorted(
        [(start + duration, 0, index, pitch) for index, (pitch, start, duration) in enumerate(notes)]
        + [(start, 1, index, pitch) for index, (pitch, start, _) in enumerate(notes)]
    )
    track, previous_tick = mido.MidiTrack(), 0
    for tick, is_on, _, pitch in events:
        kind = "note_on" if is_on else "note_off"
        track.append(mido.Message(kind, note=pitch, velocity=90 if is_on else 0, time=tick - previous_tick))
        previous_tick = tick
    buffer = io.BytesIO()
    mido.MidiFile(type=1, ticks_per_beat=ticks_per_quarter, tracks=[track]).save(file=buffer)
    return buffer.getvalue()


def music21_like_lines(notes: list[NoteKey]) -> bool:
    """Whether no two notes of one pitch start together or overlap, as in the lines music21 writes."""
    by_pitch: dict[int, list[tuple[int, int]]] = {}
    for pitch, start, duration in notes:
        by_pitch.setdefault(pitch, []).append((start, start + duration))
    for spans in by_pitch.values():
        spans.sort()
        for (start, end), (next_start, _) in pairwise(spans):
            if next_start == start or next_start < end:
                return False
    return True


NOTES = st.lists(
    st.tuples(st.integers(60, 63), st.integers(0, 16).map(lambda step: 120 * step), st.sampled_from([0, 0, 120, 240])),
    max_size=24,
).filter(music21_like_lines)


@settings(max_examples=200, deadline=None)
@given(notes=NOTES)
def test_every_note_music21_could_write_is_read_back(notes: list[NoteKey]) -> None:
    score = read_midi(written_note_offs_first(notes))
    read = sorted((note.pitch, note.start, note.duration) for track in score.tracks for note in track.notes)
    assert read == sorted((pitch, start, max(duration, 1)) for pitch, start, duration in notes)


def test_only_files_that_leave_a_note_on_waiting_are_looked_at_closely() -> None:
    grace = written_note_offs_first([(74, 0, 0), (76, 0, 240), (74, 240, 240)])
    plain = written_note_offs_first([(74, 0, 240), (76, 0, 240), (74, 240, 240)])
    assert drops_note_ons(grace, note_count=2)  # symusic alone reads two notes of three
    assert not drops_note_ons(plain, note_count=3)
    assert close_notes_written_off_first(plain) is plain


def test_mending_adds_one_note_off_per_zero_length_note() -> None:
    grace = written_note_offs_first([(74, 0, 0), (76, 0, 240), (74, 240, 0), (77, 240, 240)])
    mended = close_notes_written_off_first(grace)
    assert len(mended) == len(grace) + 2 * 4
    assert read_midi(mended).tracks[0].notes == (
        Note(74, 0, 1, 90),
        Note(76, 0, 240, 90),
        Note(74, 240, 1, 90),
        Note(77, 240, 240, 90),
    )
