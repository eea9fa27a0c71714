"""General MIDI program and drum names."""

from __future__ import annotations

import pytest

from opencomposer.errors import UnknownNameError
from opencomposer.music.instruments import (
    GM_PROGRAM_NAMES,
    PROGRAM_ALIASES,
    drum_note_to_name,
    name_to_program,
    program_to_name,
)


def test_there_are_128_distinct_program_names() -> None:
    assert len(GM_PROGRAM_NAMES) == 128
    assert len(set(GM_PROGRAM_NAMES)) == 128


@pytest.mark.parametrize(
    ("program", "name"),
    [(0, "Acoustic Grand Piano"), (33, "Electric Bass (finger)"), (40, "Violin"), (73, "Flute"), (127, "Gunshot")],
)
def test_program_to_name(program: int, name: str) -> None:
    assert program_to_name(program) == name


@pytest.mark.parametrize("program", [-1, 128])
def test_a_program_outside_0_127_has_no_name(program: int) -> None:
    with pytest.raises(ValueError, match=f"{program} is not a General MIDI program"):
        program_to_name(program)


def test_every_name_maps_back_to_its_program() -> None:
    assert [name_to_program(name) for name in GM_PROGRAM_NAMES] == list(range(128))


@pytest.mark.parametrize(
    ("name", "program"),
    [
        ("acoustic grand piano", 0),
        ("ACOUSTIC-GRAND-PIANO", 0),
        ("electric bass finger", 33),
        ("piano", 0),
        ("Strings", 48),
        ("brass", 61),
        ("bass", 32),
        ("flute", 73),
        ("choir", 52),
        ("  Cello ", 42),
    ],
)
def test_name_to_program_ignores_case_and_punctuation_and_knows_aliases(name: str, program: int) -> None:
    assert name_to_program(name) == program


def test_aliases_point_at_programs() -> None:
    assert all(0 <= program <= 127 for program in PROGRAM_ALIASES.values())


def test_an_unknown_name_suggests_close_ones() -> None:
    with pytest.raises(UnknownNameError, match=r"'violni' is not a General MIDI instrument.*did you mean 'Violin'"):
        name_to_program("violni")


@pytest.mark.parametrize("name", ["violni", "xyzzy"])
def test_an_unknown_name_lists_valid_ones(name: str) -> None:
    with pytest.raises(UnknownNameError, match=rf"'{name}' .*'piano', 'strings'.*'Acoustic Grand Piano'"):
        name_to_program(name)


def test_a_name_like_nothing_gets_no_guess() -> None:
    with pytest.raises(UnknownNameError) as raised:
        name_to_program("xyzzy")
    assert "did you mean" not in str(raised.value)


@pytest.mark.parametrize(
    ("pitch", "name"), [(35, "Acoustic Bass Drum"), (36, "Bass Drum 1"), (38, "Acoustic Snare"), (81, "Open Triangle")]
)
def test_drum_note_to_name(pitch: int, name: str) -> None:
    assert drum_note_to_name(pitch) == name


@pytest.mark.parametrize("pitch", [0, 34, 82, 127])
def test_notes_outside_the_drum_map_have_no_drum_name(pitch: int) -> None:
    assert drum_note_to_name(pitch) is None
