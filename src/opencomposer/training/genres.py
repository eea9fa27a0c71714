"""Telling the genres apart: a classifier of bands, trained on the real held-out data of the four genres.

`genre_features(score)` describes a score's band (every track but the melody) in 48 numbers: its pitch
classes relative to the key, which instrument families play, how busy, how many notes at once and how high
it plays, the families of the chords it spells, and its drums (how many hits, which drums, how many off
the 8th-note grid: the swing). The melody is left out on purpose: the models are compared on the same
melodies, so only what the band plays may tell them apart.

`train_genre_classifier()` fits a multinomial logistic regression (numpy, standardized features, L2) on
the held-out pieces of each genre's data with the Groove MIDI Dataset's held-out drums of its style
(`real_examples`); `evaluate_genres()` then plays each genre model on the same 20 melodies (the sample
melodies and held-out Nottingham tunes) and reports how often the classifier names the model's own genre
(the bar: 80 %). The fitted classifier ships as ``pretrained/genres.classifier.json``: the Challenges page
scores an attempt's genre with it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from opencomposer.files import write_atomically
from opencomposer.metrics.rolls import detect_key
from opencomposer.models.band import DRUM_NOTES, STEPS_PER_BEAT
from opencomposer.music.chords import QUALITIES, estimate_chords
from opencomposer.music.pianoroll import RollSpec, to_roll
from opencomposer.music.score import Score, Track

GENRE_MODELS = {"jazz": "jazz-band", "rock": "rock-band", "pop": "pop-band", "symphony": "symphony-band"}
"""The genres told apart, and the shipped model of each."""
FAMILIES = ((0, 8), (8, 16), (16, 24), (24, 32), (32, 40), (40, 56), (56, 64), (64, 80), (80, 128))
"""General MIDI program ranges: pianos, chromatic percussion, organs, guitars, basses, strings and
ensembles, brass, reeds and pipes, everything else."""
SPEC = RollSpec(STEPS_PER_BEAT, 0, 127)
FEATURE_NAMES = (
    *(f"pitch_class_{degree}" for degree in range(12)),
    *(f"family_{index}" for index in range(len(FAMILIES))),
    "onsets_per_beat",
    "polyphony",
    "mean_pitch",
    "pitch_spread",
    *(f"chords_{quality}" for quality in QUALITIES),
    "has_drums",
    "drum_hits_per_beat",
    *(f"drum_{note}" for note in DRUM_NOTES),
    "drum_off_grid",
    "bass_onsets_per_beat",
    "bass_on_beat",
    "sustain",
    "register_low",
    "register_high",
    "tracks",
    "empty_beats",
)
CLASSIFIER_PATH = Path(__file__).resolve().parents[1] / "pretrained" / "genres.classifier.json"


def genre_features(score: Score) -> npt.NDArray[np.float64]:
    """The band's description (see the module docstring), `FEATURE_NAMES` in order."""
    melody_index = next((index for index, track in enumerate(score.tracks) if track.role == "melody"), 0)
    band = [track for index, track in enumerate(score.tracks) if index != melody_index and track.notes]
    pitched = [track for track in band if not track.is_drum]
    drums = [track for track in band if track.is_drum]
    resolution = score.resolution
    end = max((track.end for track in score.tracks), default=resolution)
    n_beats = max(1, -(-end // resolution))
    values: list[float] = []
    full = to_roll(score.with_tracks([track for track in score.tracks if not track.is_drum] or [Track()]), SPEC)
    key = int(np.ravel(detect_key(full.max(axis=0)[None], SPEC))[0]) if full.size else 0
    tonic = key % 12
    histogram = np.zeros(12)
    for track in pitched:
        for note in track.notes:
            histogram[(note.pitch - tonic) % 12] += note.duration
    values += list(histogram / max(1.0, histogram.sum()))
    values += [float(any(low <= track.program < high for track in pitched)) for low, high in FAMILIES]
    notes = [note for track in pitched for note in track.notes]
    values.append(len(notes) / n_beats)
    sounding = sum(note.duration for note in notes) / (n_beats * resolution)
    values.append(sounding)
    pitches = np.array([note.pitch for note in notes], dtype=np.float64) if notes else np.array([60.0])
    values += [float(pitches.mean()) / 127.0, float(pitches.std()) / 24.0]
    weights = np.zeros((n_beats, 12))
    for note in notes:
        beat = min(n_beats - 1, note.start // resolution)
        weights[beat, note.pitch % 12] += note.duration
    chords = [chord for chord in estimate_chords(weights, min_weight=1e-6) if chord is not None]
    values += [sum(chord.quality == quality for chord in chords) / max(1, len(chords)) for quality in QUALITIES]
    hits = [note for track in drums for note in track.notes]
    values += [float(bool(hits)), len(hits) / n_beats / 4.0]
    values += [sum(note.pitch == drum for note in hits) / max(1, len(hits)) for drum in DRUM_NOTES]
    step = max(1, resolution // STEPS_PER_BEAT)
    values.append(sum((round(note.start / step) % STEPS_PER_BEAT) % 2 == 1 for note in hits) / max(1, len(hits)))
    bass = [note for note in notes if note.pitch < 52]
    values += [len(bass) / n_beats, sum(note.start % resolution == 0 for note in bass) / max(1, len(bass))]
    values.append(float(np.mean([min(note.duration / resolution, 4.0) for note in notes])) / 4.0 if notes else 0.0)
    values += [float(np.mean(pitches < 48)), float(np.mean(pitches > 72))]
    values.append(len(pitched) / 4.0)
    covered = np.zeros(n_beats, dtype=bool)
    for note in notes:
        covered[note.start // resolution : min(n_beats, (note.start + note.duration) // resolution + 1)] = True
    values.append(float(1.0 - covered.mean()))
    return np.asarray(values, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class GenreClassifier:
    """Multinomial logistic regression over standardized `genre_features`."""

    genres: tuple[str, ...]
    mean: npt.NDArray[np.float64]
    scale: npt.NDArray[np.float64]
    weights: npt.NDArray[np.float64]  # (features, genres)
    bias: npt.NDArray[np.float64]

    def probabilities(self, features: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """(n, genres) probabilities of feature rows (n, features), or (genres,) of one row."""
        logits = ((np.atleast_2d(features) - self.mean) / self.scale) @ self.weights + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        return probabilities[0] if np.ndim(features) == 1 else probabilities

    def confidences(self, score: Score) -> dict[str, float]:
        """How sure the classifier is that a score's band is of each genre."""
        return dict(zip(self.genres, self.probabilities(genre_features(score)).tolist(), strict=True))

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(FEATURE_NAMES),
            "genres": list(self.genres),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "bias": self.bias.tolist(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GenreClassifier:
        if list(data["features"]) != list(FEATURE_NAMES):
            raise ValueError("The genre classifier was fitted on other features; fit it again.")
        return cls(
            tuple(data["genres"]),
            np.asarray(data["mean"]),
            np.asarray(data["scale"]),
            np.asarray(data["weights"]),
            np.asarray(data["bias"]),
        )


def load_genre_classifier(path: Path = CLASSIFIER_PATH) -> GenreClassifier:
    """The shipped genre classifier."""
    return GenreClassifier.from_json(json.loads(path.read_text(encoding="utf-8"))["classifier"])


def genre_drums(path: Path = CLASSIFIER_PATH) -> dict[str, dict[str, float]]:
    """Each drummed genre's Groove drum figures, as the shipped classifier's report recorded them."""
    report = json.loads(path.read_text(encoding="utf-8"))["report"]
    return {genre: dict(values) for genre, values in report.get("drums", {}).items()}


def fit_classifier(
    features: npt.NDArray[np.float64], labels: Sequence[str], *, l2: float = 1e-2, steps: int = 2000
) -> GenreClassifier:
    """Fit the logistic regression by gradient descent (the data are a few hundred rows)."""
    genres = tuple(sorted(set(labels)))
    targets = np.zeros((len(labels), len(genres)))
    targets[np.arange(len(labels)), [genres.index(label) for label in labels]] = 1.0
    mean = features.mean(axis=0)
    scale = features.std(axis=0) + 1e-6
    x = (features - mean) / scale
    weights = np.zeros((x.shape[1], len(genres)))
    bias = np.zeros(len(genres))
    for _ in range(steps):
        logits = x @ weights + bias
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        error = (probabilities - targets) / len(x)
        weights -= 0.5 * (x.T @ error + l2 * weights)
        bias -= 0.5 * error.sum(axis=0)
    return GenreClassifier(genres, mean, scale, weights, bias)


def real_examples(
    per_genre: int = 40, bars: int = 16, seed: int = 0
) -> tuple[list[npt.NDArray[np.float64]], list[str]]:
    """Features of the real held-out data of each genre: its valid and test pieces' own bands (first `bars`
    bars), each with `bars` bars of a held-out Groove performance of the genre's style."""
    from opencomposer.data.registry import get_dataset
    from opencomposer.data.sources.groove import Groove
    from opencomposer.models.band import bass_on_kicks, drum_track, grid_notes, index_chords
    from opencomposer.training.band import drum_bars, get_band_preset, read_beat_pieces
    from opencomposer.training.band_eval import _crop, data_band

    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for genre, model in GENRE_MODELS.items():
        preset = get_band_preset(model)
        style = str(preset.training.get("drum_style", "none"))
        drum_runs = []
        if style != "none":
            for split in ("valid", "test"):
                for performance in Groove().iter_pieces(split, style=style, beat_type="beat"):
                    if len(grid := drum_bars(performance.score)) >= bars:
                        drum_runs.append(grid)
        pieces = read_beat_pieces(get_dataset(preset.dataset), preset, splits=("valid", "test"), limit=per_genre)
        for piece in pieces:
            score, n_bars = _crop(piece, bars)
            melody = next(track for track in score.tracks if track.role == "melody")
            tracks = [melody, *data_band(score, preset)]
            if drum_runs:
                run = drum_runs[int(rng.integers(len(drum_runs)))]
                drums = grid_notes(run[:n_bars], piece.beats_per_bar, score.resolution // STEPS_PER_BEAT)
                if preset.bass_from_kicks is not None:
                    # Lead sheets hold no bass: the real changes' roots on the real drummer's kicks, as the band plays.
                    chords = index_chords(piece.labels)
                    end = n_bars * piece.beats_per_bar * score.resolution
                    bass = bass_on_kicks(drums, chords, score.resolution, end, low=preset.bass_from_kicks.low)
                    tracks.append(Track(preset.bass_from_kicks.name, preset.bass_from_kicks.program, notes=tuple(bass)))
                tracks.append(drum_track(drums))
            rows.append(genre_features(score.with_tracks(tracks)))
            labels.append(genre)
    return rows, labels


def shared_melodies(count: int = 20) -> list[tuple[str, Score]]:
    """The melodies every genre model plays for the comparison: the sample melodies, then held-out Nottingham tunes."""
    from opencomposer.data.registry import get_dataset
    from opencomposer.data.windows import split_of
    from opencomposer.music.melodies import list_melodies

    melodies = [(melody.name, melody.to_score()) for melody in list_melodies()][:count]
    if len(melodies) < count:
        for piece in get_dataset("nottingham").iter_pieces():
            if split_of(piece) != "test" or piece.score.time_signature != (4, 4):
                continue
            melodies.append((piece.id, piece.score.with_tracks([piece.score.tracks[0]])))
            if len(melodies) >= count:
                break
    return melodies


def evaluate_genres(
    models: dict[str, str] | None = None, *, classifier: GenreClassifier | None = None, seed: int = 0
) -> dict[str, Any]:
    """Play each genre model on the shared melodies and say how often the classifier names its genre."""
    from opencomposer.techniques.band import Band

    models = models or GENRE_MODELS
    if classifier is None:
        rows, labels = real_examples(seed=seed)
        classifier = fit_classifier(np.stack(rows), labels)
    melodies = shared_melodies()
    confusion: dict[str, dict[str, int]] = {genre: dict.fromkeys(classifier.genres, 0) for genre in models}
    for genre, model in models.items():
        technique = Band.from_model(model)
        for _, melody in melodies:
            made = technique.generate(melody, {"bars": 16}, seed).score
            guess = classifier.genres[int(np.argmax(classifier.probabilities(genre_features(made))))]
            confusion[genre][guess] += 1
    correct = sum(confusion[genre].get(genre, 0) for genre in models)
    total = len(models) * len(melodies)
    return {
        "melodies": [name for name, _ in melodies],
        "confusion": confusion,
        "accuracy": correct / total,
        "per_genre": {genre: confusion[genre].get(genre, 0) / len(melodies) for genre in models},
        "bar": "the classifier names the model's own genre at least 80 % of the time",
        "met": correct / total >= 0.8,
    }


def fit_and_save(path: Path = CLASSIFIER_PATH, *, seed: int = 0, evaluate: bool = True) -> dict[str, Any]:
    """Fit the classifier on the real held-out data, measure the genre models with it, and save both."""
    rows, labels = real_examples(seed=seed)
    features = np.stack(rows)
    classifier = fit_classifier(features, labels)
    train_accuracy = float(
        np.mean(np.array(classifier.genres)[np.argmax(classifier.probabilities(features), axis=1)] == np.array(labels))
    )
    from opencomposer.training.band import get_band_preset
    from opencomposer.training.band_eval import groove_values

    drums = {}
    for genre, model in GENRE_MODELS.items():
        style = str(get_band_preset(model).training.get("drum_style", "none"))
        if style != "none":
            drums[genre] = {"style": style, **groove_values(style)}
    report: dict[str, Any] = {
        "command": "opencomposer models genres --save",
        "drums": drums,
        "examples": {genre: labels.count(genre) for genre in classifier.genres},
        "accuracy_on_its_real_examples": train_accuracy,
    }
    if evaluate:
        report["genre_models"] = evaluate_genres(classifier=classifier, seed=seed)
    text = json.dumps({"classifier": classifier.to_json(), "report": report}, indent=1) + "\n"
    write_atomically(path, text.encode("utf-8"))
    return report
