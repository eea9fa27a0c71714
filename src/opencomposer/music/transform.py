"""Transforms: pure functions that take a score and return a new one.

Nothing here changes its input (scores are immutable). A request that a transform cannot honour, such
as a quantization grid that does not fit the score's resolution or a transposition past the MIDI pitch
range, raises `TransformError` with a sentence saying what to ask for instead; a track that does not
exist raises `UnknownNameError`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction
from typing import NoReturn

import numpy as np

from opencomposer.errors import TransformError, UnknownNameError
from opencomposer.music.score import Note, Score, Track

MIN_TEMPO_QPM = 20.0
MAX_TEMPO_QPM = 400.0
MIN_PITCH = 0
MAX_PITCH = 127

# A monophonic track gets this many semitones added to its mean pitch when `melody_track` guesses.
MONOPHONY_BONUS_SEMITONES = 12.0

_PITCH_CLASS_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_GRID_PATTERN = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")
# Whole words, so that "Violin II" and "Leader" do not count; "Voice Oohs" is the General MIDI choir pad.
_MELODY_NAME_PATTERN = re.compile(
    r"\b(?:melod(?:y|ie|ia|ía)|lead|vocals?|voice(?!\s*oohs)|vox|singer|soprano?|canto"
    r"|(?:violin[eo]?s?|violini|vln|vl)\.?\s*(?:1|i))\b",
    re.IGNORECASE,
)


def quantize(score: Score, grid: str | Fraction, strength: float = 1.0) -> Score:
    """Move note onsets and ends toward the nearest line of a rhythmic grid.

    Parameters
    ----------
    score
        The score to quantize; every track, drums included.
    grid
        The grid spacing as a fraction of a whole note: "1/8" (eighths), "1/16", "1/12" (triplet
        eighths), or a `Fraction`. It must be a whole number of ticks at the score's resolution.
    strength
        How far (0 to 1) each onset and end moves toward its grid line: 1 snaps exactly, 0.5 goes
        half way, 0 leaves the timing alone.

    Returns
    -------
    Score
        A new score. Fully quantized, a note ends at least one grid step after its onset (a note that
        would snap to zero length is lengthened to one step); at any strength a note keeps at least one
        tick. Notes of one pitch in one track whose onsets land on the same tick merge into one (the
        later end, the louder velocity), and a note still sounding when its pitch is struck again is
        cut at that onset, so no two notes of one pitch overlap.

    Raises
    ------
    TransformError
        When `grid` is malformed or not a whole number of ticks, or `strength` is outside 0-1.
    """
    grid_ticks = _grid_to_ticks(grid, score.resolution)
    if not (math.isfinite(strength) and 0.0 <= strength <= 1.0):
        raise TransformError(f"Quantize strength must be between 0 and 1, not {strength}; use 1 to snap fully.")
    tracks = []
    for track in score.tracks:
        moved = [_quantize_note(note, grid_ticks, strength) for note in track.notes]
        tracks.append(track.with_notes(_resolve_same_pitch_overlaps(moved)))
    return score.with_tracks(tracks)


def _grid_to_ticks(grid: str | Fraction, resolution: int) -> int:
    """The grid spacing in ticks; a whole note is four quarter notes of `resolution` ticks."""
    if isinstance(grid, str):
        match = _GRID_PATTERN.fullmatch(grid)
        if match is None or int(match.group(1)) == 0 or int(match.group(2)) == 0:
            raise TransformError(
                f"Quantize grid {grid!r} is not a fraction of a whole note; write it like '1/8', '1/16' or '1/12'."
            )
        fraction = Fraction(int(match.group(1)), int(match.group(2)))
    else:
        fraction = Fraction(grid)
        if fraction <= 0:
            raise TransformError(f"Quantize grid {fraction} must be a positive fraction of a whole note, like 1/16.")
    ticks = fraction * 4 * resolution
    if ticks.denominator != 1:
        raise TransformError(
            f"A {fraction} grid is {float(ticks):.3g} ticks at a resolution of {resolution} ticks per quarter note, "
            "not a whole number; pick a coarser grid or a score with a finer resolution."
        )
    return int(ticks)


def _snap_ticks(ticks: int, grid_ticks: int) -> int:
    """The grid line nearest to `ticks`; a tick half way between two lines goes to the later one."""
    return (2 * ticks + grid_ticks) // (2 * grid_ticks) * grid_ticks


def _quantize_note(note: Note, grid_ticks: int, strength: float) -> Note:
    target_start = _snap_ticks(note.start, grid_ticks)
    target_end = max(_snap_ticks(note.end, grid_ticks), target_start + grid_ticks)
    start = note.start + math.floor(strength * (target_start - note.start) + 0.5)
    end = note.end + math.floor(strength * (target_end - note.end) + 0.5)
    return note._replace(start=start, duration=max(end - start, 1))


def _resolve_same_pitch_overlaps(notes: list[Note]) -> list[Note]:
    """Merge same-pitch notes that start together; cut a same-pitch note where the next one starts."""
    by_pitch: dict[int, list[Note]] = {}
    for note in sorted(notes, key=lambda n: (n.pitch, n.start)):
        group = by_pitch.setdefault(note.pitch, [])
        if group and group[-1].start == note.start:
            previous = group[-1]
            group[-1] = previous._replace(
                duration=max(previous.duration, note.duration), velocity=max(previous.velocity, note.velocity)
            )
        elif group and group[-1].end > note.start:
            group[-1] = group[-1]._replace(duration=note.start - group[-1].start)
            group.append(note)
        else:
            group.append(note)
    return [note for group in by_pitch.values() for note in group]


def transpose(score: Score, semitones: int, *, include_drums: bool = False) -> Score:
    """Shift every pitch by a number of semitones.

    Parameters
    ----------
    score
        The score to transpose.
    semitones
        The shift, up when positive.
    include_drums
        Also shift drum tracks. Off by default: a drum pitch names a sound (38 is a snare), not a note.

    Returns
    -------
    Score
        A new score; velocities and timing are unchanged.

    Raises
    ------
    TransformError
        When a note would leave the MIDI range 0-127; the message names the note and the largest shift
        that fits.
    """
    shifted = [track for track in score.tracks if include_drums or not track.is_drum]
    pitches = [note.pitch for track in shifted for note in track.notes]
    if pitches:
        highest, lowest = max(pitches), min(pitches)
        if highest + semitones > MAX_PITCH:
            _raise_out_of_range(score, shifted, highest, semitones, MAX_PITCH, f"at most +{MAX_PITCH - highest}")
        if lowest + semitones < MIN_PITCH:
            _raise_out_of_range(score, shifted, lowest, semitones, MIN_PITCH, f"at least -{lowest - MIN_PITCH}")
    return score.with_tracks(
        [
            track.with_notes([note._replace(pitch=note.pitch + semitones) for note in track.notes])
            if include_drums or not track.is_drum
            else track
            for track in score.tracks
        ]
    )


def _raise_out_of_range(
    score: Score, shifted: list[Track], pitch: int, semitones: int, limit: int, allowed: str
) -> NoReturn:
    track, note = next((t, n) for t in shifted for n in t.notes if n.pitch == pitch)
    side = "above the highest" if limit == MAX_PITCH else "below the lowest"
    raise TransformError(
        f"Transposing by {semitones:+d} semitones would move {_pitch_name(pitch)} (pitch {pitch}) in track "
        f"{track.name!r} at bar {note.start // score.ticks_per_bar + 1} to {pitch + semitones}, {side} MIDI "
        f"pitch {limit}; use a shift of {allowed}."
    )


def _pitch_name(pitch: int) -> str:
    """Scientific pitch name, middle C (60) being C4."""
    return f"{_PITCH_CLASS_NAMES[pitch % 12]}{pitch // 12 - 1}"


def set_tempo(score: Score, tempo: float) -> Score:
    """The same notes at another tempo, in quarter notes per minute (20-400).

    Ticks are unchanged, so the piece plays faster or slower; its length in seconds scales by
    `score.tempo / tempo`. A score that changes tempo starts at `tempo`, and every later tempo is
    scaled alike, so the piece keeps its accelerandos and ritardandos.

    Raises
    ------
    TransformError
        When `tempo` is outside 20-400 quarter notes per minute.
    """
    if not (math.isfinite(tempo) and MIN_TEMPO_QPM <= tempo <= MAX_TEMPO_QPM):
        raise TransformError(
            f"Tempo {tempo} is outside {MIN_TEMPO_QPM:g}-{MAX_TEMPO_QPM:g} quarter notes per minute; pick one inside."
        )
    scale = tempo / score.tempo
    return replace(
        score,
        tempo=float(tempo),
        tempo_changes=tuple(change._replace(qpm=change.qpm * scale) for change in score.tempo_changes),
    )


def crop(score: Score, start_bar: int, bars: int) -> Score:
    """Keep bars [start_bar, start_bar + bars), shifted to start at tick 0.

    Parameters
    ----------
    score
        The score to crop; bars are counted with its first time signature from tick 0.
    start_bar
        The first bar kept, counting from 0. It must start before the end of the last note.
    bars
        How many bars to keep (at least 1). A range that runs past the end keeps what there is.

    Returns
    -------
    Score
        A new score with the same tracks. A note that crosses a boundary keeps only its part inside the
        range; a zero-length note is kept when its onset is inside. The tempo and time signature in force
        at the start of the range hold from tick 0, and the changes inside the range move with the notes.

    Raises
    ------
    TransformError
        When `start_bar` is negative or past the end of the score, or `bars` is less than 1.
    """
    if bars < 1:
        raise TransformError(f"Crop needs at least 1 bar, not {bars}.")
    if score.n_bars == 0:
        raise TransformError("This score has no notes, so there are no bars to crop.")
    if not 0 <= start_bar < score.n_bars:
        raise TransformError(
            f"Crop cannot start at bar {start_bar}: the score has {score.n_bars} bars, numbered from 0 "
            f"to {score.n_bars - 1}; pick a start bar in that range."
        )
    low_ticks = start_bar * score.ticks_per_bar
    high_ticks = low_ticks + bars * score.ticks_per_bar
    tracks = []
    for track in score.tracks:
        notes = []
        for note in track.notes:
            start, end = max(note.start, low_ticks), min(note.end, high_ticks)
            if start < end or (note.duration == 0 and low_ticks <= note.start < high_ticks):
                notes.append(note._replace(start=start - low_ticks, duration=max(end - start, 0)))
        tracks.append(track.with_notes(notes))
    tempo = [change for change in score.get_tempo_map() if change.tick <= low_ticks][-1]
    time_signature = [change for change in score.get_time_signature_map() if change.tick <= low_ticks][-1]
    return replace(
        score,
        tempo=tempo.qpm,
        time_signature=(time_signature.numerator, time_signature.denominator),
        tracks=tuple(tracks),
        tempo_changes=tuple(
            change._replace(tick=change.tick - low_ticks)
            for change in score.tempo_changes
            if low_ticks < change.tick < high_ticks
        ),
        time_signature_changes=tuple(
            change._replace(tick=change.tick - low_ticks)
            for change in score.time_signature_changes
            if low_ticks < change.tick < high_ticks
        ),
    )


def select_tracks(score: Score, names_or_indices: Sequence[str | int]) -> Score:
    """Keep some tracks, in the order given.

    Parameters
    ----------
    score
        The score to select from.
    names_or_indices
        Track names (the first track of that name) or 0-based positions; a string of digits that names
        no track is read as a position, so command-line input works unchanged. A track may be named twice.

    Raises
    ------
    UnknownNameError
        For a name or position that is not in the score; the message lists the tracks.
    TransformError
        When nothing is selected.
    """
    if not names_or_indices:
        raise TransformError(f"Select at least one track; the score has {_describe_tracks(score)}.")
    return score.with_tracks([score.tracks[_track_index(score, key)] for key in names_or_indices])


def _track_index(score: Score, key: str | int) -> int:
    if isinstance(key, str):
        for index, track in enumerate(score.tracks):
            if track.name == key:
                return index
        if not key.isdigit():
            raise UnknownNameError(f"This score has no track called {key!r}; it has {_describe_tracks(score)}.")
        key = int(key)
    if not 0 <= key < len(score.tracks):
        raise UnknownNameError(f"This score has no track number {key}; it has {_describe_tracks(score)}.")
    return key


def _describe_tracks(score: Score) -> str:
    if not score.tracks:
        return "no tracks"
    return "tracks " + ", ".join(f"{index}: {track.name!r}" for index, track in enumerate(score.tracks))


def melody_track(score: Score) -> int:
    """The index of the track that carries the melody.

    Only non-drum tracks with at least one note are candidates. The first rule that finds one wins:

    1. the first candidate whose `role` is "melody";
    2. the first candidate whose name reads like a melody part ("Melody", "Lead", "Vocals", "Voice",
       "Soprano", "Violin 1", "Violino I", "Vln. 1", ..., case-insensitive, as whole words);
    3. the candidate with the highest `mean_pitch + 12 * monophony`, where `mean_pitch` is the mean MIDI
       pitch of its notes and `monophony` is the share (0-1) of the ticks during which the track sounds
       that have exactly one note sounding. A fully monophonic line thus beats a chordal part unless
       the chords sit more than an octave higher on average. Ties go to the earlier track.

    Raises
    ------
    TransformError
        When no non-drum track has any note.
    """
    candidates = [index for index, track in enumerate(score.tracks) if track.notes and not track.is_drum]
    if not candidates:
        raise TransformError("This score has no pitched notes (only drums or nothing), so it has no melody track.")
    for index in candidates:
        if score.tracks[index].role == "melody":
            return index
    for index in candidates:
        if _MELODY_NAME_PATTERN.search(score.tracks[index].name):
            return index
    return max(candidates, key=lambda index: (_melody_likeness(score.tracks[index]), -index))


def _melody_likeness(track: Track) -> float:
    pitches = np.array([note.pitch for note in track.notes], dtype=np.float64)
    return float(pitches.mean()) + MONOPHONY_BONUS_SEMITONES * _monophony(track)


def _monophony(track: Track) -> float:
    """The share (0-1) of a track's sounding ticks with exactly one note sounding; 1.0 if it never sounds."""
    starts = np.array([note.start for note in track.notes], dtype=np.int64)
    ends = np.array([note.end for note in track.notes], dtype=np.int64)
    times_ticks, inverse = np.unique(np.concatenate([starts, ends]), return_inverse=True)
    # Number of notes sounding in each span between consecutive onset/end times.
    changes = np.zeros(len(times_ticks), dtype=np.int64)
    np.add.at(changes, inverse[: len(starts)], 1)
    np.add.at(changes, inverse[len(starts) :], -1)
    sounding = np.cumsum(changes)[:-1]
    spans_ticks = np.diff(times_ticks)
    sounding_ticks = int(spans_ticks[sounding > 0].sum())
    if sounding_ticks == 0:
        return 1.0
    return int(spans_ticks[sounding == 1].sum()) / sounding_ticks


def set_roles(score: Score, melody: int) -> Score:
    """Mark one track as the melody and the other pitched tracks as accompaniment; drums become "other".

    Parameters
    ----------
    score
        The score.
    melody
        Index of the melody track, for example from `melody_track`.

    Raises
    ------
    UnknownNameError
        When there is no track at that index.
    TransformError
        When that track is a drum track.
    """
    index = _track_index(score, melody)
    if score.tracks[index].is_drum:
        raise TransformError(
            f"Track {index} ({score.tracks[index].name!r}) is a drum track and cannot be the melody; "
            "pick a pitched track."
        )
    return score.with_tracks(
        [
            replace(track, role="other" if track.is_drum else "melody" if i == index else "accompaniment")
            for i, track in enumerate(score.tracks)
        ]
    )
