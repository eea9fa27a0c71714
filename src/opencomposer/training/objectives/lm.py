"""The language-model objective: predict every next token of fixed-length token sequences.

A batch is (B, T + 1) token ids; the model reads the first T and is scored on the last T (padding is
ignored). AdamW with a linear warm-up and a cosine decay to a tenth of the peak rate; the rate is set
from the step number each update, so a resumed run continues the same schedule.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from opencomposer.models.transformer import KVCache, Transformer
from opencomposer.training.objectives import Objective, warmup_cosine_rate

WARMUP_FRACTION = 0.05
FINAL_RATE_FRACTION = 0.1
GRADIENT_CLIP = 1.0


class LanguageModel(Objective):
    """Next-token cross-entropy for a `Transformer`.

    Parameters
    ----------
    model
        The network.
    learning_rate
        Peak learning rate.
    total_steps
        Steps of the whole run, for the schedule.
    weight_decay
        AdamW's decoupled weight decay on matrices (not on norms, biases or embeddings).
    """

    def __init__(self, model: Transformer, *, learning_rate: float, total_steps: int, weight_decay: float = 0.1):
        super().__init__()
        self.model = model
        self.learning_rate = learning_rate
        self.total_steps = max(1, total_steps)
        decayed = [p for name, p in model.named_parameters() if p.dim() >= 2 and "embedding" not in name]
        kept = [p for name, p in model.named_parameters() if p.dim() < 2 or "embedding" in name]
        self.optimizer = torch.optim.AdamW(
            [{"params": decayed, "weight_decay": weight_decay}, {"params": kept, "weight_decay": 0.0}],
            lr=learning_rate,
            betas=(0.9, 0.95),
        )

    def modules(self) -> dict[str, nn.Module]:
        """The one network, "model"."""
        return {"model": self.model}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """The one optimizer, "model"."""
        return {"model": self.optimizer}

    def rate_at(self, step: int) -> float:
        """The learning rate of update `step` (counted from 0)."""
        return warmup_cosine_rate(
            step,
            self.total_steps,
            self.learning_rate,
            warmup_fraction=WARMUP_FRACTION,
            final_fraction=FINAL_RATE_FRACTION,
        )

    def train_step(self, batches: Sequence[torch.Tensor], step: int) -> dict[str, float]:
        """One AdamW update on a batch of (B, T + 1) token ids; returns the loss per token (nats)."""
        (batch,) = batches
        batch = batch.long()
        network = self.training_module("model")
        network.train()
        rate = self.rate_at(step)
        for group in self.optimizer.param_groups:
            group["lr"] = rate
        _, loss = network(batch[:, :-1], batch[:, 1:])
        assert loss is not None
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norm = nn.utils.clip_grad_norm_(self.model.parameters(), GRADIENT_CLIP)
        self.optimizer.step()
        return {"loss": float(loss.item()), "gradient_norm": float(norm), "learning_rate": rate}

    @torch.no_grad()
    def validation_loss(self, sequences: torch.Tensor, batch_size: int = 16) -> float:
        """Mean cross-entropy per (non-padding) token, in nats, over (N, T + 1) token ids."""
        self.model.eval()
        total, count = 0.0, 0
        for first in range(0, len(sequences), batch_size):
            batch = sequences[first : first + batch_size].long().to(self.device)
            logits, _ = self.model(batch[:, :-1])
            targets = batch[:, 1:]
            losses = nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]),
                targets.reshape(-1),
                ignore_index=self.model.config.pad_id,
                reduction="sum",
            )
            total += float(losses)
            count += int((targets != self.model.config.pad_id).sum())
        return total / max(1, count)

    @torch.no_grad()
    def sample(self, batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Continue the first half of each (B, T + 1) sequence to T + 1 tokens by plain sampling.

        Unlike the piano-roll objectives this returns token ids (B, T + 1), the first half kept as given;
        `generator` (a CPU generator) draws every choice.
        """
        self.model.eval()
        ids = batch.long().to(self.device)
        keep = ids.shape[1] // 2
        cache = KVCache()
        logits, _ = self.model(ids[:, :keep], cache=cache)
        pieces = [ids[:, :keep]]
        for _ in range(ids.shape[1] - keep):
            probabilities = torch.softmax(logits[:, -1].float().cpu(), dim=-1)
            probabilities[:, self.model.config.pad_id] = 0.0
            chosen = torch.multinomial(probabilities, 1, generator=generator).to(self.device)
            pieces.append(chosen)
            logits, _ = self.model(chosen, cache=cache)
        return torch.cat(pieces, dim=1)
