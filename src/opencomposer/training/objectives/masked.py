"""The orderless-NADE objective of an AR-CNN (Uria et al. 2014; Huang et al. 2017, Coconet).

For a piece ``x`` (voices x steps cells) and a mask ``C`` of cells hidden from the network, the loss is
the mean cross-entropy of the hidden cells given the visible ones::

    loss = - 1 / |C| * sum_{(v, t) in C} log p(x_{v,t} | x_{not C})

and a batch's loss is the mean of its pieces' losses. Averaging over each piece's own hidden cells
(rather than over all the batch's hidden cells at once) is Coconet's reweighting: every mask size counts
the same, so the network learns to fill in a single cell as well as a whole empty piece. Pooling the
cells instead lets a piece with 500 hidden cells outweigh one with 5 a hundredfold, and a network so
trained stays poor exactly where the likelihood evaluation and the last Gibbs iterations need it, with
nearly every cell known. Masks come in four kinds, one per window, drawn with equal odds:

- orderless: a uniformly drawn number of cells in ``1..V*T``, then a uniformly drawn set of that size,
  as orderless NADE trains;
- voices: a random non-empty set of whole voices, as harmonizing a melody asks;
- span: a random run of steps in a random non-empty set of voices, as inpainting bars asks;
- frames: a uniformly drawn number of whole steps (frames) hidden, as the framewise likelihood
  evaluation reveals a piece frame by frame (`opencomposer.models.arcnn.piece_nll`); in half of these
  windows each voice of a hidden frame is then shown again with odds drawn uniformly from [0, 1), as the
  evaluation shows some voices of the frame it predicts. Each window is still a set of hidden cells and
  its complement, so the objective stays orderless NADE's; this kind only spends some of the training
  on the contexts the likelihood is measured in, where cell-scattered masks almost never give them.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional

from opencomposer.models.arcnn import Arcnn, classes_to_rolls, gibbs_sample, rolls_to_classes
from opencomposer.training.objectives import Objective, warmup_cosine_rate

MASK_KINDS = ("orderless", "voices", "span", "frames")
"""The kinds of mask `random_masks` draws (see the module docstring)."""
EVAL_ITERATIONS = 32


def random_masks(
    batch: int,
    voices: int,
    steps: int,
    generator: torch.Generator | None = None,
    kinds: Sequence[str] = MASK_KINDS,
) -> torch.Tensor:
    """(batch, voices, steps) booleans, True where a cell is hidden; see the module docstring for the kinds.

    `kinds` names the kinds to draw from, with equal odds (default: all of `MASK_KINDS`).
    """
    unknown = sorted(set(kinds) - set(MASK_KINDS))
    if unknown or not kinds:
        raise ValueError(f"Mask kinds are some of {', '.join(MASK_KINDS)}, not {', '.join(unknown) or 'none'}.")
    cells = voices * steps
    drawn = torch.tensor([MASK_KINDS.index(kind) for kind in kinds])
    kind_index = drawn[torch.randint(0, len(drawn), (batch,), generator=generator)]
    # Orderless: rank cells by a random key and hide the `size` lowest.
    sizes = torch.randint(1, cells + 1, (batch, 1), generator=generator)
    ranks = torch.rand((batch, cells), generator=generator).argsort(dim=1).argsort(dim=1)
    orderless = (ranks < sizes).reshape(batch, voices, steps)
    # Voices: each voice hidden with odds 1/2, at least one.
    chosen = torch.rand((batch, voices), generator=generator) < 0.5
    none = ~chosen.any(dim=1)
    chosen[none, torch.randint(0, voices, (int(none.sum()),), generator=generator)] = True
    whole_voices = chosen[:, :, None].expand(batch, voices, steps)
    # Span: a run of 1..steps steps in the chosen voices.
    lengths = torch.randint(1, steps + 1, (batch, 1), generator=generator)
    starts = (torch.rand((batch, 1), generator=generator) * (steps - lengths + 1)).floor().long()
    positions = torch.arange(steps)[None]
    in_span = (positions >= starts) & (positions < starts + lengths)  # (B, T)
    span = whole_voices & in_span[:, None, :]
    # Frames: hide a uniformly drawn number of whole steps; in half the windows show some of their voices again.
    hidden_steps = torch.randint(1, steps + 1, (batch, 1), generator=generator)
    step_ranks = torch.rand((batch, steps), generator=generator).argsort(dim=1).argsort(dim=1)
    hidden_frames = (step_ranks < hidden_steps)[:, None, :].expand(batch, voices, steps)
    shown_odds = torch.rand((batch, 1, 1), generator=generator) * (torch.rand((batch, 1, 1), generator=generator) < 0.5)
    shown = torch.rand((batch, voices, steps), generator=generator) < shown_odds
    frames = hidden_frames & ~shown
    # A window whose every hidden cell was shown again hides its frames whole instead.
    frames = torch.where(frames.flatten(1).any(dim=1)[:, None, None], frames, hidden_frames)
    kind = kind_index[:, None, None]
    return torch.where(kind == 0, orderless, torch.where(kind == 1, whole_voices, torch.where(kind == 2, span, frames)))


class MaskedCells(Objective):
    """Train an `Arcnn` to fill in randomly hidden cells.

    Parameters
    ----------
    model
        The network.
    learning_rate
        Peak learning rate of its Adam optimizer.
    total_steps
        Steps of the whole run: the rate warms up over the first 5 % of them and then decays along a cosine
        to a tenth of the peak (`warmup_cosine_rate`). None keeps it at `learning_rate` throughout.
    mask_kinds
        The kinds of mask to train on (`MASK_KINDS`, all by default).
    """

    def __init__(
        self,
        model: Arcnn,
        *,
        learning_rate: float = 1e-3,
        total_steps: int | None = None,
        mask_kinds: Sequence[str] = MASK_KINDS,
    ) -> None:
        super().__init__()
        self.model = model
        self.mask_kinds = tuple(mask_kinds)
        self.learning_rate = learning_rate
        self.total_steps = total_steps
        self.optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

    def rate_at(self, step: int) -> float:
        """The learning rate of update `step` (counted from 0)."""
        if self.total_steps is None:
            return self.learning_rate
        return warmup_cosine_rate(step, self.total_steps, self.learning_rate)

    def modules(self) -> dict[str, nn.Module]:
        """The network."""
        return {"arcnn": self.model}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Its Adam optimizer."""
        return {"arcnn": self.optimizer}

    def loss(self, classes: torch.Tensor, hidden: torch.Tensor, model: nn.Module | None = None) -> torch.Tensor:
        """Cross-entropy of the hidden cells of `classes` (B, V, T) given the others: each piece's mean, averaged."""
        net = model if model is not None else self.model
        logits = net(classes, ~hidden)  # (B, V, T, K)
        cells = functional.cross_entropy(logits.flatten(0, 2), classes.flatten(), reduction="none")
        hidden_f = hidden.flatten(1).to(cells.dtype)  # (B, V * T)
        per_piece = (cells.reshape(hidden_f.shape) * hidden_f).sum(dim=1) / hidden_f.sum(dim=1).clamp(min=1.0)
        return per_piece.mean()

    def train_step(self, batches: Sequence[torch.Tensor], step: int) -> dict[str, float]:
        """One Adam update on one batch of windows (B, voices, steps, pitches)."""
        (batch,) = batches
        classes = rolls_to_classes(batch)
        batch_size, voices, steps = classes.shape
        hidden = random_masks(batch_size, voices, steps, kinds=self.mask_kinds).to(classes.device)
        net = self.training_module("arcnn")
        net.train()
        rate = self.rate_at(step)
        for group in self.optimizer.param_groups:
            group["lr"] = rate
        loss = self.loss(classes, hidden, net)
        self.optimizer.zero_grad(set_to_none=True)
        torch.autograd.backward(loss)
        self.optimizer.step()
        return {"loss": float(loss.detach()), "learning_rate": rate}

    @torch.no_grad()
    def sample(self, batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Harmonize the first voice (the soprano) of each window by Gibbs sampling the others."""
        model = self.model
        was_training = model.training
        model.eval()
        try:
            classes = rolls_to_classes(batch).cpu()
            changeable = torch.ones(classes.shape[1:], dtype=torch.bool)
            changeable[0] = False
            rows = [
                gibbs_sample(
                    model.cpu(), window, changeable, iterations=EVAL_ITERATIONS, temperature=1.0, generator=generator
                )
                for window in classes
            ]
        finally:
            model.to(self.device)
            model.train(was_training)
        return classes_to_rolls(torch.stack(rows), batch.shape[-1]).to(batch.device)
