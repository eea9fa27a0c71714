"""AR-CNN benchmark: Gibbs sampling latency, and the time of the whole likelihood evaluation.

Run with `make bench` (or `python benchmarks/bench_arcnn.py`). Uses the shipped `bach-arcnn` model (an
untrained one of the same size when it is missing: the time is the same).

- 100 sampling iterations harmonizing an 8-bar melody into four voices: median of repeated runs after a
  warm-up, on the machine as it is and with one core busy; aims under 2 s on a 2-core CPU, and the busy
  median within 1.5x of the quiet one (Google's Bach Doodle ran Coconet's 96 steps in about 2 s).
- The framewise NLL of the whole `jsb-satb` test split (77 chorales, 16th notes, one random ordering):
  timed once, it takes minutes; then the first 8 of them as Coconet's released evaluation measures them
  (5 orderings); skipped with a note when the JSB files are not on this machine.
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from _report import BUSY_COLUMNS, Row, busy_row, median_seconds, print_table, quiet_and_busy
from opencomposer.data.registry import get_dataset
from opencomposer.data.sources.jsb import SATB_TRACKS
from opencomposer.errors import UnknownNameError
from opencomposer.models.arcnn import Arcnn
from opencomposer.music.score import Note, Score, Track
from opencomposer.registry import ModelCard, ModelEntry, get_model, save_model
from opencomposer.techniques.edit import Edit
from opencomposer.training.arcnn import PRESETS, framewise_nll

SAMPLING_REPEATS = 5
ITERATIONS = 100
AIM_SECONDS = 2.0
COCONET_PIECES = 8
"""Test chorales the bench measures as Coconet's evaluation does (5 orderings each: the whole split takes 56 min)."""


def melody(bars: int) -> Score:
    """A deterministic melody of quarter and half notes in 62-74, `bars` bars of 4/4."""
    rng = np.random.default_rng(bars)
    notes, tick = [], 0
    while tick < bars * 1920:
        duration = int(rng.choice([480, 480, 960]))
        notes.append(Note(int(rng.integers(62, 75)), tick, duration, 90))
        tick += duration
    return Score(tracks=(Track("Melody", notes=tuple(notes), role="melody"),))


def bach_arcnn(folder: Path) -> tuple[ModelEntry, str]:
    """The shipped model, else an untrained one of its preset's size."""
    try:
        return get_model("bach-arcnn"), "shipped"
    except UnknownNameError:
        pass
    preset = PRESETS["bach-arcnn"]
    card = ModelCard(
        name="bach-arcnn",
        technique="edit",
        architecture="arcnn",
        config=asdict(preset.model),
        title="bach-arcnn",
        description=preset.description,
        dataset=preset.dataset,
        roll=asdict(preset.window.roll),
        bars=preset.window.bars,
        tracks=[{"name": slot.name, "role": slot.role, "program": 40, "is_drum": False} for slot in SATB_TRACKS],
        melody_index=0,
        generated_tracks=[0, 1, 2, 3],
    )
    return save_model(card, dict(Arcnn(preset.model).state_dict()), folder), "untrained"


def main() -> None:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as folder:
        entry, source = bach_arcnn(Path(folder))
        technique = Edit(entry)
        tune = melody(8)
        params = {"mode": "harmonize", "iterations": ITERATIONS}
        quiet, busy = quiet_and_busy(
            lambda: median_seconds(lambda: technique.generate(tune, params, seed=0), SAMPLING_REPEATS, warmup=1)
        )
        what = f"{ITERATIONS} Gibbs iterations, 8 bars x 4 voices ({source}; aim < {AIM_SECONDS:g} s)"
        print_table("AR-CNN sampling (medians)", [busy_row(what, quiet, busy, "s")], BUSY_COLUMNS)
        if get_dataset("jsb-satb").is_present():
            report = framewise_nll(entry, "jsb-satb", split="test")
            rows.append(
                (
                    f"framewise NLL of jsb-satb test, {report['pieces']} pieces ({source}), once",
                    f"{report['seconds']:.0f}",
                    "s",
                )
            )
            rows.append(("  its value, nats per 16th-note frame", f"{report['nll_per_frame']:.3f}", "nats"))
            report = framewise_nll(entry, "jsb-satb", split="test", estimator="coconet", limit=COCONET_PIECES)
            rows.append(
                (
                    f"  as Coconet measures it ({report['orderings']} orderings), first {report['pieces']} pieces",
                    f"{report['seconds']:.0f}",
                    "s",
                )
            )
            rows.append(("  its value, nats per 16th-note frame", f"{report['nll_per_frame']:.3f}", "nats"))
        else:
            rows.append(("framewise NLL of jsb-satb test", "skipped: the JSB files are not here", ""))
    print_table(f"AR-CNN likelihood (torch threads: {torch.get_num_threads()})", rows)


if __name__ == "__main__":
    main()
