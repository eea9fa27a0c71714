"""What the benchmarks share: wall-time medians and the table each one prints.

Every ``bench_*.py`` reports medians (never means: one slow run on a shared machine must not move the
figure) in a table of (what, value, unit) rows, so `make bench` reads as one report.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Sequence

from rich.console import Console
from rich.table import Table

Row = tuple[str, ...]


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


def print_table(title: str, rows: Iterable[Row], columns: Sequence[str] = ("what", "median", "unit")) -> None:
    """Print `rows` under `title` as one table."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    Console().print(table)
