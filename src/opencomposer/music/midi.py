"""Standard MIDI files to and from `Score`.

Reading is built on symusic (a C++ parser); it turns a POP909 song (about 1,600 notes) into a `Score`
in about 1.5 ms because note data stays in NumPy arrays until the `Note` tuples are built. Writing uses
mido, which gives full control over the layout of the file (a tempo track, one channel per track).

What reading does with the awkward parts of real files:

- Type 0 files are split into one track per channel; type 1 files keep their tracks (a track that
  plays on several channels is split per channel too). Tracks with no notes are dropped.
- Channel 10 is percussion: its tracks get `is_drum=True`.
- A note-on with velocity 0 is a note-off; running status is understood.
- Overlapping notes of one pitch on one channel are kept as separate notes, each note-off ending the
  oldest sounding note (first in, first out). A note-on that is never switched off is dropped.
- A note whose note-off falls on the same tick as its note-on is kept, one tick long: such zero-length
  notes are how many files write drum hits, so dropping them would silence the drums. So is one whose
  note-off was written before its note-on at that tick, as music21 writes grace notes: symusic alone
  would drop a note and lengthen others (see `midi_repair`).
- Every tempo and time signature change is kept (`Score.tempo_changes`, `Score.time_signature_changes`),
  so the notes keep their timing in seconds. Of several tempo events at one tick the last is the one
  that plays; of several time signatures at one tick the first is kept (POP909 writes a placeholder
  1/4 after the real one). An event that repeats the tempo or time signature already in force is not
  a change. Before the first event, 120 quarter notes per minute and 4/4.
- A file with no notes gives a `Score` with no tracks, at the file's resolution.
- Anything else wrong (missing, empty, not MIDI, cut short, damaged) raises `MidiError` naming the file
  and the problem; no other exception escapes, whatever the bytes.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import Literal, TypeVar

import mido
import numpy as np
import numpy.typing as npt
from symusic.core import ScoreTick, TrackTick

from opencomposer.errors import MidiError
from opencomposer.music.midi_repair import close_notes_written_off_first, drops_note_ons
from opencomposer.music.score import DEFAULT_TEMPO_QPM, Note, Score, TempoChange, TimeSignatureChange, Track

MIDI_SUFFIXES = (".mid", ".midi")
DRUM_CHANNEL = 9  # MIDI channel 10, counted from 0
MIN_VELOCITY = 1
MAX_VELOCITY = 127
# The header stores the resolution in 15 bits; the top bit would mean SMPTE time instead.
MAX_RESOLUTION = 0x7FFF
# A set-tempo event stores microseconds per quarter note in 24 bits.
MAX_MICROSECONDS_PER_QUARTER = 0xFFFFFF
_HEADER_BYTES = 14
_Change = TypeVar("_Change", TempoChange, TimeSignatureChange)
_MELODIC_CHANNELS = tuple(channel for channel in range(16) if channel != DRUM_CHANNEL)
# Builds a Note from a (pitch, start, duration, velocity) tuple in C, skipping NamedTuple's Python-level
# __new__: building the notes is most of the time it takes to read a file.
_new_note: Callable[[tuple[int, int, int, int]], Note] = partial(tuple.__new__, Note)


def read_midi(source: str | os.PathLike[str] | bytes, *, name: str | None = None) -> Score:
    """Read a standard MIDI file (type 0 or 1) into a `Score`.

    Parameters
    ----------
    source
        A path to a `.mid` / `.midi` file, or the bytes of one.
    name
        What to call the file in error messages; defaults to the path, or to "the MIDI data" when
        `source` is bytes.

    Returns
    -------
    Score
        At the file's resolution, with its tempo and time signature changes, one track per MIDI track
        and channel that holds notes (name and program kept, role "other": the caller decides roles).

    Raises
    ------
    MidiError
        When the file is missing, unreadable, empty, not a MIDI file, truncated or corrupt.
    """
    if isinstance(source, bytes):
        label = name or "the MIDI data"
        data = source
    else:
        label = name or str(source)
        data = _read_file_bytes(Path(source), label)
    _check_structure(data, label)
    parsed = _parse(data, label)
    # Rare, and the only files that pay for a closer look: a note-on left without a note-off, which is
    # what zero-length notes written note-off first lead to (see `midi_repair`).
    if drops_note_ons(data, int(parsed.note_num())):
        mended = close_notes_written_off_first(data)
        if mended is not data:
            parsed = _parse(mended, label)
    resolution = int(parsed.ticks_per_quarter)
    if resolution <= 0:
        raise MidiError(
            f"{label} is a damaged MIDI file: its header gives {resolution} ticks per quarter note; "
            "export it again from the program that made it."
        )
    tracks = tuple(track for track in (_track_from_symusic(t, label) for t in parsed.tracks) if track.notes)
    tempo, *tempo_changes = _tempo_map(parsed, label)
    time_signature, *time_signature_changes = _time_signature_map(parsed, label)
    return Score(
        resolution=resolution,
        tempo=tempo.qpm,
        time_signature=(time_signature.numerator, time_signature.denominator),
        tracks=tracks,
        tempo_changes=tuple(tempo_changes),
        time_signature_changes=tuple(time_signature_changes),
    )


def write_midi(score: Score, path: str | os.PathLike[str]) -> None:
    """Write `score` to a standard MIDI file; see `midi_to_bytes` for the layout.

    Raises
    ------
    MidiError
        When the score cannot be written as MIDI (see `midi_to_bytes`) or the file cannot be created.
    """
    data = midi_to_bytes(score)
    try:
        Path(path).write_bytes(data)
    except OSError as error:
        raise MidiError(
            f"Could not write {path}: {error.strerror or error}. Check that its folder exists and is writable."
        ) from None


def midi_to_bytes(score: Score) -> bytes:
    """Encode `score` as a type 1 standard MIDI file.

    Track 0 holds the tempo and time signature changes (at each tick the time signature first); then
    comes one MIDI track per `Track`, named after
    it, starting with a program change. Drum tracks play on channel 10; the others take channels 1-9
    and 11-16 in order (a score with more than 15 such tracks reuses channels from the start). Track
    names are stored as UTF-8. Velocities are clamped to 1-127 and notes shorter than one tick are
    written one tick long.

    Raises
    ------
    MidiError
        When a note's pitch is outside 0-127 or it starts before tick 0, or when the resolution or a
        tempo cannot be stored in a MIDI file.
    """
    if score.resolution > MAX_RESOLUTION:
        raise MidiError(
            f"A MIDI file cannot store a resolution of {score.resolution} ticks per quarter note "
            f"(at most {MAX_RESOLUTION}); resample the score to a lower resolution first."
        )
    # (tick, 0 = time signature before 1 = tempo, the event): sorted, they are the conductor track's order.
    events: list[tuple[int, int, mido.MetaMessage]] = [
        (change.tick, 0, mido.MetaMessage("time_signature", numerator=change.numerator, denominator=change.denominator))
        for change in score.get_time_signature_map()
    ]
    for change in score.get_tempo_map():
        microseconds_per_quarter = round(60_000_000 / change.qpm)
        if not 1 <= microseconds_per_quarter <= MAX_MICROSECONDS_PER_QUARTER:
            raise MidiError(
                f"A MIDI file cannot store a tempo of {change.qpm:g} quarter notes per minute; "
                f"choose a tempo of at least {60_000_000 / MAX_MICROSECONDS_PER_QUARTER:.2f}."
            )
        events.append((change.tick, 1, mido.MetaMessage("set_tempo", tempo=microseconds_per_quarter)))
    events.sort(key=itemgetter(0, 1))
    conductor = mido.MidiTrack()
    previous_tick = 0
    for tick, _, message in events:
        conductor.append(message.copy(time=tick - previous_tick))
        previous_tick = tick
    midi_file = mido.MidiFile(type=1, ticks_per_beat=score.resolution, charset="utf-8")
    midi_file.tracks.append(conductor)
    melodic_index = 0
    for track in score.tracks:
        if track.is_drum:
            channel = DRUM_CHANNEL
        else:
            channel = _MELODIC_CHANNELS[melodic_index % len(_MELODIC_CHANNELS)]
            melodic_index += 1
        midi_file.tracks.append(_track_to_mido(track, channel))
    buffer = io.BytesIO()
    midi_file.save(file=buffer)
    return buffer.getvalue()


def _read_file_bytes(path: Path, label: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise MidiError(f"{label} does not exist; check the path.") from None
    except IsADirectoryError:
        raise MidiError(f"{label} is a folder, not a MIDI file; give the path of a .mid or .midi file.") from None
    except OSError as error:
        raise MidiError(f"Could not read {label}: {error.strerror or error}.") from None


def _check_structure(data: bytes, label: str) -> None:
    """Reject what is not a MIDI file, or was cut short, with a clearer sentence than the parser's.

    symusic reads a file that stops between two tracks as if it had fewer tracks; walking the chunk
    headers (a few microseconds) catches that, and names where any other cut falls.
    """
    if not data:
        raise MidiError(f"{label} is empty (0 bytes), so it is not a MIDI file; check that it was saved completely.")
    if not data.startswith(b"MThd"):
        raise MidiError(
            f"{label} is not a MIDI file: it does not start with MThd; give a standard MIDI file (.mid or .midi)."
        )
    if len(data) < _HEADER_BYTES:
        raise MidiError(
            f"{label} is a truncated MIDI file: it ends inside its {_HEADER_BYTES}-byte header after "
            f"{len(data)} bytes; export it again from the program that made it."
        )
    announced_tracks = int.from_bytes(data[10:12], "big")
    found_tracks = 0
    position = 8 + int.from_bytes(data[4:8], "big")
    while found_tracks < announced_tracks:
        if position >= len(data):
            cut = f"it holds {found_tracks} of the {announced_tracks} tracks its header announces"
        elif position + 8 > len(data):
            cut = f"it ends inside the header of track {found_tracks + 1}"
        else:
            end = position + 8 + int.from_bytes(data[position + 4 : position + 8], "big")
            if end <= len(data):
                found_tracks += data[position : position + 4] == b"MTrk"
                position = end
                continue
            cut = f"it ends {end - len(data)} byte(s) short of the end of track {found_tracks + 1}"
        raise MidiError(f"{label} is a truncated MIDI file: {cut}; export it again from the program that made it.")


def _parse(data: bytes, label: str) -> ScoreTick:
    try:
        return ScoreTick.from_midi(data)
    except Exception as error:
        # symusic reports malformed input as RuntimeError; any failure of the parser on these bytes
        # means the file is damaged, and the caller must only ever see MidiError for that.
        raise MidiError(
            f"{label} is a damaged MIDI file ({_describe_parser_error(error)}); "
            "export it again from the program that made it."
        ) from None


def _describe_parser_error(error: Exception) -> str:
    # symusic's messages look like "MiniMidi: Unexpected EOF while reading chunk header!: iostream error".
    text = str(error).removeprefix("MiniMidi: ").removesuffix(": iostream error").strip().rstrip("!.")
    return text or type(error).__name__


def _track_from_symusic(parsed: TrackTick, label: str) -> Track:
    columns = parsed.notes.numpy()
    starts_ticks = columns["time"]
    # symusic keeps times in 32 bits: absurd delta times in a damaged file wrap around to negative ticks.
    if starts_ticks.size and min(starts_ticks.min(), columns["duration"].min()) < 0:
        raise MidiError(
            f"{label} is a damaged MIDI file: its event times run past 2^31 ticks; "
            "export it again from the program that made it."
        )
    # A zero-length note (note-off on the note-on's tick) becomes one tick long rather than vanishing.
    durations_ticks = np.maximum(columns["duration"], 1)
    pitches = columns["pitch"]
    # Sorted here, in NumPy, in the order `Track` keeps (start, pitch, duration), its own sort is linear.
    order = np.lexsort((durations_ticks, pitches, starts_ticks))
    notes = tuple(
        map(
            _new_note,
            zip(
                pitches[order].tolist(),
                starts_ticks[order].tolist(),
                durations_ticks[order].tolist(),
                columns["velocity"][order].tolist(),
                strict=True,
            ),
        )
    )
    return Track(name=parsed.name, program=int(parsed.program), is_drum=bool(parsed.is_drum), notes=notes)


def _tempo_map(parsed: ScoreTick, label: str) -> list[TempoChange]:
    """The tempo in force from tick 0, then each change (see the module docstring)."""
    columns = parsed.tempos.numpy()
    valid = columns["mspq"] > 0
    ticks = columns["time"][valid]
    microseconds_per_quarter = columns["mspq"][valid]
    changes = [TempoChange(0, DEFAULT_TEMPO_QPM)]
    kept = round(60_000_000 / DEFAULT_TEMPO_QPM)
    for tick, microseconds in _one_at_each_tick(ticks, [microseconds_per_quarter], label, keep="last"):
        if microseconds != kept:
            kept = microseconds
            _set_or_append(changes, TempoChange(tick, 60_000_000 / microseconds))
    return changes


def _time_signature_map(parsed: ScoreTick, label: str) -> list[TimeSignatureChange]:
    """The time signature in force from tick 0, then each change (see the module docstring)."""
    columns = parsed.time_signatures.numpy()
    numerators, denominators = columns["numerator"], columns["denominator"]
    # A damaged event can hold 0 or an overflowed power of two; it is skipped.
    valid = (numerators > 0) & (denominators > 0) & ((denominators & (denominators - 1)) == 0)
    changes = [TimeSignatureChange(0, 4, 4)]
    for tick, numerator, denominator in _one_at_each_tick(
        columns["time"][valid], [numerators[valid], denominators[valid]], label, keep="first"
    ):
        if (numerator, denominator) != changes[-1][1:]:
            _set_or_append(changes, TimeSignatureChange(tick, numerator, denominator))
    return changes


def _set_or_append(changes: list[_Change], change: _Change) -> None:
    """Put `change` in place of the default at tick 0, or after the changes before it."""
    if change.tick == 0:
        changes[0] = change
    else:
        changes.append(change)


def _one_at_each_tick(
    ticks: npt.NDArray[np.integer], values: list[npt.NDArray[np.integer]], label: str, keep: Literal["first", "last"]
) -> list[tuple[int, ...]]:
    """(tick, *values) of the events in time order, only the first or last written of those sharing a tick."""
    if ticks.size and ticks.min() < 0:
        raise MidiError(
            f"{label} is a damaged MIDI file: its event times run past 2^31 ticks; "
            "export it again from the program that made it."
        )
    if not ticks.size:
        return []
    order = np.argsort(ticks, kind="stable")
    ticks = ticks[order]
    boundaries = ticks[1:] != ticks[:-1]
    kept = np.append(boundaries, True) if keep == "last" else np.insert(boundaries, 0, True)
    columns = [ticks[kept].tolist(), *(column[order][kept].tolist() for column in values)]
    return list(zip(*columns, strict=True))


def _track_to_mido(track: Track, channel: int) -> mido.MidiTrack:
    events: list[tuple[int, int, int, int]] = []  # (tick, 0 = off before 1 = on, pitch, velocity)
    for note in track.notes:
        if not 0 <= note.pitch <= 127:
            raise MidiError(
                f"Track {track.name!r} has a note of pitch {note.pitch} at tick {note.start}, outside the MIDI "
                "range 0-127; transpose the track or remove the note before saving."
            )
        if note.start < 0:
            raise MidiError(
                f"Track {track.name!r} has a note that starts at tick {note.start}, before the beginning of the "
                "piece; shift the track so that every note starts at tick 0 or later before saving."
            )
        velocity = min(max(note.velocity, MIN_VELOCITY), MAX_VELOCITY)
        events.append((note.start, 1, note.pitch, velocity))
        events.append((note.start + max(note.duration, 1), 0, note.pitch, 0))
    # At one tick, note-offs go first so that a note repeated on the same pitch is not cut short.
    events.sort()
    messages: list[mido.Message | mido.MetaMessage] = [
        mido.MetaMessage("track_name", name=track.name),
        mido.Message("program_change", channel=channel, program=track.program),
    ]
    previous_tick = 0
    for tick, is_on, pitch, velocity in events:
        kind = "note_on" if is_on else "note_off"
        messages.append(mido.Message(kind, channel=channel, note=pitch, velocity=velocity, time=tick - previous_tick))
        previous_tick = tick
    return mido.MidiTrack(messages)
