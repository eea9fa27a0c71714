"""A decoder-only Transformer over note-event tokens, with rotary positions and a key-value cache.

Rotary position embeddings (Su et al. 2021) rotate queries and keys by an angle proportional to their
position, so attention sees only relative offsets: the model runs on sequences longer than those it was
trained on. `forward` returns ``(logits, loss)`` like nanoGPT; `forward` with a `KVCache` runs only the
new tokens and appends their keys and values, which is what makes generation linear in its length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional


@dataclass(frozen=True, slots=True)
class TransformerConfig:
    """The shape of a `Transformer`.

    Parameters
    ----------
    vocab_size
        Number of token ids.
    context_tokens
        Sequence length it was trained on (rotary positions let it run past it).
    d_model
        Width of the residual stream.
    layers
        Number of blocks.
    heads
        Attention heads per block; `d_model` must be a multiple of it, with an even head width.
    ff_multiple
        Width of the feed-forward layer as a multiple of `d_model`.
    dropout
        Dropout in training.
    rotary_base
        Base of the rotary angles' geometric progression.
    pad_id
        The padding token, never predicted (its targets are ignored by the loss).
    """

    vocab_size: int
    context_tokens: int = 512
    d_model: int = 256
    layers: int = 4
    heads: int = 4
    ff_multiple: int = 4
    dropout: float = 0.0
    rotary_base: float = 10_000.0
    pad_id: int = 0

    def __post_init__(self) -> None:
        if self.d_model % self.heads or (self.d_model // self.heads) % 2:
            raise ValueError(f"d_model {self.d_model} must split into {self.heads} heads of an even width.")


@dataclass(slots=True)
class KVCache:
    """Keys and values of the tokens seen so far, per layer: each (B, heads, T, head_width)."""

    keys: list[torch.Tensor] = field(default_factory=list)
    values: list[torch.Tensor] = field(default_factory=list)

    @property
    def length(self) -> int:
        """Tokens held."""
        return int(self.keys[0].shape[2]) if self.keys else 0


class Rotary(nn.Module):
    """Cosines and sines of the rotary angles, computed for any position range on demand."""

    inverse_frequencies: torch.Tensor

    def __init__(self, head_width: int, base: float) -> None:
        super().__init__()
        exponents = torch.arange(0, head_width, 2, dtype=torch.float32) / head_width
        self.register_buffer("inverse_frequencies", 1.0 / (base**exponents), persistent=False)

    def forward(self, start: int, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(cos, sin), each (length, head_width / 2), for positions start .. start + length - 1."""
        positions = torch.arange(start, start + length, device=self.inverse_frequencies.device, dtype=torch.float32)
        angles = torch.outer(positions, self.inverse_frequencies)
        return angles.cos(), angles.sin()


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate pairs (first half, second half) of the last axis of x (B, heads, T, width) by the angles."""
    first, second = x.chunk(2, dim=-1)
    return torch.cat((first * cos - second * sin, first * sin + second * cos), dim=-1)


class Attention(nn.Module):
    """Causal multi-head self-attention with rotary positions."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.heads = config.heads
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model, bias=False)
        self.out = nn.Linear(config.d_model, config.d_model, bias=False)
        self.dropout = config.dropout

    def forward(
        self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, cache: KVCache | None, layer: int
    ) -> torch.Tensor:
        batch, length, width = x.shape
        q, k, v = self.qkv(x).view(batch, length, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4)
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)  # (B, heads, T, head_width)
        past = 0
        if cache is not None:
            if layer < len(cache.keys):
                past = cache.keys[layer].shape[2]
                k = torch.cat((cache.keys[layer], k), dim=2)
                v = torch.cat((cache.values[layer], v), dim=2)
                cache.keys[layer], cache.values[layer] = k, v
            else:
                cache.keys.append(k)
                cache.values.append(v)
        if past == 0:
            mixed = functional.scaled_dot_product_attention(
                q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0
            )
        else:
            # New token i (at position past + i) may see every cached key and the new keys up to itself.
            mask = torch.ones(length, past + length, dtype=torch.bool, device=x.device).tril(diagonal=past)
            mixed = functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        result: torch.Tensor = self.out(mixed.transpose(1, 2).reshape(batch, length, width))
        return result


class Block(nn.Module):
    """Pre-norm attention and feed-forward, each around a residual connection."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.attention_norm = nn.LayerNorm(config.d_model)
        self.attention = Attention(config)
        self.ff_norm = nn.LayerNorm(config.d_model)
        self.ff = nn.Sequential(
            nn.Linear(config.d_model, config.ff_multiple * config.d_model),
            nn.GELU(),
            nn.Linear(config.ff_multiple * config.d_model, config.d_model),
            nn.Dropout(config.dropout),
        )

    def forward(
        self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, cache: KVCache | None, layer: int
    ) -> torch.Tensor:
        x = x + self.attention(self.attention_norm(x), cos, sin, cache, layer)
        result: torch.Tensor = x + self.ff(self.ff_norm(x))
        return result


class Transformer(nn.Module):
    """Decoder-only Transformer language model (token embedding tied to the output layer)."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.d_model)
        self.dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.layers))
        self.norm = nn.LayerNorm(config.d_model)
        self.rotary = Rotary(config.d_model // config.heads, config.rotary_base)
        self.apply(self._init_weights)
        for name, parameter in self.named_parameters():
            if name.endswith("out.weight") or name.endswith("ff.2.weight"):
                # GPT-2's scaling keeps the residual stream's variance flat however deep the stack is.
                nn.init.normal_(parameter, std=0.02 / math.sqrt(2 * config.layers))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(
        self, ids: torch.Tensor, targets: torch.Tensor | None = None, cache: KVCache | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Next-token logits (B, T, vocab) for ids (B, T), and the mean cross-entropy when targets are given.

        With a `cache`, `ids` are the tokens that follow those already in it; their keys and values are
        appended, so generating token by token costs one token's work each time.
        """
        start = cache.length if cache is not None else 0
        cos, sin = self.rotary(start, ids.shape[1])
        x = self.dropout(self.embedding(ids))  # (B, T, C)
        for layer, block in enumerate(self.blocks):
            x = block(x, cos, sin, cache, layer)
        logits = functional.linear(self.norm(x), self.embedding.weight)  # (B, T, vocab)
        loss = None
        if targets is not None:
            loss = functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=self.config.pad_id
            )
        return logits, loss
