"""Lessons: the Learn page's lessons and quizzes (declared in `opencomposer.studio.lessons`), and the read-only
views of the shipped models that their live steps show: a melody's Transformer tokens, the next-token
probabilities at a step, and real examples that score high and low on each metric.

The GAN and AR-CNN lessons make real compositions through `POST /api/compositions` (the AR-CNN's replay is
its frames); only what that route does not give lives here.
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from opencomposer.music.score import Score
from opencomposer.studio import lessons
from opencomposer.studio.server.dependencies import ERRORS, Studio, StudioDep
from opencomposer.studio.server.routes.melodies import load_melody, score_notes
from opencomposer.studio.server.schemas import MELODY_ID_PATTERN, MODEL_NAME_PATTERN, PublicSchema, ScoreNotes
from opencomposer.techniques.base import time_budget, validate_params
from opencomposer.techniques.extend import CREATIVE_RISK, SAMPLING, TOP_K, TOP_P, Extend

router = APIRouter(prefix="/api/lessons", tags=["lessons"], responses=ERRORS)

MelodyQuery = Annotated[str, Query(pattern=MELODY_ID_PATTERN, description="A sample melody's name or a stored id.")]
ModelQuery = Annotated[str, Query(pattern=MODEL_NAME_PATTERN, description="A Transformer (extend) model's name.")]


class StepPublic(PublicSchema):
    """One screen of a lesson; `widget` names the live picture the page draws beside the words."""

    title: str
    text: str
    widget: str


class QuestionPublic(PublicSchema):
    """A quiz question; `answer` is the index of the right choice."""

    question: str
    choices: list[str]
    answer: int
    explanation: str


class LessonPublic(PublicSchema):
    """A lesson: the technique and model its live steps use, its steps, its quiz."""

    name: str
    title: str
    summary: str
    technique: str
    model: str
    steps: list[StepPublic]
    quiz: list[QuestionPublic]


class TokenPublic(PublicSchema):
    """A token of the model's vocabulary (with a probability where one is given)."""

    token_id: int
    name: str
    probability: float | None = None


class TokensPublic(PublicSchema):
    """A melody as the Transformer reads it."""

    model: str
    melody_id: str
    tokens: list[TokenPublic]


class NextTokensPublic(PublicSchema):
    """The ten likeliest next tokens at `step`: as the model gives them and as generation draws from them."""

    step: int
    kept: int
    actual: TokenPublic | None
    model: list[TokenPublic]
    sampled: list[TokenPublic]


class ExamplePublic(PublicSchema):
    """A real generation and its value on one metric."""

    title: str
    value: float
    notes: ScoreNotes


class MetricExamplesPublic(PublicSchema):
    """A metric in plain words with its highest and lowest scoring example."""

    metric: str
    words: str
    high: ExamplePublic
    low: ExamplePublic


@router.get("")
def list_all() -> list[LessonPublic]:
    """Every lesson, in the order the Learn page shows them."""
    return [LessonPublic.model_validate(asdict(lesson)) for lesson in lessons.LESSONS]


def _extend(studio: Studio, model: str) -> Extend:
    technique = studio.composer.technique("extend", model)
    assert isinstance(technique, Extend)
    return technique


@router.get("/transformer/tokens")
async def tokens(
    studio: StudioDep, melody_id: MelodyQuery = "twinkle", model: ModelQuery = "pop-transformer"
) -> TokensPublic:
    """The REMI tokens of a melody, named by the model's own vocabulary, in the order the model reads them."""

    def work() -> TokensPublic:
        score, _ = load_melody(studio, melody_id)
        named = lessons.melody_tokens(_extend(studio, model), score)
        return TokensPublic(
            model=model, melody_id=melody_id, tokens=[TokenPublic(token_id=i, name=name) for i, name in named]
        )

    return await studio.composer.run(work)


@router.get("/transformer/next")
async def next_tokens(
    studio: StudioDep,
    melody_id: MelodyQuery = "twinkle",
    model: ModelQuery = "pop-transformer",
    step: Annotated[int, Query(ge=0, description="The token to predict (0 is the first) from those before it.")] = 0,
    sampling: Annotated[str, Query(description=SAMPLING.help)] = str(SAMPLING.default),
    top_k: Annotated[int, Query(description=TOP_K.help)] = int(TOP_K.default),
    top_p: Annotated[float, Query(description=TOP_P.help)] = float(TOP_P.default),
    temperature: Annotated[float, Query(description=CREATIVE_RISK.help)] = float(CREATIVE_RISK.default),
) -> NextTokensPublic:
    """The ten likeliest next tokens at a step of a melody's tokens, as the model gives them and after the
    temperature and the top-k or nucleus filter (what generation draws from), with the melody's own token."""
    values = validate_params(
        Extend.params, {"sampling": sampling, "top_k": top_k, "top_p": top_p, "creative_risk": temperature}
    )

    def work() -> NextTokensPublic:
        score, _ = load_melody(studio, melody_id)
        result = lessons.next_tokens(
            _extend(studio, model),
            score,
            step,
            sampling=str(values["sampling"]),
            top_k=int(values["top_k"]),
            top_p=float(values["top_p"]),
            temperature=float(values["creative_risk"]),
        )
        return NextTokensPublic.model_validate(asdict(result))

    return await studio.composer.run(work)


class RunCheckpointPublic(PublicSchema):
    """The generator at one step of the run, accompanying the melody."""

    label: str = Field(description='"early", "middle" or "late".')
    step: int
    notes: ScoreNotes


class TrainingProgressPublic(PublicSchema):
    """A shipped GAN's real training run: its generator at three steps on the melody, and its evaluations."""

    model: str
    command: str
    total_steps: int
    checkpoints: list[RunCheckpointPublic]
    evaluations: list[dict[str, Any]] = Field(
        description="Each evaluation of the run: its step, the model's metrics and the data's own (reference)."
    )


@router.get("/gan/progress")
async def gan_progress(
    studio: StudioDep, melody_id: MelodyQuery = "twinkle", model: ModelQuery = "nottingham-unet"
) -> TrainingProgressPublic:
    """What the GAN lesson's model made of the melody early, midway and at the end of its real training run
    (seed 0, the default threshold), with that run's evaluations."""

    def work() -> TrainingProgressPublic:
        score, _ = load_melody(studio, melody_id)
        with time_budget(studio.settings.max_generation_seconds):
            progress = lessons.training_progress(model, score)
        return TrainingProgressPublic(
            model=progress.model,
            command=progress.command,
            total_steps=progress.total_steps,
            checkpoints=[
                RunCheckpointPublic(label=kept.label, step=kept.step, notes=score_notes(kept.score))
                for kept in progress.checkpoints
            ],
            evaluations=list(progress.evaluations),
        )

    return await studio.composer.run(work)


_judging: list[MetricExamplesPublic] = []
_judging_lock = threading.Lock()


@router.get("/judging/examples")
async def judging_examples(studio: StudioDep) -> list[MetricExamplesPublic]:
    """For each metric, in plain words, the real generation that scores highest and the one that scores lowest
    (every sample melody accompanied by a shipped GAN at three thresholds, seed 0; made once per process)."""
    return await studio.composer.run(partial(_judging_examples, studio))


def _judging_examples(studio: Studio) -> list[MetricExamplesPublic]:
    with _judging_lock:
        if not _judging:
            _judging.extend(_make_judging_examples(studio))
        return list(_judging)


def _make_judging_examples(studio: Studio) -> list[MetricExamplesPublic]:
    def accompany(score: Score, threshold: float) -> Score:
        generation, _ = studio.composer.generate(
            "accompany", lessons.JUDGING_MODEL, score, {"threshold": threshold}, lessons.JUDGING_SEED
        )
        return generation.score

    return [
        MetricExamplesPublic(
            metric=item.metric,
            words=item.words,
            high=ExamplePublic(title=item.high.title, value=item.high.value, notes=score_notes(item.high.score)),
            low=ExamplePublic(title=item.low.title, value=item.low.value, notes=score_notes(item.low.score)),
        )
        for item in lessons.judging_examples(accompany)
    ]
