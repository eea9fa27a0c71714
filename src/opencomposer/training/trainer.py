"""The trainer every technique uses: the loop around an objective.

It owns what is the same for every model: seeding, the device, `DistributedDataParallel` under
`torchrun`, the order in which batches are read (and so where a resumed run picks up), the evaluation
schedule, checkpoints, and the events sent to sinks. What one step computes belongs to the objective
(`opencomposer.training.objectives`).

Distributed runs: every rank reads the same shuffled sequence of batches and takes every
`world_size`-th one (rank r the r-th of each group), so the ranks see different windows and stay in
step; gradients are averaged by `DistributedDataParallel`; rank 0 alone evaluates, writes checkpoints
and emits events.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from opencomposer.errors import TrainingError
from opencomposer.training.checkpoints import Checkpoint, latest_checkpoint, restore_checkpoint, save_checkpoint
from opencomposer.training.events import Event, EventKind, Sink
from opencomposer.training.objectives import Objective

BatchSource = Callable[[int], Iterable[torch.Tensor]]
"""Given an epoch number, the batches of that epoch, in an order that depends only on the epoch."""

Evaluator = Callable[[Objective, int], Mapping[str, Any]]
"""Given the objective and the step, an evaluation's results (JSON-ready: metrics, file paths)."""


@dataclass(frozen=True, slots=True)
class TrainerConfig:
    """How long to train and how often to report.

    Parameters
    ----------
    steps
        Steps to train for (a step is one `Objective.train_step`).
    eval_every
        Evaluate every this many steps, and at the end; 0 evaluates only at the end.
    checkpoint_every
        Write a checkpoint every this many steps, and at the end; 0 only at the end.
    log_every
        Emit a `step` event (mean losses since the last one) every this many steps.
    seed
        Seeds the random generators (rank r of a distributed run uses `seed + r`).
    keep_checkpoints
        Checkpoints kept on disk (older ones are deleted).
    device
        "auto" (CUDA when there is one), "cpu", "cuda" or "cuda:N".
    max_seconds
        Stop once this much training time has passed (earlier sessions of a resumed run included), as if
        the last step were reached: evaluate, checkpoint, done. 0 means no limit.
    """

    steps: int
    eval_every: int = 0
    checkpoint_every: int = 0
    log_every: int = 10
    seed: int = 0
    keep_checkpoints: int = 2
    device: str = "auto"
    max_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError(f"steps must be at least 1, not {self.steps}.")
        if min(self.eval_every, self.checkpoint_every, self.max_seconds) < 0 or self.log_every < 1:
            raise ValueError("eval_every, checkpoint_every and max_seconds must be 0 or more, log_every at least 1.")


@dataclass(slots=True)
class TrainState:
    """Where a run is: steps done, the epoch and the batches of it already read, and wall time spent."""

    step: int = 0
    epoch: int = 0
    batches_in_epoch: int = 0
    elapsed_seconds: float = 0.0
    windows_seen: int = 0


@dataclass(frozen=True, slots=True)
class TrainResult:
    """What a finished run reports."""

    steps: int
    elapsed_seconds: float
    windows_per_second: float
    resumed_from: int | None
    last_losses: dict[str, float] = field(default_factory=dict)
    last_eval: dict[str, Any] = field(default_factory=dict)


def steps_for_epochs(epochs: int, batches_per_epoch: int, batches_per_step: int, world_size: int = 1) -> int:
    """The number of steps that reads `epochs` passes over the training batches (at least one step)."""
    return max(1, epochs * batches_per_epoch // (batches_per_step * world_size))


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """The torch device for "auto", "cpu", "cuda" or "cuda:N"; raises `TrainingError` for CUDA without a GPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise TrainingError("CUDA was asked for but this machine has no usable GPU; use --device cpu.")
        return torch.device(name if ":" in name else f"cuda:{local_rank}")
    if name != "cpu":
        raise TrainingError(f"Unknown device {name!r}; use auto, cpu, cuda or cuda:N.")
    return torch.device("cpu")


class Trainer:
    """Train an objective on batches, reporting to sinks and checkpointing into `out_dir/checkpoints`.

    Parameters
    ----------
    objective
        What a step computes; owns the networks and optimizers.
    batches
        The batches of each epoch (see `BatchSource`); tensors of shape (B, tracks, steps, pitches).
    config
        Steps, schedules, seed and device.
    out_dir
        The run's folder.
    sinks
        Receivers of the events (rank 0 only).
    evaluator
        Called every `config.eval_every` steps and at the end (rank 0 only).
    run_info
        What the run is made with (model config, data, hyperparameters that change the result). A
        checkpoint whose run_info differs is refused rather than resumed.
    """

    def __init__(
        self,
        objective: Objective,
        batches: BatchSource,
        config: TrainerConfig,
        out_dir: str | Path,
        *,
        sinks: Sequence[Sink] = (),
        evaluator: Evaluator | None = None,
        run_info: Mapping[str, Any] | None = None,
    ) -> None:
        self.objective = objective
        self.batches = batches
        self.config = config
        self.out_dir = Path(out_dir)
        self.sinks = list(sinks)
        self.evaluator = evaluator
        self.run_info = dict(run_info or {})
        self.state = TrainState()
        self.device = torch.device("cpu")
        self.distributed = dist.is_available() and dist.is_initialized()
        self.rank = dist.get_rank() if self.distributed else 0
        self.world_size = dist.get_world_size() if self.distributed else 1

    @property
    def checkpoint_dir(self) -> Path:
        """Where the run's checkpoints are written."""
        return self.out_dir / "checkpoints"

    def run(self) -> TrainResult:
        """Train to `config.steps`, resuming from the newest checkpoint in `out_dir` when there is one."""
        config = self.config
        local_rank = self.rank % max(1, torch.cuda.device_count()) if torch.cuda.is_available() else 0
        device = self.device = resolve_device(config.device, local_rank)
        torch.manual_seed(config.seed + self.rank)
        self.objective.to(device)
        resumed = self._resume()
        if self.distributed:
            self.objective.distribute(self._wrapper(device))
        self._emit(
            "start",
            {"run": self.run_info, "resumed_from": resumed, "world_size": self.world_size, "device": str(device)},
        )
        stream = self._stream()
        began = time.perf_counter() - self.state.elapsed_seconds
        losses: dict[str, list[float]] = {}
        last_losses: dict[str, float] = {}
        last_eval: dict[str, Any] | None = None
        try:
            finished = self.state.step >= config.steps or 0 < config.max_seconds <= self._elapsed_everywhere()
            while not finished:
                group = [next(stream).to(device) for _ in range(self.objective.batches_per_step)]
                step_losses = self.objective.train_step(group, self.state.step)
                self.state.step += 1
                self.state.windows_seen += sum(len(batch) for batch in group) * self.world_size
                self.state.elapsed_seconds = time.perf_counter() - began
                for name, value in step_losses.items():
                    losses.setdefault(name, []).append(value)
                out_of_time = 0 < config.max_seconds <= self._elapsed_everywhere()
                step = self.state.step
                last = finished = step >= config.steps or out_of_time
                if step % config.log_every == 0 or last:
                    last_losses = {name: sum(values) / len(values) for name, values in losses.items()}
                    losses = {}
                    self._emit("step", {"losses": last_losses, "epoch": self.state.epoch, **self._throughput()})
                if self.evaluator is not None and (last or (config.eval_every and step % config.eval_every == 0)):
                    last_eval = self._evaluate()
                if last or (config.checkpoint_every and step % config.checkpoint_every == 0):
                    self._checkpoint()
            if self.evaluator is not None and last_eval is None:
                last_eval = self._evaluate()  # a run resumed at its last step still reports its quality
        except KeyboardInterrupt:
            self._checkpoint()
            self._emit("failed", {"reason": "interrupted; run the same command again to resume"})
            raise
        except Exception as error:
            self._emit("failed", {"reason": f"{type(error).__name__}: {error}"})
            raise
        result = TrainResult(
            steps=self.state.step,
            elapsed_seconds=self.state.elapsed_seconds,
            windows_per_second=self._throughput()["windows_per_second"],
            resumed_from=resumed,
            last_losses=last_losses,
            last_eval=dict(last_eval or {}),
        )
        self._emit("done", {"losses": last_losses, **self._throughput()})
        return result

    def _elapsed_everywhere(self) -> float:
        """The training time so far; in a distributed run rank 0's, so that every rank stops at the same step."""
        if not self.distributed:
            return self.state.elapsed_seconds
        # NCCL only moves GPU tensors; gloo takes the CPU ones.
        elapsed = torch.tensor([self.state.elapsed_seconds], dtype=torch.float64, device=self.device)
        dist.broadcast(elapsed, src=0)
        return float(elapsed.item())

    def _wrapper(self, device: torch.device) -> Callable[[nn.Module], nn.Module]:
        def wrap(module: nn.Module) -> nn.Module:
            if device.type == "cuda":
                return DistributedDataParallel(module, device_ids=[device.index])
            return DistributedDataParallel(module)

        return wrap

    def _throughput(self) -> dict[str, float]:
        seconds = max(self.state.elapsed_seconds, 1e-9)
        return {"windows_per_second": self.state.windows_seen / seconds, "steps_per_second": self.state.step / seconds}

    def _resume(self) -> int | None:
        checkpoint = latest_checkpoint(self.checkpoint_dir)
        if checkpoint is None:
            return None
        self._check_compatible(checkpoint)
        restore_checkpoint(
            checkpoint, self.objective.modules(), self.objective.optimizers(), restore_rng=not self.distributed
        )
        saved = checkpoint.state["trainer"]
        self.state = TrainState(
            step=checkpoint.step,
            epoch=int(saved["epoch"]),
            batches_in_epoch=int(saved["batches_in_epoch"]),
            elapsed_seconds=float(saved["elapsed_seconds"]),
            windows_seen=int(saved["windows_seen"]),
        )
        if self.distributed:
            # Each rank's generator state differs; rank 0 saved its own, so the others reseed from the step.
            torch.manual_seed(self.config.seed + self.rank + 1_000_003 * checkpoint.step)
        return checkpoint.step

    def _check_compatible(self, checkpoint: Checkpoint) -> None:
        saved = checkpoint.state.get("run_info", {})
        if saved != _json_round_trip(self.run_info) or checkpoint.state.get("world_size", 1) != self.world_size:
            raise TrainingError(
                f"The folder {self.out_dir} holds checkpoints of a run made with other settings; train into "
                "another --out folder, or repeat the settings of that run to resume it."
            )

    def _stream(self) -> Iterator[torch.Tensor]:
        """This rank's batches, epoch after epoch, from the position in `self.state`."""
        while True:
            source = iter(self.batches(self.state.epoch))
            for _ in itertools.islice(source, self.state.batches_in_epoch):
                pass
            yielded = False
            while True:
                group = list(itertools.islice(source, self.world_size))
                if len(group) < self.world_size:
                    break
                self.state.batches_in_epoch += self.world_size
                yielded = True
                yield group[self.rank]
            if not yielded and self.state.batches_in_epoch == 0:
                raise TrainingError(
                    f"An epoch gave fewer than {self.world_size} batch(es): the training split holds fewer "
                    "windows than one batch; lower the batch size or add music."
                )
            self.state.epoch += 1
            self.state.batches_in_epoch = 0

    def _evaluate(self) -> dict[str, Any]:
        results: dict[str, Any] = {}
        if self.rank == 0 and self.evaluator is not None:
            results = dict(self.evaluator(self.objective, self.state.step))
            self._emit("eval", results)
        self._barrier()
        return results

    def _checkpoint(self) -> None:
        if self.rank == 0:
            saved = save_checkpoint(
                self.checkpoint_dir,
                self.state.step,
                self.objective.modules(),
                self.objective.optimizers(),
                {
                    "trainer": {
                        "epoch": self.state.epoch,
                        "batches_in_epoch": self.state.batches_in_epoch,
                        "elapsed_seconds": self.state.elapsed_seconds,
                        "windows_seen": self.state.windows_seen,
                    },
                    "run_info": _json_round_trip(self.run_info),
                    "world_size": self.world_size,
                },
                keep=self.config.keep_checkpoints,
            )
            self._emit("checkpoint", {"path": str(saved.tensors_path)})
        self._barrier()

    def _barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def _emit(self, kind: EventKind, data: Mapping[str, Any]) -> None:
        if self.rank != 0:
            return
        event = Event(kind, self.state.step, self.config.steps, self.state.elapsed_seconds, data)
        for sink in self.sinks:
            sink(event)


def _json_round_trip(value: Mapping[str, Any]) -> Any:
    """`value` as it reads back from JSON (tuples become lists), so that saved and live settings compare."""
    return json.loads(json.dumps(value))
