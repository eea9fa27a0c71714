"""The core music model: `Note`, `Track` and `Score`.

Every time in this module is an integer number of ticks; `Score.resolution` says how many ticks make a
quarter note. Objects are immutable: transforms return new scores, so an input melody that a technique
receives can always be handed back exactly as it was given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from operator import itemgetter
from typing import Literal, NamedTuple

Role = Literal["melody", "accompaniment", "other"]
ROLES: tuple[Role, ...] = ("melody", "accompaniment", "other")

DEFAULT_RESOLUTION = 480
DEFAULT_TEMPO_QPM = 120.0


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
        Quarter notes per minute. A score has one tempo: readers that meet tempo changes keep the first.
    time_signature
        (numerator, denominator), for example (3, 4).
    tracks
        The tracks, in order. Order matters: models map tracks to roll channels by position.
    """

    resolution: int = DEFAULT_RESOLUTION
    tempo: float = DEFAULT_TEMPO_QPM
    time_signature: tuple[int, int] = (4, 4)
    tracks: tuple[Track, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.resolution <= 0:
            raise ValueError(f"resolution must be a positive number of ticks per quarter note, not {self.resolution}.")
        if not (math.isfinite(self.tempo) and self.tempo > 0):
            raise ValueError(f"tempo must be a positive number of quarter notes per minute, not {self.tempo}.")
        numerator, denominator = self.time_signature
        if numerator <= 0 or denominator <= 0 or denominator & (denominator - 1):
            raise ValueError(f"time signature {numerator}/{denominator} is not valid.")
        object.__setattr__(self, "tracks", tuple(self.tracks))

    @property
    def ticks_per_beat(self) -> int:
        """Ticks in one beat of the time signature (a quarter in 4/4, an eighth in 6/8)."""
        return self.resolution * 4 // self.time_signature[1]

    @property
    def ticks_per_bar(self) -> int:
        """Ticks in one bar of the time signature."""
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

    def ticks_to_seconds(self, ticks: float) -> float:
        """Convert a time in ticks to seconds at the score's tempo."""
        return ticks * 60.0 / (self.tempo * self.resolution)

    def seconds_to_ticks(self, seconds: float) -> int:
        """Convert a time in seconds to the nearest tick at the score's tempo."""
        return round(seconds * self.tempo * self.resolution / 60.0)

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
        """The same score (resolution, tempo, time signature) holding other tracks."""
        return replace(self, tracks=tuple(tracks))
