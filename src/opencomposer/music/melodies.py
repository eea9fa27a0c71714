"""Built-in sample melodies: short public-domain tunes to try the techniques on.

Each tune is written in a small text notation so that a musician can proof-read it against the real
tune. A melody is a list of notes separated by spaces, with `|` between bars:

- a note is a pitch, a colon and a duration: `C4:q`, `F#4:e.`, `Bb3:h`; `C4` is middle C (MIDI 60)
  and the octave number belongs to the letter, so `Cb4` is MIDI 59 and `B#3` is MIDI 60;
- a rest is `r` and a duration: `r:h`;
- a duration is a letter, `w` (whole), `h` (half), `q` (quarter), `e` (eighth) or `s` (sixteenth),
  followed by up to two dots (`q.` is a dotted quarter) and by `t` for a triplet (`et` is one note of
  an eighth-note triplet); `+` ties durations together (`h+e`).

Every bar must last exactly one bar of the time signature (so a note never reaches across a bar
line); only the last bar may be shorter.

Conventions of the built-in tunes, which the tests check:

- A tune that starts with a pickup (an upbeat, such as the "A-" of "Amazing Grace") has its first bar
  padded with a leading rest, so that bars counted from tick 0 line up with the tune's bar lines.
  The padded bar counts as one of the tune's bars.
- Every tune lasts 4 to 8 bars (the padded pickup bar included) and its last note lasts to the end
  of its bar.
- Every tune ends on its tonic except two whose best-known opening phrase, too long to go on to
  the tonic within 8 bars, closes on the dominant: "Amazing Grace" (on "me") and "We Wish You a
  Merry Christmas" (on the second "Christmas").
- Notes are written legato: each note lasts until the next one starts (or a written rest).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from opencomposer.errors import NotationError, UnknownNameError
from opencomposer.music.score import DEFAULT_RESOLUTION, Note, Score, Track

RESOLUTION = DEFAULT_RESOLUTION
"""Ticks per quarter note of every sample melody's notes and score."""

DEFAULT_VELOCITY = 80

_LETTER_SEMITONES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ACCIDENTAL_SEMITONES = {"": 0, "#": 1, "##": 2, "b": -1, "bb": -2}
_DURATION_QUARTERS = {
    "w": Fraction(4),
    "h": Fraction(2),
    "q": Fraction(1),
    "e": Fraction(1, 2),
    "s": Fraction(1, 4),
}
_NOTE = re.compile(r"(?:(?P<rest>r)|(?P<letter>[A-G])(?P<accidental>##|#|bb|b)?(?P<octave>-?\d)):(?P<duration>\S+)")
_DURATION = re.compile(r"(?P<letter>[whqes])(?P<dots>\.{0,2})(?P<triplet>t?)")
_NOTE_HELP = "write a pitch such as C4, F#3 or Bb5 (or r for a rest), a colon and a duration such as q, e., h+q or et"


@dataclass(frozen=True, slots=True)
class SampleMelody:
    """A short public-domain tune that ships with OpenComposer.

    Parameters
    ----------
    name
        The tune's id: a slug of lowercase letters, digits and hyphens, for example ``"ode-to-joy"``,
        used on the command line and in the studio's API.
    title
        The tune's usual title.
    composer_or_origin
        Composer, or where the tune comes from when it is traditional.
    key
        Tonic and mode, for example ``"C major"`` or ``"A minor"``.
    tempo
        Quarter notes per minute.
    time_signature
        (numerator, denominator), for example (3, 4).
    notes
        The melody, monophonic, at `RESOLUTION` ticks per quarter note; a pickup starts after a rest.
    """

    name: str
    title: str
    composer_or_origin: str
    key: str
    tempo: float
    time_signature: tuple[int, int]
    notes: tuple[Note, ...]

    def to_score(self) -> Score:
        """The melody as a one-track score: track "Melody", role "melody", piano (program 0)."""
        track = Track(name="Melody", program=0, is_drum=False, notes=self.notes, role="melody")
        return Score(resolution=RESOLUTION, tempo=self.tempo, time_signature=self.time_signature, tracks=(track,))


def parse_melody(
    notation: str,
    time_signature: tuple[int, int] = (4, 4),
    resolution: int = RESOLUTION,
    velocity: int = DEFAULT_VELOCITY,
) -> tuple[Note, ...]:
    """Read a melody written in the note notation described at the top of this module.

    Parameters
    ----------
    notation
        Notes and rests separated by spaces, bars separated by ``|``, for example
        ``"C4:q C4:q G4:q G4:q | A4:q A4:q G4:h"``.
    time_signature
        (numerator, denominator); every bar but the last must last exactly one bar of it.
    resolution
        Ticks per quarter note of the returned notes.
    velocity
        MIDI velocity (1-127) given to every note.

    Returns
    -------
    tuple[Note, ...]
        The notes in time order, starting at tick 0 (a leading rest delays the first note).

    Raises
    ------
    NotationError
        When a note, a rest or a duration cannot be read, a pitch falls outside MIDI's 0-127, a
        duration is not a whole number of ticks at `resolution`, or a bar has the wrong length.
    """
    numerator, denominator = time_signature
    bar_quarters = Fraction(4 * numerator, denominator)
    bars = notation.replace("|", " | ").split("|")
    if bars and not bars[-1].strip():
        bars.pop()
    if not bars or not any(bar.strip() for bar in bars):
        raise NotationError("The melody has no notes; write notes such as 'C4:q D4:q E4:h', bars separated by '|'.")
    notes: list[Note] = []
    position_quarters = Fraction(0)
    for bar_number, bar in enumerate(bars, start=1):
        tokens = bar.split()
        if not tokens:
            raise NotationError(
                f"Bar {bar_number} of the melody is empty; write a rest such as 'r:w' for a silent bar."
            )
        bar_start_quarters = position_quarters
        for token in tokens:
            pitch, quarters = _parse_token(token, bar_number)
            if pitch is not None:
                start = _quarters_to_ticks(position_quarters, resolution, token, bar_number)
                end = _quarters_to_ticks(position_quarters + quarters, resolution, token, bar_number)
                notes.append(Note(pitch, start, end - start, velocity))
            position_quarters += quarters
        bar_quarters_played = position_quarters - bar_start_quarters
        is_last = bar_number == len(bars)
        if bar_quarters_played > bar_quarters or (bar_quarters_played < bar_quarters and not is_last):
            raise NotationError(
                f"Bar {bar_number} of the melody lasts {_format_quarters(bar_quarters_played)} quarter notes but a "
                f"{numerator}/{denominator} bar lasts {_format_quarters(bar_quarters)}; fix the durations in that bar."
            )
    if not notes:
        raise NotationError("The melody has only rests; write at least one note such as 'C4:q'.")
    return tuple(notes)


def list_melodies() -> list[SampleMelody]:
    """All built-in sample melodies, in a fixed order (the best-known first)."""
    return list(_MELODIES)


def get_melody(name: str) -> SampleMelody:
    """The built-in sample melody called `name` (see `list_melodies`).

    Raises
    ------
    UnknownNameError
        When there is no sample melody of that name; the message lists the valid names. Case does not
        matter, and an underscore counts as a hyphen: ``ode_to_joy``, the spelling of earlier versions
        that older compositions and scripts may still use, finds ``ode-to-joy``.
    """
    wanted = name.strip().lower().replace("_", "-")
    for melody in _MELODIES:
        if melody.name == wanted:
            return melody
    valid = ", ".join(melody.name for melody in _MELODIES)
    raise UnknownNameError(f"There is no sample melody called {name!r}; choose one of: {valid}.")


def _parse_token(token: str, bar_number: int) -> tuple[int | None, Fraction]:
    """The MIDI pitch (None for a rest) and the length in quarter notes of one note or rest."""
    match = _NOTE.fullmatch(token)
    if match is None:
        raise NotationError(f"Cannot read {token!r} in bar {bar_number} of the melody: {_NOTE_HELP}.")
    quarters = Fraction(0)
    for part in match["duration"].split("+"):
        duration = _DURATION.fullmatch(part)
        if duration is None:
            raise NotationError(
                f"Cannot read the duration of {token!r} in bar {bar_number} of the melody: {_NOTE_HELP}."
            )
        length = _DURATION_QUARTERS[duration["letter"]]
        # Each dot adds half of what the previous value added: q. = 1 + 1/2, q.. = 1 + 1/2 + 1/4.
        length *= 2 - Fraction(1, 2 ** len(duration["dots"]))
        if duration["triplet"]:
            length *= Fraction(2, 3)
        quarters += length
    if match["rest"]:
        return None, quarters
    pitch = (
        12 * (int(match["octave"]) + 1)
        + _LETTER_SEMITONES[match["letter"]]
        + _ACCIDENTAL_SEMITONES[match["accidental"] or ""]
    )
    if not 0 <= pitch <= 127:
        raise NotationError(
            f"The pitch of {token!r} in bar {bar_number} is MIDI {pitch}, outside 0-127; use an octave from -1 to 9."
        )
    return pitch, quarters


def _quarters_to_ticks(quarters: Fraction, resolution: int, token: str, bar_number: int) -> int:
    ticks = quarters * resolution
    if ticks.denominator != 1:
        raise NotationError(
            f"{token!r} in bar {bar_number} does not fall on a whole tick at {resolution} ticks per quarter note; "
            "use a resolution divisible by 3 (for triplets) and by 4 (for sixteenths), such as 480."
        )
    return int(ticks)


def _format_quarters(quarters: Fraction) -> str:
    return str(quarters) if quarters.denominator != 1 else str(quarters.numerator)


def _melody(
    name: str,
    title: str,
    composer_or_origin: str,
    key: str,
    tempo: float,
    time_signature: tuple[int, int],
    notation: str,
) -> SampleMelody:
    notes = parse_melody(notation, time_signature)
    return SampleMelody(name, title, composer_or_origin, key, tempo, time_signature, notes)


_MELODIES: tuple[SampleMelody, ...] = (
    _melody(
        "twinkle",
        "Twinkle, Twinkle, Little Star",
        "French traditional (Ah! vous dirai-je, maman), 18th century",
        "C major",
        100.0,
        (4, 4),
        # The tune's first phrase, "Twinkle, twinkle, little star, how I wonder what you are".
        "C4:q C4:q G4:q G4:q | A4:q A4:q G4:h | F4:q F4:q E4:q E4:q | D4:q D4:q C4:h",
    ),
    _melody(
        "ode-to-joy",
        "Ode to Joy",
        "Ludwig van Beethoven, Symphony No. 9 (1824)",
        "D major",
        120.0,
        (4, 4),
        # Beethoven's key; the first eight bars, closing on the tonic with the dotted "E. D D".
        "F#4:q F#4:q G4:q A4:q | A4:q G4:q F#4:q E4:q | D4:q D4:q E4:q F#4:q | F#4:q. E4:e E4:h | "
        "F#4:q F#4:q G4:q A4:q | A4:q G4:q F#4:q E4:q | D4:q D4:q E4:q F#4:q | E4:q. D4:e D4:h",
    ),
    _melody(
        "mary-lamb",
        "Mary Had a Little Lamb",
        "American traditional (Lowell Mason), 1830s",
        "C major",
        120.0,
        (4, 4),
        "E4:q D4:q C4:q D4:q | E4:q E4:q E4:h | D4:q D4:q D4:h | E4:q G4:q G4:h | "
        "E4:q D4:q C4:q D4:q | E4:q E4:q E4:q E4:q | D4:q D4:q E4:q D4:q | C4:w",
    ),
    _melody(
        "new-world",
        "Largo from the New World Symphony",
        "Antonín Dvořák, Symphony No. 9 From the New World (1893)",
        "Db major",
        52.0,
        (4, 4),
        # The cor anglais theme ("Goin' Home") at Dvořák's Largo, quarter = 52.
        "F4:q. Ab4:e Ab4:h | F4:q. Eb4:e Db4:h | Eb4:q. F4:e Ab4:q. F4:e | Eb4:w | "
        "F4:q. Ab4:e Ab4:h | F4:q. Eb4:e Db4:h | Eb4:q F4:q Eb4:q. Db4:e | Db4:w",
    ),
    _melody(
        "jingle-bells",
        "Jingle Bells (chorus)",
        "James Lord Pierpont (1857)",
        "G major",
        160.0,
        (4, 4),
        # The second half of the chorus, which closes on the tonic ("... in a one-horse open sleigh").
        "B4:q B4:q B4:h | B4:q B4:q B4:h | B4:q D5:q G4:q. A4:e | B4:w | "
        "C5:q C5:q C5:q. C5:e | C5:q B4:q B4:q B4:e B4:e | D5:q D5:q C5:q A4:q | G4:w",
    ),
    _melody(
        "frere-jacques",
        "Frère Jacques",
        "French traditional, 18th century",
        "F major",
        110.0,
        (4, 4),
        "F4:q G4:q A4:q F4:q | F4:q G4:q A4:q F4:q | A4:q Bb4:q C5:h | A4:q Bb4:q C5:h | "
        "C5:e D5:e C5:e Bb4:e A4:q F4:q | C5:e D5:e C5:e Bb4:e A4:q F4:q | F4:q C4:q F4:h | F4:q C4:q F4:h",
    ),
    _melody(
        "amazing-grace",
        "Amazing Grace",
        "American hymn tune New Britain (1829), words by John Newton",
        "G major",
        80.0,
        (3, 4),
        # Pickup "A-" on beat 3 of a padded bar; the phrase closes on the dominant at "me".
        "r:h D4:q | G4:h B4:e G4:e | B4:h A4:q | G4:h E4:q | D4:h D4:q | G4:h B4:e G4:e | B4:h A4:q | D5:h.",
    ),
    _melody(
        "greensleeves",
        "Greensleeves",
        "English traditional, 16th century",
        "A minor",
        100.0,
        (3, 4),
        # The verse's second line ("And I have loved you well and long..."): it opens like the first
        # line ("Alas, my love...") and, unlike it, closes on the tonic. Pickup on beat 3.
        "r:h A4:q | C5:h D5:q | E5:q. F5:e E5:q | D5:h B4:q | G4:q. A4:e B4:q | C5:q. B4:e A4:q | "
        "G#4:q. F#4:e G#4:q | A4:h.",
    ),
    _melody(
        "deck-the-halls",
        "Deck the Halls",
        "Welsh traditional (Nos Galan)",
        "F major",
        120.0,
        (4, 4),
        # "Deck the halls with boughs of holly, fa la la..." and "'Tis the season...", sung to the same notes.
        "C5:q. Bb4:e A4:q G4:q | F4:q G4:q A4:q F4:q | G4:e A4:e Bb4:e G4:e A4:q. G4:e | F4:q E4:q F4:h | "
        "C5:q. Bb4:e A4:q G4:q | F4:q G4:q A4:q F4:q | G4:e A4:e Bb4:e G4:e A4:q. G4:e | F4:q E4:q F4:h",
    ),
    _melody(
        "merry-christmas",
        "We Wish You a Merry Christmas",
        "English traditional (West Country)",
        "G major",
        144.0,
        (3, 4),
        # Pickup "We" on beat 3 of a padded bar; two lines, closing on the dominant at "Christmas".
        "r:h D4:q | G4:q G4:e A4:e G4:e F#4:e | E4:q E4:q E4:q | A4:q A4:e B4:e A4:e G4:e | F#4:q D4:h",
    ),
    _melody(
        "row-your-boat",
        "Row, Row, Row Your Boat",
        "American traditional (Eliphalet Oram Lyte, 1881)",
        "C major",
        108.0,
        (6, 8),
        "C4:q. C4:q. | C4:q D4:e E4:q. | E4:q D4:e E4:q F4:e | G4:h. | "
        "C5:e C5:e C5:e G4:e G4:e G4:e | E4:e E4:e E4:e C4:e C4:e C4:e | G4:q F4:e E4:q D4:e | C4:h.",
    ),
    _melody(
        "yankee-doodle",
        "Yankee Doodle",
        "American traditional, 18th century",
        "G major",
        180.0,
        (4, 4),
        "G4:q G4:q A4:q B4:q | G4:q B4:q A4:q D4:q | G4:q G4:q A4:q B4:q | G4:h F#4:h | "
        "G4:q G4:q A4:q B4:q | C5:q B4:q A4:q G4:q | F#4:q D4:q E4:q F#4:q | G4:h G4:h",
    ),
    _melody(
        "minuet-in-g",
        "Minuet in G",
        "Christian Petzold (long credited to J. S. Bach), about 1725",
        "G major",
        120.0,
        (3, 4),
        # Bars 9-16: the opening phrase again, now closing on the tonic instead of the half cadence of bar 8.
        "D5:q G4:e A4:e B4:e C5:e | D5:q G4:q G4:q | E5:q C5:e D5:e E5:e F#5:e | G5:q G4:q G4:q | "
        "C5:q D5:e C5:e B4:e A4:e | B4:q C5:e B4:e A4:e G4:e | A4:q B4:e A4:e G4:e F#4:e | G4:h.",
    ),
    _melody(
        "joy-to-the-world",
        "Joy to the World",
        "Lowell Mason, hymn tune Antioch (1839), words by Isaac Watts",
        "D major",
        144.0,
        (4, 4),
        # "Joy to the world, the Lord is come, let earth receive her King": the scale down and back up.
        "D5:h C#5:q. B4:e | A4:h. G4:q | F#4:h E4:h | D4:h. A4:q | B4:h. B4:q | C#5:h. C#5:q | D5:w",
    ),
)
