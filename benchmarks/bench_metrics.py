"""Metrics benchmark: every window metric over 1,000 four-bar, four-track windows (aim: under 2 s).

Run with `make bench` (or `python benchmarks/bench_metrics.py`). The windows are random but musical:
four voices, each a seeded random walk on the C major scale in its own register, with note lengths of
a 16th to a half note and some rests. Reports medians over repeats.
"""

from __future__ import annotations

import numpy as np

from _report import median_seconds, print_table
from opencomposer.metrics import window_metrics
from opencomposer.metrics.distribution import compare_feature_sets, piece_features
from opencomposer.music.pianoroll import HOLD, ONSET, RollArray, RollSpec

SPEC = RollSpec(steps_per_beat=4, low_pitch=0, high_pitch=127)
STEPS_PER_BAR = 16
BARS = 4
VOICES = ("Soprano", "Alto", "Tenor", "Bass")
LOWEST_PITCHES = (67, 60, 53, 41)  # each voice's register starts here
SCALE = np.array([0, 2, 4, 5, 7, 9, 11])
LENGTHS_STEPS = np.array([1, 2, 2, 4, 4, 4, 8])
REPEATS = 5


def musical_windows(n_windows: int, seed: int = 0) -> RollArray:
    """Seeded four-voice windows of shape (n_windows, 4, 64, 128): scale walks with rests."""
    rng = np.random.default_rng(seed)
    n_steps = BARS * STEPS_PER_BAR
    rolls = np.zeros((n_windows, len(VOICES), n_steps, SPEC.n_pitches), dtype=np.uint8)
    for window in range(n_windows):
        for voice, lowest in enumerate(LOWEST_PITCHES):
            degree, step = int(rng.integers(0, 7)), 0
            while step < n_steps:
                length = int(rng.choice(LENGTHS_STEPS))
                degree = int(np.clip(degree + rng.integers(-2, 3), 0, 9))
                if rng.random() > 0.1:  # one note in ten is a rest
                    pitch = lowest + SCALE[degree % 7] + 12 * (degree // 7)
                    rolls[window, voice, step, pitch] = ONSET
                    rolls[window, voice, step + 1 : step + length, pitch] = HOLD
                step += length
    return rolls


def main() -> None:
    windows = musical_windows(1000)
    rows: list[tuple[str, str, str]] = []

    seconds = median_seconds(
        lambda: window_metrics(windows, SPEC, steps_per_bar=STEPS_PER_BAR, track_names=VOICES, melody_index=0)
    )
    rows.append(("window_metrics, 1,000 four-bar SATB windows (aim < 2 s)", f"{seconds:.3f}", "s"))

    features = [piece_features(window, SPEC, STEPS_PER_BAR) for window in windows[:200]]
    seconds = median_seconds(lambda: [piece_features(window, SPEC, STEPS_PER_BAR) for window in windows[:200]])
    rows.append(("piece_features, 200 pieces of 4 bars", f"{seconds:.3f}", "s"))

    seconds = median_seconds(lambda: compare_feature_sets(features[:100], features[100:]))
    rows.append(("compare_feature_sets, 100 against 100 pieces", f"{seconds:.3f}", "s"))

    print_table(f"metrics (medians of {REPEATS} repeats)", rows)


if __name__ == "__main__":
    main()
