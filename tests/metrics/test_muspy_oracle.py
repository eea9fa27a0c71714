"""Roll metrics against muspy, the outside oracle, on real music: POP909 songs and Bach chorales.

Each piece is quantized to the roll's grid (`to_roll`, then `from_roll` at one tick per step) and
written to a MIDI file that muspy reads (its music21 bridge is broken with music21 10, so the way in
is MIDI). muspy then measures each track alone, and our metrics measure the same track's roll.

Two muspy conventions differ from the roll's and are matched by the test, not by the metrics:

- muspy's piece length for `groove_consistency` is ``end // bar + 1`` bars (a piece ending exactly
  on a bar line gets one more, empty bar), so the roll is padded to that many bars;
- muspy's `empty_beat_rate` counts the beat a note ends on as sounding even when the note ends
  exactly on that beat's first tick; writing the notes one tick short (at two ticks per step) makes
  it count exactly the beats the roll sounds in.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import muspy
import numpy as np
import pytest

from opencomposer.data.registry import get_dataset
from opencomposer.metrics import rolls
from opencomposer.music.midi import read_midi, write_midi
from opencomposer.music.pianoroll import RollSpec, from_roll, to_roll
from opencomposer.music.score import Note, Score

pytestmark = pytest.mark.slow

# 12 steps per beat: muspy's "duple" drum pattern is then the 16th grid and its "triple" one the 8th-triplet grid.
SPEC = RollSpec(steps_per_beat=12)
STEPS_PER_BAR = 4 * SPEC.steps_per_beat


def quantized(score: Score, ticks_per_step: int = 1) -> Score:
    """The score as its roll plays it, at `ticks_per_step` ticks per step."""
    return from_roll(
        to_roll(score, SPEC),
        SPEC,
        tracks=score.tracks,
        resolution=SPEC.steps_per_beat * ticks_per_step,
        time_signature=score.time_signature,
    )


def muspy_tracks(score: Score, path: Path) -> list[muspy.Music]:
    """Each track of `score`, written to MIDI and read back by muspy, as a one-track piece."""
    write_midi(score, path)
    music = muspy.read_midi(path)
    assert [track.name for track in music.tracks] == [track.name for track in score.tracks]
    return [muspy.Music(resolution=music.resolution, tracks=[track]) for track in music.tracks]


def check_against_muspy(score: Score, tmp_path: Path) -> None:
    grid_score = quantized(score)
    roll = to_roll(grid_score, SPEC)
    one_tick_short = quantized(score, ticks_per_step=2)
    one_tick_short = one_tick_short.with_tracks(
        [
            track.with_notes([Note(n.pitch, n.start, n.duration - 1) for n in track.notes])
            for track in one_tick_short.tracks
        ]
    )
    pieces = muspy_tracks(grid_score, tmp_path / "grid.mid")
    short_pieces = muspy_tracks(one_tick_short, tmp_path / "short.mid")
    compared = 0
    for index, (music, short_music) in enumerate(zip(pieces, short_pieces, strict=True)):
        if not music.tracks[0].notes:
            continue
        end_steps = music.get_end_time()
        track = roll[index : index + 1, :end_steps]
        label = f"track {score.tracks[index].name!r}"
        assert rolls.pitch_range(track)[0] == muspy.pitch_range(music), label
        assert rolls.n_pitches_used(track)[0] == muspy.n_pitches_used(music), label
        assert rolls.n_pitch_classes_used(track, SPEC)[0] == muspy.n_pitch_classes_used(music), label
        assert rolls.polyphony(track)[0] == pytest.approx(muspy.polyphony(music)), label
        assert rolls.polyphonic_rate(track, 2)[0] == pytest.approx(muspy.polyphony_rate(music, 2)), label
        assert rolls.pitch_class_entropy(track, SPEC)[0] == pytest.approx(muspy.pitch_class_entropy(music)), label
        assert rolls.empty_beat_rate(track, SPEC)[0] == pytest.approx(muspy.empty_beat_rate(short_music)), label
        bars = end_steps // STEPS_PER_BAR + 1
        padded = np.pad(track, ((0, 0), (0, bars * STEPS_PER_BAR - end_steps), (0, 0)))
        assert rolls.groove_consistency(padded, STEPS_PER_BAR)[0] == pytest.approx(
            muspy.groove_consistency(music, STEPS_PER_BAR)
        ), label
        # The drum metric reads only note onsets: treat the pitched track as a drum track for muspy.
        music.tracks[0].is_drum = True
        assert rolls.drum_in_pattern_rate(track, SPEC, 4)[0] == pytest.approx(
            muspy.drum_in_pattern_rate(music, "duple")
        )
        assert rolls.drum_in_pattern_rate(track, SPEC, 3)[0] == pytest.approx(
            muspy.drum_in_pattern_rate(music, "triple")
        )
        compared += 1
    assert compared > 0


@pytest.mark.parametrize("number", range(1, 10))
def test_pop909_songs_agree_with_muspy(number: int, shared_data: Path, tmp_path: Path) -> None:
    check_against_muspy(read_midi(shared_data / "pop909" / f"{number:03d}" / f"{number:03d}.mid"), tmp_path)


def test_bach_chorales_agree_with_muspy(tmp_path: Path) -> None:
    for piece in itertools.islice(get_dataset("bach-chorales").iter_pieces(), 4):
        check_against_muspy(piece.score, tmp_path)
