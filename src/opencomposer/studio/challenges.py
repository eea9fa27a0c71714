"""Challenges: local Chartbusters. Each challenge is declared once here: its task, its inputs, the techniques
it takes, its scoring rule in words and the function that computes the score on the server.

An attempt is a model, its parameters and a seed (and, for "Sound like the genre", a genre). The server
runs the attempt, saves what it made as compositions (through the `Compose` callback the studio gives)
and scores it from the project's metrics; the same model, parameters and seed give the same score.

1. ``harmonize-like-bach``: the sopranos of five held-out Bach chorales (the first `CHORALE_BARS` bars of
   the first five pieces of the test split of ``jsb-satb``, else of music21's ``bach-chorales``) are
   harmonized by an ``edit`` model; the result is measured against Bach's own five harmonizations.
2. ``sound-like-the-genre``: a given melody is played by a ``band`` (or ``accompany``) model; the result is
   scored by the genre classifier's confidence in the genre picked (`opencomposer.training.genres`), its
   in-scale ratio, and its drums against the genre's Groove drummers, as `GENRE_SCORING` says in words.
3. ``beat-a-shipped-model``: the user's own model runs the held-out evaluation of
   ``opencomposer models evaluate`` on `EVALUATION_PIECES` held-out pieces of a shipped model's
   dataset; it is scored against the shipped model's card figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, Protocol

from opencomposer.data.registry import Piece, TrackSlot, get_dataset
from opencomposer.data.windows import split_of
from opencomposer.errors import ParameterError, UnknownNameError
from opencomposer.music.melodies import get_melody
from opencomposer.music.score import Score
from opencomposer.music.transform import crop
from opencomposer.registry import ModelEntry, list_models
from opencomposer.studio.compose import composition_metrics
from opencomposer.studio.words import with_article
from opencomposer.techniques.base import ParamValue, time_budget

CHORALE_DATASETS = ("jsb-satb", "bach-chorales")
CHORALES = 5
CHORALE_BARS = 8
VOICES = ("Soprano", "Alto", "Tenor", "Bass")
GENRE_MELODY = "amazing-grace"
EVALUATION_PIECES = 4
EVALUATION_SEED = 0

Breakdown = dict[str, float | str | bool | None]


class Compose(Protocol):
    """Run the attempt's technique, model, parameters and seed on `melody`, save the composition; returns its
    id and its score."""

    def __call__(self, melody: Score, title: str) -> tuple[str, Score]: ...


@dataclass(frozen=True)
class Attempt:
    """What the user chose: a model, its parameters, a seed and, where the challenge asks for one, a genre."""

    model: ModelEntry
    params: Mapping[str, ParamValue]
    seed: int
    genre: str | None = None


@dataclass(frozen=True)
class Scored:
    """A scored attempt: the score (0 to 100), the figures it came from, and the compositions it made."""

    score: float
    breakdown: Breakdown
    composition_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Challenge:
    """One challenge, declared once: what the page shows and how the server scores an attempt."""

    id: str
    title: str
    task: str
    inputs: str
    techniques: tuple[str, ...]
    scoring: str
    run: Callable[[Attempt, Compose, float | None], Scored]
    fixed_params: Mapping[str, ParamValue] = field(default_factory=dict)
    shipped_allowed: bool = True
    takes_genre: bool = False


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _or_zero(value: float | None) -> float:
    return value if value is not None and math.isfinite(value) else 0.0


@cache
def held_out_chorales() -> tuple[Piece, ...]:
    """The challenge's chorales: the first `CHORALES` four-voice pieces of the test split of the first
    present dataset of `CHORALE_DATASETS`, cropped to `CHORALE_BARS` bars (read once per process)."""
    for name in CHORALE_DATASETS:
        source = get_dataset(name)
        if not source.is_present():
            continue
        chosen: list[Piece] = []
        for piece in source.iter_pieces():
            by_name = {track.name: track for track in piece.score.tracks}
            if split_of(piece) != "test" or any(not by_name.get(voice) for voice in VOICES):
                continue
            if any(not by_name[voice].notes for voice in VOICES):
                continue
            score = crop(piece.score.with_tracks([by_name[voice] for voice in VOICES]), 0, CHORALE_BARS)
            chosen.append(replace(piece, score=score))
            if len(chosen) == CHORALES:
                return tuple(chosen)
    raise UnknownNameError(
        f"No Bach chorales are on this machine ({' or '.join(CHORALE_DATASETS)}); install music21 or run "
        "`opencomposer data download jsb-satb`."
    )


HARMONY_SCORING = (
    "score = 100 × (0.5 × S + 0.25 × F + 0.25 × O). S is the similarity index (0 to 1) of your five "
    "harmonizations to Bach's own five (feature distributions, as `opencomposer evaluate` computes it). "
    "F = 1 / (1 + excess fifths), where excess fifths is how many more parallel fifths per 100 note "
    "transitions you wrote than Bach did in the same excerpts (0 when you wrote no more); O is the same "
    "for parallel octaves."
)


def _voice_term(yours: float, bach: float) -> float:
    if not math.isfinite(yours):
        return 0.0
    return 1.0 / (1.0 + max(0.0, yours - _or_zero(bach)))


def run_harmony(attempt: Attempt, compose: Compose, _seconds: float | None) -> Scored:
    """Harmonize the five chorale sopranos and score them against Bach (`HARMONY_SCORING`)."""
    from opencomposer.data.evaluate import PieceSet, evaluate_sets

    chorales = held_out_chorales()
    made, ids = [], []
    for piece in chorales:
        soprano = piece.score.with_tracks([piece.score.tracks[0]])
        composition_id, score = compose(soprano, f"Harmonize like Bach: {piece.id}")
        pitched = [track for track in score.tracks if not track.is_drum]
        if len(pitched) < len(VOICES):
            raise ParameterError(
                f"The model {attempt.model.name!r} wrote {len(pitched)} voices; pick a four-voice (SATB) edit model."
            )
        voices = [replace(track, name=name) for track, name in zip(pitched, VOICES, strict=False)]
        made.append(Piece(piece.id, score.with_tracks(voices), "test"))
        ids.append(composition_id)
    layout = tuple(TrackSlot(name, "melody" if i == 0 else "accompaniment", 0) for i, name in enumerate(VOICES))
    evaluation = evaluate_sets(
        PieceSet("attempt", tuple(made)),
        PieceSet("Bach", chorales, layout=layout),
        seed=EVALUATION_SEED,
    )
    yours, bach = evaluation.generated.metrics, evaluation.reference.metrics
    similarity = _or_zero(evaluation.similarity_index)
    fifths = _voice_term(yours.get("parallel_fifths", math.nan), bach.get("parallel_fifths", math.nan))
    octaves = _voice_term(yours.get("parallel_octaves", math.nan), bach.get("parallel_octaves", math.nan))
    breakdown: Breakdown = {
        "similarity_index": similarity,
        "parallel_fifths": _finite(yours.get("parallel_fifths", math.nan)),
        "parallel_fifths_bach": _finite(bach.get("parallel_fifths", math.nan)),
        "parallel_octaves": _finite(yours.get("parallel_octaves", math.nan)),
        "parallel_octaves_bach": _finite(bach.get("parallel_octaves", math.nan)),
        "fifths_term": fifths,
        "octaves_term": octaves,
        "chorales": ", ".join(piece.id for piece in chorales),
    }
    return Scored(100 * (0.5 * similarity + 0.25 * fifths + 0.25 * octaves), breakdown, tuple(ids))


def genre_references() -> dict[str, dict[str, float]]:
    """The genres an attempt can aim at (the shipped genre classifier's), each with its Groove drum figures
    (empty for a genre without drums)."""
    from opencomposer.training.genres import genre_drums, load_genre_classifier

    drums = genre_drums()
    return {genre: drums.get(genre, {}) for genre in load_genre_classifier().genres}


GENRE_SCORING = (
    "score = 100 × the mean of: the genre classifier's confidence that your composition's band is of the genre "
    "you picked (a logistic regression over 48 features of everything but the melody, fitted on the real held-out "
    "music of jazz, rock, pop and symphony: `opencomposer models genres`); the in-scale ratio of the whole "
    "composition; and, for a genre with drums, how close your drums' share of hits on the 8th-note grid is to the "
    "genre's Groove MIDI drummers', max(0, 1 − |yours − theirs| / theirs) (0 with no drums)."
)


def run_genre(attempt: Attempt, compose: Compose, _seconds: float | None) -> Scored:
    """Play the given melody with the attempt's model and score it in the genre picked (`GENRE_SCORING`)."""
    from opencomposer.training.genres import load_genre_classifier

    genres = genre_references()
    genre = attempt.genre or attempt.model.card.genre or ""
    if genre not in genres:
        raise ParameterError(f"There is no genre {genre!r} to measure against; pick one of: {', '.join(genres)}.")
    sample = get_melody(GENRE_MELODY)
    composition_id, score = compose(sample.to_score(), f"Sound like {genre}: {sample.title}")
    confidence = load_genre_classifier().confidences(score)
    metrics = composition_metrics(score)
    in_scale = _or_zero(metrics.get("in_scale_ratio"))
    terms = [confidence[genre], in_scale]
    breakdown: Breakdown = {"genre": genre, "genre_confidence": confidence[genre], "in_scale_ratio": in_scale}
    for other, value in confidence.items():
        breakdown[f"confidence_{other}"] = value
    drum_figures = genres[genre]
    if drum_figures:
        theirs = float(drum_figures["drum_in_pattern_rate"])
        rates = [value for key, value in metrics.items() if key.startswith("drum_in_8th_pattern_rate/")]
        yours = sum(_or_zero(value) for value in rates) / len(rates) if rates else math.nan
        closeness = max(0.0, 1.0 - abs(yours - theirs) / theirs) if math.isfinite(yours) else 0.0
        terms.append(closeness)
        breakdown.update(
            {"drum_in_8th_pattern_rate": _finite(yours), "drum_in_8th_pattern_rate_genre": theirs, "drums": closeness}
        )
    return Scored(100 * sum(terms) / len(terms), breakdown, (composition_id,))


BEAT_SCORING = (
    f"Your model runs the held-out evaluation of `opencomposer models evaluate` on {EVALUATION_PIECES} held-out "
    "pieces of the shipped model's dataset (seed 0). score = 50 × (quality bars met / bars) + 50 × min(1, your "
    "similarity index / the shipped model's, from its card). You beat it when your similarity index is higher "
    "and you meet at least as many of those bars."
)


def rival(entry: ModelEntry) -> ModelEntry:
    """The shipped model of the same technique trained on the same dataset as `entry`.

    Raises `ParameterError` when `entry` is shipped or no shipped model shares its technique and dataset.
    """
    shipped = [model for model in list_models(entry.card.technique) if model.shipped]
    if entry.shipped:
        raise ParameterError(f"{entry.name!r} ships with OpenComposer; name a model you trained on the Training page.")
    for model in shipped:
        if model.card.dataset == entry.card.dataset and "held_out" in model.card.metrics:
            return model
    offers = ", ".join(f"{model.card.dataset} ({model.name})" for model in shipped) or "none"
    raise ParameterError(
        f"No shipped {entry.card.technique} model was trained on {entry.card.dataset!r}; train yours on one of "
        f"their datasets: {offers}."
    )


def run_beat(attempt: Attempt, _compose: Compose, seconds: float | None) -> Scored:
    """Run the held-out evaluation of the user's model and score it against its shipped rival (`BEAT_SCORING`)."""
    from opencomposer.training.arcnn import evaluate_harmonization
    from opencomposer.training.band_eval import evaluate_band
    from opencomposer.training.evaluation import evaluate_accompaniment

    shipped = rival(attempt.model)
    technique = attempt.model.card.technique
    options: dict[str, Any] = {"seed": attempt.seed, "limit": EVALUATION_PIECES, "params": dict(attempt.params)}
    with time_budget(None if seconds is None else seconds * EVALUATION_PIECES):
        if technique == "band":
            report = evaluate_band(attempt.model, dataset=shipped.card.dataset, **options)
        elif technique == "edit":
            report = evaluate_harmonization(attempt.model, shipped.card.dataset, **options)
        else:
            report = evaluate_accompaniment(attempt.model, shipped.card.dataset, **options)
    bars: dict[str, bool] = report["quality_bars"]
    shipped_report = shipped.card.metrics["held_out"]
    shipped_bars = {key: bool(value) for key, value in shipped_report["quality_bars"].items() if key in bars}
    similarity = _or_zero(report["similarity_index"])
    shipped_similarity = float(shipped_report["similarity_index"])
    met, shipped_met = sum(bars.values()), sum(shipped_bars.values())
    score = 50 * met / max(1, len(bars)) + 50 * min(1.0, similarity / shipped_similarity)
    breakdown: Breakdown = {
        "shipped_model": shipped.name,
        "dataset": shipped.card.dataset,
        "pieces": report["pieces"],
        "similarity_index": similarity,
        "shipped_similarity_index": shipped_similarity,
        "bars_met": met,
        "shipped_bars_met": shipped_met,
        "bars": len(bars),
        "beats_shipped": similarity > shipped_similarity and met >= shipped_met,
    }
    return Scored(score, breakdown)


CHALLENGES: tuple[Challenge, ...] = (
    Challenge(
        id="harmonize-like-bach",
        title="Harmonize like Bach",
        task="Harmonize five held-out Bach chorale melodies in four parts so that they sound like Bach's own.",
        inputs=f"The sopranos of the first {CHORALES} test-split chorales of {' (else '.join(CHORALE_DATASETS)}), "
        f"their first {CHORALE_BARS} bars. Pick an edit model, its settings (harmonize mode) and a seed.",
        techniques=("edit",),
        scoring=HARMONY_SCORING,
        run=run_harmony,
        fixed_params={"mode": "harmonize"},
    ),
    Challenge(
        id="sound-like-the-genre",
        title="Sound like the genre",
        task="Play a given melody with a band or an accompaniment so that it sounds like the genre you pick.",
        inputs=f"The melody {GENRE_MELODY!r}. Pick a band or accompany model, its settings, a seed and a genre "
        "(default the model's own).",
        techniques=("band", "accompany"),
        scoring=GENRE_SCORING,
        run=run_genre,
        takes_genre=True,
    ),
    Challenge(
        id="beat-a-shipped-model",
        title="Beat a shipped model",
        task="Train your own model that beats a shipped one on its dataset's held-out pieces.",
        inputs="One of your own edit, accompany or band models, trained on the Training page on the dataset of a "
        "shipped model of the same technique (for example the AR-CNN on jsb-satb, a U-Net GAN on nottingham, or a "
        "band on pop909). If you have none yet, train one there first.",
        techniques=("edit", "accompany", "band"),
        scoring=BEAT_SCORING,
        run=run_beat,
        shipped_allowed=False,
    ),
)


def get_challenge(challenge_id: str) -> Challenge:
    """The challenge called `challenge_id`; raises `UnknownNameError` listing the known ones."""
    for challenge in CHALLENGES:
        if challenge.id == challenge_id:
            return challenge
    known = ", ".join(challenge.id for challenge in CHALLENGES)
    raise UnknownNameError(f"There is no challenge called {challenge_id!r}; the challenges are: {known}.")


def eligible_models(challenge: Challenge) -> list[ModelEntry]:
    """The models an attempt at `challenge` may name."""
    return [
        entry
        for technique in challenge.techniques
        for entry in list_models(technique)
        if challenge.shipped_allowed or not entry.shipped
    ]


def check_attempt(challenge: Challenge, attempt: Attempt) -> None:
    """Refuse an attempt whose model or genre the challenge does not take (`ParameterError`)."""
    if attempt.model.card.technique not in challenge.techniques:
        raise ParameterError(
            f"{attempt.model.name!r} is {with_article(attempt.model.card.technique)} model; {challenge.title!r} takes "
            f"{' or '.join(challenge.techniques)} models."
        )
    if attempt.genre is not None and not challenge.takes_genre:
        raise ParameterError(f"{challenge.title!r} takes no genre; leave it out.")
