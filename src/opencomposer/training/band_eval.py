"""How a genre band measures, on held-out pieces of its own genre's data, against the bars of its issue.

`evaluate_band(entry)` takes the held-out pieces of the model's dataset (their first `EVAL_BARS` bars),
plays the band on each piece's melody, and measures, beside the same numbers of the data's own bands:

- ``in_scale_ratio`` and ``empty_bar_rate`` of the band's pitched parts (bars: within 0.05 of the data's);
- ``tonal_distance`` melody-to-band, beside the data's with every melody re-paired with another piece's
  band (bar: below that);
- ``similarity_index`` of the pieces against the data's (Yang and Lerch; bar: at least 0.7), and that of
  the rule-based band (`rule_based_band`) on the same melodies (bar: the model's is higher);
- the drums' ``drum_in_pattern_rate`` (8th-note grid) and ``drum_onsets_per_bar``, against the Groove MIDI
  Dataset's test performances of the genre's style (bars: within 0.05, and within 20 %).

The rule-based band is the yardstick a learnt band must beat: block chords on the chord each bar of the
melody spells (`opencomposer.music.chords.estimate_chords`), the root in the bass, and one bar of the
genre's drums repeated.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from opencomposer.data.evaluate import PieceSet, evaluate_sets
from opencomposer.data.registry import Piece, get_dataset
from opencomposer.errors import EvaluationError, UnknownNameError
from opencomposer.metrics.harmony import tonal_distance
from opencomposer.metrics.rolls import detect_key, empty_bar_rate, in_scale_ratio, note_starts
from opencomposer.models.band import (
    STEPS_PER_BEAT,
    Band,
    DrumBank,
    drum_track,
    grid_notes,
    index_chords,
    pitch_class_weights,
    render_drums,
)
from opencomposer.music.chords import Chord, estimate_chords, voicing
from opencomposer.music.pianoroll import RollSpec, to_roll
from opencomposer.music.score import Note, Score, Track
from opencomposer.registry import ModelEntry
from opencomposer.training.band import (
    BandPreset,
    BeatPiece,
    PartSpec,
    drum_bars,
    get_band_preset,
    read_beat_pieces,
)

BAR_NAMES = {
    "in_scale_ratio": "in_scale_ratio_within_0.05",
    "empty_bar_rate": "empty_bar_rate_within_0.05",
    "tonal_distance": "tonal_distance_below_random_pairs",
    "similarity_index": "similarity_index_at_least_0.7_and_above_the_rule_based_band",
    "drum_in_pattern_rate": "drum_in_pattern_rate_within_0.05_of_groove",
    "drum_onsets_per_bar": "drum_onsets_within_20_percent_of_groove",
}
"""The names of the bars in a card's ``held_out.quality_bars`` (the studio says each in words)."""
EVAL_BARS = 16
EVAL_PIECES = 40
SEGMENTS_PER_PIECE = 4
SPEC = RollSpec(STEPS_PER_BEAT, 0, 127)
BARS = {
    "in_scale_ratio": "within 0.05 of the data's",
    "empty_bar_rate": "within 0.05 of the data's",
    "tonal_distance": "below the data's with melodies and bands re-paired at random",
    "similarity_index": "at least 0.7, and above the rule-based band's",
    "drum_in_pattern_rate": "within 0.05 of the genre's Groove drums",
    "drum_onsets_per_bar": "within 20 % of the genre's Groove drums",
}


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of a held-out piece, moved to start at 0."""

    id: str
    piece: BeatPiece
    score: Score
    bars: int
    first_bar: int = 0

    @property
    def steps_per_bar(self) -> int:
        """Steps in one of its bars, on the band's grid."""
        return self.piece.beats_per_bar * STEPS_PER_BEAT

    @property
    def melody(self) -> Track:
        return next(track for track in self.score.tracks if track.role == "melody")

    def played_by(self, band: Band, seed: int, *, drums: bool = True) -> list[Track]:
        """The band's tracks for this stretch's melody, in its meter and at its tempo."""
        tracks, _ = band.play(
            self.melody.notes,
            resolution=self.score.resolution,
            beats_per_bar=self.piece.beats_per_bar,
            n_bars=self.bars,
            tempo=self.score.tempo,
            seed=seed,
            drums=drums,
        )
        return tracks

    def chords_by(self, band: Band, seed: int) -> list[Chord | None]:
        """The chords the band plays on each beat of this stretch (as `played_by` draws them with that seed)."""
        return band.chords_under(
            self.melody.notes,
            resolution=self.score.resolution,
            beats_per_bar=self.piece.beats_per_bar,
            n_bars=self.bars,
            seed=seed,
        )

    @property
    def labels(self) -> list[Chord | None]:
        """The data's own chord on each beat of this stretch."""
        first = self.first_bar * self.piece.beats_per_bar
        labels = self.piece.labels[first : first + self.bars * self.piece.beats_per_bar]
        return index_chords(labels)


def card_preset(entry: ModelEntry) -> BandPreset:
    """The preset a band model was trained by (its card's), else one made from its card's parts."""
    card = entry.card
    preset_name = str(card.training.get("preset", ""))
    try:
        return get_band_preset(preset_name)
    except UnknownNameError:  # a user's band: its parts are its dataset's tracks
        parts = tuple(
            PartSpec(
                str(part["name"]), int(part["program"]), tuple(part["sources"]), int(part["low"]), int(part["high"])
            )
            for part in card.config["parts"]
        )
        return BandPreset(name="band", genre="", description="", dataset=card.dataset, parts=parts)


def _crop(piece: BeatPiece, bars: int, first_bar: int = 0) -> tuple[Score, int]:
    """`bars` bars of the piece from `first_bar` (fewer at its end), moved to start at 0, and how many bars."""
    n_bars = min(bars, len(piece.labels) // piece.beats_per_bar - first_bar)
    ticks_per_bar = piece.beats_per_bar * piece.score.resolution
    begin, end = first_bar * ticks_per_bar, (first_bar + n_bars) * ticks_per_bar
    tracks = [
        track.with_notes(
            [
                note._replace(start=note.start - begin, duration=min(note.duration, end - note.start))
                for note in track.notes
                if begin <= note.start < end
            ]
        )
        for track in piece.score.tracks
    ]
    return piece.score.with_tracks(tracks), n_bars


def segments(pieces: Sequence[BeatPiece], bars: int = EVAL_BARS, most: int = SEGMENTS_PER_PIECE) -> list[Segment]:
    """Up to `most` stretches of `bars` bars of each piece, one after the other from its start, whose melody plays."""
    found = []
    for piece in pieces:
        whole_bars = len(piece.labels) // piece.beats_per_bar
        for first_bar in range(0, max(1, whole_bars - bars // 2), bars)[:most]:
            score, n_bars = _crop(piece, bars, first_bar)
            melody = next(track for track in score.tracks if track.role == "melody")
            if n_bars >= 2 and len(melody.notes) >= 4:
                found.append(Segment(f"{piece.id}@{first_bar}", piece, score, n_bars, first_bar))
    return found


def data_band(score: Score, preset: BandPreset) -> list[Track]:
    """The data's own band of a piece: its tracks that the preset's parts learn from, named as the parts."""
    tracks = []
    for part in preset.parts:
        notes = [note for track in score.tracks if track.name in part.sources for note in track.notes]
        tracks.append(Track(name=part.name, program=part.program, role="accompaniment", notes=tuple(notes)))
    return tracks


def rule_based_band(
    melody: Sequence[Note], resolution: int, beats_per_bar: int, n_bars: int, drum_bar: np.ndarray | None
) -> list[Track]:
    """The yardstick: block chords on each bar's chord, its root in the bass, one drum bar repeated."""
    ticks_per_bar = beats_per_bar * resolution
    weights = pitch_class_weights(melody, resolution, n_bars * beats_per_bar)
    per_bar = weights.reshape(n_bars, beats_per_bar, 12).sum(axis=1)
    chords = estimate_chords(per_bar)
    block, bass = [], []
    for bar, chord in enumerate(chords):
        if chord is None:
            continue
        start = bar * ticks_per_bar
        block += [Note(pitch, start, ticks_per_bar, 70) for pitch in voicing(chord, low=48)]
        bass.append(Note(36 + (chord.root - 36) % 12, start, ticks_per_bar, 80))
    tracks = [
        Track(name="Chords", program=0, role="accompaniment", notes=tuple(block)),
        Track(name="Bass", program=32, role="accompaniment", notes=tuple(bass)),
    ]
    if drum_bar is not None:
        tracks.append(drum_track(grid_notes([drum_bar] * n_bars, beats_per_bar, resolution // STEPS_PER_BEAT)))
    return tracks


def band_values(score: Score, steps_per_bar: int, parts: Sequence[str] | None = None) -> dict[str, float]:
    """In-scale ratio, empty-bar rate and melody-to-band tonal distance of a score (melody first) over its band's
    pitched `parts` (all when None), and its drums' hits: on the 8th-note grid, in all, and its bars."""
    roll = to_roll(score, SPEC)
    pitched = [index for index, track in enumerate(score.tracks) if not track.is_drum]
    drums = [index for index, track in enumerate(score.tracks) if track.is_drum]
    band = [index for index in pitched if index != 0 and (parts is None or score.tracks[index].name in parts)]
    values: dict[str, float] = {}
    if band:
        key = detect_key(roll[pitched].max(axis=0)[None], SPEC)
        values["in_scale_ratio"] = float(in_scale_ratio(roll[band].max(axis=0)[None], SPEC, key)[0])
        values["empty_bar_rate"] = float(np.nanmean(empty_bar_rate(roll[band], steps_per_bar)))
        values["tonal_distance"] = float(tonal_distance(roll[0], roll[band].max(axis=0), SPEC))
    if drums:
        starts = note_starts(roll[drums].max(axis=0))  # (steps, pitches)
        per_step = starts.sum(axis=1)
        on_grid = (np.arange(len(per_step)) % STEPS_PER_BEAT) % 2 == 0
        values["drum_hits_on_8ths"] = float(per_step[on_grid].sum())
        values["drum_hits"] = float(per_step.sum())
        values["drum_bars"] = float(max(1, roll.shape[1] // steps_per_bar))
    return values


DRUM_DRAWS = 8
"""Drummers drawn for each stretch when measuring the drums: one draw per stretch leaves the figures to chance."""


def _drum_rows(drums: DrumBank, stretches: Sequence[Segment], seed: int) -> list[dict[str, float]]:
    """The drums' counts over `DRUM_DRAWS` draws of the drummer for each stretch, at its tempo and meter."""
    rows = []
    for index, stretch in enumerate(stretches):
        beats, ticks_per_step = stretch.piece.beats_per_bar, stretch.score.resolution // STEPS_PER_BEAT
        for draw in range(DRUM_DRAWS):
            rng = np.random.default_rng([seed, index, draw])
            notes = render_drums(drums, stretch.bars, beats, stretch.score.tempo, rng, ticks_per_step)
            score = stretch.score.with_tracks([Track(name="Melody", role="melody"), drum_track(notes)])
            rows.append(band_values(score, stretch.steps_per_bar))
    return rows


def _drum_figures(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    """The drums' share of hits on the 8th-note grid and hits per bar, every bar of every stretch counting once
    (as `groove_values` counts the Groove drummers')."""
    hits = sum(row.get("drum_hits", 0.0) for row in rows)
    return {
        "drum_in_pattern_rate": sum(row.get("drum_hits_on_8ths", 0.0) for row in rows) / max(1.0, hits),
        "drum_onsets_per_bar": hits / max(1.0, sum(row.get("drum_bars", 0.0) for row in rows)),
    }


CHORD_WEIGHTS = (0.25, 0.375, 0.5, 0.75, 1.0, 1.5)
TEMPERATURES = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)


def calibrate(band: Band, preset: BandPreset, pieces: Sequence[BeatPiece], seed: int = 0) -> dict[str, Any]:
    """How the band draws its changes, fitted to the data's own on `pieces` (the valid split).

    For each of `TEMPERATURES` (how boldly the chords are drawn: 1 as the model believes, above 1 bolder), the
    ``chord_weight`` of `CHORD_WEIGHTS` (how much the genre's counted moves weigh against the network's
    beat-by-beat view, which already reads the melody around each beat) whose chords change as often per beat
    as the data's; then the temperature, with its weight, whose bands stay in key as often as the data's own
    (of those within the standard error of the data's own mean, the one nearest 1: as the network believes).
    The two are fitted together because a bolder draw also changes chords more often: jazz, whose players
    reach outside the key far more than a network sure of the melody's key would, needs a draw bolder than 1
    at a weight that keeps its changes at the data's pace.

    Only data whose chords are written symbols (`BandPreset.chords_track`) say how often the changes come;
    chords estimated from an accompaniment flicker with its voicings, so other data keep the preset's weight.
    A dataset without stretches to measure on keeps the preset's weight and the likeliest changes (temperature 0).
    """
    stretches = segments(pieces)
    if not stretches:
        return {"chord_weight": preset.chord_weight, "temperature": 0.0, "stretches": 0}
    original = band.chord_weight, band.temperature
    data_rate = float(np.mean([_change_rate(stretch.labels) for stretch in stretches]))
    compared = [part.name for part in preset.parts]
    data_in_key = np.array(
        [
            band_values(
                stretch.score.with_tracks([stretch.melody, *data_band(stretch.score, preset)]), stretch.steps_per_bar
            ).get("in_scale_ratio", np.nan)
            for stretch in stretches
        ]
    )
    data_in_key = data_in_key[np.isfinite(data_in_key)]
    target = float(np.mean(data_in_key)) if len(data_in_key) else math.nan
    error = float(np.std(data_in_key, ddof=1) / math.sqrt(len(data_in_key))) if len(data_in_key) > 1 else 0.0
    rates: dict[str, dict[str, float]] = {}
    weights: dict[str, float] = {}
    tried: dict[str, float] = {}
    try:
        for temperature in TEMPERATURES:
            key = f"{temperature:g}"
            band.temperature = temperature
            weight = preset.chord_weight
            if preset.chords_track is not None:
                rates[key] = {}
                for candidate in CHORD_WEIGHTS:
                    band.chord_weight = candidate
                    rates[key][f"{candidate:g}"] = float(
                        np.mean(
                            [
                                _change_rate(stretch.chords_by(band, seed + index))
                                for index, stretch in enumerate(stretches)
                            ]
                        )
                    )
                weight = min(CHORD_WEIGHTS, key=lambda value: abs(rates[key][f"{value:g}"] - data_rate))
            weights[key] = band.chord_weight = weight
            rows = []
            for index, stretch in enumerate(stretches):
                made = stretch.score.with_tracks([stretch.melody, *stretch.played_by(band, seed + index, drums=False)])
                rows.append(band_values(made, stretch.steps_per_bar, compared))
            tried[key] = _mean(rows, "in_scale_ratio")
    finally:
        band.chord_weight, band.temperature = original
    gaps = {value: abs(tried[f"{value:g}"] - target) for value in TEMPERATURES}
    # Within the data's own standard error every temperature matches as well as the valid split can tell; the band
    # then draws as its network believes (1), or as near to that as the data allow.
    close = [value for value in TEMPERATURES if gaps[value] <= error] or [min(TEMPERATURES, key=gaps.__getitem__)]
    chosen = min(close, key=lambda value: abs(value - 1.0))
    return {
        "chord_weight": weights[f"{chosen:g}"],
        "temperature": chosen,
        "chord_changes_per_beat_by_temperature_and_weight": rates,
        "chord_weight_by_temperature": weights,
        "data_chord_changes_per_beat": data_rate,
        "in_scale_ratio_by_temperature": tried,
        "data_in_scale_ratio": target,
        "data_in_scale_standard_error": error,
        "stretches": len(stretches),
        "what": "For each temperature of the chords' draw, the weight of the genre's chord moves whose changes come "
        "as often as the data's; then the temperature whose bands stay in key as often as the data's own (of those "
        "within the standard error of the data's mean, the one nearest 1), both on the valid split; the "
        "technique's harmony_risk scales the temperature (1 = this).",
    }


def _change_rate(chords: Sequence[object]) -> float:
    """The share of beats whose chord differs from the beat before."""
    return sum(1 for before, after in itertools.pairwise(chords) if before != after) / max(1, len(chords) - 1)


def _mean(rows: Sequence[dict[str, float]], key: str) -> float:
    values = [row[key] for row in rows if key in row and math.isfinite(row[key])]
    return float(np.mean(values)) if values else math.nan


def groove_values(style: str, splits: Sequence[str] = ("train", "valid", "test")) -> dict[str, float]:
    """The drum values of the Groove MIDI Dataset's performances of a style (4/4 beats) in `splits`, every
    bar counting once: the share of hits on the 8th-note grid and the hits per bar."""
    from opencomposer.data.sources.groove import Groove

    grids = [
        np.stack(bars) > 0
        for split in splits
        for piece in Groove().iter_pieces(split, style=style, beat_type="beat")
        if (bars := drum_bars(piece.score))
    ]
    if not grids:
        raise EvaluationError(f"The Groove MIDI Dataset has no held-out {style} beat to compare the drums with.")
    grid = np.concatenate(grids)  # (bars, 16, 9)
    per_step = grid.sum(axis=2)  # (bars, 16): hits at each step
    on_grid = (np.arange(16) % STEPS_PER_BEAT) % 2 == 0
    return {
        "drum_in_pattern_rate": float(per_step[:, on_grid].sum() / max(1, per_step.sum())),
        "drum_onsets_per_bar": float(grid.sum() / len(grid)),
        "performances": float(len(grids)),
        "bars": float(len(grid)),
    }


def evaluate_band(
    entry: ModelEntry,
    *,
    dataset: str | None = None,
    split: str = "test",
    seed: int = 0,
    limit: int | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Measure a band model on held-out pieces (see the module docstring); returns a JSON-ready report."""
    from opencomposer.techniques.band import Band

    technique = Band(entry)
    preset = card_preset(entry)
    source = get_dataset(dataset or entry.card.dataset)
    pieces = read_beat_pieces(source, preset, splits=(split,), limit=limit or EVAL_PIECES)
    stretches = segments(pieces)
    if len(stretches) < 2:
        raise EvaluationError(f"The {split} split of {source.info.name!r} has fewer than two stretches to measure on.")
    drums = technique.band.drums
    fixed_beat = drums.hits[drums.choose(120.0, np.random.default_rng(seed))] if drums is not None else None
    model_rows, data_rows, baseline_rows, repaired_rows = [], [], [], []
    model_pieces, data_pieces, baseline_pieces = [], [], []
    bands = [data_band(stretch.score, preset) for stretch in stretches]
    # The parts the data play too: a bass on the kicks (rock) has no part in the lead sheets to compare with.
    compared = [part.name for part in preset.parts]
    plain_compared = ["Chords"] if preset.bass_from_kicks is not None else None
    for index, stretch in enumerate(stretches):
        score, melody, steps_per_bar = stretch.score, stretch.melody, stretch.steps_per_bar
        tracks = stretch.played_by(technique.band, seed + index, drums=bool((params or {}).get("drums", True)))
        made = score.with_tracks([melody, *tracks])
        real = score.with_tracks([melody, *bands[index]])
        other = bands[(index + 1 + len(bands) // 2) % len(bands)]
        repaired = score.with_tracks([melody, *other])
        plain = rule_based_band(melody.notes, score.resolution, stretch.piece.beats_per_bar, stretch.bars, fixed_beat)
        baseline = score.with_tracks([melody, *plain])
        model_rows.append(band_values(made, steps_per_bar, compared))
        data_rows.append(band_values(real, steps_per_bar))
        repaired_rows.append(band_values(repaired, steps_per_bar))
        baseline_rows.append(band_values(baseline, steps_per_bar, plain_compared))
        model_pieces.append(Piece(f"model/{stretch.id}", _pitched(made, compared), split))
        data_pieces.append(Piece(stretch.id, _pitched(real), split))
        baseline_pieces.append(Piece(f"baseline/{stretch.id}", _pitched(baseline, plain_compared), split))
    reference = PieceSet(f"{source.info.name} {split}", tuple(data_pieces))
    model_similarity = evaluate_sets(PieceSet("model", tuple(model_pieces)), reference, seed=seed).similarity_index
    baseline_similarity = evaluate_sets(
        PieceSet("rule-based band", tuple(baseline_pieces)), reference, seed=seed
    ).similarity_index
    model = {key: _mean(model_rows, key) for key in ("in_scale_ratio", "empty_bar_rate", "tonal_distance")}
    data = {key: _mean(data_rows, key) for key in ("in_scale_ratio", "empty_bar_rate", "tonal_distance")}
    model["similarity_index"] = model_similarity
    report: dict[str, Any] = {
        "dataset": source.info.name,
        "split": split,
        "pieces": len(pieces),
        "stretches": len(stretches),
        "bars_per_stretch": EVAL_BARS,
        "seed": seed,
        "model": model,
        "dataset_values": data,
        "repaired_tonal_distance": _mean(repaired_rows, "tonal_distance"),
        "rule_based": {
            "similarity_index": baseline_similarity,
            **{key: _mean(baseline_rows, key) for key in ("in_scale_ratio", "empty_bar_rate", "tonal_distance")},
        },
    }
    style = str(entry.card.config.get("drum_style", "none"))
    if drums is not None and style != "none":
        model.update(_drum_figures(_drum_rows(drums, stretches, seed)))
        # The bar is the style's drumming, every performance of it; the held-out ones alone are reported
        # beside it (nine jazz performances differ from the 41 of the training split by 0.09 already).
        report["groove_values"] = {"style": style, **groove_values(style)}
        report["groove_held_out_values"] = {"style": style, **groove_values(style, ("valid", "test"))}
    report["bars"] = quality_bars(report)
    report["similarity_index"] = model_similarity
    report["quality_bars"] = {BAR_NAMES[key]: bar["met"] for key, bar in report["bars"].items()}
    return report


def _pitched(score: Score, parts: Sequence[str] | None = None) -> Score:
    """The melody (first) and the pitched `parts` of a score (all its pitched tracks when None)."""
    return score.with_tracks(
        [
            track
            for index, track in enumerate(score.tracks)
            if not track.is_drum and (index == 0 or parts is None or track.name in parts)
        ]
    )


def quality_bars(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each bar of the issue: the bar in words, the model's value, the yardstick's, and whether it is met."""
    model, data = report["model"], report["dataset_values"]
    bars: dict[str, dict[str, Any]] = {}
    for key in ("in_scale_ratio", "empty_bar_rate"):
        bars[key] = {
            "bar": BARS[key],
            "model": model[key],
            "data": data[key],
            "met": abs(model[key] - data[key]) <= 0.05,
        }
    bars["tonal_distance"] = {
        "bar": BARS["tonal_distance"],
        "model": model["tonal_distance"],
        "data": report["repaired_tonal_distance"],
        "met": model["tonal_distance"] < report["repaired_tonal_distance"],
    }
    bars["similarity_index"] = {
        "bar": BARS["similarity_index"],
        "model": model["similarity_index"],
        "data": report["rule_based"]["similarity_index"],
        "met": model["similarity_index"] >= 0.7
        and model["similarity_index"] > report["rule_based"]["similarity_index"],
    }
    if "groove_values" in report:
        groove = report["groove_values"]
        bars["drum_in_pattern_rate"] = {
            "bar": BARS["drum_in_pattern_rate"],
            "model": model["drum_in_pattern_rate"],
            "data": groove["drum_in_pattern_rate"],
            "met": abs(model["drum_in_pattern_rate"] - groove["drum_in_pattern_rate"]) <= 0.05,
        }
        bars["drum_onsets_per_bar"] = {
            "bar": BARS["drum_onsets_per_bar"],
            "model": model["drum_onsets_per_bar"],
            "data": groove["drum_onsets_per_bar"],
            "met": abs(model["drum_onsets_per_bar"] - groove["drum_onsets_per_bar"])
            <= 0.2 * groove["drum_onsets_per_bar"],
        }
    return bars
