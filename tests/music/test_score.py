"""The invariants of `Note`, `Track` and `Score`."""

from __future__ import annotations

import dataclasses
import math

import pytest

from opencomposer.music.score import Note, Score, TempoChange, Track


def test_track_sorts_notes_by_start_then_pitch() -> None:
    track = Track(notes=(Note(64, 480, 5), Note(67, 0, 5), Note(60, 0, 5)))
    assert track.notes == (Note(60, 0, 5), Note(67, 0, 5), Note(64, 480, 5))


def test_track_sorts_a_later_note_of_lower_pitch_after_an_earlier_higher_one() -> None:
    # Listed as plain tuples (pitch first) these two look sorted already; by time they are not.
    track = Track(notes=(Note(50, 10, 5), Note(60, 0, 5)))
    assert track.notes == (Note(60, 0, 5), Note(50, 10, 5))


def test_track_keeps_notes_as_a_tuple_and_cannot_be_changed() -> None:
    track = Track(name="Lead", notes=[Note(60, 0, 480)])  # type: ignore[arg-type]
    assert track.notes == (Note(60, 0, 480),)
    with pytest.raises(dataclasses.FrozenInstanceError):
        track.name = "Bass"  # type: ignore[misc]


def test_track_end_is_the_end_of_its_last_sounding_note() -> None:
    track = Track(notes=(Note(60, 0, 2000), Note(62, 480, 480)))
    assert track.end == 2000
    assert Track().end == 0


def test_with_notes_keeps_everything_but_the_notes() -> None:
    track = Track(name="Strings", program=48, is_drum=False, notes=(Note(60, 0, 480),), role="accompaniment")
    other = track.with_notes([Note(67, 960, 240)])
    assert other == Track(name="Strings", program=48, notes=(Note(67, 960, 240),), role="accompaniment")


@pytest.mark.parametrize("program", [-1, 128])
def test_track_rejects_a_program_outside_general_midi(program: int) -> None:
    with pytest.raises(ValueError, match=rf"program {program} is not a General MIDI program"):
        Track(name="x", program=program)


def test_track_rejects_an_unknown_role() -> None:
    with pytest.raises(ValueError, match="role 'lead' is not one of melody, accompaniment, other"):
        Track(role="lead")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"resolution": 0}, "resolution must be a positive number"),
        ({"tempo": 0.0}, "tempo must be a positive number"),
        ({"tempo": math.nan}, "tempo must be a positive number"),
        ({"tempo": math.inf}, "tempo must be a positive number"),
        ({"time_signature": (3, 5)}, "time signature 3/5 is not valid"),
        ({"time_signature": (0, 4)}, "time signature 0/4 is not valid"),
        ({"time_signature": (4, 0)}, "time signature 4/0 is not valid"),
        ({"tempo_changes": ((480, 0.0),)}, "tempo must be a positive number of quarter notes per minute, not 0.0"),
        ({"time_signature_changes": ((480, 3, 5),)}, "time signature 3/5 is not valid"),
        ({"tempo_changes": ((0, 90.0),)}, r"tempo changes must fall after tick 0, .* got ticks \[0\]"),
        ({"tempo_changes": ((960, 90.0), (480, 80.0))}, r"tempo changes .* in order; got ticks \[960, 480\]"),
        ({"time_signature_changes": ((480, 3, 4), (480, 2, 4))}, r"time signature changes .* one per tick"),
    ],
)
def test_score_rejects_invalid_settings(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Score(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("time_signature", "ticks_per_beat", "ticks_per_bar"),
    [((4, 4), 480, 1920), ((3, 4), 480, 1440), ((6, 8), 240, 1440), ((2, 2), 960, 1920), ((7, 8), 240, 1680)],
)
def test_ticks_per_bar_follows_the_time_signature(
    time_signature: tuple[int, int], ticks_per_beat: int, ticks_per_bar: int
) -> None:
    score = Score(resolution=480, time_signature=time_signature)
    assert score.ticks_per_beat == ticks_per_beat
    assert score.ticks_per_bar == ticks_per_bar


def test_n_bars_counts_bars_the_notes_reach_into() -> None:
    def bars(end_ticks: int) -> int:
        return Score(time_signature=(3, 4), tracks=(Track(notes=(Note(60, 0, end_ticks),)),)).n_bars

    assert bars(1440) == 1  # ends exactly on the bar line
    assert bars(1441) == 2
    assert Score().n_bars == 0
    assert Score(tracks=(Track(),)).n_bars == 0


def test_score_end_and_note_count_span_all_tracks() -> None:
    score = Score(tracks=(Track(notes=(Note(60, 0, 480),)), Track(notes=(Note(40, 0, 1920), Note(43, 0, 960)))))
    assert score.end == 1920
    assert score.n_notes == 3


def test_ticks_and_seconds_convert_at_the_score_tempo() -> None:
    score = Score(resolution=480, tempo=120.0, tracks=(Track(notes=(Note(60, 0, 1920),)),))
    assert score.ticks_to_seconds(480) == pytest.approx(0.5)
    assert score.seconds_to_ticks(0.5) == 480
    assert score.seconds_to_ticks(0.5004) == 480  # 0.38 ticks later: the nearest tick is still 480
    assert score.seconds_to_ticks(0.5006) == 481
    assert score.get_duration_seconds() == pytest.approx(2.0)
    assert Score(resolution=96, tempo=60.0).ticks_to_seconds(96) == pytest.approx(1.0)


def test_get_track_finds_the_first_track_of_that_name() -> None:
    first, second = Track(name="Piano", program=0), Track(name="Piano", program=1)
    score = Score(tracks=(Track(name="Bass"), first, second))
    assert score.get_track("Piano") is first
    with pytest.raises(KeyError, match=r"no track called 'Drums'.*\['Bass', 'Piano', 'Piano'\]"):
        score.get_track("Drums")


def test_with_tracks_keeps_the_score_settings() -> None:
    score = Score(resolution=96, tempo=90.0, time_signature=(3, 4), tempo_changes=(TempoChange(96, 60.0),))
    other = score.with_tracks([Track(name="Lead")])
    assert (other.resolution, other.tempo, other.time_signature) == (96, 90.0, (3, 4))
    assert other.get_tempo_map() == (TempoChange(0, 90.0), TempoChange(96, 60.0))
    assert other.tracks == (Track(name="Lead"),)
