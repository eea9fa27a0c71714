"""The worker's stop: a KeyboardInterrupt that Python drops is raised again at the next step."""

from __future__ import annotations

import signal
import sys
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

from opencomposer.studio import worker
from opencomposer.training.events import Event


@pytest.fixture(autouse=True)
def no_stop_asked() -> Iterator[None]:
    worker._stop_asked.clear()
    worker._stop_raised.clear()
    yield
    worker._stop_asked.clear()
    worker._stop_raised.clear()


def test_a_stop_dropped_inside_a_finaliser_is_raised_again_at_the_next_step(monkeypatch: pytest.MonkeyPatch) -> None:
    dropped: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", dropped.append)

    class Thing:
        pass

    thing = Thing()
    # As in a studio test on a busy machine: the SIGTERM arrived while the garbage collector ran a weakref callback.
    reference = weakref.ref(thing, lambda _: worker._interrupt(signal.SIGTERM, None))
    del thing
    assert reference() is None
    assert [type(item.exc_value) for item in dropped] == [KeyboardInterrupt]  # Python printed and dropped it
    worker.stop_at_next_step(Event("eval", 3, 10, 1.0))
    with pytest.raises(KeyboardInterrupt):
        worker.stop_at_next_step(Event("step", 4, 10, 1.0))


def test_only_the_first_signal_interrupts_and_the_stop_events_pass() -> None:
    worker.stop_at_next_step(Event("step", 1, 10, 1.0))  # no stop asked: nothing happens
    with pytest.raises(KeyboardInterrupt):
        worker._interrupt(signal.SIGTERM, None)
    worker._interrupt(signal.SIGTERM, None)  # a second one must not cut the checkpoint being written
    worker.stop_at_next_step(Event("checkpoint", 4, 10, 1.0))
    worker.stop_at_next_step(Event("failed", 4, 10, 1.0, {"reason": "interrupted"}))


def test_a_stop_that_lands_while_a_failure_is_handled_ends_the_job_stopped(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from opencomposer.errors import DatasetError
    from opencomposer.training import architectures

    class Failing:
        def train(self, *args: Any, **kwargs: Any) -> None:
            raise DatasetError("There is no dataset called 'x'.")

    monkeypatch.setattr(architectures, "get_architecture", lambda name: Failing())
    monkeypatch.setattr(signal, "signal", lambda *args: None)  # leave the test process's handlers alone
    writes: list[dict[str, Any]] = []
    real_write = worker._write_result

    def write_after_a_stop(job_dir: Any, value: dict[str, Any]) -> None:
        writes.append(value)
        if len(writes) == 1:  # the stop lands as the failure is being written (seen under heavy load)
            raise KeyboardInterrupt
        real_write(job_dir, value)

    monkeypatch.setattr(worker, "_write_result", write_after_a_stop)
    spec: dict[str, Any] = {
        "job_id": "0" * 32,
        "architecture": "unet",
        "dataset": "x",
        "preset": None,
        "model_name": "m",
        "hyperparameters": {},
        "threads": 1,
        "device": "cpu",
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    assert worker.run(tmp_path) == worker.EXIT_STOPPED
    assert json.loads((tmp_path / "result.json").read_text()) == {"status": "stopped"}
