"""The core music model: `Note`, `Track` and `Score`, with a score's tempo and time signature changes.

Every time in this module is an integer number of ticks; `Score.resolution` says how many ticks make a
quarter note. Objects are immutable: transforms return new scores, so an input melody that a technique
receives can always be handed back exactly as it was given.

A score keeps its tempo map the way pretty_midi and symusic do: `tempo` and `time_signature` hold
from tick 0 (everything that needs one value, such as piano rolls counted in ticks and steps, uses
them), and `tempo_changes` and `time_signature_changes` list the changes after tick 0. Conversions
between ticks and seconds follow the whole map; past its last change the last tempo holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from itertools import pairwise
from operator import itemgetter
from typing import Literal, NamedTuple

Role = Literal["melody", "accompaniment", "other"]
ROLES: tuple[Role, ...] = ("melody", "accompaniment", "other")

DEFAULT_RESOLUTION = 480
DEFAULT_TEMPO_QPM = 120.0


class TempoChange(NamedTuple):
    """From tick `tick` on, the piece plays at `qpm` quarter notes per minute."""

    tick: int
    qpm: float


class TimeSignatureChange(NamedTuple):
    """From tick `tick` on, bars hold `numerator` notes of 1/`denominator` of a whole note."""

    tick: int
    numerator: int
    denominator: int


class Note(NamedTuple):
    """One note: MIDI `pitch` (0-127), `start` and `duration` in ticks, MIDI `velocity` (1-127)."""

    pitch: int
    start: int
    duration: int
    velocity: int = 80

    @property
    def end(self) -> int:
        """The tick at which the note stops sounding."""
        return self.start + self.duration


@dataclass(frozen=True, slots=True)
class Track:
    """A sequence of notes played by one instrument.

    `program` is a General MIDI program number (0-127); `is_drum` marks a percussion track (MIDI
    channel 10), whose pitches name drum sounds. `role` says what the track does in the piece.
    Notes are kept sorted by (start, pitch).
    """

    name: str = ""
    program: int = 0
    is_drum: bool = False
    notes: tuple[Note, ...] = ()
    role: Role = "other"

    def __post_init__(self) -> None:
        if not 0 <= self.program <= 127:
            raise ValueError(f"Track {self.name!r}: program {self.program} is not a General MIDI program (0-127).")
        if self.role not in ROLES:
            raise ValueError(f"Track {self.name!r}: role {self.role!r} is not one of {', '.join(ROLES)}.")
        # A plain tuple comparison would order notes by pitch first; Timsort is linear on sorted input.
        object.__setattr__(self, "notes", tuple(sorted(self.notes, key=_note_order)))

    @property
    def end(self) -> int:
        """The tick at which the last note of the track stops sounding (0 for an empty track)."""
        return max((note.end for note in self.notes), default=0)

    def with_notes(self, notes: tuple[Note, ...] | list[Note]) -> Track:
        """The same track (name, program, role) holding other notes."""
        return replace(self, notes=tuple(notes))


# (start, pitch, duration): a C-level key function, much faster than a lambda on large tracks.
_note_order = itemgetter(1, 0, 2)


@dataclass(frozen=True, slots=True)
class Score:
    """A multi-track piece.

    Parameters
    ----------
    resolution
        Ticks per quarter note.
    tempo
        Quarter notes per minute from tick 0 (until the first of `tempo_changes`).
    time_signature
        (numerator, denominator) from tick 0, for example (3, 4).
    tracks
        The tracks, in order. Order matters: models map tracks to roll channels by position.
    tempo_changes
        The later tempo changes, at ticks after 0, in order of their ticks (none: one tempo throughout).
    time_signature_changes
        The later time signature changes, at ticks after 0, in order of their ticks.
    """

    resolution: int = DEFAULT_RESOLUTION
    tempo: float = DEFAULT_TEMPO_QPM
    time_signature: tuple[int, int] = (4, 4)
    tracks: tuple[Track, ...] = field(default_factory=tuple)
    tempo_changes: tuple[TempoChange, ...] = ()
    time_signature_changes: tuple[TimeSignatureChange, ...] = ()

    def __post_init__(self) -> None:
        if self.resolution <= 0:
            raise ValueError(f"resolution must be a positive number of ticks per quarter note, not {self.resolution}.")
        tempo_changes = tuple(TempoChange(*change) for change in self.tempo_changes)
        for qpm in (self.tempo, *(change.qpm for change in tempo_changes)):
            if not (math.isfinite(qpm) and qpm > 0):
                raise ValueError(f"tempo must be a positive number of quarter notes per minute, not {qpm}.")
        time_signature_changes = tuple(TimeSignatureChange(*change) for change in self.time_signature_changes)
        for numerator, denominator in (self.time_signature, *(change[1:] for change in time_signature_changes)):
            if numerator <= 0 or denominator <= 0 or denominator & (denominator - 1):
                raise ValueError(f"time signature {numerator}/{denominator} is not valid.")
        for name, changes in (("tempo", tempo_changes), ("time signature", time_signature_changes)):
            ticks = [0, *(change.tick for change in changes)]
            if any(later <= earlier for earlier, later in pairwise(ticks)):
                raise ValueError(
                    f"{name} changes must fall after tick 0, one per tick, in order; got ticks {ticks[1:]}."
                )
        object.__setattr__(self, "tracks", tuple(self.tracks))
        object.__setattr__(self, "tempo_changes", tempo_changes)
        object.__setattr__(self, "time_signature_changes", time_signature_changes)

    @property
    def ticks_per_beat(self) -> int:
        """Ticks in one beat of the first time signature (a quarter in 4/4, an eighth in 6/8)."""
        return self.resolution * 4 // self.time_signature[1]

    @property
    def ticks_per_bar(self) -> int:
        """Ticks in one bar of the first time signature."""
        numerator, denominator = self.time_signature
        return self.resolution * 4 * numerator // denominator

    @property
    def end(self) -> int:
        """The tick at which the last note stops sounding (0 for a score with no notes)."""
        return max((track.end for track in self.tracks), default=0)

    @property
    def n_bars(self) -> int:
        """Number of bars the notes reach into (0 for a score with no notes)."""
        return -(-self.end // self.ticks_per_bar)

    @property
    def n_notes(self) -> int:
        """Number of notes in all tracks."""
        return sum(len(track.notes) for track in self.tracks)

    def get_tempo_map(self) -> tuple[TempoChange, ...]:
        """Every tempo of the score with the tick it starts at, the first at tick 0."""
        return (TempoChange(0, self.tempo), *self.tempo_changes)

    def get_time_signature_map(self) -> tuple[TimeSignatureChange, ...]:
        """Every time signature of the score with the tick it starts at, the first at tick 0."""
        return (TimeSignatureChange(0, *self.time_signature), *self.time_signature_changes)

    def ticks_to_seconds(self, ticks: float) -> float:
        """Convert a time in ticks to seconds from tick 0, following the tempo map."""
        seconds, tick, qpm = 0.0, 0, self.tempo
        for change in self.tempo_changes:
            if change.tick >= ticks:
                break
            seconds += (change.tick - tick) * 60.0 / (qpm * self.resolution)
            tick, qpm = change.tick, change.qpm
        return seconds + (ticks - tick) * 60.0 / (qpm * self.resolution)

    def seconds_to_ticks(self, seconds: float) -> int:
        """Convert a time in seconds from tick 0 to the nearest tick, following the tempo map."""
        at_seconds, tick, qpm = 0.0, 0, self.tempo
        for change in self.tempo_changes:
            change_seconds = at_seconds + (change.tick - tick) * 60.0 / (qpm * self.resolution)
            if change_seconds > seconds:
                break
            at_seconds, tick, qpm = change_seconds, change.tick, change.qpm
        return round(tick + (seconds - at_seconds) * qpm * self.resolution / 60.0)

    def get_duration_seconds(self) -> float:
        """Length of the score, from tick 0 to the end of its last note, in seconds."""
        return self.ticks_to_seconds(self.end)

    def get_track(self, name: str) -> Track:
        """The first track called `name`; raises `KeyError` when there is none."""
        for track in self.tracks:
            if track.name == name:
                return track
        raise KeyError(f"This score has no track called {name!r}; its tracks are {[t.name for t in self.tracks]}.")

    def with_tracks(self, tracks: tuple[Track, ...] | list[Track]) -> Score:
        """The same score (resolution, tempo and time signature maps) holding other tracks."""
        return replace(self, tracks=tuple(tracks))
