"""General MIDI instrument and drum names.

The tables come from pretty_midi (the General MIDI 1 program and percussion maps); this module adds
case- and punctuation-insensitive look-up and short aliases such as "piano" or "strings".
"""

from __future__ import annotations

import difflib
import re

import pretty_midi

from opencomposer.errors import UnknownNameError

GM_PROGRAM_NAMES: tuple[str, ...] = tuple(pretty_midi.INSTRUMENT_MAP)
"""The 128 General MIDI program names; index = program number (0-127)."""

GM_DRUM_NAMES: dict[int, str] = {pitch: name for pitch, name in enumerate(pretty_midi.DRUM_MAP, start=35)}
"""General MIDI percussion names for channel 10, by note number (35-81)."""

PROGRAM_ALIASES: dict[str, int] = {
    "piano": 0,
    "grand piano": 0,
    "electric piano": 4,
    "organ": 19,
    "guitar": 24,
    "electric guitar": 27,
    "bass": 32,
    "electric bass": 33,
    "synth bass": 38,
    "strings": 48,
    "choir": 52,
    "voice": 52,
    "brass": 61,
    "sax": 65,
    "saxophone": 65,
    "harp": 46,
    "lead": 80,
    "synth lead": 80,
    "pad": 88,
    "synth pad": 88,
}
"""Short names a user may type, mapped to the General MIDI program they most often mean."""

_NON_ALPHANUMERIC = re.compile(r"[^0-9a-z]+")


def _normalize(name: str) -> str:
    return _NON_ALPHANUMERIC.sub("", name.casefold())


_PROGRAM_BY_NAME: dict[str, int] = {
    **{_normalize(alias): program for alias, program in PROGRAM_ALIASES.items()},
    **{_normalize(name): program for program, name in enumerate(GM_PROGRAM_NAMES)},
}


def program_to_name(program: int) -> str:
    """The General MIDI name of `program` (0-127), for example 0 -> "Acoustic Grand Piano".

    Raises
    ------
    ValueError
        When `program` is outside 0-127 (a `Track` never holds such a program).
    """
    if not 0 <= program < len(GM_PROGRAM_NAMES):
        raise ValueError(f"{program} is not a General MIDI program number (0-127).")
    return GM_PROGRAM_NAMES[program]


def name_to_program(name: str) -> int:
    """The General MIDI program for an instrument name or alias.

    Matching ignores case, spaces and punctuation: "Acoustic Grand Piano", "acoustic-grand piano" and the
    alias "piano" all give 0. Aliases are in `PROGRAM_ALIASES`.

    Raises
    ------
    UnknownNameError
        When `name` is neither a General MIDI name nor an alias; the message suggests close names.
    """
    program = _PROGRAM_BY_NAME.get(_normalize(name))
    if program is not None:
        return program
    candidates = {candidate.casefold(): candidate for candidate in [*GM_PROGRAM_NAMES, *PROGRAM_ALIASES]}
    close = difflib.get_close_matches(name.casefold(), list(candidates), n=3, cutoff=0.6)
    guess = f"did you mean {' or '.join(repr(candidates[c]) for c in close)}? " if close else ""
    raise UnknownNameError(
        f"{name!r} is not a General MIDI instrument name or alias; {guess}Short names such as 'piano', 'strings', "
        "'bass', 'brass', 'flute' and 'choir' work, as do the 128 General MIDI names such as 'Acoustic Grand Piano'."
    )


def drum_note_to_name(pitch: int) -> str | None:
    """The General MIDI percussion sound that note `pitch` plays on channel 10 ("Acoustic Snare" for
    38), or None for a note outside the General MIDI drum map (35-81)."""
    return GM_DRUM_NAMES.get(pitch)
