"""GAN accompaniment benchmark: generation latency per model and training throughput per preset.

Run with `make bench` (or `python benchmarks/bench_accompany.py`). Generation uses the shipped model of
each preset when there is one (an untrained one of the same size otherwise: the time is the same) on
an 8-bar and a 64-bar melody, median of repeated runs after warm-up, on the machine as it is and with one
core busy; aims: under 50 ms and 400 ms on a 2-core CPU, and the busy median within 1.5x of the quiet one.
Training throughput runs a few WGAN-GP steps of each preset on random windows of its shape.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import torch

from _report import BUSY_COLUMNS, Row, busy_row, print_table, quiet_and_busy
from opencomposer.errors import UnknownNameError
from opencomposer.models import build_generator, config_to_dict
from opencomposer.models.critic import Critic
from opencomposer.music.score import Note, Score, Track
from opencomposer.registry import ModelCard, ModelEntry, get_model, save_model
from opencomposer.techniques.accompany import Accompany
from opencomposer.training.gan import PRESETS, GanPreset
from opencomposer.training.objectives.gan import WganGp

GENERATION_REPEATS = 30
TRAINING_STEPS = 3
LAB_TRAINING_STEPS = 1


def melody(bars: int) -> Score:
    """A deterministic melody of quarter and eighth notes around middle C, `bars` bars of 4/4."""
    rng = np.random.default_rng(bars)
    notes, tick = [], 0
    while tick < bars * 1920:
        duration = int(rng.choice([240, 480, 480, 960]))
        notes.append(Note(int(rng.integers(60, 77)), tick, duration, 90))
        tick += duration
    return Score(tracks=(Track("Melody", notes=tuple(notes), role="melody"),))


def model_for(preset: GanPreset, folder: Path) -> tuple[ModelEntry, str]:
    """The shipped model named like the preset, else an untrained one of the preset's shapes."""
    try:
        return get_model(preset.name), "shipped"
    except UnknownNameError:
        pass
    slots = [f"Track {index}" for index in range(preset.generator.out_tracks + 1)]
    card = ModelCard(
        name=preset.name,
        technique="accompany",
        architecture=preset.architecture,
        config=config_to_dict(preset.generator),
        title=preset.name,
        description=preset.description,
        dataset=preset.dataset,
        roll={
            "steps_per_beat": preset.window.roll.steps_per_beat,
            "low_pitch": preset.window.roll.low_pitch,
            "high_pitch": preset.window.roll.high_pitch,
        },
        bars=preset.window.bars,
        tracks=[
            {"name": name, "role": "melody" if i == 0 else "accompaniment", "program": 0}
            for i, name in enumerate(slots)
        ],
        melody_index=0,
        generated_tracks=list(range(0 if preset.generates_melody else 1, len(slots))),
    )
    return save_model(card, build_generator(preset.generator).state_dict(), folder), "untrained"


def generation_ms(technique: Accompany, score: Score) -> float:
    technique.generate(score, {}, seed=0)  # warm-up
    times = []
    for seed in range(GENERATION_REPEATS):
        began = time.perf_counter()
        technique.generate(score, {}, seed=seed)
        times.append((time.perf_counter() - began) * 1000.0)
    return statistics.median(times)


def training_windows_per_second(preset: GanPreset) -> float:
    torch.manual_seed(0)
    window = preset.window
    n_tracks = preset.generator.out_tracks + (0 if preset.generates_melody else 1)
    generated = list(range(0 if preset.generates_melody else 1, n_tracks))
    objective = WganGp(
        build_generator(preset.generator),
        Critic(replace(preset.critic, tracks=len(generated))),
        melody_index=0,
        generated_tracks=generated,
        update_ratio=int(preset.training.get("update_ratio", 5)),
    )
    batch_size = int(preset.training.get("batch_size", 64))
    shape = (batch_size, n_tracks, window.window_steps, window.roll.n_pitches)
    batches = [(torch.rand(shape) > 0.95).float() for _ in range(objective.batches_per_step)]
    objective.train_step(batches, 0)  # warm-up
    steps = LAB_TRAINING_STEPS if preset.generates_melody else TRAINING_STEPS
    began = time.perf_counter()
    for step in range(steps):
        objective.train_step(batches, step)
    return steps * objective.batches_per_step * batch_size / (time.perf_counter() - began)


def main() -> None:
    generation_rows: list[Row] = []
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as folder:
        for preset in PRESETS.values():
            if preset.generates_melody:
                continue  # the lab's model is trained for comparison, not shipped: no latency aim
            entry, source = model_for(preset, Path(folder))
            technique = Accompany(entry)
            for bars, aim in ((8, 50), (64, 400)):
                quiet, busy = quiet_and_busy(partial(generation_ms, technique, melody(bars)))
                what = f"accompany {bars} bars, {preset.name} ({source}; aim < {aim} ms)"
                generation_rows.append(busy_row(what, quiet, busy, "ms", digits=1))
    for preset in PRESETS.values():
        rate = training_windows_per_second(preset)
        rows.append((f"train {preset.name} ({preset.architecture})", f"{rate:.0f}", "windows / s"))

    print_table("GAN accompaniment (medians)", generation_rows, BUSY_COLUMNS)
    print_table(f"GAN training (medians; torch threads: {torch.get_num_threads()})", rows)


if __name__ == "__main__":
    main()
