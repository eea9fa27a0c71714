"""The built-in sample melodies: are they the real tunes, written the same way?"""

from __future__ import annotations

import re
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import pytest

from opencomposer.errors import NotationError, UnknownNameError
from opencomposer.music.melodies import RESOLUTION, SampleMelody, get_melody, list_melodies, parse_melody
from opencomposer.music.midi import read_midi

MELODIES = list_melodies()
BY_NAME = {melody.name: melody for melody in MELODIES}

REQUIRED = {
    "twinkle",
    "ode-to-joy",
    "mary-lamb",
    "new-world",
    "jingle-bells",
    "frere-jacques",
    "amazing-grace",
    "greensleeves",
    "deck-the-halls",
    "merry-christmas",
}
# Notes outside the stated key's scale (natural minor for minor keys) that the real tune has.
ACCIDENTALS = {"greensleeves": {"F#", "G#"}}  # the raised 6th and 7th of the closing cadence
# Tunes whose excerpt closes on the dominant (a half cadence) rather than on the tonic.
DOMINANT_ENDINGS = {"amazing-grace", "merry-christmas"}
# Pickups, in quarter notes, played at the end of a first bar padded with a rest.
PICKUP_QUARTERS = {"amazing-grace": 1, "greensleeves": 1, "merry-christmas": 1}

PITCH_CLASS_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")  # accidentals spelled as sharps
SCALE_STEPS = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
LETTER_PITCH_CLASSES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def parse_key(key: str) -> tuple[int, str]:
    """(tonic pitch class, mode) of a key such as "Db major"; fails the test on any other spelling."""
    match = re.fullmatch(r"([A-G])(#|b)? (major|minor)", key)
    assert match is not None, f"key {key!r} is not written like 'C major', 'F# minor' or 'Bb major'"
    letter, accidental, mode = match.groups()
    tonic = (LETTER_PITCH_CLASSES[letter] + {"#": 1, "b": -1, None: 0}[accidental]) % 12
    return tonic, mode


def intervals(pitches: list[int]) -> list[int]:
    return [b - a for a, b in pairwise(pitches)]


def melody_ids(melody: SampleMelody) -> str:
    return melody.name


each_melody = pytest.mark.parametrize("melody", MELODIES, ids=melody_ids)


def test_there_are_at_least_twelve_melodies_with_the_promised_ones() -> None:
    names = [melody.name for melody in MELODIES]
    assert len(names) >= 12
    assert len(set(names)) == len(names), "two melodies share a name"
    assert set(names) >= REQUIRED


def test_the_exception_lists_name_real_melodies() -> None:
    assert set(ACCIDENTALS) | DOMINANT_ENDINGS | set(PICKUP_QUARTERS) <= set(BY_NAME)


@each_melody
def test_the_name_can_be_typed_on_a_command_line(melody: SampleMelody) -> None:
    assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", melody.name)
    assert melody.title
    assert melody.composer_or_origin
    assert get_melody(melody.name.upper()) is melody


def test_the_underscore_names_of_earlier_versions_still_work() -> None:
    assert get_melody("ode_to_joy") is get_melody("ode-to-joy")
    assert get_melody(" Joy_To_The_World ") is get_melody("joy-to-the-world")


@each_melody
def test_lasts_4_to_8_whole_bars(melody: SampleMelody) -> None:
    score = melody.to_score()
    assert 4 <= score.n_bars <= 8
    assert score.end % score.ticks_per_bar == 0, "the last note should last to the end of its bar"


@each_melody
def test_starts_on_the_first_beat_or_with_a_pickup_after_a_padding_rest(melody: SampleMelody) -> None:
    score = melody.to_score()
    pickup_ticks = PICKUP_QUARTERS.get(melody.name, 0) * RESOLUTION
    expected_start = score.ticks_per_bar - pickup_ticks if pickup_ticks else 0
    assert melody.notes[0].start == expected_start


@each_melody
def test_is_one_line_of_notes_that_never_overlap(melody: SampleMelody) -> None:
    assert all(note.duration > 0 for note in melody.notes)
    for before, after in pairwise(melody.notes):
        assert after.start >= before.end, f"{after} starts before {before} ends"


@each_melody
def test_never_leaps_more_than_an_octave(melody: SampleMelody) -> None:
    # A note written in the wrong octave almost always shows up as a leap wider than an octave.
    pitches = [note.pitch for note in melody.notes]
    assert max(abs(step) for step in intervals(pitches)) <= 12


@each_melody
def test_stays_in_its_key_apart_from_the_tunes_own_accidentals(melody: SampleMelody) -> None:
    tonic, mode = parse_key(melody.key)
    scale = {(tonic + step) % 12 for step in SCALE_STEPS[mode]}
    outside = {PITCH_CLASS_NAMES[note.pitch % 12] for note in melody.notes if note.pitch % 12 not in scale}
    assert outside == ACCIDENTALS.get(melody.name, set())


@each_melody
def test_ends_on_the_tonic_or_on_a_listed_half_cadence(melody: SampleMelody) -> None:
    tonic, _ = parse_key(melody.key)
    expected = (tonic + 7) % 12 if melody.name in DOMINANT_ENDINGS else tonic
    assert melody.notes[-1].pitch % 12 == expected


@each_melody
def test_to_score_gives_one_piano_melody_track(melody: SampleMelody) -> None:
    score = melody.to_score()
    assert score.resolution == 480
    assert score.tempo == melody.tempo
    assert score.time_signature == melody.time_signature
    assert len(score.tracks) == 1
    track = score.tracks[0]
    assert (track.name, track.role, track.program, track.is_drum) == ("Melody", "melody", 0, False)
    assert track.notes == melody.notes


@pytest.mark.parametrize(
    ("name", "opening_intervals"),
    [
        ("twinkle", [0, 7, 0, 2, 0, -2]),  # C C G G A A G
        ("ode-to-joy", [0, 1, 2, 0, -2, -1, -2]),  # E E F G G F E D
        ("mary-lamb", [-2, -2, 2, 2, 0, 0]),  # E D C D E E E
        ("frere-jacques", [2, 2, -4, 0, 2, 2, -4]),  # C D E C C D E C
        ("jingle-bells", [0, 0, 0, 0, 0, 0, 3, -7, 2, 2]),  # E E E E E E E G C D E
        ("amazing-grace", [5, 4, -4, 4, -2]),  # A-ma-zing grace how: D G B G B A
        ("joy-to-the-world", [-1, -2, -2, -2, -1, -2, -2]),  # the major scale down from the tonic
    ],
)
def test_opening_follows_the_tunes_intervals(name: str, opening_intervals: list[int]) -> None:
    pitches = [note.pitch for note in get_melody(name).notes[: len(opening_intervals) + 1]]
    assert intervals(pitches) == opening_intervals


@pytest.mark.parametrize(
    ("name", "opening_quarters"),
    [
        ("twinkle", [1, 1, 1, 1, 1, 1, 2]),
        ("ode-to-joy", [1] * 12 + [Fraction(3, 2), Fraction(1, 2), 2]),  # "... E. D D" at the end of bar 4
        ("new-world", [Fraction(3, 2), Fraction(1, 2), 2, Fraction(3, 2), Fraction(1, 2), 2]),
        ("greensleeves", [1, 2, 1, Fraction(3, 2), Fraction(1, 2), 1]),  # A | C- D | E. F E
    ],
)
def test_opening_follows_the_tunes_rhythm(name: str, opening_quarters: list[int | Fraction]) -> None:
    notes = get_melody(name).notes[: len(opening_quarters)]
    assert [Fraction(note.duration, RESOLUTION) for note in notes] == opening_quarters


def top_line(path: Path) -> list[tuple[int, Fraction]]:
    """(pitch, onset in quarter notes) of the highest note sounding at each onset: the tune over its bass line."""
    score = read_midi(path)
    notes = [note for track in score.tracks for note in track.notes]
    top = [
        note
        for note in notes
        if not any(other.pitch > note.pitch and other.start <= note.start < other.end for other in notes)
    ]
    return [(note.pitch, Fraction(note.start, score.resolution)) for note in sorted(top, key=lambda note: note.start)]


@pytest.mark.parametrize(
    ("name", "file_name", "n_notes"),
    [
        ("twinkle", "twinkle_twinkle.midi", 14),  # "... how I wonder what you are"
        ("ode-to-joy", "ode_to_joy.midi", 30),  # all eight bars
        ("new-world", "new_world.midi", 22),  # all eight bars
        ("deck-the-halls", "deck_the_halls.midi", 17),  # "Deck the halls ... fa la la la la"
    ],
)
def test_matches_the_deepcomposer_sample_input(shared_data: Path, name: str, file_name: str, n_notes: int) -> None:
    reference = top_line(shared_data / "deepcomposer" / "sample-inputs" / file_name)[:n_notes]
    ours = [(note.pitch, Fraction(note.start, RESOLUTION)) for note in get_melody(name).notes[:n_notes]]
    assert len(reference) == n_notes
    # Their key may differ from ours: compare the tunes transposed to start on the same pitch and beat.
    transposition = ours[0][0] - reference[0][0]
    first_onset = reference[0][1]
    assert ours == [(pitch + transposition, onset - first_onset) for pitch, onset in reference]


def test_twinkle_is_in_the_same_key_as_the_deepcomposer_sample(shared_data: Path) -> None:
    reference = top_line(shared_data / "deepcomposer" / "sample-inputs" / "twinkle_twinkle.midi")
    assert [note.pitch for note in get_melody("twinkle").notes] == [pitch for pitch, _ in reference[:14]]


def test_get_melody_names_the_valid_choices_for_an_unknown_name() -> None:
    with pytest.raises(UnknownNameError) as caught:
        get_melody("happy_birthday")
    message = str(caught.value)
    assert "happy_birthday" in message
    assert all(name in message for name in BY_NAME)


def test_list_melodies_returns_a_fresh_list() -> None:
    first = list_melodies()
    first.clear()
    assert len(list_melodies()) == len(MELODIES)


def test_notation_reads_pitches_accidentals_and_octaves() -> None:
    notes = parse_melody("C4:q C#4:q Bb3:q Cb4:q | B#3:q F##4:q A0:q G9:q")
    assert [note.pitch for note in notes] == [60, 61, 58, 59, 60, 67, 21, 127]


def test_notation_reads_dots_triplets_ties_and_rests() -> None:
    notes = parse_melody("r:e C4:q. D4:et E4:et F4:et C5:q | G4:h+q r:s A4:s B4:e", resolution=480)
    assert [(note.pitch, note.start, note.duration) for note in notes] == [
        (60, 240, 720),
        (62, 960, 160),
        (64, 1120, 160),
        (65, 1280, 160),
        (72, 1440, 480),
        (67, 1920, 1440),
        (69, 3480, 120),
        (71, 3600, 240),
    ]


def test_notation_reads_double_dots_and_compound_time() -> None:
    notes = parse_melody("C4:q.. D4:s E4:q | F4:h.", time_signature=(6, 8))
    assert [note.duration for note in notes] == [840, 120, 480, 1440]


def test_notation_gives_every_note_the_velocity_asked_for() -> None:
    assert {note.velocity for note in parse_melody("C4:q D4:q", velocity=100)} == {100}


def test_notation_allows_a_short_last_bar_only() -> None:
    assert parse_melody("C4:w | D4:q")[-1].start == 1920
    with pytest.raises(NotationError, match=r"Bar 1 .* lasts 3 quarter notes but a 4/4 bar lasts 4"):
        parse_melody("C4:q D4:q E4:q | F4:w")


def test_notation_rejects_a_bar_that_is_too_long() -> None:
    with pytest.raises(NotationError, match=r"Bar 2 .* lasts 7/2 quarter notes but a 3/4 bar lasts 3"):
        parse_melody("C4:h. | D4:h. E4:e", time_signature=(3, 4))


@pytest.mark.parametrize(
    ("notation", "message"),
    [
        ("C4:q H4:q", r"Cannot read 'H4:q' in bar 1"),
        ("C4 D4", r"Cannot read 'C4' in bar 1"),
        ("C4:x", r"Cannot read the duration of 'C4:x'"),
        ("C4:w | | D4:q", r"Bar 2 of the melody is empty"),
        ("", r"no notes"),
        ("r:w", r"only rests"),
        ("C-1:q Cb-1:q", r"MIDI -1, outside 0-127"),
    ],
)
def test_notation_errors_say_what_to_fix(notation: str, message: str) -> None:
    with pytest.raises(NotationError, match=message):
        parse_melody(notation)


def test_notation_rejects_triplets_that_do_not_fit_the_resolution() -> None:
    with pytest.raises(NotationError, match="whole tick at 100 ticks per quarter note"):
        parse_melody("C4:et C4:et C4:et", resolution=100)
