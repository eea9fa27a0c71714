"""Extend: a score in, the same score continued by a trained Transformer for a number of seconds.

The pipeline (inference only: no training, no file writes):

1. The last `input_seconds` of the score (from the start of the bar they begin in) are the prompt. It is
   tokenized with the model's miditok REMI vocabulary (bars, positions, programs, pitches, velocities,
   durations; every bar read as 4/4, at 4 positions per beat) as one stream over all tracks.
2. The model continues the stream token by token with a key-value cache, sampling each token by top-k,
   nucleus or plain sampling at the chosen temperature, until the stream's time passes the end of the
   extension.
3. The tokens are decoded into notes. Notes that start before the first beat after the input's end, or
   at or after the end of the extension, are dropped, and notes are cut at the extension's end.
4. Each generated note goes to an input track of its General MIDI program: when several input tracks
   share that program (a chorale's four voices on one piano), to the one whose recent pitches are
   nearest; notes of a program the input does not have are dropped (the result keeps the input's tracks
   and instruments, and no others). The input's notes are kept exactly as given.

torch and miditok are imported when a model is loaded, not with this module: the parameters declared
here feed the command line's flags, which must come up quickly.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from opencomposer.errors import ModelFileError, ParameterError
from opencomposer.music.score import Note, Score, Track
from opencomposer.registry import ModelCard, ModelEntry, get_model, load_weights
from opencomposer.techniques.base import (
    SEED,
    Generation,
    Param,
    Technique,
    Verb,
    check_time_budget,
    validate_params,
)

if TYPE_CHECKING:
    import symusic.core
    import torch
    from miditok import REMI  # type: ignore[import-untyped]

    from opencomposer.models.transformer import Transformer

TOKENIZER_SETTINGS: dict[str, Any] = {
    "pitch_range": (21, 109),
    "beat_res": {(0, 4): 4, (4, 8): 2},
    "num_velocities": 4,
    "use_programs": True,
    "one_token_stream_for_programs": True,
    "use_time_signatures": False,
    "use_tempos": False,
    "use_chords": False,
    "use_rests": False,
}
"""The miditok REMI settings of every model: piano range, 16th-note positions, durations up to 8 beats."""

TOKEN_TICKS_PER_BEAT = 4
"""Ticks per quarter note of decoded tokens (the finest position of `TOKENIZER_SETTINGS`)."""
TOKEN_BEATS_PER_BAR = 4
"""Every bar is read as 4/4: without time-signature tokens, miditok counts bars of four quarter notes."""
NEAREST_TRACK_NOTES = 16
"""Notes at the end of each input track whose mean pitch stands for the track when programs are shared."""
CONTEXT_REFRESH = 1.5
"""Once the model has read this many times its training length, it starts again from the recent bars."""

SAMPLINGS = ("top-k", "nucleus", "temperature")

SAMPLING = Param(
    "sampling",
    "choice",
    "top-k",
    "How each next note event is picked: among the k likeliest (top-k), among the likeliest that together "
    "reach probability p (nucleus), or from every possibility (temperature).",
    choices=SAMPLINGS,
)
TOP_K = Param(
    "top_k",
    "int",
    16,
    "With top-k sampling, how many of the likeliest next events are candidates; fewer plays safer.",
    minimum=1,
    maximum=256,
)
TOP_P = Param(
    "top_p",
    "float",
    0.95,
    "With nucleus sampling, the probability the candidates must reach together; lower plays safer.",
    minimum=0.05,
    maximum=1.0,
)
CREATIVE_RISK = Param(
    "creative_risk",
    "float",
    1.0,
    "The sampling temperature: below 1 sticks to what the model finds likely, above 1 takes more risks.",
    minimum=0.1,
    maximum=3.0,
)
INPUT_SECONDS = Param(
    "input_seconds",
    "float",
    30.0,
    "How much of the end of the input the model listens to before it continues, in seconds.",
    minimum=1.0,
    maximum=120.0,
    unit="seconds",
)
EXTENSION_SECONDS = Param(
    "extension_seconds",
    "float",
    30.0,
    "How long the continuation lasts, in seconds (DeepComposer stopped at 30).",
    minimum=1.0,
    maximum=120.0,
    unit="seconds",
)


DROPOUT = Param(
    "dropout",
    "float",
    0.0,
    "Share of the network's activations switched off at random while training; more fights over-fitting.",
    minimum=0.0,
    maximum=0.5,
)
SEQUENCE_TOKENS = Param(
    "sequence_tokens",
    "int",
    256,
    "Note-event tokens the model reads at once in training; longer learns longer form and trains slower.",
    minimum=16,
    maximum=4096,
    unit="tokens",
)
TRANSFORMER_TRAINING_PARAMS: tuple[Param, ...] = (DROPOUT, SEQUENCE_TOKENS)
"""The training hyperparameters of this technique's models besides the shared ones (declared here, away
from torch, so that the command line's flags come up quickly; `opencomposer.training.transformer` uses them)."""


def make_tokenizer(path: Path | None = None) -> REMI:
    """The REMI tokenizer of `TOKENIZER_SETTINGS`, or the one saved at `path` (a model's vocabulary)."""
    from miditok import REMI, TokenizerConfig

    if path is not None:
        if not path.is_file():
            raise ModelFileError(f"The model's vocabulary {path} is missing; save or download the model again.")
        return REMI(params=path)
    return REMI(TokenizerConfig(**TOKENIZER_SETTINGS))


def score_to_symusic(score: Score) -> symusic.core.ScoreTick:
    """`score` as a symusic score at the same resolution, tempo and time signature (the tokenizer's input)."""
    from symusic.core import NoteTick, ScoreTick, TempoTick, TimeSignatureTick, TrackTick

    result = ScoreTick(score.resolution)
    result.tempos.append(TempoTick(0, score.tempo))
    result.time_signatures.append(TimeSignatureTick(0, *score.time_signature))
    for track in score.tracks:
        converted = TrackTick(track.name, track.program, track.is_drum)
        for note in track.notes:
            converted.notes.append(NoteTick(note.start, note.duration, note.pitch, note.velocity))
        result.tracks.append(converted)
    return result


def encode_score(tokenizer: REMI, score: Score) -> list[int]:
    """The token ids of `score` (all tracks in one stream); empty for a score with no notes."""
    if score.n_notes == 0:
        return []
    sequence = tokenizer.encode(score_to_symusic(score))
    return list(sequence.ids)


def decode_notes(tokenizer: REMI, ids: Sequence[int]) -> list[tuple[int, bool, Note]]:
    """The notes of token ids as (program, is_drum, note), times in `TOKEN_TICKS_PER_BEAT` ticks per beat."""
    from miditok import TokSequence

    if not ids:
        return []
    decoded = tokenizer.decode(TokSequence(ids=list(ids)))
    notes = []
    for track in decoded.tracks:
        for note in track.notes:
            notes.append(
                (int(track.program), bool(track.is_drum), Note(note.pitch, note.time, note.duration, note.velocity))
            )
    return notes


def filter_logits(logits: torch.Tensor, sampling: str, top_k: int, top_p: float) -> torch.Tensor:
    """Logits (..., vocab) with every token that `sampling` rules out set to -inf.

    "top-k" keeps the `top_k` largest; "nucleus" keeps the smallest set of largest-probability tokens whose
    probabilities sum to at least `top_p` (always at least one); "temperature" keeps every token.
    """
    import torch

    if sampling == "top-k":
        k = min(top_k, logits.shape[-1])
        threshold = torch.topk(logits, k, dim=-1).values[..., -1:]
        return logits.masked_fill(logits < threshold, -math.inf)
    if sampling == "nucleus":
        ordered, order = torch.sort(logits, dim=-1, descending=True)
        cumulative = torch.softmax(ordered, dim=-1).cumsum(dim=-1)
        # A token is dropped when the tokens before it already reach p.
        drop = (cumulative - torch.softmax(ordered, dim=-1)) >= top_p
        drop[..., 0] = False
        return logits.masked_fill(torch.zeros_like(drop).scatter(-1, order, drop), -math.inf)
    if sampling == "temperature":
        return logits
    raise ParameterError(f"sampling must be one of {', '.join(SAMPLINGS)}, not {sampling!r}.")


class StreamClock:
    """Follows the time of a REMI token stream, in token ticks, as tokens are appended."""

    def __init__(self, tokenizer: REMI) -> None:
        vocab = tokenizer.vocab
        self.bar_id = vocab["Bar_None"]
        self.positions = {
            index: int(token.split("_")[1]) for token, index in vocab.items() if token.startswith("Position_")
        }
        self.bars = 0
        self.position = 0

    @property
    def ticks(self) -> int:
        """The time of the last bar or position token read (0 before any)."""
        return max(0, self.bars - 1) * TOKEN_BEATS_PER_BAR * TOKEN_TICKS_PER_BEAT + self.position

    def read(self, token: int) -> None:
        """Advance the clock over one token."""
        if token == self.bar_id:
            self.bars += 1
            self.position = 0
        elif token in self.positions:
            self.position = self.positions[token]


class Extend(Technique):
    """Continue a score with a trained Transformer.

    Parameters
    ----------
    entry
        The model, from `opencomposer.registry.get_model`.
    """

    name: ClassVar[str] = "extend"
    title: ClassVar[str] = "Extend"
    description: ClassVar[str] = (
        "Continues a composition for a number of seconds in the style of the music the model learnt from; "
        "the input is kept exactly as given and every track plays on."
    )
    params: ClassVar[tuple[Param, ...]] = (SAMPLING, TOP_K, TOP_P, CREATIVE_RISK, INPUT_SECONDS, EXTENSION_SECONDS)
    verbs: ClassVar[tuple[Verb, ...]] = (
        Verb(
            "extend",
            "Continue a score with a Transformer model; the input is kept exactly and every track plays on.",
        ),
    )
    default_model: ClassVar[str] = "classical-transformer"
    input_help: ClassVar[str] = (
        "The score to continue: a sample melody's name (see `opencomposer melodies list`) or a MIDI or MusicXML file."
    )

    def __init__(self, entry: ModelEntry) -> None:
        from opencomposer.models.transformer import Transformer, TransformerConfig

        self.card: ModelCard | None = entry.card
        model = Transformer(TransformerConfig(**entry.card.config))
        model.load_state_dict(load_weights(entry))
        self._bind(model, make_tokenizer(tokenizer_path(entry)))

    def _bind(self, model: Transformer, tokenizer: REMI) -> None:
        import torch

        self.model = model.eval()
        self.tokenizer = tokenizer
        self.torch = torch
        banned = [model.config.pad_id, *(tokenizer.vocab.get(name, -1) for name in ("BOS_None", "EOS_None"))]
        self.never = torch.zeros(model.config.vocab_size)  # added to the logits: -inf for the banned tokens
        self.never[[token for token in banned if token >= 0]] = -math.inf

    def next_token_probabilities(
        self, logits: torch.Tensor, *, sampling: str, top_k: int, top_p: float, temperature: float
    ) -> torch.Tensor:
        """The probabilities (vocab,) the next token is drawn from, given the model's `logits` (vocab,).

        The logits are divided by the temperature, the tokens that never belong in music (padding, begin,
        end) are ruled out, and `filter_logits` keeps those that `sampling` allows.
        """
        last = filter_logits(logits.float() / temperature + self.never, sampling, top_k, top_p)
        return self.torch.softmax(last, dim=-1)

    @classmethod
    def from_model(cls, name: str) -> Extend:
        """Load the model called `name` (or the card at that path)."""
        return cls(get_model(name))

    @classmethod
    def from_network(cls, model: Transformer, tokenizer: REMI) -> Extend:
        """Extend with a network in memory (a model being trained), switched to evaluation mode."""
        technique = cls.__new__(cls)
        technique.card = None
        technique._bind(model, tokenizer)
        return technique

    def _generate(self, score: Score, params: Mapping[str, object], seed: int) -> Generation:
        """Continue `score`; returns it with the continuation appended to its tracks.

        Raises `ParameterError` for an invalid parameter or a score with no notes.
        """
        values = validate_params(self.params, params)
        seed = int(SEED.validate(seed))
        if score.n_notes == 0:
            raise ParameterError("The score to extend has no notes; give a melody or a composition with notes.")
        started = time.perf_counter()
        start_ticks = -(-score.end // score.ticks_per_beat) * score.ticks_per_beat  # the next beat after the input
        prompt_start = _prompt_start(score, float(values["input_seconds"]))
        prompt = _crop(score, prompt_start)
        scale = score.resolution / TOKEN_TICKS_PER_BEAT  # score ticks per token tick
        # Through the score's tempo map: past its last change the last tempo holds.
        stop_ticks = score.seconds_to_ticks(score.ticks_to_seconds(start_ticks) + float(values["extension_seconds"]))
        ids = encode_score(self.tokenizer, prompt)
        generated = self._continue(
            ids,
            stop_token_ticks=math.ceil((stop_ticks - prompt_start) / scale),
            sampling=str(values["sampling"]),
            top_k=int(values["top_k"]),
            top_p=float(values["top_p"]),
            temperature=float(values["creative_risk"]),
            seed=seed,
        )
        notes = []
        for program, is_drum, note in decode_notes(self.tokenizer, ids + generated):
            start = prompt_start + round(note.start * scale)
            if start < start_ticks or start >= stop_ticks:
                continue
            end = min(stop_ticks, prompt_start + round(note.end * scale))
            notes.append((program, is_drum, note._replace(start=start, duration=max(1, end - start))))
        tracks = _assign(score.tracks, notes)
        seconds = time.perf_counter() - started
        return Generation(
            score.with_tracks(tracks),
            info={
                "notes_added": sum(
                    len(new.notes) - len(old.notes) for new, old in zip(tracks, score.tracks, strict=True)
                ),
                "tokens_generated": len(generated),
                "tokens_per_second": round(len(generated) / max(seconds, 1e-9), 1),
                "continuation_start_ticks": start_ticks,
            },
        )

    def describe(self, given: Score, generation: Generation, seed: int) -> str:
        """The notes added after the input's, the length of the result, and the speed of the sampling."""
        info = generation.info
        model = self.card.name if self.card is not None else "unsaved"
        return (
            f"{info['notes_added']} notes added after the input's {given.n_notes}, "
            f"{generation.score.get_duration_seconds():.1f} s in all ({info['tokens_generated']} tokens at "
            f"{info['tokens_per_second']} tokens/s; model {model}, seed {seed})."
        )

    def _continue(
        self,
        ids: list[int],
        *,
        stop_token_ticks: int,
        sampling: str,
        top_k: int,
        top_p: float,
        temperature: float,
        seed: int,
    ) -> list[int]:
        """Tokens following `ids` until the stream's time reaches `stop_token_ticks` (or a length cap)."""
        torch = self.torch
        from opencomposer.models.transformer import Decoder, KVCache

        clock = StreamClock(self.tokenizer)
        for token in ids:
            clock.read(token)
        bar_id = clock.bar_id
        if not ids:
            ids = [bar_id]
            clock.read(bar_id)
        # A bar rarely holds more than a few hundred events; the cap only stops a model that never moves on.
        bars_left = stop_token_ticks / (TOKEN_BEATS_PER_BAR * TOKEN_TICKS_PER_BEAT) + 2
        max_tokens = int(bars_left * 512)
        generator = torch.Generator().manual_seed(seed)
        generated: list[int] = []
        window = self.model.config.context_tokens
        with torch.inference_mode():
            step = Decoder(self.model)
            cache = KVCache()
            logits = self.model(torch.tensor([recent_tokens(ids, bar_id, window)]), cache=cache)[0][0, -1]
            while clock.ticks < stop_token_ticks and len(generated) < max_tokens:
                check_time_budget()
                probabilities = self.next_token_probabilities(
                    logits, sampling=sampling, top_k=top_k, top_p=top_p, temperature=temperature
                )
                token = draw(probabilities, generator)
                generated.append(token)
                clock.read(token)
                if cache.length >= CONTEXT_REFRESH * window:
                    # Far past its training length the model loses the thread (and each token costs more):
                    # it reads on from the last bars it wrote, about one training length of them.
                    cache = KVCache()
                    recent = torch.tensor([recent_tokens(ids + generated, bar_id, window)])
                    logits = self.model(recent, cache=cache)[0][0, -1]
                else:
                    logits = step(token, cache)
        return generated


def draw(probabilities: torch.Tensor, generator: torch.Generator) -> int:
    """One token drawn from `probabilities` (vocab,): the same draw as ``torch.multinomial(p, 1)``.

    For one sample torch.multinomial divides the probabilities by exponential noise and takes the
    largest (the exponential race); done here directly it skips that call's validity checks, which
    took half of the 50 µs a draw cost on the 2-core CPU of the benchmarks.
    """
    import torch

    noise = torch.empty_like(probabilities).exponential_(1, generator=generator)
    return int(torch.argmax(probabilities / noise))


def recent_tokens(ids: Sequence[int], bar_id: int, window: int) -> list[int]:
    """The last `window` tokens of `ids`, from the first bar token among them (the model learnt sequences
    that begin on a bar); all of them when no bar token is there."""
    tail = list(ids[-window:])
    return tail[tail.index(bar_id) :] if bar_id in tail else tail


def tokenizer_path(entry: ModelEntry) -> Path:
    """Where a model's saved vocabulary is: ``<name>.tokenizer.json`` beside its card."""
    return entry.card_path.with_name(f"{entry.card.name}.tokenizer.json")


def _prompt_start(score: Score, input_seconds: float) -> int:
    """The tick the prompt begins at: the start of the bar in which the last `input_seconds` begin."""
    first = max(0, score.seconds_to_ticks(score.ticks_to_seconds(score.end) - input_seconds))
    return first // score.ticks_per_bar * score.ticks_per_bar


def _crop(score: Score, start_ticks: int) -> Score:
    """The notes that start at or after `start_ticks`, moved to begin at 0."""
    return score.with_tracks(
        [
            track.with_notes(
                [note._replace(start=note.start - start_ticks) for note in track.notes if note.start >= start_ticks]
            )
            for track in score.tracks
        ]
    )


def _assign(tracks: Sequence[Track], notes: Sequence[tuple[int, bool, Note]]) -> list[Track]:
    """The tracks with each generated note added to the track of its program (see the module docstring)."""
    added: list[list[Note]] = [[] for _ in tracks]
    centres = [_recent_pitch(track) for track in tracks]
    for program, is_drum, note in notes:
        candidates = [
            index
            for index, track in enumerate(tracks)
            if track.is_drum == is_drum and (is_drum or track.program == program)
        ]
        if not candidates:
            continue
        best = min(candidates, key=lambda index: abs(centres[index] - note.pitch))
        added[best].append(note)
    return [
        track.with_notes([*track.notes, *extra]) if extra else track for track, extra in zip(tracks, added, strict=True)
    ]


def _recent_pitch(track: Track) -> float:
    """The mean pitch of a track's last notes (60 for an empty track)."""
    recent = track.notes[-NEAREST_TRACK_NOTES:]
    return sum(note.pitch for note in recent) / len(recent) if recent else 60.0
