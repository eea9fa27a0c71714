"""Chord symbols: reading them (Jazzomat's and Harte's syntax, pitch-class sets), voicing them, finding them.

A `Chord` is a root pitch class and the intervals above it that the symbol names (``Bb7`` is root 10,
intervals (0, 4, 7, 10)); its `quality` folds every symbol into one of four families that decide how a
chord's tones sound against a melody: ``maj`` (major triads, sixths, major sevenths, added tones),
``min`` (minor triads and sevenths, minor sixths), ``dom`` (dominant sevenths and their extensions,
suspended fourths) and ``dim`` (diminished and half-diminished chords, augmented ones).

`estimate_chord` finds the chord that a bag of sounding pitch classes spells best (template matching,
as in Pardo and Birmingham's "Algorithms for chordal analysis", 2002): the yardstick's harmony and the
label of an orchestral texture, never a learnt model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

QUALITIES = ("maj", "min", "dom", "dim")
"""The four chord families, in a fixed order (their index is used as a number)."""

TEMPLATES: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dom": (0, 4, 7, 10),
    "dim": (0, 3, 6),
}
"""The tones that spell each family, as intervals above the root."""

PITCH_CLASS_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


@dataclass(frozen=True, slots=True)
class Chord:
    """A chord symbol: `root` pitch class (0 = C) and the `intervals` above it, 0 first and sorted."""

    root: int
    intervals: tuple[int, ...]

    @property
    def quality(self) -> str:
        """The chord's family, one of `QUALITIES`."""
        return quality_of(self.intervals)

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        """The pitch classes the chord holds, sorted."""
        return tuple(sorted({(self.root + interval) % 12 for interval in self.intervals}))

    @property
    def name(self) -> str:
        """A short readable name: ``Bb7``, ``F#m``, ``Cmaj7``, ``Bdim``."""
        suffix = {"maj": "", "min": "m", "dom": "7", "dim": "dim"}[self.quality]
        if self.quality == "maj" and 11 in self.intervals:
            suffix = "maj7"
        elif self.quality == "min" and 10 in self.intervals:
            suffix = "m7"
        return PITCH_CLASS_NAMES[self.root % 12] + suffix


def quality_of(intervals: tuple[int, ...] | list[int]) -> str:
    """The family of a set of intervals above a root (see the module docstring)."""
    tones = {interval % 12 for interval in intervals}
    minor_third, major_third = 3 in tones, 4 in tones
    if minor_third and 6 in tones and 7 not in tones:
        return "dim"
    if major_third and 8 in tones and 7 not in tones:
        return "dim"  # augmented: as unstable as a diminished chord, and as rare
    if major_third and 10 in tones:
        return "dom"
    if not minor_third and not major_third and 5 in tones and 10 in tones:
        return "dom"  # a suspended seventh
    if minor_third and not major_third:
        return "min"
    return "maj"


def parse_note_name(text: str) -> tuple[int, str] | None:
    """The pitch class of a note name at the start of `text` (``Bb``, ``F#``, ``C``) and the rest; None if none."""
    match = re.match(r"([A-Ga-g])([#b]*)(.*)$", text)
    if match is None:
        return None
    letter, accidentals, rest = match.groups()
    pitch_class = _LETTERS[letter.upper()] + accidentals.count("#") - accidentals.count("b")
    return pitch_class % 12, rest


_JAZZOMAT_QUALITIES: tuple[tuple[str, tuple[int, ...]], ...] = (
    # Longest first: the first prefix that matches the symbol's rest names its intervals.
    ("m7b5", (0, 3, 6, 10)),
    ("-7b5", (0, 3, 6, 10)),
    ("-j7", (0, 3, 7, 11)),
    ("o7", (0, 3, 6, 9)),
    ("+7", (0, 4, 8, 10)),
    ("sus7", (0, 5, 7, 10)),
    ("sus", (0, 5, 7)),
    ("j7", (0, 4, 7, 11)),
    ("-7", (0, 3, 7, 10)),
    ("-6", (0, 3, 7, 9)),
    ("-", (0, 3, 7)),
    ("o", (0, 3, 6)),
    ("+", (0, 4, 8)),
    ("7", (0, 4, 7, 10)),
    ("6", (0, 4, 7, 9)),
    ("9", (0, 4, 7, 10)),
    ("13", (0, 4, 7, 10)),
    ("11", (0, 5, 7, 10)),
)


def parse_jazzomat(symbol: str) -> Chord | None:
    """A chord in the Weimar Jazz Database's syntax (``Bb7``, ``F-7``, ``Ebj7``, ``Am7b5``, ``C79b``, ``Db/F``).

    Extensions after the seventh (``9b``, ``911#``) and a slash bass are read past; ``NC`` and an empty
    or unreadable symbol give None.
    """
    text = symbol.strip().strip("'\"")
    if not text or text.upper().startswith("NC"):
        return None
    text = text.split("/")[0]
    parsed = parse_note_name(text)
    if parsed is None:
        return None
    root, rest = parsed
    for prefix, intervals in _JAZZOMAT_QUALITIES:
        if rest.startswith(prefix):
            return Chord(root, intervals)
    return Chord(root, (0, 4, 7))


_HARTE_QUALITIES = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "sus2": (0, 2, 7),
    "sus4": (0, 5, 7),
    "maj7": (0, 4, 7, 11),
    "min7": (0, 3, 7, 10),
    "7": (0, 4, 7, 10),
    "dim7": (0, 3, 6, 9),
    "hdim7": (0, 3, 6, 10),
    "minmaj7": (0, 3, 7, 11),
    "maj6": (0, 4, 7, 9),
    "min6": (0, 3, 7, 9),
    "9": (0, 4, 7, 10),
    "maj9": (0, 4, 7, 11),
    "min9": (0, 3, 7, 10),
    "sus4(b7)": (0, 5, 7, 10),
}


def parse_harte(label: str) -> Chord | None:
    """A chord in Harte's syntax as POP909 writes it (``B:maj``, ``A:min7/b7``, ``N`` for none)."""
    text = label.strip()
    if not text or text in ("N", "X"):
        return None
    root_text, _, rest = text.partition(":")
    parsed = parse_note_name(root_text)
    if parsed is None:
        return None
    quality = rest.split("/")[0] or "maj"
    intervals = _HARTE_QUALITIES.get(quality) or _HARTE_QUALITIES.get(quality.split("(")[0], (0, 4, 7))
    return Chord(parsed[0], intervals)


def from_pitch_classes(root: int, pitch_classes: list[int] | tuple[int, ...]) -> Chord:
    """The chord with this root that holds these pitch classes (music21's ChordSymbol gives both)."""
    intervals = sorted({(pitch_class - root) % 12 for pitch_class in pitch_classes} | {0})
    return Chord(root % 12, tuple(intervals))


def voicing(chord: Chord, low: int = 48) -> list[int]:
    """The chord's tones as MIDI pitches in close position, its root the lowest pitch at or above `low`."""
    root = low + (chord.root - low) % 12
    return [root + interval for interval in chord.intervals]


def estimate_chord(weights: npt.ArrayLike, *, min_weight: float = 1e-9) -> Chord | None:
    """The triad or seventh that best spells a pitch-class histogram (12 weights), None for silence.

    Each candidate (12 roots x 4 families) scores the weight on its tones minus the weight off them,
    less a little for each of its tones that is not heard at all; ties go to the simpler family.
    """
    return estimate_chords(np.asarray(weights, dtype=np.float64).reshape(1, 12), min_weight=min_weight)[0]


def estimate_chords(
    weights: npt.ArrayLike, *, min_weight: float = 1e-9, bass: npt.ArrayLike | None = None
) -> list[Chord | None]:
    """`estimate_chord` of every row of an (n, 12) array of pitch-class weights, at once.

    `bass`, the pitch class of each row's lowest note (-1 for none), settles a tie between chords that share
    their tones (A minor and C major sixth, F minor seventh and A-flat major sixth) in favour of the one whose
    root is in the bass.
    """
    values = np.asarray(weights, dtype=np.float64).reshape(-1, 12)
    candidates = [(quality, root) for quality in QUALITIES for root in range(12)]
    tones = np.zeros((len(candidates), 12))
    for row, (quality, root) in enumerate(candidates):
        tones[row, [(root + interval) % 12 for interval in TEMPLATES[quality]]] = 1.0
    total = values.sum(axis=1, keepdims=True)
    on = values @ tones.T  # (n, candidates)
    missing = (values <= min_weight).astype(np.float64) @ tones.T
    is_dom = np.array([quality == "dom" for quality, _ in candidates], dtype=np.float64)
    score = 2.0 * on - total - 0.1 * total * missing - 0.01 * total * is_dom[None, :]
    if bass is not None:
        lowest = np.asarray(bass, dtype=np.int64).reshape(-1)
        roots = np.array([root for _, root in candidates])
        score += 0.05 * total * (roots[None, :] == lowest[:, None])
    best = np.argmax(score - 1e-12 * np.arange(len(candidates))[None, :], axis=1)
    return [
        None if total[row, 0] <= min_weight else Chord(candidates[index][1], TEMPLATES[candidates[index][0]])
        for row, index in enumerate(best.tolist())
    ]
