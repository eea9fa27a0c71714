"""Benchmark of the data pipeline: cold preparation, warm load from the cache, windows, peak memory.

Each dataset is measured in a fresh process whose `OPENCOMPOSER_DATA` is an empty temporary folder,
so the cold run really starts with no cache (the dataset itself is read from the shared data folder).
Peak memory is reported twice: the maximum resident set size of the measuring process itself
(`resource.getrusage`), and the peak of the summed resident set sizes of that process and all its
descendants, the parsing and cutting workers included, sampled from `/proc` every 0.1 s (Linux only; pages
shared between processes are counted in each, so this overstates a little). `RUSAGE_CHILDREN` cannot
stand in for the second: the workers are children of a forkserver process, not of the measuring one.

Aims on the 2-core development machine: cold `bach-chorales` under 90 s, warm load under 1 s.

Run: ``python benchmarks/bench_data.py [dataset ...]``.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from opencomposer.data.windows import WindowSpec, prepare
from opencomposer.errors import OpenComposerError
from opencomposer.music.pianoroll import RollSpec

DATASETS = ("bach-chorales", "pop909")
WARM_RUNS = 5
SPEC = WindowSpec(RollSpec(steps_per_beat=4, low_pitch=24, high_pitch=108), bars=4)
SAMPLE_SECONDS = 0.1
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def tree_rss_bytes(root_pid: int) -> int:
    """Summed resident set size of process `root_pid` and all its descendants, from `/proc`."""
    parents: dict[int, int] = {}
    rss_bytes: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            statm = (entry / "statm").read_text()
        except OSError:  # the process ended while being looked at
            continue
        pid = int(entry.name)
        # The command name, in parentheses, may hold spaces: the parent pid is the 2nd field after it.
        parents[pid] = int(stat.rsplit(")", 1)[1].split()[1])
        rss_bytes[pid] = int(statm.split()[1]) * PAGE_BYTES
    tree = {root_pid}
    grew = True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= children
        grew = bool(children)
    return sum(rss_bytes.get(pid, 0) for pid in tree)


class PeakTreeMemory:
    """Samples `tree_rss_bytes` of this process in a background thread while the block runs."""

    def __init__(self) -> None:
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, tree_rss_bytes(os.getpid()))
            self._stop.wait(SAMPLE_SECONDS)

    def __enter__(self) -> PeakTreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def measure(name: str) -> dict[str, Any]:
    """Prepare `name` cold then warm, in this (fresh) process, and return the figures."""
    with tempfile.TemporaryDirectory(prefix="opencomposer-bench-") as folder:
        os.environ["OPENCOMPOSER_DATA"] = folder
        with PeakTreeMemory() as tree_memory:
            began = time.perf_counter()
            prepared = prepare(name, SPEC)
            cold_seconds = time.perf_counter() - began
        # ru_maxrss is in KiB on Linux; read now, it is the cold preparation's peak, not the warm loads'.
        cold_peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        counts = {split: len(windows) for split, windows in prepared.windows.items()}
        figures = {"workers": prepared.stats.workers, "pieces": sum(prepared.stats.pieces.values())}
        cache_mib = prepared.cache_path.stat().st_size / 2**20
        del prepared  # each warm load below builds its own arrays
        warm_seconds = []
        for _ in range(WARM_RUNS):
            began = time.perf_counter()
            prepare(name, SPEC)
            warm_seconds.append(time.perf_counter() - began)
    return {
        "dataset": name,
        **figures,
        "cold_s": cold_seconds,
        "warm_s": statistics.median(warm_seconds),
        **counts,
        "cache_mib": cache_mib,
        "rss_self_mib": cold_peak_mib,
        "rss_tree_mib": tree_memory.peak_bytes / 2**20,
    }


def main() -> None:
    """Measure each dataset named on the command line (default: bach-chorales and pop909) and print a table."""
    names = sys.argv[1:] or list(DATASETS)
    context = multiprocessing.get_context("spawn")
    rows = []
    for name in names:
        # One fresh process per dataset: its peak memory is its own, not the previous dataset's.
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            try:
                rows.append(pool.submit(measure, name).result())
            except OpenComposerError as error:  # a dataset missing here should not hide the others' figures
                print(f"{name}: not measured: {error}")
    header = (
        f"{'dataset':<15}{'pieces':>7}{'workers':>8}{'cold s':>8}{'warm s':>8}{'train':>8}{'valid':>7}{'test':>7}"
        f"{'cache MiB':>10}{'RSS MiB':>9}{'tree MiB':>10}"
    )
    roll = SPEC.roll
    print(
        f"Windows of {SPEC.bars} bars at {roll.steps_per_beat} steps per beat, pitches {roll.low_pitch}-"
        f"{roll.high_pitch}, all tracks, no transposition; cold = empty cache, all cores; warm = median of "
        f"{WARM_RUNS} loads; RSS = peak of the measuring process; tree = peak summed over it and its workers."
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['dataset']:<15}{row['pieces']:>7}{row['workers']:>8}{row['cold_s']:>8.1f}{row['warm_s']:>8.3f}"
            f"{row['train']:>8}{row['valid']:>7}{row['test']:>7}{row['cache_mib']:>10.1f}"
            f"{row['rss_self_mib']:>9.0f}{row['rss_tree_mib']:>10.0f}"
        )


if __name__ == "__main__":
    main()
