"""Training a continuation Transformer end to end: tokenized data, presets, the run, and its model card.

`run_training(TransformerRecipe(preset, datasets, pieces), out_dir, name=...)` (`opencomposer.training.road`)
tokenizes the preset's datasets with the REMI vocabulary of `opencomposer.techniques.extend` (cached), cuts each
piece's token stream into fixed-length sequences that begin on a bar, trains a `Transformer` on next-token
prediction under the shared `Trainer`, and writes ``<name>.safetensors``, ``<name>.json`` and
``<name>.tokenizer.json`` into `out_dir` and, unless told not to, into the user's models folder. The card holds
the validation loss per token on held-out pieces beside a bigram baseline's on the same tokens, and the
continuation evaluation of `evaluate_continuations`.

A run's folder holds ``events.jsonl``, ``checkpoints/`` (resume by running the same command again) and
``eval/step-NNNNNNNN.mid`` (a held-out opening continued by the model at that step).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import torch

from opencomposer.data.cache import cache_dir, cache_key, read_arrays, write_arrays
from opencomposer.data.evaluate import PieceSet, evaluate_sets
from opencomposer.data.registry import SPLITS, Dataset, Piece, get_dataset
from opencomposer.data.windows import split_of
from opencomposer.errors import DatasetError, ParameterError, TrainingError, UnknownNameError
from opencomposer.models import count_parameters
from opencomposer.models.transformer import Transformer, TransformerConfig
from opencomposer.music.io import write_score
from opencomposer.music.score import Score
from opencomposer.registry import ModelEntry
from opencomposer.techniques.base import Param, ParamValue, validate_params
from opencomposer.techniques.extend import (
    TOKENIZER_SETTINGS,
    TRANSFORMER_TRAINING_PARAMS,
    Extend,
    encode_score,
    make_tokenizer,
    tokenizer_path,
)
from opencomposer.training.architectures import Architecture, EvaluationRequest, PresetInfo
from opencomposer.training.objectives import Objective
from opencomposer.training.objectives.lm import LanguageModel
from opencomposer.training.params import TRAINING_PARAMS
from opencomposer.training.road import CardParts, Recipe, TrainingData
from opencomposer.training.trainer import BatchSource, Evaluator, TrainResult

if TYPE_CHECKING:
    from miditok import REMI  # type: ignore[import-untyped]

TOKENS_FORMAT = "1"
"""Changes whenever the tokenized cache's layout or content changes, so old caches are never read."""
MIN_PIECE_TOKENS = 16
VALID_SEQUENCES = 128
SAMPLE_SECONDS = 8.0
PROMPT_BARS = 8
CONTINUATION_SECONDS = 30.0
CONTINUATION_PIECES = 16
STUCK_BARS = 4
BIGRAM_SMOOTHING = (0.001, 0.01, 0.1, 1.0)
BIGRAM_MARGIN = 0.1
"""How much lower than the bigram baseline's the validation loss per token must be to beat it clearly (10 %)."""
MIN_SIMILARITY = 0.7

TRANSFORMER_PARAMS: tuple[Param, ...] = (*TRAINING_PARAMS, *TRANSFORMER_TRAINING_PARAMS)
"""The hyperparameters of a Transformer training run."""


@dataclass(frozen=True, slots=True)
class TransformerPreset:
    """Everything a Transformer run needs besides its hyperparameters.

    Parameters
    ----------
    name, description
        The preset's name, and one sentence for people.
    datasets
        The datasets it trains on, pooled (each split by piece as the data layer splits it).
    d_model, layers, heads
        The network's width, depth and attention heads.
    training
        Recommended hyperparameters, over the declared defaults (the user's values win).
    """

    name: str
    description: str
    datasets: tuple[str, ...]
    d_model: int = 128
    layers: int = 4
    heads: int = 4
    training: Mapping[str, ParamValue] = field(default_factory=dict)

    def model_config(self, vocab_size: int, sequence_tokens: int, dropout: float) -> TransformerConfig:
        """The network's config for a vocabulary and a training length."""
        return TransformerConfig(
            vocab_size=vocab_size,
            context_tokens=sequence_tokens,
            d_model=self.d_model,
            layers=self.layers,
            heads=self.heads,
            dropout=dropout,
        )


_SHIPPED_TRAINING: dict[str, ParamValue] = {
    "batch_size": 16,
    "learning_rate": 2e-3,
    "sequence_tokens": 256,
    "dropout": 0.0,
    "steps": 2000,
    "max_minutes": 55.0,
    "eval_every": 250,
    "checkpoint_every": 100,
}

PRESETS: dict[str, TransformerPreset] = {
    preset.name: preset
    for preset in (
        TransformerPreset(
            name="classical-transformer",
            description="Continues classical music in the manner of Bach chorales, Lieder and string quartets.",
            datasets=("bach-chorales", "lieder", "string-quartets"),
            training=_SHIPPED_TRAINING,
        ),
        TransformerPreset(
            name="pop-transformer",
            description="Continues pop songs (melody, second line and piano) in the manner of POP909.",
            datasets=("pop909",),
            training=_SHIPPED_TRAINING,
        ),
    )
}
"""The named presets: those of the shipped models."""


def get_preset(name: str) -> TransformerPreset:
    """The preset called `name`; raises `UnknownNameError` listing the known ones."""
    if name not in PRESETS:
        raise UnknownNameError(f"There is no Transformer preset called {name!r}. Known presets: {', '.join(PRESETS)}.")
    return PRESETS[name]


_DEFAULT_TRAINING: dict[str, ParamValue] = {key: value for key, value in _SHIPPED_TRAINING.items() if key != "steps"}


def default_preset(datasets: Sequence[str]) -> TransformerPreset:
    """A small preset for any datasets: 4 layers of width 128."""
    return TransformerPreset(
        name="+".join(datasets) + "-transformer",
        description=f"A continuation Transformer trained on {', '.join(datasets)}.",
        datasets=tuple(datasets),
        training=_DEFAULT_TRAINING,
    )


@dataclass(frozen=True, slots=True)
class TokenizedData:
    """Datasets as token sequences: per split, (sequences, T + 1) token ids and the piece of each sequence."""

    name: str
    sequences: dict[str, npt.NDArray[np.int16]]
    piece_ids: dict[str, npt.NDArray[np.str_]]
    pieces: dict[str, int]
    tokens: dict[str, int]


def piece_sequences(ids: Sequence[int], length: int, bar_id: int, pad_id: int) -> npt.NDArray[np.int16]:
    """A piece's token stream cut into (n, length) sequences that each begin on a bar, overlapping by about half.

    The last one is padded with `pad_id`; a stream shorter than `length` gives one padded sequence.
    """
    stream = np.asarray(ids, dtype=np.int16)
    bars = np.flatnonzero(stream == bar_id)
    starts: list[int] = []
    start = int(bars[0]) if len(bars) else 0
    while True:
        starts.append(start)
        if start + length >= len(stream):
            break
        later = bars[bars >= start + length // 2]
        start = int(later[0]) if len(later) and later[0] > start else start + length // 2
    result = np.full((len(starts), length), pad_id, dtype=np.int16)
    for row, first in enumerate(starts):
        chunk = stream[first : first + length]
        result[row, : len(chunk)] = chunk
    return result


def tokenize_datasets(
    sources: Sequence[Dataset], tokenizer: REMI, sequence_tokens: int, *, use_cache: bool = True
) -> TokenizedData:
    """Tokenize every piece of `sources` and cut it into sequences of `sequence_tokens` + 1 tokens, cached.

    Raises `DatasetError` when a dataset's files are missing or no piece lands in the train split.
    """
    for source in sources:
        if not source.is_present():
            raise DatasetError(
                f"The files of the dataset {source.info.name!r} are not on this machine; run `opencomposer data "
                f"download {source.info.name}` first, or pick another dataset."
            )
    name = "+".join(source.info.name for source in sources)
    key = cache_key(
        {
            "format": TOKENS_FORMAT,
            "datasets": [[source.info.name, source.info.version] for source in sources],
            "tokenizer": repr(sorted(TOKENIZER_SETTINGS.items())),
            "vocab": len(tokenizer),
            "sequence_tokens": sequence_tokens,
        }
    )
    path = cache_dir() / f"tokens-{name[:60]}-{key[:16]}.npz"
    cached = read_arrays(path) if use_cache else None
    if cached is not None:
        return TokenizedData(
            name=name,
            sequences={split: cached[f"{split}_sequences"].astype(np.int16) for split in SPLITS},
            piece_ids={split: cached[f"{split}_piece_ids"].astype(np.str_) for split in SPLITS},
            pieces={split: int(cached[f"{split}_pieces"]) for split in SPLITS},
            tokens={split: int(cached[f"{split}_tokens"]) for split in SPLITS},
        )
    bar_id, pad_id = tokenizer.vocab["Bar_None"], tokenizer.vocab["PAD_None"]
    parts: dict[str, list[npt.NDArray[np.int16]]] = {split: [] for split in SPLITS}
    owners: dict[str, list[str]] = {split: [] for split in SPLITS}
    pieces = dict.fromkeys(SPLITS, 0)
    tokens = dict.fromkeys(SPLITS, 0)
    for source in sources:
        for piece in source.iter_pieces():
            ids = encode_score(tokenizer, piece.score)
            if len(ids) < MIN_PIECE_TOKENS:
                continue
            split = split_of(piece)
            cut = piece_sequences(ids, sequence_tokens + 1, bar_id, pad_id)
            parts[split].append(cut)
            owners[split].extend([piece.id] * len(cut))
            pieces[split] += 1
            tokens[split] += len(ids)
    if not parts["train"]:
        raise DatasetError(f"No piece of {name!r} gave tokens in the train split; add music or pick another dataset.")
    empty = np.zeros((0, sequence_tokens + 1), dtype=np.int16)
    data = TokenizedData(
        name=name,
        sequences={split: np.concatenate([empty, *parts[split]]) for split in SPLITS},
        piece_ids={split: np.array(owners[split], dtype=np.str_) for split in SPLITS},
        pieces=pieces,
        tokens=tokens,
    )
    arrays: dict[str, npt.NDArray[np.generic]] = {}
    for split in SPLITS:
        arrays[f"{split}_sequences"] = data.sequences[split]
        arrays[f"{split}_piece_ids"] = data.piece_ids[split]
        arrays[f"{split}_pieces"] = np.array(pieces[split])
        arrays[f"{split}_tokens"] = np.array(tokens[split])
    if use_cache:
        write_arrays(path, arrays)
    return data


def held_out_sequences(data: TokenizedData, limit: int = VALID_SEQUENCES) -> npt.NDArray[np.int16]:
    """Up to `limit` sequences spread over the valid split (else test), for the validation loss."""
    for split in ("valid", "test"):
        sequences = data.sequences[split]
        if len(sequences):
            picks = np.unique(np.linspace(0, len(sequences) - 1, min(limit, len(sequences))).astype(np.int64))
            return sequences[picks]
    raise TrainingError(f"The datasets {data.name!r} hold no held-out piece to measure the model on.")


def bigram_loss(train: npt.NDArray[np.int16], held_out: npt.NDArray[np.int16], vocab_size: int, pad_id: int) -> float:
    """Cross-entropy per token (nats) on `held_out` of a bigram model counted on `train`.

    The model is p(b | a) = (count(a, b) + alpha) / (count(a) + alpha * V), with the additive smoothing
    alpha among `BIGRAM_SMOOTHING` that scores best on `held_out` (the strongest baseline this family
    gives); padding is neither counted nor scored.
    """

    def pair_counts(sequences: npt.NDArray[np.int16]) -> npt.NDArray[np.float64]:
        first, second = sequences[:, :-1].ravel().astype(np.int64), sequences[:, 1:].ravel().astype(np.int64)
        keep = (first != pad_id) & (second != pad_id)
        counts = np.zeros(vocab_size * vocab_size, dtype=np.float64)
        np.add.at(counts, first[keep] * vocab_size + second[keep], 1.0)
        return counts.reshape(vocab_size, vocab_size)

    train_counts, held_counts = pair_counts(train), pair_counts(held_out)
    total = held_counts.sum()
    best = math.inf
    for alpha in BIGRAM_SMOOTHING:
        log_p = np.log((train_counts + alpha) / (train_counts.sum(axis=1, keepdims=True) + alpha * vocab_size))
        best = min(best, float(-(held_counts * log_p).sum() / max(total, 1.0)))
    return best


def batches_of(sequences: npt.NDArray[np.int16], batch_size: int, seed: int) -> Iterator[torch.Tensor]:
    """The sequences in a shuffled order (fixed by `seed`), in full batches of `batch_size`."""
    order = np.random.default_rng(seed).permutation(len(sequences))
    for first in range(0, len(order) - batch_size + 1, batch_size):
        yield torch.from_numpy(sequences[order[first : first + batch_size]].astype(np.int64))


class LossEvaluation:
    """The evaluator of a run: validation loss per token, and a held-out opening continued as a MIDI sample."""

    def __init__(
        self,
        held_out: npt.NDArray[np.int16],
        prompt: Score | None,
        tokenizer: REMI,
        out_dir: Path,
        *,
        baseline: float,
        seed: int,
    ) -> None:
        self.held_out = torch.from_numpy(held_out.astype(np.int64))
        self.prompt = prompt
        self.tokenizer = tokenizer
        self.out_dir = out_dir
        self.baseline = baseline
        self.seed = seed

    def __call__(self, objective: Any, step: int) -> dict[str, Any]:
        """Measure the objective's model now; writes ``eval/step-NNNNNNNN.mid``."""
        assert isinstance(objective, LanguageModel)
        loss = objective.validation_loss(self.held_out)
        results: dict[str, Any] = {"metrics": {"valid_loss": loss, "bigram_loss": self.baseline}}
        if self.prompt is not None:
            technique = Extend.from_network(objective.model, self.tokenizer)
            generation = technique.generate(self.prompt, {"extension_seconds": SAMPLE_SECONDS}, self.seed)
            path = self.out_dir / f"step-{step:08d}.mid"
            path.parent.mkdir(parents=True, exist_ok=True)
            write_score(generation.score, path)
            results["midi"] = str(path)
        objective.model.train()
        return results


class TransformerRecipe(Recipe):
    """The Transformer's part of a run: token sequences, one `Transformer` under next-token prediction."""

    technique = "extend"
    architecture = "transformer"
    params = TRANSFORMER_PARAMS

    def __init__(self, preset: TransformerPreset, datasets: Sequence[str] | None, continuation_pieces: int) -> None:
        self.spec = preset
        self.names = tuple(datasets or preset.datasets)
        self.continuation_pieces = continuation_pieces
        self.preset = preset.name
        self.training = preset.training

    def prepare(self, values: Mapping[str, ParamValue], workers: int | None) -> TrainingData:
        """Tokenize the datasets (cached)."""
        self.sources = [get_dataset(dataset) for dataset in self.names]
        self.tokenizer = make_tokenizer()
        self.data = tokenize_datasets(self.sources, self.tokenizer, int(values["sequence_tokens"]))
        return TrainingData(
            self.data.name,
            len(self.data.sequences["train"]),
            unit="sequences",
            too_small="lower --batch-size or --sequence-tokens",
        )

    def build(self, values: Mapping[str, ParamValue], steps_for: Callable[[int], int]) -> Objective:
        """The bigram baseline on the held-out sequences, then the network and its language-model objective
        (whose learning rate decays over the run's steps)."""
        pad_id = self.tokenizer.vocab["PAD_None"]
        self.held_out = held_out_sequences(self.data)
        self.baseline = bigram_loss(self.data.sequences["train"], self.held_out, len(self.tokenizer), pad_id)
        sequence_tokens, dropout = int(values["sequence_tokens"]), float(values["dropout"])
        config = self.spec.model_config(len(self.tokenizer), sequence_tokens, dropout)
        self.config = replace(config, pad_id=pad_id)
        self.sequence_tokens, self.seed = sequence_tokens, int(values["seed"])
        self.model = Transformer(self.config)
        return LanguageModel(self.model, learning_rate=float(values["learning_rate"]), total_steps=steps_for(1))

    def run_info(self) -> dict[str, Any]:
        """The network's config, the datasets and the vocabulary's settings."""
        return {
            "model": asdict(self.config),
            "datasets": list(self.names),
            "tokenizer": repr(sorted(TOKENIZER_SETTINGS.items())),
        }

    def batches(self, batch_size: int, seed: int) -> BatchSource:
        """Shuffled training sequences, a new order each epoch."""
        train = self.data.sequences["train"]
        return lambda epoch: batches_of(train, batch_size, seed * 100_003 + epoch)

    def evaluator(self, eval_dir: Path, seed: int) -> Evaluator:
        """The validation loss per token, and the first held-out opening continued."""
        self.prompts = held_out_openings(self.sources, limit=max(1, self.continuation_pieces))
        prompt = self.prompts[0][0] if self.prompts else None
        return LossEvaluation(self.held_out, prompt, self.tokenizer, eval_dir, baseline=self.baseline, seed=seed)

    def card(self, name: str, result: TrainResult) -> CardParts:
        """The losses against the bigram baseline's, the continuation evaluation, and the vocabulary."""
        model, data, count = self.model, self.data, self.continuation_pieces
        model.cpu().eval()
        continuation = (
            evaluate_continuations(Extend.from_network(model, self.tokenizer), self.prompts[:count], seed=self.seed)
            if count and self.prompts
            else {}
        )
        valid_loss = result.last_eval.get("metrics", {}).get("valid_loss")
        if continuation:
            continuation["dataset"] = data.name
            continuation["quality_bars"] = quality_bars(continuation, valid_loss, self.baseline)
        return CardParts(
            config=asdict(replace(self.config, dropout=0.0)),
            # The preset's sentence names its datasets: a run on other data says what it learnt from instead.
            description=self.spec.description
            if self.names == self.spec.datasets
            else default_preset(self.names).description,
            dataset=data.name,
            roll={
                "steps_per_beat": 4,
                "low_pitch": TOKENIZER_SETTINGS["pitch_range"][0],
                "high_pitch": TOKENIZER_SETTINGS["pitch_range"][1] - 1,
            },
            bars=0,
            tracks=[],
            melody_index=0,
            generated_tracks=[],
            decoding={
                "tokenizer": f"{name}.tokenizer.json",
                "vocabulary": "miditok REMI",
                "settings": _settings_json(),
            },
            training={
                "datasets": list(self.names),
                "sequences_per_second": round(result.windows_per_second, 2),
                "tokens_per_second": round(result.windows_per_second * self.sequence_tokens, 1),
                "sequences": {split: len(array) for split, array in data.sequences.items()},
                "pieces": data.pieces,
                "tokens": data.tokens,
                "parameters": count_parameters(model),
            },
            metrics={
                "valid_loss_per_token": valid_loss,
                "bigram_loss_per_token": self.baseline,
                "valid_sequences": len(self.held_out),
                "held_out": continuation,
            },
            licence="Weights trained on " + "; ".join(f"{s.info.title}: {s.info.licence}" for s in self.sources),
        )

    def weights(self) -> dict[str, torch.Tensor]:
        """The network's, copied."""
        return {key: value.detach().clone() for key, value in self.model.state_dict().items()}

    def saved(self, entry: ModelEntry) -> None:
        """The vocabulary, beside the card: ``<name>.tokenizer.json``."""
        path = tokenizer_path(entry)
        self.tokenizer.save(path.parent, filename=path.name)


def _settings_json() -> dict[str, Any]:
    return {
        key: (
            {f"{low}-{high}": value for (low, high), value in setting.items()} if isinstance(setting, dict) else setting
        )
        for key, setting in TOKENIZER_SETTINGS.items()
    }


def held_out_openings(sources: Sequence[Dataset], limit: int) -> list[tuple[Score, Score]]:
    """Up to `limit` held-out pieces (test split, else valid) as (first `PROMPT_BARS` bars, the rest).

    Pieces are taken in turn from each dataset, in the data layer's stable order; a piece needs at least
    `PROMPT_BARS` bars of opening and notes after them.
    """
    queues: list[Iterator[Piece]] = [_held_out(source) for source in sources]
    openings: list[tuple[Score, Score]] = []
    while queues and len(openings) < limit:
        for queue in list(queues):
            piece = next(queue, None)
            if piece is None:
                queues.remove(queue)
                continue
            split_ticks = PROMPT_BARS * piece.score.ticks_per_bar
            opening, rest = split_score(piece.score, split_ticks)
            if opening.n_notes and rest.n_notes:
                openings.append((opening, rest))
            if len(openings) >= limit:
                break
    return openings


def _held_out(source: Dataset) -> Iterator[Piece]:
    pieces = list(source.iter_pieces())
    for split in ("test", "valid"):
        chosen = [piece for piece in pieces if split_of(piece) == split]
        if chosen:
            yield from chosen
            return


def split_score(score: Score, ticks: int) -> tuple[Score, Score]:
    """(the notes starting before `ticks`, the notes starting at or after it, moved to begin at 0)."""
    before = [track.with_notes([n for n in track.notes if n.start < ticks]) for track in score.tracks]
    after = [
        track.with_notes([n._replace(start=n.start - ticks) for n in track.notes if n.start >= ticks])
        for track in score.tracks
    ]
    return score.with_tracks(before), score.with_tracks(after)


def longest_stuck_bars(score: Score, start_ticks: int) -> int:
    """The longest run of consecutive bars from `start_ticks` that are empty or repeat the bar before exactly.

    A bar's content is the set of (track, pitch, onset within the bar, duration) of the notes starting in
    it; a run of k repeated bars counts the bar they repeat, so one bar played four times is 4.
    """
    bar_ticks = score.ticks_per_bar
    n_bars = max(0, -(-(score.end - start_ticks) // bar_ticks))
    contents: list[frozenset[tuple[int, int, int, int]]] = [frozenset() for _ in range(n_bars)]
    for index, track in enumerate(score.tracks):
        for note in track.notes:
            if note.start >= start_ticks:
                bar, offset = divmod(note.start - start_ticks, bar_ticks)
                contents[bar] = contents[bar] | {(index, note.pitch, offset, note.duration)}
    longest = run = 0
    for bar, content in enumerate(contents):
        if not content:
            run = run + 1 if bar and not contents[bar - 1] else 1
        elif bar and content == contents[bar - 1]:
            run = run + 1 if run else 2
        else:
            run = 0
        longest = max(longest, run)
    return longest


def evaluate_continuations(
    technique: Extend, openings: Sequence[tuple[Score, Score]], *, seed: int = 0, seconds: float = CONTINUATION_SECONDS
) -> dict[str, Any]:
    """Continue each opening by `seconds` and measure the continuations against the real rests.

    Returns the similarity index of the continuations (the generated notes only) against the pieces' real
    next `seconds` (`opencomposer.data.evaluate.evaluate_sets`), the longest stretch of bars that is
    empty or one bar looped (`longest_stuck_bars`) and how many continuations have one of `STUCK_BARS` or
    more, and the median tokens per second of generation.
    """
    generated, real, stuck, speeds = [], [], [], []
    for index, (opening, rest) in enumerate(openings):
        generation = technique.generate(opening, {"extension_seconds": seconds}, seed + index)
        start = int(generation.info["continuation_start_ticks"])
        _, continuation = split_score(generation.score, start)
        stop = opening.seconds_to_ticks(seconds)
        truth, _ = split_score(rest, stop)
        if continuation.n_notes and truth.n_notes:
            generated.append(Piece(f"generated/{index}", continuation))
            real.append(Piece(f"real/{index}", truth))
        stuck.append(longest_stuck_bars(generation.score, start))
        speeds.append(float(generation.info["tokens_per_second"]))
    if not generated:
        return {"pieces": len(openings), "similarity_index": None}
    evaluation = evaluate_sets(
        PieceSet("continuations", tuple(generated)), PieceSet("real rests", tuple(real)), seed=seed
    )
    return {
        "pieces": len(openings),
        "seconds": seconds,
        "prompt_bars": PROMPT_BARS,
        "similarity_index": round(float(evaluation.similarity_index), 4),
        "longest_stuck_bars": max(stuck),
        "stuck_continuations": sum(1 for value in stuck if value >= STUCK_BARS),
        "median_tokens_per_second": round(float(np.median(speeds)), 1),
    }


def quality_bars(report: Mapping[str, Any], valid_loss: float | None, bigram_loss: float | None) -> dict[str, bool]:
    """The quality bars of issue 7 for a continuation report (`evaluate_continuations`) and the losses per token.

    The validation loss must beat the bigram baseline's by at least `BIGRAM_MARGIN` (relative); the
    continuations' similarity index must reach `MIN_SIMILARITY`; no continuation may hold `STUCK_BARS` bars
    or more that are empty or one bar looped.
    """
    similarity = report.get("similarity_index")
    return {
        "beats_the_bigram_baseline_clearly": valid_loss is not None
        and bigram_loss is not None
        and valid_loss <= (1 - BIGRAM_MARGIN) * bigram_loss,
        f"similarity_index_at_least_{MIN_SIMILARITY}": similarity is not None and similarity >= MIN_SIMILARITY,
        f"no_stretch_of_{STUCK_BARS}_stuck_bars": report.get("stuck_continuations") == 0,
    }


def evaluate_extend_model(
    entry: ModelEntry,
    dataset: str | None = None,
    *,
    seed: int = 0,
    limit: int | None = None,
) -> dict[str, Any]:
    """The held-out evaluation of an extend model: its datasets' held-out openings (`held_out_openings`)
    continued by `CONTINUATION_SECONDS` and measured against the real rests (`evaluate_continuations`), with
    the quality bars (`quality_bars`, using the losses in the card)."""
    names = [dataset] if dataset else [str(name) for name in entry.card.training.get("datasets", [entry.card.dataset])]
    sources = [get_dataset(name) for name in names]
    prompts = held_out_openings(sources, limit=limit or CONTINUATION_PIECES)
    if not prompts:
        raise TrainingError(f"No held-out piece of {', '.join(names)} has {PROMPT_BARS} bars and more to continue.")
    report = evaluate_continuations(Extend(entry), prompts, seed=seed)
    report["dataset"] = "+".join(names)
    metrics = entry.card.metrics
    report["quality_bars"] = quality_bars(
        report, metrics.get("valid_loss_per_token"), metrics.get("bigram_loss_per_token")
    )
    return report


def plan_transformer(
    datasets: Sequence[str], preset: str | None, hyperparameters: Mapping[str, object]
) -> dict[str, ParamValue]:
    """Check a Transformer training request without training; returns its hyperparameters with defaults.

    Raises `UnknownNameError` for an unknown dataset or preset, `DatasetError` for a dataset whose files
    are not on this machine, and `ParameterError` for an unknown or out-of-range hyperparameter.
    """
    for dataset in datasets:
        if not get_dataset(dataset).is_present():
            raise DatasetError(
                f"The files of the dataset {dataset!r} are not on this machine; run `opencomposer data download "
                f"{dataset}` first, or pick another dataset."
            )
    chosen = get_preset(preset) if preset is not None else default_preset(datasets)
    return validate_params(TRANSFORMER_PARAMS, {**chosen.training, **hyperparameters})


def dataset_names(dataset: str) -> tuple[str, ...]:
    """Dataset names from "a" or "a+b" (several datasets pooled); raises `ParameterError` when there is none."""
    names = tuple(part.strip() for part in dataset.split("+") if part.strip())
    if not names:
        raise ParameterError("Name at least one dataset, for example pop909 or bach-chorales+string-quartets.")
    return names


def architectures() -> list[Architecture]:
    """The continuation Transformer as a trainable architecture (see `opencomposer.training.architectures`).

    Its dataset may name several datasets joined by "+", which are pooled.
    """

    def plan(dataset: str, preset: str | None, hyperparameters: Mapping[str, object]) -> dict[str, ParamValue]:
        return plan_transformer(dataset_names(dataset), preset, hyperparameters)

    def recipe(dataset: str | None, preset: str | None) -> TransformerRecipe:
        names = dataset_names(dataset) if dataset is not None else None
        if preset is None and names is None:
            raise ParameterError("Give a preset, or a dataset to train a small Transformer on.")
        chosen = get_preset(preset) if preset is not None else default_preset(names or ())
        return TransformerRecipe(chosen, names, CONTINUATION_PIECES)

    return [
        Architecture(
            name="transformer",
            technique="extend",
            title="Transformer",
            description=(
                "A decoder-only Transformer over note-event tokens (miditok REMI), trained to predict the next "
                "event; it continues a composition in the style of its training music."
            ),
            params=TRANSFORMER_PARAMS,
            presets=tuple(
                PresetInfo(p.name, "+".join(p.datasets), p.description, p.training) for p in PRESETS.values()
            ),
            default_training=_DEFAULT_TRAINING,
            plan=plan,
            recipe=recipe,
            evaluate=_evaluate,
            command_help="Train a continuation Transformer on note-event tokens: a score in, the score continued. "
            "Every --eval-every steps the validation loss per token is measured (beside a bigram baseline's) and a "
            "held-out opening continued into OUT/eval.",
            dataset_help="The dataset to learn from (see `opencomposer data list`); join several with '+', for "
            "example bach-chorales+string-quartets.",
            headline=("valid_loss", "bigram_loss"),
            summary=_summary,
        )
    ]


def _summary(entry: ModelEntry) -> str:
    metrics = entry.card.metrics
    return (
        f"Validation loss {metrics['valid_loss_per_token']:.3f} nats per token (bigram baseline "
        f"{metrics['bigram_loss_per_token']:.3f}); continuations: {metrics['held_out']}."
    )


def _evaluate(entry: ModelEntry, request: EvaluationRequest) -> dict[str, Any]:
    """`evaluate_extend_model` as the architecture registry calls it (`EvaluateFunction`); the split is each
    dataset's test split, else its valid one."""
    return evaluate_extend_model(entry, request.dataset, seed=request.seed, limit=request.limit)
