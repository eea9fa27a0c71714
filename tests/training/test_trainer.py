"""The trainer: the events it sends, evaluation and checkpoint schedules, resuming, and refusing to mix runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from opencomposer.errors import TrainingError
from opencomposer.training.events import Event, JsonLinesSink, read_events
from opencomposer.training.objectives import Objective
from opencomposer.training.trainer import Trainer, TrainerConfig, steps_for_epochs

from .conftest import make_batches, make_objective, make_windows


def run(out: Path, steps: int, *, sink: list[Event] | None = None, **config: Any) -> tuple[Trainer, Any]:
    objective = make_objective()
    events: list[Event] = [] if sink is None else sink
    settings: dict[str, Any] = {"steps": steps, "log_every": 1, "device": "cpu", **config}
    trainer = Trainer(
        objective,
        make_batches(make_windows()),
        TrainerConfig(**settings),
        out,
        sinks=[events.append, JsonLinesSink(out / "events.jsonl")],
        evaluator=lambda objective, step: {"metrics": {"step_seen": float(step)}},
        run_info={"model": "tiny", "betas": (0.5, 0.9)},
    )
    return trainer, trainer.run()


def test_events_arrive_in_order_with_evaluations_and_checkpoints_on_schedule(tmp_path: Path) -> None:
    events: list[Event] = []
    _, result = run(tmp_path, 6, sink=events, eval_every=3, checkpoint_every=4)
    kinds = [(event.kind, event.step) for event in events]
    assert kinds[0] == ("start", 0)
    assert [step for kind, step in kinds if kind == "step"] == [1, 2, 3, 4, 5, 6]
    assert [step for kind, step in kinds if kind == "eval"] == [3, 6]
    assert [step for kind, step in kinds if kind == "checkpoint"] == [4, 6]
    assert kinds[-1] == ("done", 6)
    assert set(events[1].data["losses"]) >= {"critic_loss", "generator_loss"}
    assert events[1].data["windows_per_second"] > 0
    assert result.steps == 6 and result.resumed_from is None
    assert result.last_eval == {"metrics": {"step_seen": 6.0}}
    on_disk = read_events(tmp_path / "events.jsonl")
    assert [event["kind"] for event in on_disk] == [event.kind for event in events]


def state(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {f"{n}.{k}": v for n, m in trainer.objective.modules().items() for k, v in m.state_dict().items()}


def test_a_time_budget_ends_the_run_early_like_a_last_step(tmp_path: Path) -> None:
    events: list[Event] = []
    _, result = run(tmp_path, 50, sink=events, max_seconds=1e-9)
    assert result.steps == 1
    assert [event.kind for event in events] == ["start", "step", "eval", "checkpoint", "done"]


def test_a_stopped_run_resumes_where_its_checkpoint_left_off(tmp_path: Path) -> None:
    straight, _ = run(tmp_path / "straight", 5)
    run(tmp_path / "stopped", 2, checkpoint_every=2)
    events: list[Event] = []
    resumed, result = run(tmp_path / "stopped", 5, sink=events)
    assert result.resumed_from == 2
    assert events[0].data["resumed_from"] == 2
    assert [event.step for event in events if event.kind == "step"] == [3, 4, 5]
    # Same data position, same optimizer state, same random numbers: the same weights as never stopping.
    expected, got = state(straight), state(resumed)
    assert expected.keys() == got.keys()
    for key in expected:
        assert torch.equal(expected[key], got[key]), key


def test_a_folder_holding_another_runs_checkpoints_is_refused(tmp_path: Path) -> None:
    run(tmp_path, 1)
    trainer = Trainer(
        make_objective(),
        make_batches(make_windows()),
        TrainerConfig(steps=2, device="cpu"),
        tmp_path,
        run_info={"model": "another"},
    )
    with pytest.raises(TrainingError, match="other settings"):
        trainer.run()


class Failing(Objective):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Linear(1, 1)
        self.optimizer = torch.optim.SGD(self.net.parameters(), lr=0.1)

    def modules(self) -> dict[str, nn.Module]:
        return {"net": self.net}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"net": self.optimizer}

    def train_step(self, batches: Sequence[torch.Tensor], step: int) -> dict[str, float]:
        if step == 1:
            raise RuntimeError("the loss is NaN")
        return {"loss": 1.0}

    def sample(self, batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return batch


def test_a_failing_step_sends_a_failed_event_and_raises(tmp_path: Path) -> None:
    events: list[Event] = []
    trainer = Trainer(
        Failing(), make_batches(make_windows()), TrainerConfig(steps=3, device="cpu"), tmp_path, sinks=[events.append]
    )
    with pytest.raises(RuntimeError, match="NaN"):
        trainer.run()
    assert events[-1].kind == "failed" and "NaN" in events[-1].data["reason"]


def test_too_little_data_for_one_batch_is_a_clear_error(tmp_path: Path) -> None:
    trainer = Trainer(
        make_objective(), lambda epoch: [], TrainerConfig(steps=1, device="cpu"), tmp_path, sinks=[lambda e: None]
    )
    with pytest.raises(TrainingError, match="fewer windows than one batch"):
        trainer.run()


def test_epochs_convert_to_steps() -> None:
    assert steps_for_epochs(2, batches_per_epoch=30, batches_per_step=3) == 20
    assert steps_for_epochs(2, batches_per_epoch=30, batches_per_step=3, world_size=2) == 10
    assert steps_for_epochs(1, batches_per_epoch=1, batches_per_step=6) == 1


def test_a_missing_gpu_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    trainer = Trainer(make_objective(), make_batches(make_windows()), TrainerConfig(steps=1, device="cuda"), tmp_path)
    with pytest.raises(TrainingError, match="no usable GPU"):
        trainer.run()


def test_the_evaluator_sees_the_objective(tmp_path: Path) -> None:
    seen: list[tuple[Objective, int]] = []

    def evaluator(objective: Objective, step: int) -> Mapping[str, Any]:
        seen.append((objective, step))
        return {}

    objective = make_objective()
    Trainer(
        objective,
        make_batches(make_windows()),
        TrainerConfig(steps=2, eval_every=1, device="cpu"),
        tmp_path,
        evaluator=evaluator,
    ).run()
    assert [step for _, step in seen] == [1, 2] and seen[0][0] is objective
