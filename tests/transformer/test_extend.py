"""The extend technique: tokenizer round trip, the input kept, where and how long the continuation is."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.transformer.conftest import quartet

from opencomposer.errors import ParameterError
from opencomposer.music.score import Note, Score, TempoChange, TimeSignatureChange, Track
from opencomposer.registry import ModelEntry
from opencomposer.techniques import technique_class
from opencomposer.techniques.extend import Extend, decode_notes, encode_score, make_tokenizer, recent_tokens


def test_tokenizer_round_trip_keeps_every_note_and_its_program(quartet_score: Score) -> None:
    tokenizer = make_tokenizer()
    ids = encode_score(tokenizer, quartet_score)
    decoded = sorted(
        (program, note.pitch, note.start, note.duration) for program, _, note in decode_notes(tokenizer, ids)
    )
    scale = quartet_score.resolution // 4  # score ticks per token tick (4 per beat)
    expected = sorted(
        (track.program, note.pitch, note.start // scale, note.duration // scale)
        for track in quartet_score.tracks
        for note in track.notes
    )
    assert decoded == expected


def test_saved_vocabulary_loads_the_same_tokens(tmp_path, quartet_score: Score) -> None:
    tokenizer = make_tokenizer()
    tokenizer.save(tmp_path, filename="v.tokenizer.json")
    assert encode_score(make_tokenizer(tmp_path / "v.tokenizer.json"), quartet_score) == encode_score(
        tokenizer, quartet_score
    )


def test_the_technique_is_registered_and_built_from_a_model_entry(tiny_model: ModelEntry) -> None:
    technique = technique_class("extend")(tiny_model)
    assert isinstance(technique, Extend)


def test_continuation_keeps_the_input_and_starts_on_the_next_beat(tiny_model: ModelEntry) -> None:
    score = quartet()
    # The input ends half-way through a beat: the continuation must wait for the next one.
    melody = score.tracks[0]
    cut = melody.with_notes([*melody.notes, Note(74, score.end, 240, 90)])
    score = score.with_tracks([cut, *score.tracks[1:]])
    generation = Extend(tiny_model).generate(score, {"extension_seconds": 6.0}, seed=3)
    result = generation.score
    next_beat = -(-score.end // score.ticks_per_beat) * score.ticks_per_beat
    assert generation.info["continuation_start_ticks"] == next_beat
    assert [(t.name, t.program, t.is_drum, t.role) for t in result.tracks] == [
        (t.name, t.program, t.is_drum, t.role) for t in score.tracks
    ]
    for before, after in zip(score.tracks, result.tracks, strict=True):
        assert set(before.notes) <= set(after.notes)
        added = set(after.notes) - set(before.notes)
        assert all(note.start >= next_beat for note in added)
    assert result.n_notes > score.n_notes


@pytest.mark.parametrize("seconds", [2.0, 9.5])
def test_extension_length_is_honoured(tiny_model: ModelEntry, seconds: float) -> None:
    score = quartet()
    result = Extend(tiny_model).generate(score, {"extension_seconds": seconds}, seed=0).score
    stop = score.end + score.seconds_to_ticks(seconds)  # the quartet ends on a beat
    assert result.end <= stop
    assert result.end > stop - score.seconds_to_ticks(seconds)  # something was added


def test_same_seed_same_continuation_other_seed_another(tiny_model: ModelEntry) -> None:
    technique = Extend(tiny_model)
    params = {"extension_seconds": 4.0, "sampling": "nucleus", "top_p": 0.9}
    first = technique.generate(quartet(), params, seed=7).score
    assert technique.generate(quartet(), params, seed=7).score == first
    assert technique.generate(quartet(), params, seed=8).score != first


def test_generated_programs_go_to_the_input_tracks_of_that_program(tiny_model: ModelEntry) -> None:
    solo = Score(tracks=(Track("Flute", 73, notes=tuple(Note(72 + i % 3, i * 480, 480) for i in range(8))),))
    result = Extend(tiny_model).generate(solo, {"extension_seconds": 5.0, "sampling": "temperature"}, seed=1).score
    assert len(result.tracks) == 1 and result.tracks[0].program == 73


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"extension_seconds": 0.5}, "extension_seconds"),
        ({"extension_seconds": 121}, "extension_seconds"),
        ({"sampling": "greedy"}, "sampling"),
        ({"top_k": 0}, "top_k"),
        ({"top_p": 1.5}, "top_p"),
        ({"creative_risk": 0}, "creative_risk"),
        ({"input_seconds": -1}, "input_seconds"),
        ({"length": 3}, "Unknown parameter"),
    ],
)
def test_invalid_parameters_are_refused_with_their_name(
    tiny_model: ModelEntry, params: dict[str, object], message: str
) -> None:
    with pytest.raises(ParameterError, match=message):
        Extend(tiny_model).generate(quartet(), params, seed=0)


def test_an_empty_score_is_refused(tiny_model: ModelEntry) -> None:
    with pytest.raises(ParameterError, match="no notes"):
        Extend(tiny_model).generate(Score(tracks=(Track("Piano"),)), {}, seed=0)


def test_the_model_reads_on_from_the_last_bars_it_wrote() -> None:
    bar = 1
    stream = [bar, 5, 6, 7, bar, 8, 9, bar, 10, 11, 12]
    assert recent_tokens(stream, bar, window=5) == [bar, 10, 11, 12]  # from the bar within the last five
    assert recent_tokens(stream, bar, window=3) == [10, 11, 12]  # no bar among them: all of them
    assert recent_tokens(stream, bar, window=100) == stream


def test_a_score_with_a_tempo_map_keeps_it_and_is_extended_at_its_last_tempo(tiny_model: ModelEntry) -> None:
    # Four bars at 480 ticks per beat: 120 quarter notes per minute, then 60 from bar 3 (2 bars in 3/4 first).
    score = replace(
        quartet(),
        tempo_changes=(TempoChange(960, 90.0), TempoChange(2 * 1920, 60.0)),
        time_signature_changes=(TimeSignatureChange(1920, 3, 4), TimeSignatureChange(1920 + 1440, 4, 4)),
    )
    generation = Extend(tiny_model).generate(score, {"extension_seconds": 4.0}, seed=0)
    result = generation.score
    assert result.get_tempo_map() == score.get_tempo_map()
    assert result.get_time_signature_map() == score.get_time_signature_map()
    assert set(score.tracks[0].notes) <= set(result.tracks[0].notes)
    # At the last tempo, 60 quarter notes per minute, 4 seconds are 4 beats (at the first, 120, they would be 8).
    start = generation.info["continuation_start_ticks"]
    assert start == score.end
    assert score.end < result.end <= score.end + 4 * 480
    assert result.ticks_to_seconds(result.end) - score.ticks_to_seconds(start) <= 4.0
