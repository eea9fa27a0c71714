"""The Transformer network: shapes, the key-value cache, rotary positions past the training length."""

from __future__ import annotations

import pytest
import torch

from opencomposer.models.transformer import Decoder, KVCache, Transformer, TransformerConfig


def _model(context_tokens: int = 16) -> Transformer:
    torch.manual_seed(0)
    return Transformer(
        TransformerConfig(vocab_size=50, context_tokens=context_tokens, d_model=32, layers=2, heads=4)
    ).eval()


def test_forward_gives_logits_per_position_and_a_loss_that_ignores_padding() -> None:
    model = _model()
    ids = torch.randint(1, 50, (3, 10))
    logits, loss = model(ids, ids)
    assert logits.shape == (3, 10, 50)
    assert loss is not None and loss.item() > 0
    padded = ids.clone()
    padded[:, 5:] = model.config.pad_id
    _, only_first = model(ids, padded)
    direct = torch.nn.functional.cross_entropy(logits[:, :5].reshape(-1, 50), ids[:, :5].reshape(-1))
    assert only_first is not None and torch.allclose(only_first, direct, atol=1e-6)


def test_cached_generation_equals_the_full_forward_pass() -> None:
    model = _model()
    ids = torch.randint(1, 50, (2, 12))
    with torch.no_grad():
        full, _ = model(ids)
        cache = KVCache()
        prompt, _ = model(ids[:, :5], cache=cache)
        steps = [model(ids[:, t : t + 1], cache=cache)[0] for t in range(5, 12)]
    assert cache.length == 12
    assert torch.allclose(torch.cat([prompt, *steps], dim=1), full, atol=1e-5)


def test_runs_past_its_training_length_and_the_cache_still_agrees() -> None:
    model = _model(context_tokens=8)
    ids = torch.randint(1, 50, (1, 40))  # five times the training length
    with torch.no_grad():
        full, _ = model(ids)
        cache = KVCache()
        model(ids[:, :30], cache=cache)
        tail, _ = model(ids[:, 30:], cache=cache)
    assert torch.isfinite(full).all()
    assert torch.allclose(tail, full[:, 30:], atol=1e-5)


def test_positions_are_relative_a_shifted_window_sees_the_same_context() -> None:
    model = _model()
    ids = torch.randint(1, 50, (1, 6))
    with torch.no_grad():
        alone, _ = model(ids)
        cache = KVCache()
        model(torch.randint(1, 50, (1, 20)), cache=cache)
        cache_free, _ = model(ids)
    assert torch.allclose(alone, cache_free)


def test_an_odd_head_width_is_refused() -> None:
    with pytest.raises(ValueError, match="heads"):
        TransformerConfig(vocab_size=10, d_model=30, heads=2)


def test_the_cache_grows_past_its_first_buffer_and_keeps_what_it_held() -> None:
    model = _model(context_tokens=8)
    ids = torch.randint(1, 50, (1, 150))  # past the first 64-position buffer, and again past 128
    with torch.no_grad():
        full, _ = model(ids)
        cache = KVCache()
        model(ids[:, :60], cache=cache)
        steps = [model(ids[:, t : t + 1], cache=cache)[0] for t in range(60, 150)]
    assert cache.length == 150 and cache.keys[0].shape[2] == 256
    assert torch.allclose(torch.cat(steps, dim=1), full[:, 60:], atol=1e-5)


def test_the_decoder_steps_exactly_as_the_forward_pass_with_a_cache() -> None:
    model = _model()
    ids = torch.randint(1, 50, (1, 90))
    with torch.no_grad():
        full, _ = model(ids)
        cache = KVCache()
        model(ids[:, :10], cache=cache)
        step = Decoder(model)
        steps = [step(int(ids[0, t]), cache) for t in range(10, 90)]  # grows the cache past 64 on the way
    assert cache.length == 90
    assert torch.allclose(torch.stack(steps), full[0, 10:], atol=1e-5)
