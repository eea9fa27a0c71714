"""AR-CNN: a Coconet-style network that fills in masked cells of a multi-voice piano roll, and its Gibbs sampler.

A piece is a grid of voices x steps; each cell holds one class: a pitch of the roll's range, or silence
(the last class, `rest_class`). Voices are monophonic by construction. The network reads the cells it is
told are known (one-hot, zero where unknown) and the mask of known cells, and returns, for every cell,
logits over the classes (Huang et al. 2017, "Counterpoint by Convolution"; the orderless-NADE training
of Uria et al. 2014 lives in `opencomposer.training.objectives.masked`).

Coconet convolves in 2-D over time and pitch; here each step's voices and pitches are folded into
channels and a stack of dilated 1-D residual convolutions runs over time. It keeps what matters to
the sampler (fully convolutional over time, so a piece of any length goes in at once; every cell sees
the whole neighbourhood of every voice) at a fraction of the cost on a CPU, and transposition
augmentation in training stands in for the 2-D network's built-in equivariance in pitch. Where the 2-D
network copies a held note from the next step with one small kernel, the folded one has to carry every
voice's pitch through its whole stack; an optional direct convolution from the input cells to the logits
(`ArcnnConfig.direct_steps`) gives it that shortcut back.

`ordering_log_likelihoods` scores every cell of a piece under one random ordering, as Coconet's
framewise evaluation does; `piece_nll` sums it into the negative log-likelihood of the piece, and
`estimate_piece_nll` averages several orderings exactly or as Coconet's released evaluation does.

`gibbs_sample` is Coconet's annealed blocked Gibbs sampler (Yao et al. 2014): at iteration ``n`` of
``N`` each cell the caller lets change is masked with probability
``max(p_min, p_max - n * (p_max - p_min) / (eta * N))`` and redrawn from the network given the rest.
With a `parallel_penalty`, each candidate's logit is lowered by that many nats for every parallel fifth
or octave it would make with the other voices (`parallel_counts`): the chain then samples the network's
distribution tilted by a counterpoint rule, ``p(x) * exp(-penalty * parallels(x))``, a product of experts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional

ANNEAL_MAX = 1.0
ANNEAL_MIN = 0.05
ANNEAL_FRACTION = 0.75
_OCTAVE = 12
_FIFTH = 7


@dataclass(frozen=True, slots=True)
class ArcnnConfig:
    """Sizes of an AR-CNN.

    Parameters
    ----------
    voices
        Voices (tracks) of the roll, highest first (soprano, alto, tenor, bass).
    pitches
        Pitches of the roll's range; the classes are these plus silence.
    channels
        Width of the residual stack.
    blocks
        Residual blocks, each two dilated convolutions over time.
    dilation_cycle
        Dilations double from 1 over this many blocks, then start again (1, 2, 4, 8, 1, 2, ...).
    kernel_steps
        Width in steps of every convolution of the stack.
    direct_steps
        Width in steps of a convolution from the input cells straight to the logits, added to the stack's
        (0 for none). Most cells of a 16th-note roll hold the note of their neighbours; this path lets the
        network copy a known neighbour without carrying every voice's pitch through the whole stack.
    """

    voices: int = 4
    pitches: int = 46
    channels: int = 128
    blocks: int = 8
    dilation_cycle: int = 4
    kernel_steps: int = 3
    direct_steps: int = 0

    def __post_init__(self) -> None:
        if min(self.voices, self.pitches, self.channels, self.blocks, self.dilation_cycle) < 1:
            raise ValueError(f"Every size of an AR-CNN must be at least 1: {self}.")
        if self.kernel_steps < 1 or self.kernel_steps % 2 == 0:
            raise ValueError(f"kernel_steps must be odd, not {self.kernel_steps}.")
        if self.direct_steps < 0 or (self.direct_steps and self.direct_steps % 2 == 0):
            raise ValueError(f"direct_steps must be 0 or odd, not {self.direct_steps}.")
        if self.direct_steps > self.receptive_field_steps:
            raise ValueError(
                f"direct_steps ({self.direct_steps}) may not see further than the stack "
                f"({self.receptive_field_steps} steps)."
            )

    @property
    def classes(self) -> int:
        """Classes of a cell: every pitch, then silence."""
        return self.pitches + 1

    @property
    def rest_class(self) -> int:
        """The class of a silent cell."""
        return self.pitches

    def dilation(self, block: int) -> int:
        """The dilation of the convolutions of block number `block`."""
        return int(2 ** (block % self.dilation_cycle))

    @property
    def receptive_field_steps(self) -> int:
        """Steps of input that one output cell depends on (odd; centred on the cell)."""
        reach = sum(2 * (self.kernel_steps // 2) * self.dilation(block) for block in range(self.blocks))
        return 1 + 2 * reach


class _Block(nn.Module):
    """Pre-activation residual block: two dilated convolutions over time."""

    def __init__(self, channels: int, kernel_steps: int, dilation: int) -> None:
        super().__init__()
        padding = dilation * (kernel_steps // 2)
        self.norm1 = nn.BatchNorm1d(channels)
        self.conv1 = nn.Conv1d(channels, channels, kernel_steps, padding=padding, dilation=dilation)
        self.norm2 = nn.BatchNorm1d(channels)
        self.conv2 = nn.Conv1d(channels, channels, kernel_steps, padding=padding, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(functional.relu(self.norm1(x)))
        out: torch.Tensor = x + self.conv2(functional.relu(self.norm2(h)))
        return out


class Arcnn(nn.Module):
    """The network: ``model(classes, known)`` gives logits for every cell.

    Parameters
    ----------
    config
        Its sizes.
    """

    def __init__(self, config: ArcnnConfig) -> None:
        super().__init__()
        self.config = config
        inputs = config.voices * (config.classes + 1)
        self.inp = nn.Conv1d(inputs, config.channels, 1)
        self.blocks = nn.ModuleList(
            _Block(config.channels, config.kernel_steps, config.dilation(block)) for block in range(config.blocks)
        )
        self.norm = nn.BatchNorm1d(config.channels)
        self.out = nn.Conv1d(config.channels, config.voices * config.classes, 1)
        self.direct = (
            nn.Conv1d(inputs, config.voices * config.classes, config.direct_steps, padding=config.direct_steps // 2)
            if config.direct_steps
            else None
        )

    def forward(self, classes: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
        """Logits of every cell given the known ones.

        Parameters
        ----------
        classes
            (B, voices, steps) integer classes; the values of unknown cells are ignored.
        known
            (B, voices, steps) booleans or 0/1: which cells the network may read.

        Returns
        -------
        torch.Tensor
            (B, voices, steps, classes) logits.
        """
        batch, voices, steps = classes.shape
        known_f = known.to(torch.float32)
        one_hot = functional.one_hot(classes.clamp(0, self.config.classes - 1), self.config.classes).to(torch.float32)
        one_hot = one_hot * known_f[..., None]  # unknown cells read as all zeros
        features = torch.cat([one_hot, known_f[..., None]], dim=3)  # (B, V, T, K + 1)
        x = features.permute(0, 1, 3, 2).reshape(batch, -1, steps)  # (B, V * (K + 1), T)
        h = self.inp(x)
        for block in self.blocks:
            h = block(h)
        logits: torch.Tensor = self.out(functional.relu(self.norm(h)))  # (B, V * K, T)
        if self.direct is not None:
            logits = logits + self.direct(x)
        return logits.reshape(batch, voices, self.config.classes, steps).permute(0, 1, 3, 2)


def anneal_probability(iteration: int, iterations: int, max_share: float = ANNEAL_MAX) -> float:
    """The share of changeable cells masked at `iteration` (0-based) of `iterations` (Yao et al.'s schedule).

    It falls linearly from `max_share` to `ANNEAL_MIN` over the first `ANNEAL_FRACTION` of the iterations.
    """
    slope = (max_share - ANNEAL_MIN) / max(1e-9, ANNEAL_FRACTION * iterations)
    return max(ANNEAL_MIN, max_share - iteration * slope)


def parallel_counts(state: torch.Tensor, voice: torch.Tensor, step: torch.Tensor, rest: int) -> torch.Tensor:
    """For cells of a (voices, steps) state, how many parallel fifths and octaves each class would make there.

    Parallels are counted as `opencomposer.metrics.harmony.voice_leading` counts them: two sounding voices
    that both change pitch between neighbouring steps, in the same direction, a perfect fifth (or octave or
    unison) apart, modulo the octave, before and after. Putting class ``k`` in cell ``(voice[i], step[i])``
    can make such a pair with each other voice, on the way into the step and on the way out of it; the
    other cells are read from `state` as they are.

    Parameters
    ----------
    state
        (voices, steps) classes; `rest` is silence.
    voice, step
        (M,) the cells to weigh.
    rest
        The silent class; classes ``0..rest - 1`` are pitches a semitone apart.

    Returns
    -------
    torch.Tensor
        (M, rest + 1) counts, 0 for silence.
    """
    voices, steps = state.shape
    pitch = torch.arange(rest + 1)
    interval = (pitch[:, None] - pitch[None]).abs() % _OCTAVE  # (K, K): |a - b| modulo the octave
    perfect = (interval == 0) | (interval == _FIFTH)
    direction = torch.sign(pitch[:, None] - pitch[None])  # (K, K): the sign of a - b
    earlier, later = (step - 1).clamp(min=0), (step + 1).clamp(max=steps - 1)
    own_before, own_after = state[voice, earlier], state[voice, later]  # (M,)
    other_before, other_now, other_after = state[:, earlier].T, state[:, step].T, state[:, later].T  # (M, V)
    shared = (torch.arange(voices)[None] != voice[:, None]) & (other_now != rest)
    with_candidate = interval[other_now]  # (M, V, K): the interval the candidate makes with each other voice
    # Into the step: the voice moves from its note before to the candidate, the other voice as it does.
    moves_in = direction[other_now, other_before]  # (M, V)
    into = shared & (step > 0)[:, None] & (own_before != rest)[:, None] & (other_before != rest) & (moves_in != 0)
    into &= perfect[own_before[:, None], other_before]
    into_counts = (
        into[..., None]
        & (direction[:, own_before].T[:, None, :] == moves_in[..., None])
        & (with_candidate == interval[own_before[:, None], other_before][..., None])
    )
    # Out of the step: from the candidate to the voice's next note, the other voice as it does.
    moves_out = direction[other_after, other_now]
    out = shared & (step < steps - 1)[:, None] & (own_after != rest)[:, None] & (other_after != rest) & (moves_out != 0)
    out_counts = (
        out[..., None]
        & (direction[own_after][:, None, :] == moves_out[..., None])
        & perfect[other_now]
        & (with_candidate == interval[own_after[:, None], other_after][..., None])
    )
    counts = into_counts.sum(dim=1) + out_counts.sum(dim=1)  # (M, K)
    counts[:, rest] = 0
    return counts


Projection = Callable[[torch.Tensor], torch.Tensor]
"""Maps a (voices, steps) state after an iteration to the nearest state the caller allows (budgets)."""


@torch.no_grad()
def gibbs_sample(
    model: Arcnn,
    classes: torch.Tensor,
    changeable: torch.Tensor,
    *,
    iterations: int,
    temperature: float,
    generator: torch.Generator,
    project: Projection | None = None,
    on_iteration: Callable[[int, torch.Tensor], None] | None = None,
    max_share: float = ANNEAL_MAX,
    parallel_penalty: float = 0.0,
) -> torch.Tensor:
    """Annealed blocked Gibbs sampling of the changeable cells of one piece.

    Parameters
    ----------
    model
        The network (put in eval mode by the caller).
    classes
        (voices, steps) the starting classes; cells outside `changeable` are kept exactly.
    changeable
        (voices, steps) booleans: the cells the sampler may redraw.
    iterations
        Gibbs iterations; each masks fewer changeable cells than the one before (see `anneal_probability`).
    temperature
        Divides the logits before sampling: below 1 safer choices, above 1 riskier ones.
    generator
        A CPU generator drawing every random number, so that a seed fixes the result.
    project
        Called on the state after each iteration; returns the state to carry on from.
    on_iteration
        Called with (iteration, state) after each iteration (after `project`).
    max_share
        The share of changeable cells masked at the first iteration: 1 ignores their starting classes.
    parallel_penalty
        Nats taken from a class's logit (after `temperature`) for each parallel fifth or octave it would
        make (`parallel_counts`); 0 samples the network alone.

    Returns
    -------
    torch.Tensor
        (voices, steps) the sampled classes.
    """
    state = classes.clone()
    if not bool(changeable.any()):
        return state
    for iteration in range(iterations):
        share = anneal_probability(iteration, iterations, max_share)
        masked = changeable & (torch.rand(changeable.shape, generator=generator) < share)
        if bool(masked.any()):
            logits = model(state[None], ~masked[None])[0][masked] / temperature  # (M, K)
            if parallel_penalty:
                voice, step = masked.nonzero(as_tuple=True)
                logits = logits - parallel_penalty * parallel_counts(state, voice, step, model.config.rest_class)
            probabilities = torch.softmax(logits, dim=-1)  # (M, K)
            state[masked] = torch.multinomial(probabilities, 1, generator=generator)[:, 0]
        if project is not None:
            state = project(state)
        if on_iteration is not None:
            on_iteration(iteration, state)
    return state


NLL_BATCH = 256
"""Frames (one crop of the piece each) per network call in `ordering_log_likelihoods`."""


WITHIN_FRAME = ("truth", "argmax")
"""What a prediction sees of the voices of its own frame visited before it: the piece's own cells (the
chain rule, an exact likelihood under the ordering) or the network's most likely class for each, as
Coconet's released evaluation does (magenta ``coconet/lib_evaluation.py``, ``FrameEvaluator``)."""


@torch.no_grad()
def ordering_log_likelihoods(
    model: Arcnn,
    classes: torch.Tensor,
    generator: torch.Generator,
    *,
    within_frame: str = "truth",
    batch: int = NLL_BATCH,
) -> torch.Tensor:
    """The log-likelihood of every cell of a piece under one random ordering, drawn as Coconet's evaluation draws it.

    The ordering visits the frames (steps) in a random order and, inside each frame, the voices in a
    random order: each voice of each frame is predicted from every frame visited before it and the
    voices of its own frame already visited, which it sees as they are (``within_frame="truth"``) or as
    the network's own most likely classes (``"argmax"``, Coconet's released code). A cell depends only on
    the steps within half the network's receptive field, so each prediction runs on that stretch of the
    piece alone, which is exact.

    Parameters
    ----------
    model
        The network, in eval mode; it runs on the device of its parameters.
    classes
        (voices, steps) the piece.
    generator
        A CPU generator; it draws the ordering, so the value is the same on any device up to rounding.
    within_frame
        One of `WITHIN_FRAME`.
    batch
        Frames per network call.

    Returns
    -------
    torch.Tensor
        (steps, voices) float32 on the CPU: log p of each cell's class given what the ordering showed.
    """
    if within_frame not in WITHIN_FRAME:
        raise ValueError(f"within_frame must be one of {WITHIN_FRAME}, not {within_frame!r}.")
    voices, steps = classes.shape
    frame_rank = torch.argsort(torch.randperm(steps, generator=generator))  # (T,) position of each frame
    voice_order = torch.stack([torch.randperm(voices, generator=generator) for _ in range(steps)])  # (T, V)
    length = min(steps, model.config.receptive_field_steps)
    half = length // 2
    device = next(model.parameters()).device
    classes = classes.cpu()
    seen = classes.t().clone()  # (T, V) what each frame's later voices are shown of its earlier ones
    lls = torch.zeros(steps, voices)
    for visit in range(voices):  # the visit-th voice of every frame; frames are independent of each other
        for first in range(0, steps, batch):
            t = torch.arange(first, min(first + batch, steps))
            v = voice_order[t, visit]
            starts = (t - half).clamp(0, steps - length)  # (B,)
            positions = starts[:, None] + torch.arange(length)[None]  # (B, L)
            crop = classes[:, positions].permute(1, 0, 2)  # (B, V, L), a copy (advanced indexing)
            known = (frame_rank[positions] < frame_rank[t][:, None])[:, None, :].expand(-1, voices, -1).clone()
            rows = torch.arange(len(t))
            column = t - starts
            for before in range(visit):
                shown = voice_order[t, before]
                known[rows, shown, column] = True
                crop[rows, shown, column] = seen[t, shown]
            logits = model(crop.to(device), known.to(device))  # (B, V, L, K)
            device_rows = rows.to(device)
            chosen = torch.log_softmax(logits[device_rows, v.to(device), column.to(device)].float(), dim=-1).cpu()
            lls[t, v] = chosen[rows, classes[v, t]]
            if within_frame == "argmax":
                seen[t, v] = chosen.argmax(dim=-1)
    return lls


def piece_nll(model: Arcnn, classes: torch.Tensor, generator: torch.Generator, *, batch: int = NLL_BATCH) -> float:
    """-log p(piece) in nats under one random ordering (`ordering_log_likelihoods` with the true cells shown)."""
    return -float(ordering_log_likelihoods(model, classes, generator, batch=batch).sum())


NLL_ESTIMATORS: dict[str, str] = {
    "exact": (
        "one random ordering of the frames and, in each frame, of the voices; every cell predicted from the "
        "true cells visited before it (the chain rule: the exact log-likelihood of a distribution); with "
        "several orderings, each piece's likelihoods are averaged (a mixture of orderings)"
    ),
    "coconet": (
        "Coconet's released evaluation (magenta coconet lib_evaluation: FrameEvaluator in an "
        "EnsemblingEvaluator of 5): random frame and voice orderings, the voices already visited in a frame "
        "shown as the network's most likely classes, silent cells counted as certain, and each frame's "
        "probability averaged over the orderings; not the likelihood of one distribution, and lower"
    ),
}
"""The framewise estimators of `estimate_piece_nll` (and `opencomposer models nll`), with what each computes."""

COCONET_ORDERINGS = 5
"""Orderings Coconet's released evaluation averages each frame over (``--ensemble_size``, default 5)."""

DEFAULT_ORDERINGS = {"exact": 1, "coconet": COCONET_ORDERINGS}
"""Orderings per piece each of the `NLL_ESTIMATORS` is measured with unless told otherwise."""


def estimate_piece_nll(
    model: Arcnn,
    classes: torch.Tensor,
    generator: torch.Generator,
    *,
    estimator: str = "exact",
    orderings: int = 1,
    batch: int = NLL_BATCH,
) -> float:
    """-log p of a piece's (voices, steps) `classes` in nats, by one of the `NLL_ESTIMATORS`.

    ``exact`` averages the piece's likelihood over `orderings` orderings (a mixture of orderings);
    ``coconet`` averages each frame's, with silent cells counted as certain
    (`opencomposer.training.arcnn.framewise_nll` says more). `batch` is frames per network call.
    """
    if estimator not in NLL_ESTIMATORS:
        raise ValueError(f"The estimator must be one of {', '.join(NLL_ESTIMATORS)}, not {estimator!r}.")
    within_frame = "argmax" if estimator == "coconet" else "truth"
    draws = torch.stack(
        [
            ordering_log_likelihoods(model, classes, generator, within_frame=within_frame, batch=batch)
            for _ in range(orderings)
        ]
    )  # (orderings, steps, voices)
    if estimator == "coconet":
        per_frame = draws.masked_fill(classes.t() == model.config.rest_class, 0.0).sum(dim=2)  # (orderings, steps)
        return -float((torch.logsumexp(per_frame, dim=0) - math.log(orderings)).sum())
    return -float(torch.logsumexp(draws.sum(dim=(1, 2)), dim=0) - math.log(orderings))


def rolls_to_classes(rolls: torch.Tensor) -> torch.Tensor:
    """Binary rolls (B, voices, steps, pitches) to classes (B, voices, steps): the highest sounding pitch, else rest.

    The highest pitch wins where a voice holds a chord, so a soprano keeps its top line.
    """
    pitches = rolls.shape[-1]
    sounding = rolls > 0
    top = pitches - 1 - torch.argmax(sounding.flip(-1).to(torch.int8), dim=-1)
    return torch.where(sounding.any(dim=-1), top, torch.full_like(top, pitches))


def classes_to_rolls(classes: torch.Tensor, pitches: int) -> torch.Tensor:
    """Classes (..., voices, steps) to 0/1 float rolls (..., voices, steps, pitches); rests are silent."""
    return functional.one_hot(classes, pitches + 1)[..., :pitches].to(torch.float32)
