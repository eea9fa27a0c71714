"""Transformer continuation benchmark: extending an 8-bar input by 30 seconds, per shipped model.

Run with `make bench` (or `python benchmarks/bench_extend.py`). Each shipped extend model continues an
8-bar, three-track input (melody, chords, bass at 120 quarter notes per minute) by 30 seconds with its
default sampling; median of repeated runs after one warm-up, with the tokens generated per second, on the
machine as it is and with one core busy. Aims: median under 3 s on a 2-core CPU, and the busy median within
1.5x of the quiet one.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from _report import BUSY_COLUMNS, Row, busy_row, one_core_busy, print_table
from opencomposer.errors import UnknownNameError
from opencomposer.music.score import Note, Score, Track
from opencomposer.registry import get_model
from opencomposer.techniques.extend import Extend

MODELS = ("classical-transformer", "pop-transformer")
REPEATS = 5
EXTENSION_SECONDS = 30.0
AIM_SECONDS = 3.0


def eight_bars() -> Score:
    """A deterministic 8-bar input: a melody of quarter and eighth notes, whole-note chords, a bass line."""
    rng = np.random.default_rng(8)
    melody, tick = [], 0
    while tick < 8 * 1920:
        duration = int(rng.choice([240, 480, 480, 960]))
        melody.append(Note(int(rng.integers(64, 81)), tick, duration, 90))
        tick += duration
    roots = [48, 53, 55, 48, 57, 53, 55, 48]
    chords = [Note(root + 12 + step, bar * 1920, 1920, 70) for bar, root in enumerate(roots) for step in (0, 4, 7)]
    bass = [Note(root - 12, bar * 1920 + beat * 480, 480, 80) for bar, root in enumerate(roots) for beat in range(4)]
    return Score(
        tracks=(
            Track("Melody", 0, notes=tuple(melody), role="melody"),
            Track("Chords", 0, notes=tuple(chords), role="accompaniment"),
            Track("Bass", 0, notes=tuple(bass), role="accompaniment"),
        )
    )


def extension_seconds(technique: Extend, score: Score, speeds: list[float]) -> float:
    """Median seconds of `REPEATS` extensions (seeds 0, 1, ...) after a warm-up; their speeds go to `speeds`."""
    params = {"extension_seconds": EXTENSION_SECONDS}
    technique.generate(score, params, seed=0)
    seconds = []
    for seed in range(REPEATS):
        started = time.perf_counter()
        generation = technique.generate(score, params, seed=seed)
        seconds.append(time.perf_counter() - started)
        speeds.append(float(generation.info["tokens_per_second"]))
    return statistics.median(seconds)


def main() -> None:
    """Time every shipped extend model, quiet and with one core busy, and print a table of medians."""
    score = eight_bars()
    rows: list[Row] = []
    for name in MODELS:
        try:
            technique = Extend(get_model(name))
        except UnknownNameError:
            continue
        quiet_speeds: list[float] = []
        busy_speeds: list[float] = []
        quiet = extension_seconds(technique, score, quiet_speeds)
        with one_core_busy():
            busy = extension_seconds(technique, score, busy_speeds)
        verdict = "met" if quiet < AIM_SECONDS else "not met"
        rows.append(busy_row(f"{name} (aim < {AIM_SECONDS:g} s {verdict})", quiet, busy, "s"))
        rows.append(
            (
                "  tokens per second",
                f"{statistics.median(quiet_speeds):.0f}",
                f"{statistics.median(busy_speeds):.0f}",
                "",
                "tokens / s",
            )
        )
    print_table(f"Extend an 8-bar input by {EXTENSION_SECONDS:.0f} s (median of {REPEATS})", rows, BUSY_COLUMNS)


if __name__ == "__main__":
    main()
