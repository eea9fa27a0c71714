"""Checkpoints a killed run resumes from: safetensors for tensors, JSON for the rest, nothing pickled.

A checkpoint of step N is two files in the run's checkpoint folder:

- ``step-0000000N.safetensors``: every network's state dict (``module/<name>/<key>``), every tensor of
  every optimizer's state (``optimizer/<name>/<parameter index>/<key>``) and the random generators'
  states (``rng/...``);
- ``step-0000000N.json``: the step, the trainer's position in the data, the optimizers' parameter
  groups and non-tensor state, and what the run was made with.

Each file is written to a temporary name, synced, then renamed, and the JSON goes last: a checkpoint
whose JSON exists is complete, so a kill at any moment leaves the previous one usable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as load_safetensors
from torch import nn

from opencomposer.files import write_atomically, write_json_atomically
from opencomposer.registry import tensors_to_bytes

_NAME = re.compile(r"^step-(\d{8})\.json$")
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A complete checkpoint on disk: its step, its tensors' file and its JSON state."""

    step: int
    tensors_path: Path
    state: dict[str, Any]

    def tensors(self) -> dict[str, torch.Tensor]:
        """Every tensor of the checkpoint, on the CPU."""
        return load_safetensors(self.tensors_path.read_bytes())


def _flatten_optimizer(name: str, optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimizer's state dict into its tensors and a JSON-ready rest."""
    state_dict = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, values in state_dict["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer/{name}/{index}/{key}"] = value
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state_dict["param_groups"], "scalars": scalars}


def _unflatten_optimizer(name: str, tensors: Mapping[str, torch.Tensor], meta: Mapping[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    prefix = f"optimizer/{name}/"
    for key, tensor in tensors.items():
        if key.startswith(prefix):
            index, field = key[len(prefix) :].split("/", 1)
            state.setdefault(int(index), {})[field] = tensor
    for index, values in meta["scalars"].items():
        state.setdefault(int(index), {}).update(values)
    return {"state": state, "param_groups": meta["param_groups"]}


def _rng_tensors() -> dict[str, torch.Tensor]:
    tensors = {"rng/torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for index, rng_state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng/cuda/{index}"] = rng_state
    return tensors


def save_checkpoint(
    directory: Path,
    step: int,
    modules: Mapping[str, nn.Module],
    optimizers: Mapping[str, torch.optim.Optimizer],
    state: Mapping[str, Any],
    *,
    keep: int = 2,
) -> Checkpoint:
    """Write the checkpoint of `step` (networks, optimizers, random generators and `state`); keep the last `keep`.

    `state` holds what the trainer needs besides tensors (its position in the data, elapsed time,
    settings); it must be JSON-serialisable.
    """
    tensors: dict[str, torch.Tensor] = {}
    for name, module in modules.items():
        tensors.update({f"module/{name}/{key}": value for key, value in module.state_dict().items()})
    optimizer_meta: dict[str, Any] = {}
    for name, optimizer in optimizers.items():
        optimizer_tensors, optimizer_meta[name] = _flatten_optimizer(name, optimizer)
        tensors.update(optimizer_tensors)
    tensors.update(_rng_tensors())
    stem = f"step-{step:08d}"
    tensors_path = directory / f"{stem}.safetensors"
    write_atomically(tensors_path, tensors_to_bytes(tensors))
    full_state = {**state, "format": FORMAT_VERSION, "step": step, "optimizers": optimizer_meta}
    write_json_atomically(directory / f"{stem}.json", full_state)
    for old in list_checkpoints(directory)[:-keep] if keep > 0 else []:
        old.tensors_path.with_suffix(".json").unlink(missing_ok=True)
        old.tensors_path.unlink(missing_ok=True)
    return Checkpoint(step, tensors_path, full_state)


def list_checkpoints(directory: Path) -> list[Checkpoint]:
    """The complete checkpoints in `directory`, oldest first (a damaged JSON file is left out)."""
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = _NAME.match(path.name)
        tensors_path = path.with_suffix(".safetensors")
        if not match or not tensors_path.is_file():
            continue
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if state.get("step") == int(match.group(1)):
            found.append(Checkpoint(int(match.group(1)), tensors_path, state))
    return sorted(found, key=lambda checkpoint: checkpoint.step)


def latest_checkpoint(directory: Path) -> Checkpoint | None:
    """The newest complete checkpoint in `directory`, or None."""
    checkpoints = list_checkpoints(directory)
    return checkpoints[-1] if checkpoints else None


def restore_checkpoint(
    checkpoint: Checkpoint,
    modules: Mapping[str, nn.Module],
    optimizers: Mapping[str, torch.optim.Optimizer],
    *,
    restore_rng: bool = True,
) -> None:
    """Load a checkpoint's networks, optimizers and (optionally) random generator states in place."""
    tensors = checkpoint.tensors()
    for name, module in modules.items():
        prefix = f"module/{name}/"
        module.load_state_dict({key[len(prefix) :]: value for key, value in tensors.items() if key.startswith(prefix)})
    for name, optimizer in optimizers.items():
        optimizer.load_state_dict(_unflatten_optimizer(name, tensors, checkpoint.state["optimizers"][name]))
    if restore_rng:
        torch.set_rng_state(tensors["rng/torch"])
        cuda_states = [tensors[key] for key in sorted(tensors) if key.startswith("rng/cuda/")]
        if cuda_states and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(cuda_states)
