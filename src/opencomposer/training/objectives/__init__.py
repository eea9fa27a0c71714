"""Training objectives: what one training step computes, apart from the loop that runs it.

An objective owns its networks and their optimizers and knows how to turn a few batches of windows
into one update. The `Trainer` owns everything else (the loop, seeding, devices, distributed wrapping,
evaluation, checkpoints and events), so the same trainer runs a GAN now and masked or language-model
objectives later.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

import torch
from torch import nn


def warmup_cosine_rate(
    step: int, total_steps: int, peak: float, *, warmup_fraction: float = 0.05, final_fraction: float = 0.1
) -> float:
    """The learning rate of update `step` (from 0) of `total_steps`: a linear warm-up over `warmup_fraction`
    of them to `peak`, then a cosine decay to `final_fraction` of it. It is a function of the step alone, so a
    resumed run continues the same schedule."""
    total = max(1, total_steps)
    warmup = max(1, int(warmup_fraction * total))
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
    return peak * (final_fraction + (1.0 - final_fraction) * cosine)


class Objective(ABC):
    """What a trainer trains.

    `batches_per_step` is how many batches one `train_step` consumes (a GAN's critic updates each take
    their own batch). Subclasses use `training_module(name)` inside `train_step`, so that the trainer can
    swap in a `DistributedDataParallel` wrapper, and the plain `modules()` everywhere else.
    """

    batches_per_step: int = 1

    def __init__(self) -> None:
        self.device = torch.device("cpu")
        self._wrapped: dict[str, nn.Module] = {}

    @abstractmethod
    def modules(self) -> dict[str, nn.Module]:
        """The networks, by name; their state is what checkpoints save."""

    @abstractmethod
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """The optimizers, by name; their state is saved in checkpoints too."""

    @abstractmethod
    def train_step(self, batches: Sequence[torch.Tensor], step: int) -> dict[str, float]:
        """One update from `batches_per_step` batches of windows (B, tracks, steps, pitches), values 0/1.

        Returns the losses and other scalars worth charting, by name.
        """

    @abstractmethod
    def sample(self, batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """What the model makes of a batch, for evaluation: (B, tracks, steps, pitches) probabilities in [0, 1].

        The given parts of the batch (a GAN's melody) are kept; `generator` (a CPU generator) draws every
        random number, so a fixed seed gives fixed samples.
        """

    def to(self, device: torch.device) -> None:
        """Move the networks to `device` (optimizers follow: their parameters are moved in place)."""
        for module in self.modules().values():
            module.to(device)
        self.device = device

    def distribute(self, wrap: Callable[[nn.Module], nn.Module]) -> None:
        """Use `wrap(module)` (for example a `DistributedDataParallel`) for every network in `train_step`."""
        self._wrapped = {name: wrap(module) for name, module in self.modules().items()}

    def training_module(self, name: str) -> nn.Module:
        """The network `name` as `train_step` must call it: wrapped when the run is distributed."""
        return self._wrapped.get(name) or self.modules()[name]
