"""Transforms: quantize, transpose, set_tempo, crop, select_tracks, melody_track and set_roles."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencomposer.errors import TransformError, UnknownNameError
from opencomposer.music.score import Note, Score, TempoChange, TimeSignatureChange, Track
from opencomposer.music.transform import crop, melody_track, quantize, select_tracks, set_roles, set_tempo, transpose

RESOLUTION = 480


def one_track(*notes: Note, tempo: float = 120.0, time_signature: tuple[int, int] = (4, 4)) -> Score:
    return Score(RESOLUTION, tempo, time_signature, tracks=(Track(name="Piano", notes=notes),))


def notes_of(score: Score, track: int = 0) -> list[Note]:
    return list(score.tracks[track].notes)


def with_tempo_map(score: Score) -> Score:
    """`score` slowing down bar by bar from 120 to 90 quarter notes per minute, its second bar in 2/4."""
    return replace(
        score,
        tempo_changes=(TempoChange(1920, 110.0), TempoChange(3840, 100.0), TempoChange(5760, 90.0)),
        time_signature_changes=(TimeSignatureChange(1920, 2, 4), TimeSignatureChange(2880, 4, 4)),
    )


def test_transforms_that_keep_the_timing_keep_the_tempo_map() -> None:
    score = with_tempo_map(one_track(Note(60, 0, 480), Note(64, 4800, 2400)))
    transformed = [
        quantize(score, "1/8"),
        transpose(score, 2),
        select_tracks(score, ["Piano"]),
        set_roles(score, melody_track(score)),
    ]
    for other in transformed:
        assert other.get_tempo_map() == score.get_tempo_map()
        assert other.get_time_signature_map() == score.get_time_signature_map()
        assert other.get_duration_seconds() == score.get_duration_seconds()


# quantize


def test_quantize_snaps_onsets_and_ends_to_the_nearest_grid_line() -> None:
    score = one_track(Note(60, 10, 220), Note(62, 230, 250), Note(64, 600, 350))
    assert notes_of(quantize(score, "1/8")) == [Note(60, 0, 240), Note(62, 240, 240), Note(64, 720, 240)]


def test_quantize_sends_a_tick_half_way_between_lines_to_the_later_one() -> None:
    assert notes_of(quantize(one_track(Note(60, 120, 240)), "1/8")) == [Note(60, 240, 240)]


def test_quantize_with_half_strength_moves_half_way() -> None:
    score = one_track(Note(60, 40, 400))  # onset 40 toward 0, end 440 toward 480
    assert notes_of(quantize(score, "1/8", strength=0.5)) == [Note(60, 20, 440)]


def test_quantize_with_zero_strength_changes_nothing() -> None:
    score = one_track(Note(60, 13, 207), Note(64, 13, 500), Note(60, 300, 77))
    assert quantize(score, "1/16", strength=0.0) == score


def test_quantize_accepts_a_fraction_and_triplet_grids() -> None:
    score = one_track(Note(60, 150, 170))
    assert notes_of(quantize(score, Fraction(1, 16))) == [Note(60, 120, 240)]
    assert notes_of(quantize(score, "1/12")) == [Note(60, 160, 160)]  # triplet eighths are 160 ticks


def test_quantize_lengthens_a_note_that_would_vanish_to_one_grid_step() -> None:
    score = one_track(Note(60, 250, 20), Note(62, 500, 0))
    assert notes_of(quantize(score, "1/8")) == [Note(60, 240, 240), Note(62, 480, 240)]


def test_quantize_merges_notes_of_one_pitch_that_land_on_the_same_onset() -> None:
    score = one_track(Note(60, 0, 200, velocity=90), Note(60, 30, 400, velocity=70), Note(64, 30, 200))
    assert notes_of(quantize(score, "1/8")) == [Note(60, 0, 480, velocity=90), Note(64, 0, 240)]


def test_quantize_cuts_a_note_where_its_pitch_is_struck_again() -> None:
    score = one_track(Note(60, 0, 900), Note(60, 500, 400))
    assert notes_of(quantize(score, "1/8")) == [Note(60, 0, 480), Note(60, 480, 480)]


def test_quantize_keeps_tracks_and_score_settings() -> None:
    score = Score(
        resolution=RESOLUTION,
        tempo=100.0,
        time_signature=(3, 4),
        tracks=(Track(name="Lead", program=73, notes=(Note(72, 5, 235),), role="melody"), Track(name="Empty")),
    )
    quantized = quantize(score, "1/8")
    assert quantized == score.with_tracks([score.tracks[0].with_notes([Note(72, 0, 240)]), score.tracks[1]])


@pytest.mark.parametrize("grid", ["eighth", "", "1/0", "0/8", "-1/8", "1/8/2", "1.5/8", "8"])
def test_quantize_rejects_a_malformed_grid(grid: str) -> None:
    with pytest.raises(TransformError, match=f"Quantize grid '{grid}' is not a fraction of a whole note; write it"):
        quantize(one_track(Note(60, 0, 480)), grid)


@pytest.mark.parametrize("grid", [Fraction(0), Fraction(-1, 8)])
def test_quantize_rejects_a_grid_that_is_not_positive(grid: Fraction) -> None:
    with pytest.raises(TransformError, match="must be a positive fraction of a whole note"):
        quantize(one_track(Note(60, 0, 480)), grid)


def test_quantize_rejects_a_grid_that_is_not_a_whole_number_of_ticks() -> None:
    score = Score(resolution=100, tracks=(Track(notes=(Note(60, 0, 100),)),))
    with pytest.raises(TransformError, match=r"A 1/12 grid is 33.3 ticks at a resolution of 100 .* not a whole number"):
        quantize(score, "1/12")


@pytest.mark.parametrize("strength", [-0.1, 1.01, math.nan])
def test_quantize_rejects_a_strength_outside_zero_to_one(strength: float) -> None:
    with pytest.raises(TransformError, match="strength must be between 0 and 1"):
        quantize(one_track(Note(60, 0, 480)), "1/8", strength=strength)


notes_strategy = st.lists(
    st.builds(Note, st.integers(55, 65), st.integers(0, 4000), st.integers(0, 1000), st.integers(1, 127)),
    max_size=30,
)
grids = st.sampled_from(["1/4", "1/8", "1/12", "1/16", "1/32", "1/24"])


@given(notes_strategy, grids, st.floats(0.0, 1.0))
def test_quantize_never_makes_zero_length_or_overlapping_same_pitch_notes(
    notes: list[Note], grid: str, strength: float
) -> None:
    quantized = notes_of(quantize(one_track(*notes), grid, strength))
    assert all(note.duration > 0 for note in quantized)
    for pitch in {note.pitch for note in quantized}:
        same_pitch = [note for note in quantized if note.pitch == pitch]
        assert all(first.end <= second.start for first, second in itertools.pairwise(same_pitch))


@given(notes_strategy, grids)
def test_quantize_at_full_strength_puts_notes_on_the_grid_and_is_idempotent(notes: list[Note], grid: str) -> None:
    grid_ticks = int(Fraction(grid) * 4 * RESOLUTION)
    once = quantize(one_track(*notes), grid)
    assert all(note.start % grid_ticks == 0 and note.duration % grid_ticks == 0 for note in notes_of(once))
    assert all(note.duration >= grid_ticks for note in notes_of(once))
    assert quantize(once, grid) == once


# transpose


def band(melody_pitch: int = 60, drum_pitch: int = 38) -> Score:
    return Score(
        resolution=RESOLUTION,
        tracks=(
            Track(name="Lead", notes=(Note(melody_pitch, 0, 480), Note(melody_pitch + 4, 2000, 480))),
            Track(name="Drums", is_drum=True, notes=(Note(drum_pitch, 0, 120),)),
        ),
    )


def test_transpose_shifts_pitched_tracks_and_leaves_drums_alone() -> None:
    shifted = transpose(band(), 3)
    assert notes_of(shifted, 0) == [Note(63, 0, 480), Note(67, 2000, 480)]
    assert shifted.tracks[1] == band().tracks[1]


def test_transpose_can_include_drums() -> None:
    assert notes_of(transpose(band(), -2, include_drums=True), 1) == [Note(36, 0, 120)]


def test_transpose_ignores_drum_pitches_when_checking_the_range() -> None:
    assert notes_of(transpose(band(drum_pitch=126), 5), 1) == [Note(126, 0, 120)]


def test_transpose_past_127_names_the_note_and_the_largest_shift_that_fits() -> None:
    # The highest note is E9 (124) in the second bar: +3 is the most that fits.
    with pytest.raises(
        TransformError,
        match=r"by \+5 semitones would move E9 \(pitch 124\) in track 'Lead' at bar 2 to 129, above the highest MIDI "
        r"pitch 127; use a shift of at most \+3\.",
    ):
        transpose(band(melody_pitch=120), 5)


def test_transpose_below_0_names_the_note_and_the_largest_shift_that_fits() -> None:
    with pytest.raises(
        TransformError,
        match=r"move C#0 \(pitch 13\) .* to -7, below the lowest MIDI pitch 0; use a shift of at least -13",
    ):
        transpose(band(melody_pitch=13), -20)


@given(notes_strategy, st.integers(-50, 50))
def test_transpose_up_then_down_gives_the_score_back(notes: list[Note], semitones: int) -> None:
    score = one_track(*notes)
    assert transpose(transpose(score, semitones), -semitones) == score


# set_tempo


def test_set_tempo_changes_speed_and_keeps_ticks() -> None:
    score = one_track(Note(60, 0, 1920), tempo=120.0)
    faster = set_tempo(score, 240)
    assert faster.tempo == 240.0
    assert faster.tracks == score.tracks
    assert faster.get_duration_seconds() == pytest.approx(score.get_duration_seconds() / 2)


def test_set_tempo_scales_every_tempo_of_a_tempo_map() -> None:
    score = with_tempo_map(one_track(Note(60, 0, 8 * RESOLUTION)))
    slower = set_tempo(score, 60)
    assert slower.get_tempo_map() == (
        TempoChange(0, 60.0),
        TempoChange(1920, 55.0),
        TempoChange(3840, 50.0),
        TempoChange(5760, 45.0),
    )
    assert slower.get_duration_seconds() == pytest.approx(2 * score.get_duration_seconds())


@pytest.mark.parametrize("tempo", [20.0, 400.0])
def test_set_tempo_accepts_the_limits(tempo: float) -> None:
    assert set_tempo(one_track(), tempo).tempo == tempo


@pytest.mark.parametrize("tempo", [19.9, 400.5, 0.0, -120.0, math.nan, math.inf])
def test_set_tempo_rejects_tempos_outside_20_to_400(tempo: float) -> None:
    with pytest.raises(TransformError, match="outside 20-400 quarter notes per minute"):
        set_tempo(one_track(), tempo)


# crop

BAR_TICKS = 4 * RESOLUTION


def test_crop_keeps_the_bars_asked_for_and_shifts_them_to_zero() -> None:
    score = one_track(
        Note(60, 0, 480),  # bar 0: dropped
        Note(62, BAR_TICKS + 480, 480),  # bar 1: kept
        Note(64, 2 * BAR_TICKS, 480),  # bar 2: kept
        Note(65, 3 * BAR_TICKS, 480),  # bar 3: dropped
    )
    assert notes_of(crop(score, 1, 2)) == [Note(62, 480, 480), Note(64, BAR_TICKS, 480)]


def test_crop_keeps_the_inside_part_of_notes_that_cross_a_boundary() -> None:
    score = one_track(Note(60, BAR_TICKS - 480, 960), Note(67, 0, 4 * BAR_TICKS), Note(64, 2 * BAR_TICKS - 240, 480))
    cropped = crop(score, 1, 1)
    assert notes_of(cropped) == [Note(60, 0, 480), Note(67, 0, BAR_TICKS), Note(64, BAR_TICKS - 240, 240)]
    assert cropped.end == BAR_TICKS


def test_crop_counts_bars_with_the_time_signature() -> None:
    score = one_track(Note(60, 1440, 480), Note(62, 2880, 480), time_signature=(3, 4))
    assert notes_of(crop(score, 1, 1)) == [Note(60, 0, 480)]


def test_crop_starts_with_the_tempo_and_time_signature_in_force_and_keeps_the_changes_inside() -> None:
    score = with_tempo_map(one_track(*(Note(60, bar * BAR_TICKS, BAR_TICKS) for bar in range(5))))
    cropped = crop(score, 1, 2)  # ticks 1920-5760
    assert cropped.get_tempo_map() == (TempoChange(0, 110.0), TempoChange(1920, 100.0))
    assert cropped.get_time_signature_map() == (TimeSignatureChange(0, 2, 4), TimeSignatureChange(960, 4, 4))
    assert cropped.get_duration_seconds() == pytest.approx(
        score.ticks_to_seconds(3 * BAR_TICKS) - score.ticks_to_seconds(BAR_TICKS)
    )


def test_crop_keeps_what_there_is_when_the_range_runs_past_the_end() -> None:
    assert notes_of(crop(one_track(Note(60, BAR_TICKS, 480)), 1, 8)) == [Note(60, 0, 480)]


def test_crop_keeps_a_zero_length_note_whose_onset_is_inside() -> None:
    score = one_track(Note(60, BAR_TICKS, 0), Note(62, 2 * BAR_TICKS, 0), Note(64, 0, 3 * BAR_TICKS))
    assert notes_of(crop(score, 1, 1)) == [Note(60, 0, 0), Note(64, 0, BAR_TICKS)]


@pytest.mark.parametrize(
    ("start_bar", "bars", "message"),
    [
        (0, 0, "Crop needs at least 1 bar, not 0"),
        (-1, 2, "Crop cannot start at bar -1: the score has 2 bars, numbered from 0 to 1"),
        (2, 1, "Crop cannot start at bar 2: the score has 2 bars"),
    ],
)
def test_crop_rejects_bad_ranges(start_bar: int, bars: int, message: str) -> None:
    with pytest.raises(TransformError, match=message):
        crop(one_track(Note(60, 0, BAR_TICKS + 1)), start_bar, bars)


def test_crop_of_a_score_without_notes_says_so() -> None:
    with pytest.raises(TransformError, match="no notes"):
        crop(one_track(), 0, 1)


@given(
    st.lists(st.builds(Note, st.integers(40, 80), st.integers(0, 8 * BAR_TICKS), st.integers(1, 3 * BAR_TICKS))),
    st.lists(st.integers(1, 3), min_size=1, max_size=6),
)
def test_cropping_into_consecutive_bar_ranges_loses_no_note_time(notes: list[Note], sizes: list[int]) -> None:
    score = one_track(Note(72, 0, 1), *notes)
    start_bar, kept_ticks = 0, 0
    while start_bar < score.n_bars:
        bars = sizes[start_bar % len(sizes)]
        piece = crop(score, start_bar, bars)
        assert all(note.start >= 0 and note.end <= bars * BAR_TICKS for note in notes_of(piece))
        kept_ticks += sum(note.duration for note in notes_of(piece))
        start_bar += bars
    assert kept_ticks == sum(note.duration for note in notes_of(score))


# select_tracks


def quartet() -> Score:
    names = ["Violin I", "Violin II", "Viola", "Cello"]
    return Score(
        tracks=tuple(Track(name=name, program=40 + i, notes=(Note(60, 0, 480),)) for i, name in enumerate(names))
    )


def test_select_tracks_by_name_and_index_in_the_order_given() -> None:
    selected = select_tracks(quartet(), ["Cello", 0, "1"])
    assert [track.name for track in selected.tracks] == ["Cello", "Violin I", "Violin II"]


def test_select_tracks_prefers_a_name_over_a_position() -> None:
    score = Score(tracks=(Track(name="a"), Track(name="0")))
    assert select_tracks(score, ["0"]).tracks == (Track(name="0"),)


@pytest.mark.parametrize(
    ("key", "message"),
    [("Flute", "no track called 'Flute'"), (4, "no track number 4"), (-1, "no track number -1"), ("7", "number 7")],
)
def test_select_tracks_rejects_unknown_tracks_and_lists_them(key: str | int, message: str) -> None:
    with pytest.raises(UnknownNameError, match=rf"{message}; it has tracks 0: 'Violin I', 1: 'Violin II', 2: 'Viola'"):
        select_tracks(quartet(), [key])


def test_select_tracks_needs_at_least_one_track() -> None:
    with pytest.raises(TransformError, match="Select at least one track"):
        select_tracks(quartet(), [])


# melody_track and set_roles


def chords(name: str = "Piano", root: int = 60) -> Track:
    return Track(
        name=name, notes=tuple(Note(root + offset, bar * 1920, 1920) for bar in range(2) for offset in (0, 4, 7))
    )


def line(name: str = "Flute", pitches: tuple[int, ...] = (60, 62, 64, 65)) -> Track:
    return Track(name=name, notes=tuple(Note(pitch, i * 480, 480) for i, pitch in enumerate(pitches)))


def test_melody_track_prefers_the_melody_role() -> None:
    score = Score(tracks=(line("Lead", (80, 82)), replace(line("Oboe"), role="melody")))
    assert melody_track(score) == 1


@pytest.mark.parametrize(
    "name",
    ["Melody", "LEAD", "Lead 1 (square)", "Vocals", "Voice", "Soprano", "Violin I", "Violino I", "Vln. 1", "violin 1"],
)
def test_melody_track_recognises_melody_names(name: str) -> None:
    score = Score(tracks=(line("Piccolo", (90, 92, 94)), chords(), line(name, (48, 50))))
    assert melody_track(score) == 2


@pytest.mark.parametrize("name", ["Violin II", "Violin 2", "Violin 12", "Voice Oohs", "Leader", "Bass"])
def test_melody_track_does_not_take_other_names_for_melody(name: str) -> None:
    score = Score(tracks=(line(name, (48, 50)), line("Flute", (72, 74))))
    assert melody_track(score) == 1


def test_melody_track_prefers_a_single_line_over_chords_up_to_an_octave_higher() -> None:
    # Mean pitches: chords 67.7, the line 62.75, plus 12 semitones for being monophonic: 74.75.
    assert melody_track(Score(tracks=(chords(root=64), line()))) == 1
    # Chords at 83.7 on average are more than an octave above the line, and win.
    assert melody_track(Score(tracks=(chords(root=80), line()))) == 0


def test_melody_track_ignores_drums_and_empty_tracks() -> None:
    drums = Track(name="Lead Drums", is_drum=True, notes=(Note(81, 0, 120),))
    score = Score(tracks=(drums, Track(name="Melody"), line("Bass", (36, 38)), line("Flute", (40, 41))))
    assert melody_track(score) == 3


def test_melody_track_breaks_ties_toward_the_earlier_track() -> None:
    assert melody_track(Score(tracks=(line("A"), line("B")))) == 0


def test_melody_track_needs_pitched_notes() -> None:
    drums = Track(is_drum=True, notes=(Note(36, 0, 120),))
    with pytest.raises(TransformError, match="no pitched notes"):
        melody_track(Score(tracks=(drums, Track(name="Melody"))))


def test_set_roles_marks_the_melody_and_the_accompaniment() -> None:
    drums = Track(name="Drums", is_drum=True, notes=(Note(36, 0, 120),), role="melody")
    score = set_roles(Score(tracks=(chords(), line(), drums)), 1)
    assert [track.role for track in score.tracks] == ["accompaniment", "melody", "other"]
    assert [track.notes for track in score.tracks] == [chords().notes, line().notes, drums.notes]


def test_set_roles_rejects_a_drum_track_or_a_missing_track() -> None:
    score = Score(tracks=(line(), Track(name="Drums", is_drum=True)))
    with pytest.raises(TransformError, match=r"Track 1 \('Drums'\) is a drum track and cannot be the melody"):
        set_roles(score, 1)
    with pytest.raises(UnknownNameError, match="no track number 2"):
        set_roles(score, 2)
