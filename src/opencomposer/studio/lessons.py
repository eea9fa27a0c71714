"""The Learn page's lessons, declared once: a lesson per technique, each a few steps and a quiz, and what
their live parts compute on the shipped models.

A step names the `widget` the web page draws beside its words (a piano roll of a real generation, the
tokens of the user's melody, a table of next-token probabilities...); the page asks the API for what the
widget shows, so every picture comes from a model, never from a stored image.

The live parts computed here:

- `melody_tokens`: the REMI events of a score, named as the Transformer's own vocabulary names them.
- `next_tokens`: the Transformer's ten likeliest next events at a step of those tokens, as the model
  gives them and after the temperature and the top-k or nucleus filter, through
  `Extend.next_token_probabilities`, the very function generation draws from.
- `judging_examples`: for each metric, the highest and the lowest scoring of a fixed set of real
  generations (every sample melody accompanied by a shipped GAN at three thresholds, seed 0).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, TypeGuard

from opencomposer.errors import ParameterError
from opencomposer.music.melodies import list_melodies
from opencomposer.music.score import Score
from opencomposer.studio.compose import composition_metrics
from opencomposer.studio.words import metric_sentence
from opencomposer.techniques.extend import Extend, encode_score, recent_tokens

if TYPE_CHECKING:
    import torch

    from opencomposer.techniques.accompany import Accompany

TOP_TOKENS = 10
"""How many of the likeliest next tokens the Transformer lesson shows."""

JUDGING_MODEL = "nottingham-unet"
JUDGING_THRESHOLDS = (0.2, 0.5, 0.9)
JUDGING_SEED = 0
JUDGING_METRICS: tuple[tuple[str, str], ...] = (
    ("in_scale_ratio", "in_scale_ratio"),
    ("pitch_class_entropy", "pitch_class_entropy"),
    ("polyphony", "polyphony"),
    ("tonal_distance", "tonal_distance"),
    ("empty_bar_rate", "empty_bar_rate/Chords"),
    ("qualified_note_rate", "qualified_note_rate/Chords"),
    ("pitch_classes_per_bar", "pitch_classes_per_bar/Chords"),
)
"""Each metric the judging lesson explains and the figure of `composition_metrics` it is read from: the whole
piece's, or the accompaniment's (the GAN's "Chords" track) for a figure measured per track."""


@dataclass(frozen=True)
class Step:
    """One screen of a lesson: a title, a few sentences and the live picture (`widget`) drawn beside them."""

    title: str
    text: str
    widget: str


@dataclass(frozen=True)
class Question:
    """A quiz question: the choices, the index of the right one and why it is right."""

    question: str
    choices: tuple[str, ...]
    answer: int
    explanation: str


@dataclass(frozen=True)
class Lesson:
    """A lesson: its steps in order, then its quiz."""

    name: str
    title: str
    summary: str
    technique: str
    model: str
    steps: tuple[Step, ...]
    quiz: tuple[Question, ...]


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        name="gan",
        title="GAN accompaniment",
        summary="A generator and a critic learn against each other; the threshold and the noise shape what you hear.",
        technique="accompany",
        model="nottingham-unet",
        steps=(
            Step(
                "A generator and a critic",
                "The generator is a U-Net: it reads your melody as a piano roll, adds random noise, and draws an "
                "accompaniment, a grid of how sure it is that each note plays at each step. The critic reads "
                "melody and accompaniment together and scores how much they look like the real music of the "
                "training set. They train in turns: the critic learns to tell real from made, the generator "
                "learns to fool it.",
                "gan-diagram",
            ),
            Step(
                "What the shipped model plays",
                "This is the shipped model nottingham-unet (trained on the Nottingham folk tunes) accompanying "
                "the melody you picked, with the default threshold 0.5 and seed 0. Press Play to hear it.",
                "gan-sample",
            ),
            Step(
                "Learning, step by step",
                "The generator as it was early, midway and at the end of a real training run of this model (the "
                "shipped model's own command, seed and data, re-run with every checkpoint kept), each accompanying "
                "the melody you picked. Early on it plays blurs of notes or nothing; it learns where the chords "
                "change and which notes fit them. Below, how its music measured against the real tunes' (the "
                "dashed line) at each evaluation of that run.",
                "gan-progress",
            ),
            Step(
                "Its real training run",
                "These are the figures recorded from the shipped model's own training run: how long it trained and, "
                "on pieces it never saw, how its music measures against the real music.",
                "gan-run",
            ),
            Step(
                "The threshold",
                "The generator's grid says how sure it is of each note; the threshold turns it into notes. A low "
                "threshold plays every note it half believes in, a high one only the sure ones. The same "
                "melody and the same seed, two thresholds:",
                "gan-threshold",
            ),
            Step(
                "The noise",
                "The noise is the generator's other input: a new seed is new noise, so another accompaniment in "
                "the same style. How much changes depends on the model: this one learnt to lean mostly on the "
                "melody, so a new seed moves some notes rather than the whole part. The same melody and "
                "threshold, two seeds:",
                "gan-seeds",
            ),
        ),
        quiz=(
            Question(
                "What does the critic do?",
                (
                    "It writes the accompaniment",
                    "It scores how real melody and accompaniment look together",
                    "It picks the threshold",
                ),
                1,
                "The critic judges; only the generator writes notes.",
            ),
            Question(
                "You lower the threshold from 0.7 to 0.3. What happens?",
                ("More accompaniment notes", "Fewer accompaniment notes", "The melody changes"),
                0,
                "A lower threshold keeps notes the generator is less sure of; the melody is always kept as played.",
            ),
            Question(
                "Why does another seed give another accompaniment?",
                ("It picks another model", "It gives the generator other noise", "It transposes the melody"),
                1,
                "The seed fixes the noise the generator reads beside the melody.",
            ),
        ),
    ),
    Lesson(
        name="arcnn",
        title="AR-CNN: masking and Gibbs sampling",
        summary="A network that fills in hidden notes, used again and again to rewrite a piece step by step.",
        technique="edit",
        model="bach-arcnn",
        steps=(
            Step(
                "Masking",
                "The AR-CNN learnt from Bach chorales with holes in them: random parts of the piano roll were "
                "hidden (masked) and the network guessed what was there. So it can fill in any part of a piece "
                "from the rest.",
                "arcnn-diagram",
            ),
            Step(
                "Gibbs sampling, step by step",
                "To write the other voices for your melody, the sampler masks a block of notes, lets the model "
                "redraw them, and does it again, many times, masking less and less. Watch it: each frame is one "
                "step of the real run on your melody.",
                "arcnn-replay",
            ),
            Step(
                "Creative risk",
                "Creative risk is the sampling temperature: low picks the notes the model finds likeliest, high "
                "takes more surprising ones. The same melody and seed, two risks:",
                "arcnn-risk",
            ),
            Step(
                "The number of iterations",
                "More iterations give the model more rounds to revise its choices, so the voices fit each other "
                "better; few leave rough edges. The same melody and seed, two iteration counts:",
                "arcnn-iterations",
            ),
        ),
        quiz=(
            Question(
                "How did the AR-CNN learn?",
                (
                    "By guessing notes hidden from Bach chorales",
                    "By competing with a critic",
                    "By predicting the next token",
                ),
                0,
                "It was trained on masked piano rolls: fill in what was hidden.",
            ),
            Question(
                "What does one Gibbs sampling step do?",
                ("Plays the piece once", "Masks some notes and lets the model redraw them", "Adds noise to the melody"),
                1,
                "Mask, redraw, repeat: the piece is rewritten a little at every step.",
            ),
            Question(
                "Which setting makes the notes more surprising?",
                ("Fewer iterations", "A higher creative risk", "A lower creative risk"),
                1,
                "Creative risk is the temperature: higher spreads the choice over less likely notes.",
            ),
        ),
    ),
    Lesson(
        name="transformer",
        title="Transformer: tokens and next-token probabilities",
        summary="Music as a stream of events, continued one event at a time by chance within limits you set.",
        technique="extend",
        model="pop-transformer",
        steps=(
            Step(
                "Tokens",
                "The Transformer reads music as a list of events (REMI tokens): Bar starts a bar, Position says "
                "where in the bar, then Program (the instrument), Pitch, Velocity (how hard) and Duration of "
                "each note. These are the tokens of your melody, named as the model's vocabulary names them.",
                "transformer-tokens",
            ),
            Step(
                "Next-token probabilities",
                "At every step the model gives each possible next token a probability. Pick a step: the table "
                "shows the ten likeliest tokens after the ones before it, and which one your melody really has "
                "there.",
                "transformer-next",
            ),
            Step(
                "Top-k, nucleus and temperature",
                "Generation draws the next token at random from these probabilities, after two changes. The "
                "temperature divides the model's scores: below 1 sharpens the likeliest, above 1 flattens "
                "them. Then top-k keeps only the k likeliest tokens, or nucleus keeps the likeliest ones until "
                "together they reach p. Change them and watch what is left to draw from.",
                "transformer-filter",
            ),
        ),
        quiz=(
            Question(
                "Which token starts a new bar?",
                ("Position_0", "Bar_None", "Pitch_60"),
                1,
                "Bar tokens mark the bars; Position tokens say where in the bar a note starts.",
            ),
            Question(
                "With top-k sampling and k = 1, what can be drawn?",
                ("Any token", "Only the likeliest token", "The ten likeliest tokens"),
                1,
                "k = 1 keeps one candidate: generation becomes greedy and always picks the likeliest.",
            ),
            Question(
                "What does a temperature above 1 do?",
                (
                    "Flattens the probabilities: unlikely tokens get more chance",
                    "Sharpens them: the likeliest gets even more",
                    "Removes tokens",
                ),
                0,
                "Dividing the scores by more than 1 brings them closer together before they become probabilities.",
            ),
        ),
    ),
    Lesson(
        name="judging",
        title="Judging music",
        summary="What the metrics measure, in plain words, each with a real example that scores high and one low.",
        technique="accompany",
        model=JUDGING_MODEL,
        steps=(
            Step(
                "Metrics in plain words",
                "Listening is the real test, but numbers let us compare thousands of pieces: whether notes stay "
                "in key, how many sound at once, whether the accompaniment follows the melody's harmony. A "
                "metric is never good or bad by itself: it is compared with the same figure of real music.",
                "judging-words",
            ),
            Step(
                "High and low, heard",
                "For each metric, the highest and the lowest scoring of real generations: every sample melody "
                f"accompanied by the shipped model {JUDGING_MODEL} at thresholds "
                f"{', '.join(str(t) for t in JUDGING_THRESHOLDS)} with seed {JUDGING_SEED}. Play both and hear "
                "what the number means.",
                "judging-examples",
            ),
        ),
        quiz=(
            Question(
                "An accompaniment's in-scale ratio is 1. What does that mean?",
                ("Every note belongs to the piece's key", "It plays one note at a time", "No bar is silent"),
                0,
                "The in-scale ratio is the share of notes in the key.",
            ),
            Question(
                "Is a lower tonal distance closer or further from the melody's harmony?",
                ("Closer", "Further"),
                0,
                "Tonal distance measures how far apart two tracks' harmonies are: lower follows the melody more.",
            ),
            Question(
                "How do you tell whether a metric's value is good?",
                ("Higher is always better", "Compare it with the same figure of real music", "Lower is always better"),
                1,
                "A model is judged by how close its figures come to those of the music it learnt from.",
            ),
        ),
    ),
)


@dataclass(frozen=True)
class TokenProbability:
    """A token of the vocabulary and the probability given to it."""

    token_id: int
    name: str
    probability: float


@dataclass(frozen=True)
class NextTokens:
    """The Transformer's view of the token at `step`: its ten likeliest as the model gives them (`model`) and as
    generation draws from them (`sampled`: after the temperature and filter), how many tokens the filter
    leaves, and the token the melody really has there (None past its end)."""

    step: int
    kept: int
    actual: TokenProbability | None
    model: list[TokenProbability]
    sampled: list[TokenProbability]


def melody_tokens(technique: Extend, score: Score) -> list[tuple[int, str]]:
    """The REMI tokens of `score` as (id, name), in the order the model reads them."""
    names = _names(technique)
    return [(token, names[token]) for token in encode_score(technique.tokenizer, score)]


def next_tokens(
    technique: Extend, score: Score, step: int, *, sampling: str, top_k: int, top_p: float, temperature: float
) -> NextTokens:
    """What the Transformer predicts for token `step` of `score` (0 is the first) from the tokens before it.

    The tokens before `step` are read as generation reads its prompt (the last training length of them, from
    a bar); with none before, the model reads a lone Bar token, as generation starts an empty stream.
    Raises `ParameterError` for a step past the end of the tokens.
    """
    import torch

    ids = encode_score(technique.tokenizer, score)
    if not 0 <= step <= len(ids):
        raise ParameterError(f"The melody has {len(ids)} tokens; pick a step from 0 to {len(ids)}.")
    bar_id = technique.tokenizer.vocab["Bar_None"]
    context = recent_tokens(ids[:step], bar_id, technique.model.config.context_tokens) or [bar_id]
    with torch.inference_mode():
        logits = technique.model(torch.tensor([context]))[0][0, -1]  # (vocab,)
        as_trained = technique.next_token_probabilities(
            logits, sampling="temperature", top_k=1, top_p=1.0, temperature=1.0
        )
        sampled = technique.next_token_probabilities(
            logits, sampling=sampling, top_k=top_k, top_p=top_p, temperature=temperature
        )
    names = _names(technique)

    def top(probabilities: torch.Tensor) -> list[TokenProbability]:
        values, order = torch.topk(probabilities, TOP_TOKENS)
        return [
            TokenProbability(int(token), names[int(token)], float(value))
            for value, token in zip(values, order, strict=True)
            if float(value) > 0
        ]

    actual = None
    if step < len(ids):
        actual = TokenProbability(ids[step], names[ids[step]], float(as_trained[ids[step]]))
    return NextTokens(
        step=step, kept=int((sampled > 0).sum()), actual=actual, model=top(as_trained), sampled=top(sampled)
    )


def _names(technique: Extend) -> dict[int, str]:
    return {index: name for name, index in technique.tokenizer.vocab.items()}


@dataclass(frozen=True)
class Example:
    """A real generation and its value on one metric."""

    title: str
    value: float
    score: Score


@dataclass(frozen=True)
class MetricExamples:
    """A metric in plain words, with the generation that scores highest on it and the one that scores lowest."""

    metric: str
    words: str
    high: Example
    low: Example


def judging_examples(accompany: Callable[[Score, float], Score]) -> list[MetricExamples]:
    """For each of `JUDGING_METRICS`, the highest and lowest scoring of every sample melody accompanied by
    `accompany(melody, threshold)` at each of `JUDGING_THRESHOLDS` (a metric no piece defines is left out)."""
    pieces = []
    for sample in list_melodies():
        for threshold in JUDGING_THRESHOLDS:
            score = accompany(sample.to_score(), threshold)
            pieces.append((f"{sample.title}, threshold {threshold}", score, composition_metrics(score)))
    examples = []
    for metric, key in JUDGING_METRICS:
        scored = [(value, title, score) for title, score, values in pieces if _finite(value := values.get(key))]
        if not scored:
            continue
        high = max(scored, key=lambda item: item[0])
        low = min(scored, key=lambda item: item[0])
        examples.append(
            MetricExamples(
                metric=metric,
                words=metric_sentence(metric),
                high=Example(high[1], float(high[0]), high[2]),
                low=Example(low[1], float(low[0]), low[2]),
            )
        )
    return examples


def _finite(value: float | None) -> TypeGuard[float]:
    return value is not None and math.isfinite(value)


@dataclass(frozen=True)
class RunCheckpoint:
    """The generator at one step of a real training run, accompanying the user's melody."""

    label: str
    step: int
    score: Score


@dataclass(frozen=True)
class TrainingProgress:
    """A shipped model's training run as the GAN lesson shows it: the command, the generator at three steps on
    the user's melody, and every evaluation of the run (the model's metrics and the data's own)."""

    model: str
    command: str
    total_steps: int
    checkpoints: tuple[RunCheckpoint, ...]
    evaluations: tuple[dict[str, object], ...]


def run_of(model: str) -> dict[str, Any] | None:
    """The training run kept beside a shipped model for the lessons (``<model>.run.json``), None if none was."""
    import json

    from opencomposer.registry import pretrained_dir

    path = pretrained_dir() / f"{model}.run.json"
    if not path.is_file():
        return None
    run: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return run


@cache
def _generator_at(model: str, weights: str) -> Accompany:
    """The GAN lesson's model with the generator of one kept step (loaded once per process)."""
    from dataclasses import replace

    from opencomposer.registry import get_model, pretrained_dir
    from opencomposer.techniques.accompany import Accompany

    return Accompany(replace(get_model(model), weights_path=pretrained_dir() / weights))


def training_progress(model: str, melody: Score, seed: int = 0) -> TrainingProgress:
    """The lesson's view of `model`'s kept run, its generator at each kept step accompanying `melody` (the
    technique's defaults and `seed`). Raises `ParameterError` when the model has no kept run."""
    run = run_of(model)
    if run is None:
        raise ParameterError(f"No training run is kept beside {model!r}; only the GAN lesson's model has one.")
    checkpoints = tuple(
        RunCheckpoint(
            str(kept["label"]),
            int(kept["step"]),
            _generator_at(model, str(kept["weights"])).generate(melody, {}, seed).score,
        )
        for kept in run["checkpoints"]
    )
    return TrainingProgress(
        model=model,
        command=str(run.get("command", "")),
        total_steps=int(run.get("total_steps") or 0),
        checkpoints=checkpoints,
        evaluations=tuple(run.get("evaluations", ())),
    )
