"""Real MIDI files from the shared data folder: the DeepComposer inputs, POP909 and Nottingham."""

from __future__ import annotations

from pathlib import Path

import pytest

from opencomposer.music.midi import read_midi
from opencomposer.music.score import Track

SAMPLE_INPUTS = [
    "deck_the_halls.midi",
    "gan_input_twinkle_twinkle.mid",
    "me_and_my_jar_by_Jonathan_Coulton.midi",
    "merry_christmas.midi",
    "new_world.midi",
    "ode_to_joy.midi",
    "twinkle_twinkle.midi",
]
PITCH_CLASS_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def top_line(track: Track) -> list[str]:
    """The highest note at each onset, as pitch-class names: the tune of a melody-with-bass track."""
    highest: dict[int, int] = {}
    for note in track.notes:
        highest[note.start] = max(highest.get(note.start, 0), note.pitch)
    return [PITCH_CLASS_NAMES[highest[start] % 12] for start in sorted(highest)]


def test_every_deepcomposer_sample_input_is_read(shared_data: Path) -> None:
    folder = shared_data / "deepcomposer" / "sample-inputs"
    assert sorted(path.name for path in folder.iterdir() if path.suffix in (".mid", ".midi")) == SAMPLE_INPUTS
    for name in SAMPLE_INPUTS:
        score = read_midi(folder / name)
        assert len(score.tracks) == 1, name
        assert score.n_notes > 0, name
        assert score.tempo in (100.0, 120.0), name


@pytest.mark.parametrize("name", ["twinkle_twinkle.midi", "gan_input_twinkle_twinkle.mid"])
def test_twinkle_starts_with_c_c_g_g_a_a_g(shared_data: Path, name: str) -> None:
    score = read_midi(shared_data / "deepcomposer" / "sample-inputs" / name)
    assert top_line(score.tracks[0])[:7] == ["C", "C", "G", "G", "A", "A", "G"]


def test_a_pop909_song_has_melody_bridge_and_piano(shared_data: Path) -> None:
    score = read_midi(shared_data / "pop909" / "001" / "001.mid")
    assert [track.name for track in score.tracks] == ["MELODY", "BRIDGE", "PIANO"]
    assert score.resolution == 480
    assert score.tempo == pytest.approx(90.0, abs=0.01)
    assert score.n_notes == 1556


@pytest.mark.slow
def test_every_pop909_song_is_read(shared_data: Path) -> None:
    paths = sorted(shared_data.glob("pop909/*/*.mid"))
    assert len(paths) == 909
    for path in paths:
        assert read_midi(path).n_notes > 0, path


@pytest.mark.slow
def test_every_nottingham_tune_is_read(shared_data: Path) -> None:
    paths = sorted(shared_data.glob("nottingham/MIDI/*.mid"))
    assert len(paths) == 1034
    for path in paths:
        assert read_midi(path).n_notes > 0, path
