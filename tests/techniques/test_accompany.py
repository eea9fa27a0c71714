"""The accompany technique on tiny seeded models: what a user hears back, for melodies of any length."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from opencomposer.errors import ParameterError, TransformError, UnknownNameError
from opencomposer.models import build_generator, config_to_dict
from opencomposer.models.musegan import MuseGanConfig
from opencomposer.models.unet_gan import UNetConfig
from opencomposer.music.score import Note, Score, TempoChange, TimeSignatureChange, Track
from opencomposer.registry import ModelCard, ModelEntry, save_model
from opencomposer.techniques import list_techniques, technique_class
from opencomposer.techniques.accompany import ENSEMBLES, Accompany, decode

RESOLUTION = 480
BAR = 4 * RESOLUTION
TRACKS = [
    {"name": "Melody", "role": "melody", "program": 0, "is_drum": False},
    {"name": "Alto", "role": "accompaniment", "program": 41, "is_drum": False},
    {"name": "Bass", "role": "accompaniment", "program": 42, "is_drum": False},
]


def save_tiny(
    folder: Path,
    *,
    architecture: str = "unet",
    remakes_melody: bool = False,
    thresholds: dict[str, float] | None = None,
) -> ModelEntry:
    out_tracks = 3 if remakes_melody else 2
    config: UNetConfig | MuseGanConfig
    if architecture == "unet":
        config = UNetConfig(16, 48, out_tracks, filters=2, depth=2, latent_channels=2, upsample="transposed")
    else:
        config = MuseGanConfig(bars=2, steps_per_bar=8, pitches=48, out_tracks=out_tracks, latent_dim=2, filters=2)
    torch.manual_seed(0)
    generator = build_generator(config)
    card = ModelCard(
        name=f"tiny-{architecture}",
        technique="accompany",
        architecture=architecture,
        config=config_to_dict(config),
        title="Tiny",
        description="A tiny untrained model.",
        dataset="tiny",
        roll={"steps_per_beat": 2, "low_pitch": 36, "high_pitch": 83},
        bars=2,
        tracks=TRACKS,
        melody_index=0,
        generated_tracks=[0, 1, 2] if remakes_melody else [1, 2],
        decoding={"max_polyphony": [1, 1, 2] if remakes_melody else [1, 2], "thresholds": thresholds or {}},
    )
    return save_model(card, generator.state_dict(), folder)


@pytest.fixture
def technique(tmp_path: Path) -> Accompany:
    return Accompany(save_tiny(tmp_path))


def melody_score(n_bars: int, *, repeat_first_bar: bool = False, low: int = 60, resolution: int = RESOLUTION) -> Score:
    rng = np.random.default_rng(n_bars)
    bar_pitches = [[int(p) for p in rng.integers(low, low + 12, size=4)] for _ in range(n_bars)]
    if repeat_first_bar:
        bar_pitches = [bar_pitches[0]] * n_bars
    beat = resolution
    notes = [
        Note(pitch, bar * 4 * beat + index * beat, beat, 96)
        for bar, pitches in enumerate(bar_pitches)
        for index, pitch in enumerate(pitches)
    ]
    melody = Track("Lead", program=73, notes=tuple(notes), role="melody")
    drums = Track("Drums", is_drum=True, notes=(Note(36, 0, 100),))
    return Score(resolution=resolution, tempo=96.0, time_signature=(4, 4), tracks=(drums, melody))


def test_the_melody_comes_back_unchanged_first_with_named_accompaniment(technique: Accompany) -> None:
    score = melody_score(4)
    result = technique.generate(score, {}, seed=1).score
    assert result.tracks[0] == score.tracks[1]
    assert [(t.name, t.program, t.role) for t in result.tracks[1:]] == [
        ("Alto", 41, "accompaniment"),
        ("Bass", 42, "accompaniment"),
    ]
    assert (result.resolution, result.tempo, result.time_signature) == (480, 96.0, (4, 4))
    assert sum(len(track.notes) for track in result.tracks[1:]) > 0


@pytest.mark.parametrize("n_bars", [1, 3, 8, 37])
def test_melodies_of_any_length_are_accompanied_to_their_end(technique: Accompany, n_bars: int) -> None:
    generation = technique.generate(melody_score(n_bars), {}, seed=0)
    accompaniment = generation.score.tracks[1:]
    assert max(track.end for track in accompaniment) <= n_bars * BAR
    # Windows of two bars that overlap by one: one for a short melody, n - 1 for a longer one.
    assert generation.info["windows"] == max(1, n_bars - 1)


def test_bars_limits_how_much_is_accompanied(technique: Accompany) -> None:
    result = technique.generate(melody_score(6), {"bars": 2}, seed=0).score
    assert max(track.end for track in result.tracks[1:]) <= 2 * BAR
    assert result.tracks[0].end == 6 * BAR


def test_bars_count_in_the_melodys_own_time_signature(technique: Accompany) -> None:
    waltz = melody_score(4)
    waltz = Score(resolution=RESOLUTION, time_signature=(3, 4), tracks=waltz.tracks)
    result = technique.generate(waltz, {"bars": 2}, seed=0).score
    assert max(track.end for track in result.tracks[1:]) <= 2 * 3 * RESOLUTION


def test_the_same_seed_gives_the_same_accompaniment_and_another_seed_another(technique: Accompany) -> None:
    score = melody_score(4)
    first = technique.generate(score, {}, seed=5).score
    assert technique.generate(score, {}, seed=5).score == first
    assert technique.generate(score, {}, seed=6).score != first


def test_every_window_uses_the_same_latent(technique: Accompany) -> None:
    # The same bar over and over: with one latent for all windows, every bar is accompanied alike.
    score = melody_score(6, repeat_first_bar=True)
    roll = np.zeros((48, 48), dtype=bool)
    for note in score.tracks[1].notes:
        start = note.start // 240
        roll[start : start + 2, note.pitch - 36] = True
    blended, windows = technique._probabilities(roll, 3)
    assert windows == 5
    bars = blended.reshape(blended.shape[0], 6, 8, 48)
    for bar in range(2, 5):  # the inner bars, where every window is a full one
        np.testing.assert_allclose(bars[:, bar], bars[:, 1], atol=1e-5)


class Alternating(nn.Module):
    """A fake generator: window i outputs all +1 when i is even and all -1 when odd."""

    noise_shape = (2, 4, 12)

    def forward(self, melody: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        signs = torch.tensor([1.0 if i % 2 == 0 else -1.0 for i in range(len(melody))])
        return signs[:, None, None, None].expand(len(melody), 2, melody.shape[2], melody.shape[3])


def test_overlapping_windows_cross_fade_instead_of_cutting(technique: Accompany) -> None:
    technique.generator = Alternating()  # type: ignore[assignment]
    blended, _ = technique._probabilities(np.zeros((48, 48), dtype=bool), 0)
    jumps = np.abs(np.diff(blended[0, :, 0]))
    # A hard cut between windows would jump from 1 to 0 in one step; the blend moves in small steps.
    assert jumps.max() <= 0.25
    assert blended[0, 0, 0] == pytest.approx(1.0)


def test_notes_are_never_shorter_than_the_shortest_note_asked_for(technique: Accompany) -> None:
    for shortest, ticks in (("8th", 240), ("quarter", 480)):
        result = technique.generate(melody_score(6), {"shortest_note": shortest, "threshold": 0.45}, seed=2).score
        durations = [note.duration for track in result.tracks[1:] for note in track.notes]
        assert durations and min(durations) >= ticks


def test_no_track_plays_more_notes_at_once_than_its_data_did(technique: Accompany) -> None:
    result = technique.generate(melody_score(6), {"threshold": 0.3}, seed=2).score
    for track, limit in zip(result.tracks[1:], (1, 2), strict=True):
        for tick in range(0, 6 * BAR, 240):
            sounding = sum(note.start <= tick < note.end for note in track.notes)
            assert sounding <= limit, (track.name, tick)


def test_an_ensemble_replaces_the_models_instruments(technique: Accompany) -> None:
    result = technique.generate(melody_score(2), {"instruments": "strings"}, seed=0).score
    assert [track.program for track in result.tracks[1:]] == list(ENSEMBLES["strings"][-2:])


def test_a_melody_outside_the_models_range_is_moved_by_octaves_for_the_model_only(technique: Accompany) -> None:
    score = melody_score(4, low=100)
    generation = technique.generate(score, {"threshold": 0.3}, seed=0)
    assert generation.info["octave_shift"] == 36
    assert generation.score.tracks[0] == score.tracks[1]
    pitches = [note.pitch for track in generation.score.tracks[1:] for note in track.notes]
    assert pitches and min(pitches) >= 36 + 36


def test_a_score_resolution_that_is_not_a_multiple_of_the_grid_works(technique: Accompany) -> None:
    result = technique.generate(melody_score(2, resolution=75), {"threshold": 0.3}, seed=0).score
    assert result.resolution == 75
    assert all(note.duration >= 1 for track in result.tracks[1:] for note in track.notes)
    assert max(track.end for track in result.tracks[1:]) <= 2 * 4 * 75


@pytest.mark.parametrize("remakes_melody", [False, True])
def test_musegan_and_melody_remaking_models_give_the_same_layout(tmp_path: Path, remakes_melody: bool) -> None:
    technique = Accompany(save_tiny(tmp_path, architecture="musegan", remakes_melody=remakes_melody))
    result = technique.generate(melody_score(3), {}, seed=0).score
    assert [track.name for track in result.tracks] == ["Lead", "Alto", "Bass"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"threshold": 2}, "threshold must be between"),
        # A value just past a bound is said as given, not rounded onto the bound; a huge one not in 309 digits.
        ({"threshold": 0.9500001}, r"between 0\.05 and 0\.95, not 0\.9500001\."),
        ({"threshold": 1e300}, r"not 1e\+300\."),
        ({"instruments": "kazoo"}, "instruments must be one of"),
        ({"temperature": 1.0}, "Unknown parameter 'temperature'"),
    ],
)
def test_bad_parameters_are_refused_with_a_sentence(
    technique: Accompany, params: dict[str, object], message: str
) -> None:
    with pytest.raises(ParameterError, match=message):
        technique.generate(melody_score(2), params, seed=0)


def test_a_negative_seed_and_a_score_without_melody_are_refused(technique: Accompany) -> None:
    with pytest.raises(ParameterError, match="seed"):
        technique.generate(melody_score(2), {}, seed=-1)
    drums_only = Score(tracks=(Track("Drums", is_drum=True, notes=(Note(36, 0, 100),)),))
    with pytest.raises(TransformError):
        technique.generate(drums_only, {}, seed=0)


def test_decode_thresholds_caps_polyphony_and_cleans_fragments() -> None:
    probabilities = np.zeros((1, 10, 4), dtype=np.float32)
    probabilities[0, 0:6, 0] = 0.9  # a long note
    probabilities[0, 3, 0] = 0.2  # with a one-step dip: filled
    probabilities[0, 8, 1] = 0.9  # a one-step fragment: dropped
    probabilities[0, 0:4, 2] = 0.8  # loses to pitch 0 where only one note may sound
    on = decode(probabilities, threshold=0.5, min_steps=2, max_polyphony=[1])
    assert on[0, :, 0].tolist() == [True] * 6 + [False] * 4
    assert not on[0, :, 1].any()
    assert not on[0, :, 2].any()
    assert decode(probabilities, 0.5, 1, None)[0, 8, 1]


def test_decode_takes_one_threshold_per_track() -> None:
    probabilities = np.full((2, 4, 3), 0.3, dtype=np.float32)
    on = decode(probabilities, np.array([0.5, 0.25]), min_steps=1)
    assert not on[0].any() and on[1].all()


def test_a_calibrated_track_threshold_scales_with_the_setting_and_leaves_the_others(tmp_path: Path) -> None:
    plain = Accompany(save_tiny(tmp_path / "plain"))
    calibrated = Accompany(save_tiny(tmp_path / "calibrated", thresholds={"Bass": 0.25}))
    for threshold in (0.8, 0.9):
        low = plain.generate(melody_score(4), {"threshold": threshold / 2}, seed=3).score
        usual = plain.generate(melody_score(4), {"threshold": threshold}, seed=3).score
        made = calibrated.generate(melody_score(4), {"threshold": threshold}, seed=3).score
        assert len(low.tracks[2].notes) > len(usual.tracks[2].notes)
        assert made.tracks[2].notes == low.tracks[2].notes  # the Bass at half the threshold
        assert made.tracks[1].notes == usual.tracks[1].notes  # the Alto as set


def test_the_technique_registry_names_accompany() -> None:
    assert "accompany" in list_techniques()
    assert technique_class("accompany") is Accompany
    with pytest.raises(UnknownNameError, match="Known techniques"):
        technique_class("remix")


def test_a_model_is_loaded_by_name_or_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = save_tiny(tmp_path)
    assert Accompany.from_model(str(entry.card_path)).card.name == "tiny-unet"
    monkeypatch.setenv("OPENCOMPOSER_HOME", str(tmp_path / "home"))
    with pytest.raises(UnknownNameError, match="no model called"):
        Accompany.from_model("nope")


def test_a_melody_with_a_tempo_map_comes_back_with_it(technique: Accompany) -> None:
    score = replace(
        melody_score(4),
        tempo_changes=(TempoChange(BAR, 80.0), TempoChange(2 * BAR + 240, 132.5)),
        time_signature_changes=(TimeSignatureChange(2 * BAR, 3, 4), TimeSignatureChange(2 * BAR + 1440, 4, 4)),
    )
    result = technique.generate(score, {}, seed=1).score
    assert result.get_tempo_map() == score.get_tempo_map()
    assert result.get_time_signature_map() == score.get_time_signature_map()
    assert result.tracks[0] == score.tracks[1]
    assert result.ticks_to_seconds(result.tracks[0].end) == score.ticks_to_seconds(score.tracks[1].end)


def test_a_generation_runs_on_one_torch_thread_and_leaves_the_process_setting_as_it_was(
    technique: Accompany,
) -> None:
    # Two threads collapse when another process is busy on a core (the CLI leaves torch at every core).
    seen: list[int] = []
    technique.generator.register_forward_hook(lambda *_: seen.append(torch.get_num_threads()))
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        technique.generate(melody_score(4), {}, seed=0)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert seen and set(seen) == {1}
