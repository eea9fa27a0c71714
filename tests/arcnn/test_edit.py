"""The edit technique: harmonize, edit within budgets, inpaint a span, frames, seeds and parameters."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import pytest

from opencomposer.errors import ParameterError
from opencomposer.music.score import Score, TempoChange, TimeSignatureChange, Track
from opencomposer.registry import ModelEntry
from opencomposer.techniques import technique_class
from opencomposer.techniques.edit import MAX_FRAMES, Edit, runs

from .conftest import BAR_TICKS, RESOLUTION, chorale, melody

FAST = {"iterations": 8}


def is_monophonic(track: Track) -> bool:
    notes = sorted(track.notes, key=lambda note: note.start)
    return all(a.start + a.duration <= b.start for a, b in itertools.pairwise(notes))


def test_the_studio_builds_it_from_the_registry(entry: ModelEntry) -> None:
    cls: Any = technique_class("edit")  # the studio's call: the class with a registry entry
    technique = cls(entry)
    assert isinstance(technique, Edit) and technique.name == "edit"
    assert {param.name for param in technique.params} >= {"mode", "max_remove_percent", "max_add_notes"}


def test_harmonize_keeps_the_melody_and_writes_three_monophonic_voices(entry: ModelEntry) -> None:
    tune = melody()
    generation = Edit(entry).generate(tune, {"mode": "harmonize", **FAST}, seed=3)
    result = generation.score
    assert result.tracks[0] == tune.tracks[0]  # the repeated note and the flute survive
    assert [track.name for track in result.tracks[1:]] == ["Alto", "Tenor", "Bass"]
    assert [track.program for track in result.tracks[1:]] == [41, 42, 43]
    assert all(track.notes and is_monophonic(track) for track in result.tracks)
    assert generation.info["notes_removed"] == 0 and int(generation.info["notes_added"]) > 0


def test_allowing_parallels_samples_the_network_alone(entry: ModelEntry) -> None:
    technique = Edit(entry)
    avoided = technique.generate(melody(), {"mode": "harmonize", **FAST}, seed=4).score
    allowed = technique.generate(melody(), {"mode": "harmonize", "parallels": "allow", **FAST}, seed=4).score
    assert allowed != avoided  # an untrained network writes parallels, which the default steers away from
    assert allowed.tracks[0] == avoided.tracks[0] == melody().tracks[0]


def test_the_same_seed_gives_the_same_music_and_another_seed_other_music(entry: ModelEntry) -> None:
    technique = Edit(entry)
    first = technique.generate(melody(), {"mode": "harmonize", **FAST}, seed=1).score
    assert technique.generate(melody(), {"mode": "harmonize", **FAST}, seed=1).score == first
    assert technique.generate(melody(), {"mode": "harmonize", **FAST}, seed=2).score != first


@pytest.mark.parametrize(("remove_percent", "add"), [(0.0, 0), (25.0, 3), (100.0, 1000)])
def test_edit_stays_within_its_budget(entry: ModelEntry, remove_percent: float, add: int) -> None:
    score = chorale()
    technique = Edit(entry)
    params = {"mode": "edit", "max_remove_percent": remove_percent, "max_add_notes": add, **FAST}
    generation = technique.generate(score, params, seed=5)
    before = set(runs(technique._read(score).classes, technique.rest))
    after = set(runs(technique._read(generation.score).classes, technique.rest))
    removed, added = len(before - after), len(after - before)
    assert (removed, added) == (generation.info["notes_removed"], generation.info["notes_added"])
    assert removed <= int(remove_percent / 100 * len(before)) and added <= add
    assert all(is_monophonic(track) for track in generation.score.tracks)
    if add == 0 and remove_percent == 0:
        assert generation.score == score


def test_inpaint_leaves_everything_outside_the_span_as_it_was(entry: ModelEntry) -> None:
    score = chorale(n_bars=4)
    params = {"mode": "inpaint", "start_bar": 2, "inpaint_bars": 2, "voices": "lower three", **FAST}
    result = Edit(entry).generate(score, params, seed=7).score
    span = range(BAR_TICKS, 3 * BAR_TICKS)
    for before, after in zip(score.tracks, result.tracks, strict=True):
        outside_before = [note for note in before.notes if note.start not in span]
        outside_after = [note for note in after.notes if note.start not in span]
        assert outside_after == outside_before
    assert result.tracks[0] == score.tracks[0]
    assert any(before != after for before, after in zip(score.tracks[1:], result.tracks[1:], strict=True))


def test_frames_animate_the_iterations_and_end_with_the_result(entry: ModelEntry) -> None:
    technique = Edit(entry)
    many = technique.generate(melody(), {"mode": "harmonize", "iterations": 100}, seed=0)
    assert len(many.frames) == MAX_FRAMES and many.frames[-1] == many.score
    few = technique.generate(melody(), {"mode": "harmonize", "iterations": 3}, seed=0)
    assert len(few.frames) == 3 and few.frames[-1] == few.score


def test_a_melody_of_any_length_and_out_of_range_is_handled(entry: ModelEntry) -> None:
    high = melody(n_bars=11)
    high = high.with_tracks([high.tracks[0].with_notes([n._replace(pitch=n.pitch + 24) for n in high.tracks[0].notes])])
    result = Edit(entry).generate(high, {"mode": "harmonize", **FAST}, seed=0)
    assert result.score.tracks[0] == high.tracks[0]
    assert result.info["octave_shift"] == 24  # 84-96 fits 36-81 two octaves down
    assert max(note.start for track in result.score.tracks for note in track.notes) < 11 * BAR_TICKS


def test_parameters_are_checked(entry: ModelEntry) -> None:
    technique = Edit(entry)
    with pytest.raises(ParameterError, match="mode must be one of"):
        technique.generate(melody(), {"mode": "improvise"}, seed=0)
    with pytest.raises(ParameterError, match="max_remove_percent must be between 0 and 100"):
        technique.generate(melody(), {"mode": "edit", "max_remove_percent": 150}, seed=0)
    with pytest.raises(ParameterError, match="parallels must be one of"):
        technique.generate(melody(), {"parallels": "sometimes"}, seed=0)
    with pytest.raises(ParameterError, match="Unknown parameter 'bars'"):
        technique.generate(melody(), {"bars": 2}, seed=0)
    with pytest.raises(ParameterError, match="start_bar 9 is past the end of the piece, which has 4 bar"):
        technique.generate(melody(), {"mode": "inpaint", "start_bar": 9}, seed=0)
    with pytest.raises(ParameterError, match="seed"):
        technique.generate(melody(), {}, seed=-1)


def test_tracks_that_are_not_voices_are_kept(entry: ModelEntry) -> None:
    score = chorale(n_bars=2)
    drums = Track("Drums", is_drum=True, notes=score.tracks[0].notes[:2])
    with_drums = Score(resolution=RESOLUTION, tracks=(*score.tracks, drums))
    result = Edit(entry).generate(with_drums, {"mode": "harmonize", **FAST}, seed=0).score
    assert [track.name for track in result.tracks] == ["Soprano", "Alto", "Tenor", "Bass", "Drums"]
    assert result.tracks[-1] == drums


@pytest.mark.parametrize("mode", ["harmonize", "edit", "inpaint"])
def test_a_score_with_a_tempo_map_comes_back_with_it_in_every_frame(entry: ModelEntry, mode: str) -> None:
    tune = replace(
        melody(),
        tempo_changes=(TempoChange(BAR_TICKS, 72.0), TempoChange(3 * BAR_TICKS - 240, 140.0)),
        time_signature_changes=(TimeSignatureChange(2 * BAR_TICKS, 2, 4),),
    )
    generation = Edit(entry).generate(tune, {"mode": mode, **FAST}, seed=5)
    for score in generation.frames:
        assert score.get_tempo_map() == tune.get_tempo_map()
        assert score.get_time_signature_map() == tune.get_time_signature_map()
    if mode == "harmonize":
        assert generation.score.tracks[0] == tune.tracks[0]
