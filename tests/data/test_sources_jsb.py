"""The JSB chorale datasets: published split sizes, voice assignment, held notes, bad pieces and files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from opencomposer.data import registry
from opencomposer.data.registry import get_dataset, read_report
from opencomposer.data.sources.jsb import (
    SATB_TRACKS,
    JsbChorales,
    JsbSatb,
    VoiceSteps,
    pitch_sets_to_voices,
    separated_to_voices,
    voices_to_score,
)
from opencomposer.errors import DatasetError, UnknownNameError
from opencomposer.music.score import Note

JSB_NAMES = ["jsb", "jsb-8th", "jsb-quarter", "jsb-satb"]


@pytest.fixture
def private_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data directory, with no shared copy to fall back on."""
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(registry, "shared_data_dirs", lambda: [])
    return tmp_path / "data"


@pytest.mark.slow
@pytest.mark.parametrize("name", JSB_NAMES)
def test_published_split_sizes_at_every_resolution(shared_data: Path, name: str) -> None:
    report = read_report(get_dataset(name))

    assert report.pieces_per_split == {"train": 229, "valid": 76, "test": 77}
    assert not report.skipped


@pytest.mark.parametrize("name", JSB_NAMES)
def test_every_piece_has_the_satb_layout(shared_data: Path, name: str) -> None:
    piece = next(get_dataset(name).iter_pieces("valid"))

    assert [(t.name, t.role) for t in piece.score.tracks] == [(s.name, s.role) for s in SATB_TRACKS]
    assert piece.split == "valid"
    assert piece.id == f"{name}/valid/0"


def test_soprano_sits_above_bass(shared_data: Path) -> None:
    for piece in JsbChorales("quarter").iter_pieces("test"):
        soprano, _, _, bass = piece.score.tracks
        assert np.mean([n.pitch for n in soprano.notes]) > np.mean([n.pitch for n in bass.notes]), piece.id


@pytest.mark.parametrize(("resolution", "step_ticks"), [("quarter", 480), ("8th", 240), ("16th", 120)])
def test_notes_lie_on_the_grid_of_the_resolution(shared_data: Path, resolution: str, step_ticks: int) -> None:
    score = next(JsbChorales(resolution).iter_pieces("train")).score
    notes = [note for track in score.tracks for note in track.notes]

    assert score.resolution == 480
    assert all(note.start % step_ticks == 0 and note.duration % step_ticks == 0 for note in notes)
    # On a grid this coarse, some note of a chorale must start off the beat.
    assert resolution == "quarter" or any(note.start % 480 for note in notes)


def test_piece_ids_are_stable_across_reads(shared_data: Path) -> None:
    first = [piece.id for piece in get_dataset("jsb-quarter").iter_pieces("test")]
    second = [piece.id for piece in get_dataset("jsb-quarter").iter_pieces("test")]

    assert first == second
    assert len(set(first)) == 77


def test_voices_are_assigned_high_to_low() -> None:
    assert pitch_sets_to_voices([[60, 72, 79, 88]]) == [[88, 79, 72, 60]]


def test_a_unison_stays_two_voices() -> None:
    assert pitch_sets_to_voices([[62, 59, 55, 55]]) == [[62, 59, 55, 55]]


def test_fewer_pitches_keep_the_outer_voices() -> None:
    assert pitch_sets_to_voices([[70, 60, 50], [70, 50], [70], []]) == [
        [70, 60, None, 50],
        [70, None, None, 50],
        [70, None, None, None],
        [None, None, None, None],
    ]


def test_whole_float_pitches_are_read_as_integers() -> None:
    assert pitch_sets_to_voices([[67.0, 62.0, 59.0, 55.0]]) == [[67, 62, 59, 55]]


@pytest.mark.parametrize("step", [[60, 62, 64, 65, 67], [60.5], [128], ["C4"], 60])
def test_a_step_that_is_not_four_midi_pitches_is_refused(step: object) -> None:
    with pytest.raises(ValueError, match="step 0"):
        pitch_sets_to_voices([step])  # type: ignore[list-item]


def test_a_pitch_held_over_steps_is_one_note() -> None:
    voices: VoiceSteps = [[72, 67, 64, 48], [72, 67, 64, 48], [74, 67, 65, 50], [None, None, None, None]]

    score = voices_to_score(voices, steps_per_beat=4)

    assert score.tracks[0].notes == (Note(72, 0, 240), Note(74, 240, 120))
    assert score.tracks[1].notes == (Note(67, 0, 360),)
    assert score.end == 360


def test_separated_voices_read_nan_as_silence() -> None:
    steps = np.array([[70.0, 65.0, np.nan, 50.0], [70.0, 65.0, 60.0, 50.0]])

    assert separated_to_voices(steps) == [[70, 65, None, 50], [70, 65, 60, 50]]


def test_separated_voices_refuse_a_wrong_shape() -> None:
    with pytest.raises(ValueError, match="shape"):
        separated_to_voices(np.zeros((3, 5)))


def test_a_bad_piece_is_skipped_and_counted(private_data: Path) -> None:
    folder = private_data / "jsb"
    folder.mkdir(parents=True)
    pieces = {"train": [[[60, 64, 67, 72]], [[60, 64, 67, 72, 76, 79]]], "valid": [], "test": [[[55, 59, 62, 67]]]}
    (folder / "jsb-chorales-quarter.json").write_text(json.dumps(pieces))

    report = read_report(JsbChorales("quarter"))

    assert report.pieces_per_split == {"train": 1, "test": 1}
    assert [item.item for item in report.skipped] == [f"jsb-quarter/train/1 in {folder / 'jsb-chorales-quarter.json'}"]
    assert report.summary() == "2 of 3 pieces read; 1 skipped: see log"


def test_a_damaged_json_file_says_how_to_get_a_good_one(private_data: Path) -> None:
    (private_data / "jsb").mkdir(parents=True)
    (private_data / "jsb" / "jsb-chorales-16th.json").write_text('{"train": [[[60')

    with pytest.raises(DatasetError, match="opencomposer data download jsb"):
        list(JsbChorales().iter_pieces())


def test_missing_files_say_what_to_download_or_set(private_data: Path) -> None:
    with pytest.raises(DatasetError) as error:
        list(JsbChorales("8th").iter_pieces())

    message = str(error.value)
    assert "opencomposer data download jsb-8th" in message
    assert "OPENCOMPOSER_DATA" in message
    assert str(private_data / "jsb") in message


def test_a_changed_npz_file_is_never_unpickled(private_data: Path) -> None:
    (private_data / "jsb").mkdir(parents=True)
    fake = private_data / "jsb" / "Jsb16thSeparated.npz"
    np.savez(fake, train=np.zeros((1, 4, 4)), valid=np.zeros((0, 4, 4)), test=np.zeros((0, 4, 4)))

    with pytest.raises(DatasetError, match="not the published file"):
        list(JsbSatb().iter_pieces())


def test_an_unknown_split_names_the_real_ones(shared_data: Path) -> None:
    with pytest.raises(UnknownNameError, match="train, valid, test"):
        list(JsbChorales().iter_pieces("validation"))


def test_resolution_must_be_published() -> None:
    with pytest.raises(ValueError, match="quarter, 8th, 16th"):
        JsbChorales("32nd")
