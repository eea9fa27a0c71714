"""Chord symbols rendered as a track: one block chord per span, so lead-sheet datasets share one Chords layout."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from opencomposer.music.chords import Chord, voicing
from opencomposer.music.score import Note

CHORD_VELOCITY = 70
"""The velocity of every note of a rendered Chords track."""

CHORD_LOW_PITCH = 48
"""The lowest root of a rendered chord (C3): blocks sit in the octave above it, below most tunes."""


class ChordSpan(NamedTuple):
    """A chord symbol held from tick `start` to tick `end`; `chord` is None for "no chord"."""

    start: int
    end: int
    chord: Chord | None


def chord_notes(spans: Iterable[ChordSpan], *, velocity: int = CHORD_VELOCITY) -> list[Note]:
    """One close-position block (`voicing(chord, low=48)`) per span; "no chord" and empty spans sound nothing."""
    return [
        Note(pitch, span.start, span.end - span.start, velocity)
        for span in spans
        if span.chord is not None and span.end > span.start
        for pitch in voicing(span.chord, low=CHORD_LOW_PITCH)
    ]
