"""A decoder-only Transformer over note-event tokens, with rotary positions and a key-value cache.

Rotary position embeddings (Su et al. 2021) rotate queries and keys by an angle proportional to their
position, so attention sees only relative offsets: the model runs on sequences longer than those it was
trained on. `forward` returns ``(logits, loss)`` like nanoGPT; `forward` with a `KVCache` runs only the
new tokens and appends their keys and values, which is what makes generation linear in its length.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

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


class KVCache:
    """Keys and values of the tokens seen so far, per layer, in buffers that grow by doubling.

    Each layer's buffer is (B, heads, capacity, head_width); the first `length` positions are filled.
    Writing a token's keys into its slot, instead of concatenating the whole cache again, keeps one
    generation step's cost from growing with the tokens already seen.
    """

    __slots__ = ("keys", "length", "values")

    def __init__(self) -> None:
        self.keys: list[torch.Tensor] = []
        self.values: list[torch.Tensor] = []
        self.length = 0

    def extend(self, layer: int, keys: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store a layer's keys and values (B, heads, T, head_width) after the `length` held; returns the
        layer's keys and values so far. `length` moves on once every layer has stored (see `advance`)."""
        end = self.length + keys.shape[2]
        if layer == len(self.keys):
            self.keys.append(keys.new_empty(_grown(keys.shape, end)))
            self.values.append(values.new_empty(_grown(values.shape, end)))
        elif end > self.keys[layer].shape[2]:
            for buffers in (self.keys, self.values):
                grown = buffers[layer].new_empty(_grown(buffers[layer].shape, end))
                grown[:, :, : self.length] = buffers[layer][:, :, : self.length]
                buffers[layer] = grown
        self.keys[layer][:, :, self.length : end] = keys
        self.values[layer][:, :, self.length : end] = values
        return self.keys[layer][:, :, :end], self.values[layer][:, :, :end]

    def advance(self, tokens: int) -> None:
        """Count `tokens` more as held, once every layer has stored theirs."""
        self.length += tokens


def _grown(shape: torch.Size, needed: int) -> tuple[int, ...]:
    """`shape` with its time axis (2) at the next power of two of at least `needed`, 64 at the least."""
    return (*shape[:2], max(64, 1 << (needed - 1).bit_length()), *shape[3:])


class Rotary(nn.Module):
    """Cosines and sines of the rotary angles, from a table that grows to any position on demand."""

    inverse_frequencies: torch.Tensor

    def __init__(self, head_width: int, base: float) -> None:
        super().__init__()
        exponents = torch.arange(0, head_width, 2, dtype=torch.float32) / head_width
        self.register_buffer("inverse_frequencies", 1.0 / (base**exponents), persistent=False)
        self._table: tuple[torch.Tensor, torch.Tensor] | None = None

    def forward(self, start: int, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(cos, sin), each (length, head_width / 2), for positions start .. start + length - 1."""
        table = self._table
        end = start + length
        if table is None or table[0].shape[0] < end or table[0].device != self.inverse_frequencies.device:
            # Generation asks for one position at a time: computing the angles once for a range (twice
            # what is needed now) saves four small ops per token.
            positions = torch.arange(max(2 * end, 1024), device=self.inverse_frequencies.device, dtype=torch.float32)
            angles = torch.outer(positions, self.inverse_frequencies)
            table = self._table = (angles.cos(), angles.sin())
        return table[0][start:end], table[1][start:end]


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate pairs (first half, second half) of the last axis of x (..., T, width) by the angles."""
    first, second = x.chunk(2, dim=-1)
    return torch.cat((first * cos - second * sin, first * sin + second * cos), dim=-1)


# The layers are called through their functions, not as modules: generation runs one token at a time,
# and each module call's own overhead (about 5 µs on a 2-core CPU, some 40 per token) was a tenth of a
# step. The modules stay, so the parameters keep their names.
def _linear(layer: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    return functional.linear(x, layer.weight, layer.bias)


def _norm(layer: nn.LayerNorm, x: torch.Tensor) -> torch.Tensor:
    return functional.layer_norm(x, layer.normalized_shape, layer.weight, layer.bias, layer.eps)


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
        qkv = _linear(self.qkv, x).view(batch, length, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4)
        # Queries and keys rotate in one call: (2, B, heads, T, head_width).
        rotated = apply_rotary(qkv[:2], cos, sin)
        q, k, v = rotated[0], rotated[1], qkv[2]
        past = 0
        if cache is not None:
            past = cache.length
            k, v = cache.extend(layer, k, v)
        if past == 0:
            mixed = functional.scaled_dot_product_attention(
                q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0
            )
        elif length == 1:
            # One new token sees every key: no mask to build.
            mixed = functional.scaled_dot_product_attention(q, k, v)
        else:
            # New token i (at position past + i) may see every cached key and the new keys up to itself.
            mask = torch.ones(length, past + length, dtype=torch.bool, device=x.device).tril(diagonal=past)
            mixed = functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return _linear(self.out, mixed.transpose(1, 2).reshape(batch, length, width))


class Block(nn.Module):
    """Pre-norm attention and feed-forward, each around a residual connection."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.config = config
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
        x = x + self.attention(_norm(self.attention_norm, x), cos, sin, cache, layer)
        first, second = cast(nn.Linear, self.ff[0]), cast(nn.Linear, self.ff[2])  # around GELU, before Dropout
        hidden = functional.gelu(_linear(first, _norm(self.ff_norm, x)))
        return x + functional.dropout(_linear(second, hidden), self.config.dropout, self.training)


class Transformer(nn.Module):
    """Decoder-only Transformer language model (token embedding tied to the output layer)."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.d_model)
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
        x = functional.dropout(functional.embedding(ids, self.embedding.weight), self.config.dropout, self.training)
        for layer, block in enumerate(self.blocks):
            x = block(x, cos, sin, cache, layer)
        if cache is not None:
            cache.advance(ids.shape[1])
        logits = functional.linear(_norm(self.norm, x), self.embedding.weight)  # (B, T, vocab)
        loss = None
        if targets is not None:
            loss = functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=self.config.pad_id
            )
        return logits, loss


class Decoder:
    """One-token generation steps of a `Transformer`, written for speed.

    The same arithmetic as `Transformer.forward` on one new token with a cache (a test holds them equal),
    without module calls, masks or dropout, with the weights gathered once: on the 2-core CPU of the
    benchmarks a step of the shipped 4-layer models takes a quarter less time, since at one token per step
    Python's overhead costs as much as the arithmetic. Make one per generation (it holds the weights that
    the model had then).

    Parameters
    ----------
    model
        The model, in eval mode; its `forward` has to start the cache (with the prompt).
    """

    def __init__(self, model: Transformer) -> None:
        self.rotary = model.rotary
        self.heads = model.config.heads
        self.shape = (model.config.d_model,)
        self.embedding = model.embedding.weight
        self.norm = (model.norm.weight, model.norm.bias)
        self.layers = [
            (
                block.attention.qkv.weight,
                block.attention.out.weight,
                (block.attention_norm.weight, block.attention_norm.bias),
                (block.ff_norm.weight, block.ff_norm.bias),
                (cast(nn.Linear, block.ff[0]).weight, cast(nn.Linear, block.ff[0]).bias),
                (cast(nn.Linear, block.ff[2]).weight, cast(nn.Linear, block.ff[2]).bias),
            )
            for block in cast(list[Block], model.blocks)
        ]

    def __call__(self, token: int, cache: KVCache) -> torch.Tensor:
        """Next-token logits (vocab,) after `token`, which follows the tokens held in `cache` (then adds it)."""
        width = self.shape[0]
        cos, sin = self.rotary(cache.length, 1)
        x = self.embedding[token].view(1, 1, width)
        for layer, (qkv_weight, out_weight, attention_norm, ff_norm, first, second) in enumerate(self.layers):
            h = functional.layer_norm(x, self.shape, *attention_norm)
            qkv = functional.linear(h, qkv_weight).view(1, 3, self.heads, 1, width // self.heads)
            rotated = apply_rotary(qkv[:, :2], cos, sin)  # queries and keys: (1, 2, heads, 1, head_width)
            keys, values = cache.extend(layer, rotated[:, 1], qkv[:, 2])
            mixed = functional.scaled_dot_product_attention(rotated[:, 0], keys, values)  # sees every key
            x = x + functional.linear(mixed.view(1, 1, width), out_weight)
            h = functional.layer_norm(x, self.shape, *ff_norm)
            x = x + functional.linear(functional.gelu(functional.linear(h, *first)), *second)
        cache.advance(1)
        return functional.linear(functional.layer_norm(x, self.shape, *self.norm), self.embedding).view(-1)
