"""Genre band benchmark: a band for an 8-bar and a 64-bar melody with each shipped genre model.

Run with `make bench` (or `python benchmarks/bench_band.py`). Medians of repeated generations after a warm-up
(20, or as many as span a second; the model loaded once, as the studio keeps it), on the machine as it is and
with one core busy; aims on a 2-core CPU: under 100 ms for 8 bars, under 800 ms for 64 bars, and the busy median
within 1.5x of the quiet one.
"""

from __future__ import annotations

import statistics
import time
from functools import partial

from _report import BUSY_COLUMNS, Row, busy_row, print_table, quiet_and_busy
from bench_accompany import melody
from opencomposer.music.score import Score
from opencomposer.techniques.band import Band
from opencomposer.training.genres import GENRE_MODELS

REPEATS = 20
SPAN_S = 1.0
"""Short runs repeat until they span this long: twenty runs of 3 ms fit in one scheduler hiccup of the busy core."""


def generation_ms(technique: Band, score: Score) -> float:
    began = time.perf_counter()
    technique.generate(score, {}, seed=0)  # warm-up
    once = time.perf_counter() - began
    times = []
    for seed in range(max(REPEATS, min(500, int(SPAN_S / max(once, 1e-6))))):
        began = time.perf_counter()
        technique.generate(score, {}, seed=seed)
        times.append((time.perf_counter() - began) * 1000.0)
    return statistics.median(times)


def main() -> None:
    rows: list[Row] = []
    for model in GENRE_MODELS.values():
        technique = Band.from_model(model)
        for bars, aim in ((8, 100), (64, 800)):
            quiet, busy = quiet_and_busy(partial(generation_ms, technique, melody(bars)))
            rows.append(busy_row(f"band {bars} bars, {model} (aim < {aim} ms)", quiet, busy, "ms", digits=1))
    print_table("Genre bands (medians)", rows, BUSY_COLUMNS)


if __name__ == "__main__":
    main()
