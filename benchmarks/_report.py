"""What the benchmarks share: wall-time medians and the table each one prints.

Every ``bench_*.py`` reports medians (never means: one slow run on a shared machine must not move the
figure) in a table of (what, value, unit) rows, so `make bench` reads as one report. A generation is timed
twice: on the machine as it is, and with another process keeping one core busy (`one_core_busy`), as a
user's laptop always has; the aim is a busy median within `BUSY_AIM_RATIO` of the quiet one.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console
from rich.table import Table

Row = tuple[str, ...]

BUSY_AIM_RATIO = 1.5
"""Aim: a generation with one core busy takes at most this many times its time on a quiet machine."""
BUSY_COLUMNS = ("what", "quiet", "one core busy", "busy / quiet", "unit")
"""The columns of a table of `quiet_and_busy` rows."""


def median_seconds(action: Callable[[], object], repeats: int = 5, warmup: int = 0) -> float:
    """Median wall time of `repeats` calls of `action`, in seconds, after `warmup` untimed calls."""
    for _ in range(warmup):
        action()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


@contextmanager
def one_core_busy() -> Iterator[None]:
    """Keep one core busy for the block with a child process that spins (a Python busy loop), then end it."""
    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)  # the child's interpreter starts before it spins
        yield
    finally:
        child.kill()
        child.wait()


def quiet_and_busy(measure: Callable[[], float]) -> tuple[float, float]:
    """`measure()` (a median of timed runs) on the machine as it is, then again while `one_core_busy`."""
    quiet = measure()
    with one_core_busy():
        busy = measure()
    return quiet, busy


def busy_row(what: str, quiet: float, busy: float, unit: str, digits: int = 2) -> Row:
    """A row of `BUSY_COLUMNS`: both medians in `unit`, their ratio, and whether it meets `BUSY_AIM_RATIO`."""
    ratio = busy / quiet
    verdict = "met" if ratio <= BUSY_AIM_RATIO else "not met"
    aim = f"{ratio:.1f}x (aim <= {BUSY_AIM_RATIO:g}x {verdict})"
    return (what, f"{quiet:.{digits}f}", f"{busy:.{digits}f}", aim, unit)


def print_table(title: str, rows: Iterable[Row], columns: Sequence[str] = ("what", "median", "unit")) -> None:
    """Print `rows` under `title` as one table."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    Console().print(table)
