"""Checkpoints: what they hold, that a half-written one is never used, and that only the last few stay."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from opencomposer.training.checkpoints import (
    latest_checkpoint,
    list_checkpoints,
    restore_checkpoint,
    save_checkpoint,
)
from opencomposer.training.objectives.gan import WganGp

from .conftest import make_objective


def trained(windows: torch.Tensor, steps: int = 2) -> WganGp:
    objective = make_objective()
    for step in range(steps):
        objective.train_step([windows[:4], windows[4:8], windows[8:12]], step)
    return objective


def test_a_checkpoint_restores_networks_optimizers_and_random_state(tmp_path: Path, windows: torch.Tensor) -> None:
    source = trained(windows)
    torch.manual_seed(123)
    save_checkpoint(tmp_path, 2, source.modules(), source.optimizers(), {"trainer": {"epoch": 1}})
    expected_draw = torch.rand(3)

    target = make_objective(seed=99)
    checkpoint = latest_checkpoint(tmp_path)
    assert checkpoint is not None and checkpoint.step == 2 and checkpoint.state["trainer"] == {"epoch": 1}
    restore_checkpoint(checkpoint, target.modules(), target.optimizers())
    assert torch.equal(torch.rand(3), expected_draw)
    for name, module in source.modules().items():
        for key, value in module.state_dict().items():
            assert torch.equal(value, target.modules()[name].state_dict()[key]), (name, key)
    for name, optimizer in source.optimizers().items():
        restored = target.optimizers()[name].state_dict()
        original = optimizer.state_dict()
        assert restored["param_groups"][0]["betas"] == list(original["param_groups"][0]["betas"])
        for index, state in original["state"].items():
            for key, value in state.items():
                assert torch.equal(restored["state"][index][key], value)
    # The restored optimizers keep training the same way as the originals.
    batch = [windows[12:16], windows[16:20], windows[20:24]]
    torch.manual_seed(5)
    source.train_step(batch, 2)
    torch.manual_seed(5)
    target.train_step(batch, 2)
    for a, b in zip(source.generator.parameters(), target.generator.parameters(), strict=True):
        assert torch.equal(a, b)


def test_only_the_last_checkpoints_are_kept(tmp_path: Path, windows: torch.Tensor) -> None:
    objective = trained(windows, steps=1)
    for step in (1, 2, 3, 4):
        save_checkpoint(tmp_path, step, objective.modules(), objective.optimizers(), {}, keep=2)
    assert [checkpoint.step for checkpoint in list_checkpoints(tmp_path)] == [3, 4]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "step-00000003.json",
        "step-00000003.safetensors",
        "step-00000004.json",
        "step-00000004.safetensors",
    ]


def test_a_checkpoint_cut_short_by_a_kill_is_passed_over(tmp_path: Path, windows: torch.Tensor) -> None:
    objective = trained(windows, steps=1)
    save_checkpoint(tmp_path, 5, objective.modules(), objective.optimizers(), {})
    # A kill after the tensors but before the JSON, and a JSON cut in the middle of writing.
    (tmp_path / "step-00000007.safetensors").write_bytes(b"partial")
    (tmp_path / "step-00000006.safetensors").write_bytes(b"partial")
    (tmp_path / "step-00000006.json").write_text('{"step": 6, "optim', encoding="utf-8")
    checkpoint = latest_checkpoint(tmp_path)
    assert checkpoint is not None and checkpoint.step == 5
    assert latest_checkpoint(tmp_path / "missing") is None


def test_checkpoint_files_are_safetensors_and_plain_json(tmp_path: Path, windows: torch.Tensor) -> None:
    objective = trained(windows, steps=1)
    checkpoint = save_checkpoint(tmp_path, 1, objective.modules(), objective.optimizers(), {"note": "x"})
    names = set(checkpoint.tensors())
    assert "module/generator/out.0.weight" in names
    assert any(name.startswith("optimizer/critic/") and name.endswith("/exp_avg") for name in names)
    assert "rng/torch" in names
    state = json.loads((tmp_path / "step-00000001.json").read_text(encoding="utf-8"))
    assert state["step"] == 1 and state["note"] == "x" and "param_groups" in state["optimizers"]["generator"]
    assert not list(tmp_path.glob(".*.tmp"))
