"""What a training run reports, and where it goes.

The trainer emits an `Event` at the start, every few steps (losses), at each evaluation (metrics and
the paths of the sample MIDI and piano-roll picture), at each checkpoint, and at the end (`done`, or
`failed` with the reason). A sink is any callable taking an event: `ProgressSink` draws a progress bar
with the latest losses and the time left, `JsonLinesSink` appends one JSON object per event to a file,
and the studio adds its own (a database writer).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

EventKind = Literal["start", "step", "eval", "checkpoint", "done", "failed"]
EVENT_KINDS: tuple[EventKind, ...] = ("start", "step", "eval", "checkpoint", "done", "failed")


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened in a training run.

    Parameters
    ----------
    kind
        "start" (data: the run's settings and the dataset's reference metrics), "step" (losses,
        windows per second, epoch), "eval" (metrics, sample file paths), "checkpoint" (its path),
        "done" (final figures) or "failed" (the reason).
    step
        Steps completed when it happened.
    total_steps
        Steps the run is set to make.
    elapsed_seconds
        Training wall time so far, resumed runs included.
    data
        JSON-serialisable details.
    """

    kind: EventKind
    step: int
    total_steps: int
    elapsed_seconds: float
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The event as one JSON object (NaN and infinities become null, which JSON lacks)."""
        return {
            "kind": self.kind,
            "step": self.step,
            "total_steps": self.total_steps,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "data": json_ready(self.data),
        }


Sink = Callable[[Event], None]


def json_ready(value: Any) -> Any:
    """`value` with NaN and infinities replaced by None, recursively (strict JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    return value


class JsonLinesSink:
    """Append each event to a JSON-lines file, one object per line, flushed at once (a killed run keeps them)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def __call__(self, event: Event) -> None:
        with self.path.open("a", encoding="utf-8") as stream:
            stream.write(json.dumps(event.to_json(), separators=(",", ":")) + "\n")


def read_events(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The events of a JSON-lines file, in order (a last line cut short by a kill is left out)."""
    events = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events


class ProgressSink:
    """A progress bar on the terminal: steps done, the latest losses and the time left.

    Evaluations and checkpoints are printed as lines above the bar. `headline` names the metrics worth
    printing at each evaluation (all of them when empty).
    """

    def __init__(self, console: Console | None = None, headline: tuple[str, ...] = ()) -> None:
        self.console = console or Console(stderr=True)
        self.headline = headline
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __call__(self, event: Event) -> None:
        if event.kind == "start":
            self._start(event)
        elif event.kind == "step" and self._progress is not None and self._task is not None:
            losses = "  ".join(f"{name} {value:.3g}" for name, value in event.data.get("losses", {}).items())
            self._progress.update(self._task, completed=event.step, losses=losses)
        elif event.kind == "eval":
            metrics, reference = event.data.get("metrics", {}), event.data.get("reference", {})
            shown = {name: metrics[name] for name in self.headline if name in metrics} if self.headline else metrics
            text = ", ".join(
                f"{name} {value:.3f}" + (f" (data {reference[name]:.3f})" if name in reference else "")
                for name, value in shown.items()
                if isinstance(value, float)
            )
            self._print(f"step {event.step}: {text}")
        elif event.kind == "checkpoint":
            self._print(f"step {event.step}: checkpoint {event.data.get('path', '')}")
        elif event.kind in ("done", "failed"):
            if self._progress is not None:
                self._progress.stop()
                self._progress = None
            if event.kind == "failed":
                self.console.print(f"Training stopped at step {event.step}: {event.data.get('reason', '')}")
            else:
                self.console.print(f"Training done: {event.step} steps in {event.elapsed_seconds:.0f} s.")

    def _start(self, event: Event) -> None:
        self._progress = Progress(
            TextColumn("[bold]training"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[losses]}"),
            console=self.console,
        )
        self._progress.start()
        self._task = self._progress.add_task("training", total=event.total_steps, completed=event.step, losses="")

    def _print(self, text: str) -> None:
        (self._progress.console if self._progress is not None else self.console).print(text)
